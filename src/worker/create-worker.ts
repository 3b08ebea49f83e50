import { type NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { createActivities } from '../activities';
import { defaultProviders, type ProviderRegistry } from '../providers/registry';

export interface RolloutWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  providers?: ProviderRegistry;
  /** A prebuilt bundle saves the bundling step when a process creates many workers (tests). */
  workflowBundle?: WorkflowBundle;
  identity?: string;
}

export const WORKFLOWS_PATH = require.resolve('../workflows');

export function createRolloutWorker(options: RolloutWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities(options.providers ?? defaultProviders),
    // On SIGTERM, let in-flight activities (a traffic change, a deploy) finish before the worker exits.
    shutdownGraceTime: '30s',
    // After a worker crash its sticky queue holds the next workflow task until this runs out;
    // the SDK's 10 s default was most of the recovery time in the fault tests.
    stickyQueueScheduleToStartTimeout: '3s',
  });
}
