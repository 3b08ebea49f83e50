import type { HealthCheckConfig } from '../../spec/checks';
import { joinTarget } from '../../spec/target-join';
import { PATH_ESCAPES, probe } from './http-probe';

export interface TargetHealth {
  target: string;
  healthy: boolean;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
}

export interface HealthReport {
  healthy: boolean;
  targets: TargetHealth[];
}

/** Checks every target, retrying each up to config.retries times; all must answer expectedStatus. */
export async function checkHealth(
  targets: string[],
  config: HealthCheckConfig,
  onAttempt: (target: string, attempt: number) => void = () => undefined,
): Promise<HealthReport> {
  const results: TargetHealth[] = [];
  for (const target of targets) {
    const url = joinTarget(target, config.path);
    if (url === null) {
      // The spec allows only plain paths; a path that still escapes is never probed elsewhere.
      results.push({ target, healthy: false, attempts: 0, lastStatus: null, lastError: PATH_ESCAPES });
      continue;
    }
    let attempt = 0;
    let last = { status: null as number | null, error: null as string | null };
    while (attempt <= config.retries) {
      attempt++;
      onAttempt(target, attempt);
      const result = await probe({ url, timeoutMs: config.timeout });
      last = { status: result.status, error: result.error };
      if (result.status === config.expectedStatus) break;
      if (attempt <= config.retries) await new Promise((r) => setTimeout(r, config.interval));
    }
    results.push({
      target,
      healthy: last.status === config.expectedStatus,
      attempts: attempt,
      lastStatus: last.status,
      lastError:
        last.error ?? (last.status === config.expectedStatus ? null : `expected ${config.expectedStatus}`),
    });
  }
  return { healthy: results.every((r) => r.healthy), targets: results };
}
