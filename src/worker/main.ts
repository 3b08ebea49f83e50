import { NativeConnection } from '@temporalio/worker';
import { taskQueueFromEnv } from '../spec/workflow-id';
import { temporalTarget } from '../temporal/target';
import { createRolloutWorker } from './create-worker';

// The SDK's Runtime shuts workers down gracefully on SIGINT and SIGTERM: in-flight activities finish first.
async function main(): Promise<void> {
  const { connectionOptions, namespace } = temporalTarget();
  const connection = await NativeConnection.connect(connectionOptions);
  try {
    const taskQueue = taskQueueFromEnv();
    const worker = await createRolloutWorker({ connection, namespace, taskQueue });
    console.log(`worker ready: ${connectionOptions.address} namespace=${namespace} taskQueue=${taskQueue}`);
    await worker.run();
    console.log('worker stopped');
  } finally {
    await connection.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
