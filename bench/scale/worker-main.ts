import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { RolloutWorkerTuning } from '../../src/worker/create-worker';
import { runWorker } from '../../src/worker/run-worker';
import { SDK_HISTOGRAM_BUCKETS_MS } from './sdk-metrics';

/**
 * The rollout worker as bench:scale runs it: src/worker/main.ts plus two things that must happen in
 * the worker's own process. The SDK's Prometheus exporter is installed before the worker is created
 * (Runtime.install may run once per process, and only before any worker exists), so the bench can
 * scrape workflow-task latencies; and the tuning under test reaches createRolloutWorker.
 *
 * BENCH_SCALE_METRICS_ADDRESS: host:port for the SDK's /metrics (required).
 * BENCH_SCALE_TUNING: JSON of RolloutWorkerTuning fields (optional; {} is the production worker).
 */
async function main(): Promise<void> {
  const bindAddress = process.env.BENCH_SCALE_METRICS_ADDRESS;
  if (!bindAddress) throw new Error('BENCH_SCALE_METRICS_ADDRESS is not set');
  const tuning = JSON.parse(process.env.BENCH_SCALE_TUNING ?? '{}') as RolloutWorkerTuning;
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    telemetryOptions: {
      metrics: {
        prometheus: { bindAddress, histogramBucketOverrides: SDK_HISTOGRAM_BUCKETS_MS },
      },
    },
  });
  await runWorker(tuning);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
