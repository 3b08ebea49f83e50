import { type NativeConnection, Worker, type WorkerOptions, type WorkflowBundle } from '@temporalio/worker';
import { createActivities } from '../activities';
import { defaultProviders, type ProviderRegistry } from '../providers/registry';

/**
 * Capacity knobs, passed through to the SDK as they are; each left out keeps the behaviour below
 * (the SDK's default, or our sticky-queue timeout). `npm run bench:scale` measures their effect on
 * memory, poll lateness and abort latency with many rollouts in flight.
 */
export type RolloutWorkerTuning = Pick<
  WorkerOptions,
  | 'maxCachedWorkflows'
  | 'maxConcurrentWorkflowTaskExecutions'
  | 'maxConcurrentWorkflowTaskPolls'
  | 'maxConcurrentActivityTaskExecutions'
  | 'maxConcurrentActivityTaskPolls'
  | 'maxConcurrentLocalActivityExecutions'
  | 'stickyQueueScheduleToStartTimeout'
  | 'workflowThreadPoolSize'
  | 'reuseV8Context'
>;

export const TUNING_KEYS = [
  'maxCachedWorkflows',
  'maxConcurrentWorkflowTaskExecutions',
  'maxConcurrentWorkflowTaskPolls',
  'maxConcurrentActivityTaskExecutions',
  'maxConcurrentActivityTaskPolls',
  'maxConcurrentLocalActivityExecutions',
  'stickyQueueScheduleToStartTimeout',
  'workflowThreadPoolSize',
  'reuseV8Context',
] as const satisfies readonly (keyof RolloutWorkerTuning)[];

export interface RolloutWorkerOptions extends RolloutWorkerTuning {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  providers?: ProviderRegistry;
  /** A prebuilt bundle saves the bundling step when a process creates many workers (tests). */
  workflowBundle?: WorkflowBundle;
  identity?: string;
}

export const WORKFLOWS_PATH = require.resolve('../workflows');

/** Only the knobs that were given: an explicit undefined must not override an SDK default. */
function tuningOf(options: RolloutWorkerTuning): Partial<WorkerOptions> {
  const tuning: Partial<WorkerOptions> = {};
  for (const key of TUNING_KEYS) {
    if (options[key] !== undefined) Object.assign(tuning, { [key]: options[key] });
  }
  return tuning;
}

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
    ...tuningOf(options),
  });
}
