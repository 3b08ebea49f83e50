import type { Verdict, VersionMetrics } from '../analysis/types';
import type { SeriesPoint, SeriesVersion } from './state';

/**
 * The most points the state keeps. A point is about 200 bytes of JSON, so the series stays under
 * ~50 KB in every query answer and continue-as-new input, however long the bake: a day of 10 s
 * polls (8,640) is 135 points of 64 polls each.
 */
export const MAX_SERIES_POINTS = 240;

function versionPoint(metrics: VersionMetrics): SeriesVersion {
  return { requests: metrics.requests, errors: metrics.errors, p99Ms: metrics.p99Ms };
}

/** The point a verdict makes: counts are cumulative over the window, as the analysis judged them. */
export function seriesPoint(
  verdict: Verdict,
  at: number,
  windowStartedAt: number,
  stage: number,
  weight: number,
): SeriesPoint {
  return {
    at,
    windowStartedAt,
    stage,
    weight,
    polls: 1,
    result: verdict.result,
    stable: versionPoint(verdict.baseline),
    canary: versionPoint(verdict.canary),
  };
}

const SEVERITY = { pass: 0, inconclusive: 1, fail: 2 } as const;

function worse(a: SeriesPoint['result'], b: SeriesPoint['result']): SeriesPoint['result'] {
  return SEVERITY[a] >= SEVERITY[b] ? a : b;
}

/**
 * `later` standing for both: counts are cumulative within a window, so the later point's counts
 * cover the earlier one's and no request is lost; the worse result stays, so a failing poll never
 * vanishes from the plot.
 */
function merged(earlier: SeriesPoint, later: SeriesPoint): SeriesPoint {
  return { ...later, polls: earlier.polls + later.polls, result: worse(earlier.result, later.result) };
}

/** Halves the resolution: neighbours in the same window merge in pairs; windows never merge. */
export function downsample(series: SeriesPoint[]): SeriesPoint[] {
  const kept: SeriesPoint[] = [];
  for (let i = 0; i < series.length; i++) {
    const point = series[i]!;
    const next = series[i + 1];
    if (next && next.windowStartedAt === point.windowStartedAt) {
      kept.push(merged(point, next));
      i++;
    } else kept.push(point);
  }
  return kept;
}

/**
 * Adds one poll. Points are evenly spaced: each stands for as many polls as the coarsest point
 * does, so the newest poll merges into the last point until that one is full. When the series
 * outgrows `max`, every point doubles its span; the last point always carries the newest counts.
 */
export function appendPoint(
  series: SeriesPoint[],
  point: SeriesPoint,
  max: number = MAX_SERIES_POINTS,
): SeriesPoint[] {
  const span = series.reduce((most, p) => Math.max(most, p.polls), 1);
  const last = series.at(-1);
  const poll = { ...point, polls: 1 };
  let next =
    last && last.windowStartedAt === poll.windowStartedAt && last.polls < span
      ? [...series.slice(0, -1), merged(last, poll)]
      : [...series, poll];
  if (next.length > max) {
    const thinner = downsample(next);
    // Many one-poll windows cannot merge: then the oldest go.
    next = thinner.length > max ? thinner.slice(thinner.length - max) : thinner;
  }
  return next;
}
