import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import {
  activeFreeze,
  FLEET_FREEZE_WORKFLOW_ID,
  type FleetFreeze,
  type FleetFreezeStatus,
} from '../schedule/fleet-freeze';
import { taskQueueFromEnv } from '../spec/workflow-id';
import {
  fleetFreeze,
  fleetFreezeStatusQuery,
  freezeSignal,
  scheduleChangedSignal,
  unfreezeSignal,
} from '../workflows/fleet-freeze';

/** Every rollout that may be waiting at a deploy-window gate. */
export const RUNNING_ROLLOUTS_QUERY =
  "WorkflowType IN ('canaryRollout', 'blueGreenRollout', 'undoRollout') AND ExecutionStatus = 'Running'";

export interface FreezeRequest {
  untilMs: number;
  reason: string;
  by?: string;
}

export interface FreezeChange {
  /** The rollouts told to look at their gate again. */
  notified: string[];
}

/** Freezes every rollout until `untilMs`; starts the freeze workflow if it is not running. */
export async function freezeFleet(
  client: Client,
  { untilMs, reason, by }: FreezeRequest,
  taskQueue = taskQueueFromEnv(),
): Promise<FreezeChange & { until: string }> {
  const until = new Date(untilMs).toISOString();
  await client.workflow.signalWithStart(fleetFreeze, {
    workflowId: FLEET_FREEZE_WORKFLOW_ID,
    taskQueue,
    args: [{}],
    signal: freezeSignal,
    signalArgs: [{ until, reason, ...(by ? { by } : {}) }],
    staticSummary: 'fleet-wide deploy freeze: rollout freeze / unfreeze / freeze-status',
  });
  return { until, notified: await notifyRunningRollouts(client) };
}

/** Lifts the fleet-wide freeze; `wasRunning` false when there was never a freeze workflow to tell. */
export async function unfreezeFleet(
  client: Client,
  { reason, by }: { reason?: string; by?: string } = {},
): Promise<FreezeChange & { wasRunning: boolean }> {
  try {
    await client.workflow
      .getHandle(FLEET_FREEZE_WORKFLOW_ID)
      .signal(unfreezeSignal, { ...(reason ? { reason } : {}), ...(by ? { by } : {}) });
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    return { wasRunning: false, notified: [] };
  }
  return { wasRunning: true, notified: await notifyRunningRollouts(client) };
}

/** The freeze in force and its recent history; no freeze workflow (or an ended one) is no freeze. */
export async function readFleetFreeze(client: Client): Promise<FleetFreezeStatus> {
  const handle = client.workflow.getHandle(FLEET_FREEZE_WORKFLOW_ID);
  try {
    if ((await handle.describe()).status.name !== 'RUNNING') return { freeze: null, history: [] };
    const status = await handle.query(fleetFreezeStatusQuery);
    // Queries answer at the workflow's last wake-up; by this clock the freeze may have ended since.
    return { ...status, freeze: activeFreeze(status.freeze, Date.now()) };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { freeze: null, history: [] };
    throw err;
  }
}

/**
 * Sends schedule-changed to every running rollout, so one waiting at a gate looks at the freeze
 * now rather than at its next hourly look. One that ended meanwhile is skipped.
 */
async function notifyRunningRollouts(client: Client): Promise<string[]> {
  const notified: string[] = [];
  for await (const execution of client.workflow.list({ query: RUNNING_ROLLOUTS_QUERY })) {
    try {
      // The latest run, not the listed one: a rollout that continued as new still gets it.
      await client.workflow.getHandle(execution.workflowId).signal(scheduleChangedSignal);
      notified.push(execution.workflowId);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  return notified;
}

export type { FleetFreeze, FleetFreezeStatus };
