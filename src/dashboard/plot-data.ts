import type { VerdictResult } from '../analysis/types';
import type { Decision, SeriesPoint, SeriesVersion } from '../workflows/state';

/** One point of a line: x in seconds since the rollout started, y null where there is nothing to plot. */
export interface XY {
  x: number;
  y: number | null;
}

export interface VersionLines {
  stable: XY[];
  canary: XY[];
}

/** Where a new window (a new stage, a blue-green validation slice or post-switch watch) began. */
export interface Boundary {
  x: number;
  label: string;
}

/** What the page's charts draw: Chart.js takes these arrays as they are. */
export interface PlotData {
  /** Percent of requests that failed, cumulative within each window, as the analysis judged them. */
  errorRatePct: VersionLines;
  p99Ms: VersionLines;
  /** The new version's traffic share, one step per decision, up to the last update. */
  canaryWeight: XY[];
  boundaries: Boundary[];
  /** The verdict of each poll, in the order of errorRatePct and p99Ms. */
  results: VerdictResult[];
  /** The right end shared by every chart, so that their x axes line up. */
  xMax: number;
  /** False for runs from before the state kept a series: only the weight can be drawn. */
  hasSeries: boolean;
}

export interface PlotInput {
  startedAt: string;
  /** The last moment the plots should reach: the finish, or the state's last update. */
  until: string;
  series?: SeriesPoint[];
  decisions: Pick<Decision, 'at' | 'weight'>[];
}

const round = (value: number, digits: number): number => Number(value.toFixed(digits));

const errorRate = (v: SeriesVersion): number | null =>
  v.requests > 0 ? round((100 * v.errors) / v.requests, 3) : null;

function boundaryLabel(point: SeriesPoint): string {
  const where = point.stage >= 0 ? `stage ${point.stage + 1}` : 'window';
  return `${where} · ${point.weight}%`;
}

/** Stage boundaries: the first window, then wherever the window start or the stage changes. */
function boundariesOf(series: SeriesPoint[], seconds: (ms: number) => number): Boundary[] {
  const boundaries: Boundary[] = [];
  let previous: SeriesPoint | undefined;
  for (const point of series) {
    if (
      previous === undefined ||
      point.windowStartedAt !== previous.windowStartedAt ||
      point.stage !== previous.stage
    ) {
      // The window's own start, unless the clock says it began before the last poll of the old one.
      const at =
        previous === undefined ? point.windowStartedAt : Math.max(point.windowStartedAt, previous.at);
      boundaries.push({ x: seconds(at), label: boundaryLabel(point) });
    }
    previous = point;
  }
  return boundaries;
}

/** A step line: the weight each decision left, from 0 at the start to the last update. */
function weightSteps(decisions: PlotInput['decisions'], seconds: (ms: number) => number, xMax: number): XY[] {
  const steps: XY[] = [{ x: 0, y: 0 }];
  for (const decision of decisions) {
    const last = steps[steps.length - 1]!;
    if (decision.weight === last.y) continue;
    steps.push({ x: Math.max(last.x, seconds(Date.parse(decision.at))), y: decision.weight });
  }
  steps.push({ x: xMax, y: steps[steps.length - 1]!.y });
  return steps;
}

export function plotData(input: PlotInput): PlotData {
  const origin = Date.parse(input.startedAt);
  const seconds = (ms: number): number => round(Math.max(0, ms - origin) / 1000, 1);
  const series = input.series ?? [];
  const lastPoint = series[series.length - 1];
  const xMax = Math.max(seconds(Date.parse(input.until)), lastPoint ? seconds(lastPoint.at) : 0);
  const line = (value: (v: SeriesVersion) => number | null, which: 'stable' | 'canary'): XY[] =>
    series.map((point) => ({ x: seconds(point.at), y: value(point[which]) }));
  return {
    errorRatePct: { stable: line(errorRate, 'stable'), canary: line(errorRate, 'canary') },
    p99Ms: { stable: line((v) => v.p99Ms, 'stable'), canary: line((v) => v.p99Ms, 'canary') },
    canaryWeight: weightSteps(input.decisions, seconds, xMax),
    boundaries: boundariesOf(series, seconds),
    results: series.map((point) => point.result),
    xMax,
    hasSeries: input.series !== undefined,
  };
}
