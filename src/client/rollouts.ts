import {
  type Client,
  WorkflowExecutionAlreadyStartedError,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { refuseUnsafeMigrations } from '../migrations/guard';
import type { BlueGreenSpec } from '../spec/blue-green';
import { CanaryWeight, RolloutPhase, RolloutService, RolloutStrategy } from '../spec/search-attributes';
import type { CanarySpec } from '../spec/canary';
import { taskQueueFromEnv, workflowIdForService } from '../spec/workflow-id';
import type { blueGreenRollout } from '../workflows/blue-green';
import type { canaryRollout } from '../workflows/canary';
import { abortSignal, pauseSignal, promoteSignal, resumeSignal, stateQuery } from '../workflows/control';
import type { RolloutResult, RolloutState } from '../workflows/state';

export class RolloutAlreadyRunningError extends Error {
  override name = 'RolloutAlreadyRunningError';
  constructor(
    readonly service: string,
    readonly workflowId: string,
  ) {
    super(
      `a rollout of service "${service}" is already running (workflow ${workflowId}); ` +
        `wait for it, or abort it with: rollout abort ${workflowId} --reason "..."`,
    );
  }
}

/** Accepts a workflow id or a bare service name. */
export function toWorkflowId(idOrService: string): string {
  return idOrService.startsWith('rollout-') ? idOrService : workflowIdForService(idOrService);
}

export const START_OPTIONS = {
  // The id is the lock: a running rollout of the same service makes the start fail.
  workflowIdConflictPolicy: 'FAIL',
  workflowIdReusePolicy: 'ALLOW_DUPLICATE',
} as const;

export function searchAttributesFor(
  service: string,
  strategy: 'canary' | 'blue-green',
): SearchAttributePair[] {
  return [
    { key: RolloutService, value: service },
    { key: RolloutStrategy, value: strategy },
    { key: RolloutPhase, value: 'starting' },
    { key: CanaryWeight, value: 0 },
  ];
}

/**
 * Starts with the rollout search attributes; on a cluster that has not registered them, starts
 * without (the rollout works the same, it just cannot be filtered in the UI) and says so.
 */
export async function startWithAttributes<T>(
  start: (attributes: SearchAttributePair[]) => Promise<T>,
  attributes: SearchAttributePair[],
): Promise<T> {
  try {
    return await start(attributes);
  } catch (err) {
    // The server's reason ("no mapping defined for search attribute …") is in the cause.
    const reason = `${(err as Error).message}: ${((err as Error).cause as Error | undefined)?.message ?? ''}`;
    if (err instanceof WorkflowExecutionAlreadyStartedError || !/search attribute/i.test(reason)) throw err;
    process.emitWarning(
      `starting without search attributes (${reason}); register RolloutService, RolloutStrategy, RolloutPhase and CanaryWeight to filter rollouts in the UI (README)`,
    );
    return start([]);
  }
}

async function refuseDuplicates<T>(service: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new RolloutAlreadyRunningError(service, workflowIdForService(service));
    }
    throw err;
  }
}

export async function startCanary(
  client: Client,
  spec: CanarySpec,
  taskQueue = taskQueueFromEnv(),
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof canaryRollout>> {
  await refuseUnsafeMigrations(spec, spec.service);
  return refuseDuplicates(spec.service, () =>
    startWithAttributes(
      (typedSearchAttributes) =>
        client.workflow.start<typeof canaryRollout>('canaryRollout', {
          ...START_OPTIONS,
          workflowId: workflowIdForService(spec.service),
          taskQueue,
          args: [{ spec }],
          typedSearchAttributes,
          staticSummary: `canary ${spec.service}: ${spec.stable.version} → ${spec.canary.version}`,
        }),
      searchAttributesFor(spec.service, 'canary'),
    ),
  );
}

export async function startBlueGreen(
  client: Client,
  spec: BlueGreenSpec,
  taskQueue = taskQueueFromEnv(),
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof blueGreenRollout>> {
  await refuseUnsafeMigrations(spec, spec.service);
  return refuseDuplicates(spec.service, () =>
    startWithAttributes(
      (typedSearchAttributes) =>
        client.workflow.start<typeof blueGreenRollout>('blueGreenRollout', {
          ...START_OPTIONS,
          workflowId: workflowIdForService(spec.service),
          taskQueue,
          args: [{ spec }],
          typedSearchAttributes,
          staticSummary: `blue-green ${spec.service}: → ${spec.version}`,
        }),
      searchAttributesFor(spec.service, 'blue-green'),
    ),
  );
}

/** The state of a running rollout from its query, or of a finished one from its result. */
export async function readState(client: Client, idOrService: string): Promise<RolloutState> {
  const handle = client.workflow.getHandle(toWorkflowId(idOrService));
  const description = await handle.describe();
  if (description.status.name !== 'RUNNING') {
    try {
      return ((await handle.result()) as RolloutResult).state;
    } catch {
      // A failed or cancelled run has no result; a worker can still answer the query from history.
    }
  }
  return handle.query(stateQuery);
}

export async function pauseRollout(client: Client, idOrService: string, reason?: string): Promise<void> {
  await client.workflow.getHandle(toWorkflowId(idOrService)).signal(pauseSignal, reason ? { reason } : {});
}

export async function resumeRollout(client: Client, idOrService: string): Promise<void> {
  await client.workflow.getHandle(toWorkflowId(idOrService)).signal(resumeSignal, {});
}

export async function promoteRollout(client: Client, idOrService: string): Promise<void> {
  await client.workflow.getHandle(toWorkflowId(idOrService)).signal(promoteSignal, {});
}

export async function abortRollout(client: Client, idOrService: string, reason: string): Promise<void> {
  await client.workflow.getHandle(toWorkflowId(idOrService)).signal(abortSignal, { reason });
}

export interface RolloutSummary {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
  startTime: string;
  closeTime: string | null;
}

export async function listRollouts(client: Client, limit = 50): Promise<RolloutSummary[]> {
  const rows: RolloutSummary[] = [];
  for await (const wf of client.workflow.list({
    query: `WorkflowType IN ('canaryRollout', 'blueGreenRollout', 'undoRollout')`,
  })) {
    rows.push({
      workflowId: wf.workflowId,
      runId: wf.runId,
      type: wf.type,
      status: wf.status.name,
      startTime: wf.startTime.toISOString(),
      closeTime: wf.closeTime?.toISOString() ?? null,
    });
    if (rows.length >= limit) break;
  }
  return rows;
}
