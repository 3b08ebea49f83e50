import type { SmokeTest } from '../../spec/checks';
import { joinTarget } from '../../spec/target-join';
import { PATH_ESCAPES, probe } from './http-probe';

export interface SmokeResult {
  name: string;
  target: string;
  passed: boolean;
  status: number | null;
  reason: string | null;
  durationMs: number;
}

export interface SmokeReport {
  passed: boolean;
  results: SmokeResult[];
}

/** Runs each declarative check against each target directly, bypassing the router. */
export async function runSmokeTests(targets: string[], tests: SmokeTest[]): Promise<SmokeReport> {
  const results: SmokeResult[] = [];
  for (const target of targets) {
    for (const test of tests) {
      const url = joinTarget(target, test.path);
      if (url === null) {
        results.push({
          name: test.name,
          target,
          passed: false,
          status: null,
          reason: PATH_ESCAPES,
          durationMs: 0,
        });
        continue;
      }
      const result = await probe({
        url,
        method: test.method,
        headers: test.headers,
        body: test.body,
        timeoutMs: test.timeout,
      });
      let reason: string | null = null;
      if (result.error) reason = result.error;
      else if (result.status !== test.expectedStatus)
        reason = `status ${result.status}, expected ${test.expectedStatus}`;
      else if (test.bodyContains !== undefined && !result.body.includes(test.bodyContains)) {
        reason = `body does not contain ${JSON.stringify(test.bodyContains)}`;
      }
      results.push({
        name: test.name,
        target,
        passed: reason === null,
        status: result.status,
        reason,
        durationMs: Math.round(result.durationMs),
      });
    }
  }
  return { passed: results.every((r) => r.passed), results };
}
