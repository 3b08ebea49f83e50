import { log } from '@temporalio/activity';
import { HaproxyMetricsProvider } from '../providers/metrics/haproxy';
import type { HaproxyTrafficConfig } from '../spec/traffic';

/** Starts this worker's sampler of the backend's counters; a failure only costs early counts. */
export async function warmUpHaproxyCounters(traffic: HaproxyTrafficConfig): Promise<void> {
  const { runtimeApi, backend, versionsMap, timeout } = traffic;
  try {
    await new HaproxyMetricsProvider({
      provider: 'haproxy',
      runtimeApi,
      backend,
      versionsMap,
      timeout,
    }).warmUp();
  } catch (err) {
    log.warn('could not start sampling HAProxy counters', { error: (err as Error).message });
  }
}
