import type { CheckEvidence, VersionMetrics } from './types';

/** Whether the canary has served enough requests for its rates to mean anything. */
export function sampleSizeCheck(
  canary: VersionMetrics,
  baseline: VersionMetrics,
  minCanaryRequests: number,
  note: string,
): CheckEvidence {
  return {
    name: 'sample-size',
    canary: canary.requests,
    baseline: baseline.requests,
    limit: minCanaryRequests,
    passed: canary.requests >= minCanaryRequests,
    note,
  };
}
