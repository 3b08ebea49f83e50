import { after, afterEach, before } from 'node:test';
import type { Faults } from '../../src/demo/service';
import { Cleanup, FaultEnv } from './fault-env';
import { InvariantWatch } from './invariants';
import { Stack } from './stack';
import { uniqueTaskQueue } from './worker';
import { type KillableWorker, startKillableWorker } from './worker-process';

export interface FaultCase {
  stack: Stack;
  taskQueue: string;
  /** A new worker process on this case's task queue, SIGKILLed at cleanup if still alive. */
  startWorker(): Promise<KillableWorker>;
  watch: InvariantWatch;
}

/**
 * One dev server per test file; per test a fresh stack with users, a task queue, worker processes
 * on demand and an invariant watch, all torn down after the test even when it fails.
 */
export function faultSuite(): {
  readonly env: FaultEnv;
  cleanup: Cleanup;
  setUp(service: string, v2Faults?: Partial<Faults>): Promise<FaultCase>;
} {
  let env: FaultEnv | undefined;
  const cleanup = new Cleanup();
  before(async () => {
    env = await FaultEnv.start();
  });
  afterEach(() => cleanup.run());
  after(async () => {
    await cleanup.run();
    await env?.close();
  });
  const current = (): FaultEnv => {
    if (!env) throw new Error('the fault suite has not started');
    return env;
  };
  return {
    get env() {
      return current();
    },
    cleanup,
    async setUp(service, v2Faults = {}) {
      const stack = cleanup.add(await Stack.start(v2Faults), (s) => s.close());
      stack.startUsers(60, 300_000);
      const taskQueue = uniqueTaskQueue(service);
      const startWorker = async (): Promise<KillableWorker> =>
        cleanup.add(await startKillableWorker({ address: current().address, taskQueue }), (w) => w.kill());
      const watch = cleanup.add(new InvariantWatch(stack), (w) => w.stop());
      return { stack, taskQueue, startWorker, watch };
    },
  };
}
