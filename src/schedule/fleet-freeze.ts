/*
 * The fleet-wide freeze as the workflow, its activity, the CLI and deployBlock all see it. Pure and
 * import-free, so the workflow sandbox, the worker and the CLI share one definition.
 */

/** One id for the whole namespace: every rollout reads the same freeze. */
export const FLEET_FREEZE_WORKFLOW_ID = 'durable-rollouts-fleet-freeze';
export const FLEET_FREEZE_WORKFLOW_TYPE = 'fleetFreeze';
export const FLEET_FREEZE_QUERY = 'fleetFreeze';
export const FLEET_FREEZE_STATUS_QUERY = 'fleetFreezeStatus';
export const FREEZE_SIGNAL = 'freeze';
export const UNFREEZE_SIGNAL = 'unfreeze';
export const SCHEDULE_CHANGED_SIGNAL = 'schedule-changed';

/** A freeze in force. Times are ISO-8601 UTC strings, so the value reads the same in any history. */
export interface FleetFreeze {
  until: string;
  reason: string;
  since: string;
  /** Who froze, when the caller said. */
  by?: string;
}

// Signals take one object: the Web UI sends exactly one JSON payload.
export interface FreezeSignal {
  until: string;
  reason: string;
  by?: string;
}

export interface UnfreezeSignal {
  reason?: string;
  by?: string;
}

export interface FreezeEvent {
  kind: 'freeze' | 'unfreeze';
  at: string;
  reason: string;
  by?: string;
  /** Freeze events only. */
  until?: string;
}

/** The status query: the freeze in force (null when none) and the latest freeze/unfreeze events. */
export interface FleetFreezeStatus {
  freeze: FleetFreeze | null;
  history: FreezeEvent[];
}

/** A freeze whose `until` has passed is no freeze: nobody has to remember to unfreeze. */
export function activeFreeze(freeze: FleetFreeze | null, nowMs: number): FleetFreeze | null {
  return freeze && Date.parse(freeze.until) > nowMs ? freeze : null;
}
