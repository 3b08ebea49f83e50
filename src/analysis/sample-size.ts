import type { CheckEvidence, VersionMetrics } from './types';

export const SAMPLE_SIZE_CHECK = 'sample-size';

/** Whether the canary has served enough requests for its rates to mean anything. */
export function sampleSizeCheck(
  canary: VersionMetrics,
  baseline: VersionMetrics,
  minCanaryRequests: number,
  note: string,
): CheckEvidence {
  return {
    name: SAMPLE_SIZE_CHECK,
    canary: canary.requests,
    baseline: baseline.requests,
    limit: minCanaryRequests,
    passed: canary.requests >= minCanaryRequests,
    note,
  };
}

/** The checks that failed on the numbers: too few requests is no failure, only "not judged yet". */
export function failedChecks(checks: CheckEvidence[]): CheckEvidence[] {
  return checks.filter((c) => c.passed === false && c.name !== SAMPLE_SIZE_CHECK);
}
