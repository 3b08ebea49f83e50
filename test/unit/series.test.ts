import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VerdictResult } from '../../src/analysis/types';
import { appendPoint, downsample, MAX_SERIES_POINTS } from '../../src/workflows/series';
import type { SeriesPoint } from '../../src/workflows/state';

/** A poll `i` seconds into a window that began at `window` s, with `i * 10` cumulative requests. */
function point(window: number, i: number, result: VerdictResult = 'pass'): SeriesPoint {
  return {
    at: (window + i) * 1000,
    windowStartedAt: window * 1000,
    stage: window,
    weight: 20,
    polls: 1,
    result,
    stable: { requests: i * 10, errors: 0, p99Ms: 100 },
    canary: { requests: i * 10, errors: i, p99Ms: 120 },
  };
}

function fill(points: SeriesPoint[], max = MAX_SERIES_POINTS): SeriesPoint[] {
  return points.reduce<SeriesPoint[]>((series, p) => appendPoint(series, p, max), []);
}

describe('the plotted series', () => {
  it('merges no two windows', () => {
    const points = [point(0, 1), point(10, 1), point(20, 1), point(20, 2)];
    assert.deepEqual(
      downsample(points).map((p) => [p.windowStartedAt, p.polls]),
      [
        [0, 1],
        [10_000, 1],
        [20_000, 2],
      ],
    );
  });

  it('keeps every point while it fits', () => {
    const points = Array.from({ length: 50 }, (_, i) => point(0, i + 1));
    assert.deepEqual(fill(points), points);
  });

  it('never grows past its bound, however long the bake', () => {
    const points = Array.from({ length: 8640 }, (_, i) => point(0, i + 1));
    const series = fill(points);
    assert.ok(series.length <= MAX_SERIES_POINTS, `${series.length} points`);
    assert.ok(series.length >= MAX_SERIES_POINTS / 2, 'downsampling halves, not more');
    // Still spans the whole window, and the newest counts are the newest poll's.
    assert.equal(series.at(-1)!.at, points.at(-1)!.at);
    assert.deepEqual(series.at(-1)!.canary, points.at(-1)!.canary);
    assert.ok(series[0]!.at <= 64_000, `the first point is ${series[0]!.at / 1000}s into the window`);
    // Evenly spaced: every point but the newest stands for the same number of polls.
    const spans = new Set(series.slice(0, -1).map((p) => p.polls));
    assert.equal(spans.size, 1, `spans ${[...spans].join(', ')}`);
    assert.equal(
      series.reduce((sum, p) => sum + p.polls, 0),
      8640,
      'every poll is in exactly one point',
    );
  });

  it('keeps the last point of every window, where the stage boundaries are drawn', () => {
    const windows = [0, 1000, 2000, 3000];
    const points = windows.flatMap((w) => Array.from({ length: 100 }, (_, i) => point(w, i + 1)));
    const series = fill(points, 120);
    assert.ok(series.length <= 120);
    for (const w of windows) {
      const last = points.filter((p) => p.windowStartedAt === w * 1000).at(-1)!;
      assert.ok(
        series.some((p) => p.at === last.at && p.canary.requests === last.canary.requests),
        `window ${w} keeps its final counts`,
      );
    }
  });

  it('a failing poll passes its result to the point kept in its place', () => {
    const points = [point(0, 1), point(0, 2, 'fail'), point(0, 3), point(0, 4, 'inconclusive'), point(0, 5)];
    // Pairs merge into their later point; the fifth has no partner in its window and stays.
    const thinner = downsample(points);
    assert.deepEqual(
      thinner.map((p) => [p.at, p.result, p.polls]),
      [
        [2000, 'fail', 2],
        [4000, 'inconclusive', 2],
        [5000, 'pass', 1],
      ],
    );
  });

  it('stops at the bound even when every window is a single point', () => {
    const points = Array.from({ length: 300 }, (_, i) => point(i * 10, 1));
    const series = fill(points, 100);
    assert.equal(series.length, 100);
    assert.deepEqual(series.at(-1), points.at(-1));
    assert.deepEqual(series[0], points[200]);
  });
});
