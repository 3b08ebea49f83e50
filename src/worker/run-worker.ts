import { NativeConnection } from '@temporalio/worker';
import { taskQueueFromEnv } from '../spec/workflow-id';
import { temporalTarget } from '../temporal/target';
import { createRolloutWorker, type RolloutWorkerTuning } from './create-worker';

/**
 * Connects with Temporal's environment configuration and runs the rollout worker until a signal
 * stops it. The SDK's Runtime shuts workers down gracefully on SIGINT and SIGTERM: in-flight
 * activities finish first. Tests and benches wait for the "worker ready" line.
 */
export async function runWorker(tuning: RolloutWorkerTuning = {}): Promise<void> {
  const { connectionOptions, namespace } = temporalTarget();
  const connection = await NativeConnection.connect(connectionOptions);
  try {
    const taskQueue = taskQueueFromEnv();
    const worker = await createRolloutWorker({ connection, namespace, taskQueue, ...tuning });
    console.log(`worker ready: ${connectionOptions.address} namespace=${namespace} taskQueue=${taskQueue}`);
    await worker.run();
    console.log('worker stopped');
  } finally {
    await connection.close();
  }
}
