import type { AnalysisConfig } from '../spec/analysis';
import { resourceChecks } from './resource-limits';
import { failedChecks, sampleSizeCheck } from './sample-size';
import type { CheckEvidence, Verdict, VersionMetrics } from './types';
import { type AnalysisRevision, CURRENT_REVISION, unarmedSummary } from './revision';
import { round } from './round';

export interface ThresholdInput {
  canary: VersionMetrics;
  baseline: VersionMetrics;
  config: AnalysisConfig;
  minCanaryRequests: number;
  /** 1: a p99 check without data did not block a pass (older histories replay so); 2: it does. */
  revision?: AnalysisRevision;
  /** Whether an unarmed p99 check keeps the verdict inconclusive; default: yes from revision 2. */
  unarmedLatencyBlocks?: boolean;
}

const rate = (m: VersionMetrics): number => (m.requests > 0 ? m.errors / m.requests : 0);

function errorRateCheck({ canary, baseline, config }: ThresholdInput): CheckEvidence {
  const c = rate(canary);
  const b = rate(baseline);
  // Both a relative and an absolute margin must be exceeded: 0 vs 1 error is noise, not a regression.
  const limit = Math.max(b * config.maxErrorRateRatio, b + config.minErrorRateDelta);
  return {
    name: 'error-rate',
    canary: round(c),
    baseline: round(b),
    limit: round(limit),
    passed: c <= limit,
    note: `canary ${canary.errors}/${canary.requests}, baseline ${baseline.errors}/${baseline.requests}; limit max(${config.maxErrorRateRatio}×baseline, baseline+${config.minErrorRateDelta})`,
  };
}

/** Below this many requests a "p99" is just the slowest request: one GC pause would fail a canary. */
export const MIN_REQUESTS_FOR_P99 = 100;

function latencyCheck({
  canary,
  baseline,
  config,
  revision,
  unarmedLatencyBlocks,
}: ThresholdInput): CheckEvidence {
  const blocks = (revision ?? CURRENT_REVISION) === 2 && unarmedLatencyBlocks !== false;
  // Specs from before the field existed have no `latency`: only a new spec can turn it off.
  const off = config.latency === 'off';
  const thin = Math.min(canary.requests, baseline.requests) < MIN_REQUESTS_FOR_P99;
  if (off || canary.p99Ms === null || baseline.p99Ms === null || thin) {
    const note = off
      ? 'not judged: analysis.latency is off in the spec'
      : thin
        ? `p99 needs ${MIN_REQUESTS_FOR_P99} requests on both sides`
        : 'no latency data from the metrics source';
    return {
      name: 'p99-latency',
      canary: canary.p99Ms,
      baseline: baseline.p99Ms,
      limit: null,
      passed: null,
      note,
      ...(blocks && !off ? { unarmed: note } : {}),
    };
  }
  const limit = Math.max(baseline.p99Ms * config.maxP99Ratio, baseline.p99Ms + config.minP99DeltaMs);
  return {
    name: 'p99-latency',
    canary: round(canary.p99Ms, 1),
    baseline: round(baseline.p99Ms, 1),
    limit: round(limit, 1),
    passed: canary.p99Ms <= limit,
    note: `limit max(${config.maxP99Ratio}×baseline, baseline+${config.minP99DeltaMs}ms)`,
  };
}

/**
 * The seed's relative thresholds, judged on one window's numbers. Only hard resource limits may
 * fail a small sample; rates need minCanaryRequests before they pass or fail.
 */
export function judgeThreshold(input: ThresholdInput): Verdict {
  const { canary, baseline, config, minCanaryRequests } = input;
  const checks: CheckEvidence[] = [
    errorRateCheck(input),
    latencyCheck(input),
    ...resourceChecks(canary, config),
  ];

  const sample = sampleSizeCheck(
    canary,
    baseline,
    minCanaryRequests,
    'canary requests needed before any verdict on rates',
  );
  checks.push(sample);
  const enough = sample.passed === true;

  const failed = failedChecks(checks);
  const hardFailed = failed.filter((c) => c.hard === true);
  const base = { checks, canary, baseline };
  if (hardFailed.length > 0) {
    return {
      ...base,
      result: 'fail',
      summary: `hard limit exceeded: ${hardFailed.map(describe).join('; ')}`,
    };
  }
  if (!enough) {
    return {
      ...base,
      result: 'inconclusive',
      summary: `only ${canary.requests} of ${minCanaryRequests} canary requests needed for a verdict`,
    };
  }
  if (failed.length > 0) return { ...base, result: 'fail', summary: failed.map(describe).join('; ') };
  const unarmed = checks.filter((c) => c.unarmed !== undefined);
  if (unarmed.length > 0) return { ...base, result: 'inconclusive', summary: unarmedSummary(unarmed) };
  return { ...base, result: 'pass', summary: `canary within limits over ${canary.requests} requests` };
}

function describe(check: CheckEvidence): string {
  return `${check.name} ${check.canary} > limit ${check.limit} (baseline ${check.baseline})`;
}
