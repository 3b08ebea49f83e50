import type { AnalysisConfig } from '../spec/analysis';
import { judgeThreshold } from './threshold';
import type { CheckEvidence, Verdict, VersionMetrics } from './types';

export interface PostSwitchLimits {
  maxErrorRate: number;
  maxP99Ms?: number;
}

export interface PostSwitchInput {
  /** The new environment since the switch, carrying all traffic. */
  current: VersionMetrics;
  /** The old environment over the minutes before the switch. */
  baseline: VersionMetrics;
  config: AnalysisConfig;
  limits: PostSwitchLimits;
  minRequests: number;
}

/**
 * After a blue-green switch nothing runs beside the new version, so there is no same-window baseline:
 * judge it against the old environment's recent past (the seed's ratios) and against absolute limits.
 */
export function judgePostSwitch({
  current,
  baseline,
  config,
  limits,
  minRequests,
}: PostSwitchInput): Verdict {
  // The switch has happened: a p99 comparison still short of data does not hold it (the absolute
  // limits and the error rate keep guarding). Latency is judged before the switch, in the
  // validation slice, where the old environment serves beside the new one.
  const relative = judgeThreshold({
    canary: current,
    baseline,
    config,
    minCanaryRequests: minRequests,
    unarmedLatencyBlocks: false,
  });
  const enough = current.requests >= minRequests;
  const errorRate = current.requests > 0 ? current.errors / current.requests : 0;
  const absolute: CheckEvidence[] = [
    {
      name: 'absolute-error-rate',
      canary: Number(errorRate.toFixed(4)),
      baseline: null,
      limit: limits.maxErrorRate,
      passed: enough ? errorRate <= limits.maxErrorRate : null,
      note: `${current.errors}/${current.requests} since the switch`,
    },
  ];
  if (limits.maxP99Ms !== undefined) {
    absolute.push({
      name: 'absolute-p99',
      canary: current.p99Ms,
      baseline: null,
      limit: limits.maxP99Ms,
      passed: enough && current.p99Ms !== null ? current.p99Ms <= limits.maxP99Ms : null,
      note: 'p99 since the switch',
    });
  }
  const checks = [...relative.checks, ...absolute];
  const failed = absolute.filter((c) => c.passed === false);
  const base = { checks, canary: current, baseline };
  if (relative.result === 'fail' || failed.length > 0) {
    const reasons = [
      ...(relative.result === 'fail' ? [relative.summary] : []),
      ...failed.map((c) => `${c.name} ${c.canary} > ${c.limit}`),
    ];
    return { ...base, result: 'fail', summary: reasons.join('; ') };
  }
  if (relative.result === 'inconclusive')
    return { ...base, result: 'inconclusive', summary: relative.summary };
  return {
    ...base,
    result: 'pass',
    summary: `new environment within limits over ${current.requests} requests`,
  };
}
