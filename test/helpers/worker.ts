import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createRolloutWorker } from '../../src/worker/create-worker';
import { workflowBundle } from './temporal';

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

/** Polls fn until it returns a truthy value, failing after timeoutMs with the last value seen. */
export async function eventually<T>(
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await fn();
      if (value) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`,
  );
}
