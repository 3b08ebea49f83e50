import type { AnalysisConfig } from '../../spec/analysis';
import type { CheckEvidence, VersionMetrics } from '../types';
import { type LatencyBoundsState, latencyUnarmedReason, logLatencyBayesFactor } from './latency-bounds';
import { round } from '../round';

const ms = (x: number): string => `${round(x, 1)}ms`;

/** The latency check of one verdict: the bounds, the counts behind them, the statistic, and what it waits for. */
export function boundsEvidence(
  bounds: LatencyBoundsState,
  config: AnalysisConfig,
  threshold: number,
  canary: VersionMetrics,
  baseline: VersionMetrics,
  minCanaryRequests: number,
): CheckEvidence {
  const logBF = logLatencyBayesFactor(bounds);
  const bf = Math.exp(Math.min(logBF, 700));
  const rejected = logBF >= Math.log(threshold);
  const unarmed = rejected ? null : latencyUnarmedReason(bounds, minCanaryRequests);
  const ref = bounds.boundsReference;
  const chosen =
    bounds.boundsMs === null
      ? 'slow bounds not chosen yet'
      : bounds.fixedBoundMs !== null
        ? `requests slower than ${ms(bounds.fixedBoundMs)} (latencyThresholdMs)`
        : `requests slower than ${bounds.boundsMs.map(ms).join(' / ')} (baseline p50 / p99 from ${ref?.requests ?? 0} requests, ${ref?.source ?? '?'})`;
  const tolerance =
    bounds.boundsMs === null
      ? ''
      : `, canary requests above max(×${config.latencyToleranceRatio}, +${config.latencyToleranceMs}ms) of each`;
  const counted = bounds.slow.canary.map((c, k) => `${c} vs ${bounds.slow.baseline[k] ?? 0}`).join(' / ');
  return {
    name: 'latency',
    canary: canary.p99Ms === null ? null : round(canary.p99Ms, 1),
    baseline: baseline.p99Ms === null ? null : round(baseline.p99Ms, 1),
    limit: round(threshold, 2),
    statistic: round(bf, 3),
    passed: rejected ? false : unarmed === null ? true : null,
    note: `${chosen}${tolerance}; slow canary vs baseline so far ${counted}; p99 this stage ${canary.p99Ms}ms vs ${baseline.p99Ms}ms; Bayes factor ${bf.toPrecision(3)} vs ${threshold} over ${bounds.judgedTotal} canary requests judged`,
    ...(unarmed === null ? {} : { unarmed }),
  };
}
