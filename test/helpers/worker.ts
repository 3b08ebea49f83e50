import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createRolloutWorker } from '../../src/worker/create-worker';
import { workflowBundle } from './temporal';

// Re-exported for test/fixtures/record-histories.ts and the workflow tests that import it from here.

let counter = 0;
export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${process.pid}-${++counter}`;
}

export async function createWorker(env: TestWorkflowEnvironment, taskQueue: string): Promise<Worker> {
  return createRolloutWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: await workflowBundle(),
  });
}
