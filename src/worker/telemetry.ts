import { Runtime, type RuntimeOptions } from '@temporalio/worker';
import { ROLLBACK_SECONDS_BUCKETS, ROLLOUT_METRIC } from '../workflows/rollout-metrics';

export const METRICS_ADDRESS_ENV = 'ROLLOUT_METRICS_ADDRESS';

/** host:port, with an IPv6 host in brackets; the exporter binds exactly this. */
const BIND_ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** The bind address in ROLLOUT_METRICS_ADDRESS, or null when unset; throws on a malformed value. */
export function metricsAddressFromEnv(env: NodeJS.ProcessEnv = process.env): string | null {
  const value = env[METRICS_ADDRESS_ENV]?.trim();
  if (!value) return null;
  const match = BIND_ADDRESS.exec(value);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port < 1 || port > 65535) {
    throw new Error(`${METRICS_ADDRESS_ENV} must be host:port (for example 127.0.0.1:9464), got "${value}"`);
  }
  return value;
}

/**
 * The Runtime's telemetry: with an address, a Prometheus exporter at http://<address>/metrics that
 * serves the SDK's own metrics (temporal_*: task slots, poll latency, activity and workflow
 * outcomes) and the rollout metrics the workflows and activities emit through the SDK's meter.
 * Counters get the conventional `_total` suffix.
 */
export function runtimeOptions(metricsAddress: string | null, base: RuntimeOptions = {}): RuntimeOptions {
  if (!metricsAddress) return base;
  return {
    ...base,
    telemetryOptions: {
      metrics: {
        prometheus: {
          bindAddress: metricsAddress,
          countersTotalSuffix: true,
          histogramBucketOverrides: {
            [ROLLOUT_METRIC.failureToRollback]: ROLLBACK_SECONDS_BUCKETS,
            [ROLLOUT_METRIC.rollbackConvergence]: ROLLBACK_SECONDS_BUCKETS,
          },
        },
      },
    },
  };
}

/**
 * Must run before the first connection: the Runtime is installed once per process. Without an
 * address and without base options it installs nothing, and the SDK's defaults apply.
 */
export function installRuntime(
  base: RuntimeOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): string | null {
  const address = metricsAddressFromEnv(env);
  if (address || Object.keys(base).length > 0) Runtime.install(runtimeOptions(address, base));
  return address;
}
