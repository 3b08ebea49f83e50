import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { plotData } from '../../src/dashboard/plot-data';
import type { SeriesPoint } from '../../src/workflows/state';

const START = Date.parse('2030-01-01T00:00:00.000Z');
const iso = (seconds: number): string => new Date(START + seconds * 1000).toISOString();

function point(
  seconds: number,
  windowStartSeconds: number,
  stage: number,
  weight: number,
  stable: [number, number, number | null],
  canary: [number, number, number | null],
  result: SeriesPoint['result'] = 'pass',
): SeriesPoint {
  return {
    at: START + seconds * 1000,
    windowStartedAt: START + windowStartSeconds * 1000,
    stage,
    weight,
    polls: 1,
    result,
    stable: { requests: stable[0], errors: stable[1], p99Ms: stable[2] },
    canary: { requests: canary[0], errors: canary[1], p99Ms: canary[2] },
  };
}

describe('dashboard: series → plot data', () => {
  const series = [
    point(5, 4, 0, 20, [80, 0, 40], [20, 0, 42]),
    point(6, 4, 0, 20, [160, 2, 41], [40, 10, 300], 'fail'),
    point(12, 10, 1, 50, [50, 1, 39], [0, 0, null], 'inconclusive'),
  ];
  const plots = plotData({
    startedAt: iso(0),
    until: iso(20),
    series,
    decisions: [
      { at: iso(1), weight: 0 },
      { at: iso(4), weight: 20 },
      { at: iso(10), weight: 50 },
      { at: iso(11), weight: 50 },
      { at: iso(14), weight: 0 },
    ],
  });

  test('error rate is errors over requests, cumulative as polled, in percent; no requests is a gap', () => {
    assert.deepEqual(plots.errorRatePct.stable, [
      { x: 5, y: 0 },
      { x: 6, y: 1.25 },
      { x: 12, y: 2 },
    ]);
    assert.deepEqual(plots.errorRatePct.canary, [
      { x: 5, y: 0 },
      { x: 6, y: 25 },
      { x: 12, y: null },
    ]);
  });

  test('p99 per version, null where the source had none', () => {
    assert.deepEqual(
      plots.p99Ms.canary.map((p) => p.y),
      [42, 300, null],
    );
    assert.deepEqual(
      plots.p99Ms.stable.map((p) => p.y),
      [40, 41, 39],
    );
  });

  test('a boundary at the first window and wherever the window or the stage changes', () => {
    assert.deepEqual(plots.boundaries, [
      { x: 4, label: 'stage 1 · 20%' },
      { x: 10, label: 'stage 2 · 50%' },
    ]);
    const sameStageNewWindow = plotData({
      startedAt: iso(0),
      until: iso(30),
      series: [point(5, 4, 0, 20, [1, 0, 1], [1, 0, 1]), point(25, 24, 0, 20, [1, 0, 1], [1, 0, 1])],
      decisions: [],
    });
    assert.deepEqual(
      sameStageNewWindow.boundaries.map((b) => b.x),
      [4, 24],
    );
    const outsideStages = plotData({
      startedAt: iso(0),
      until: iso(30),
      series: [point(5, 4, -1, 100, [1, 0, 1], [1, 0, 1])],
      decisions: [],
    });
    assert.equal(outsideStages.boundaries[0]?.label, 'window · 100%');
  });

  test('the weight is a step per change, from 0 at the start to the end of the plot', () => {
    assert.deepEqual(plots.canaryWeight, [
      { x: 0, y: 0 },
      { x: 4, y: 20 },
      { x: 10, y: 50 },
      { x: 14, y: 0 },
      { x: 20, y: 0 },
    ]);
    assert.equal(plots.xMax, 20);
  });

  test('results per point, for colouring failing polls', () => {
    assert.deepEqual(plots.results, ['pass', 'fail', 'inconclusive']);
  });

  test('a run from before the series existed has only the weight', () => {
    const old = plotData({ startedAt: iso(0), until: iso(8), decisions: [{ at: iso(2), weight: 20 }] });
    assert.equal(old.hasSeries, false);
    assert.deepEqual(old.errorRatePct, { stable: [], canary: [] });
    assert.deepEqual(old.boundaries, []);
    assert.deepEqual(old.canaryWeight, [
      { x: 0, y: 0 },
      { x: 2, y: 20 },
      { x: 8, y: 20 },
    ]);
    assert.equal(plotData({ startedAt: iso(0), until: iso(1), series: [], decisions: [] }).hasSeries, true);
  });

  test('the x axis reaches the last poll even if the state was updated before it', () => {
    const late = plotData({ startedAt: iso(0), until: iso(3), series, decisions: [] });
    assert.equal(late.xMax, 12);
  });
});
