import type { VersionMetrics } from '../../analysis/types';

export interface MetricsWindow {
  sinceMs: number;
  untilMs?: number;
  /** When set, also count requests slower than this (VersionMetrics.slowRequests), if the source can. */
  slowerThanMs?: number;
  /** When set, count requests slower than each bound (VersionMetrics.slowCounts, same order), where the source can. */
  latencyBoundsMs?: number[];
}

/** A source of per-version request, error and latency figures. */
export interface MetricsProvider {
  versionMetrics(version: string, window: MetricsWindow): Promise<VersionMetrics>;
}
