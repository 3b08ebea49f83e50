import {
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  activeFreeze,
  FLEET_FREEZE_QUERY,
  FLEET_FREEZE_STATUS_QUERY,
  FREEZE_SIGNAL,
  type FleetFreeze,
  type FleetFreezeStatus,
  type FreezeEvent,
  type FreezeSignal,
  SCHEDULE_CHANGED_SIGNAL,
  UNFREEZE_SIGNAL,
  type UnfreezeSignal,
} from '../schedule/fleet-freeze';

export const freezeSignal = defineSignal<[FreezeSignal]>(FREEZE_SIGNAL);
export const unfreezeSignal = defineSignal<[UnfreezeSignal?]>(UNFREEZE_SIGNAL);
export const fleetFreezeQuery = defineQuery<FleetFreeze | null>(FLEET_FREEZE_QUERY);
export const fleetFreezeStatusQuery = defineQuery<FleetFreezeStatus>(FLEET_FREEZE_STATUS_QUERY);
/** Sent to running rollouts after a freeze or unfreeze, so a waiting gate looks again at once. */
export const scheduleChangedSignal = defineSignal(SCHEDULE_CHANGED_SIGNAL);

export interface FleetFreezeInput {
  /** Carried across continue-as-new. */
  freeze?: FleetFreeze | null;
  history?: FreezeEvent[];
}

/** The audit trail in the status query: who froze or unfroze, why, and when. */
export const MAX_FREEZE_HISTORY = 20;
/** Each signal is an event; well under the ~4K events at which the server asks to continue as new. */
export const SIGNALS_BEFORE_CONTINUE_AS_NEW = 500;
const MAX_TEXT = 200;

function shortText(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() ? value.trim().slice(0, MAX_TEXT) : undefined;
}

/** The signal normalised (until in UTC ISO), or null when it cannot be a freeze. */
function validFreeze(signal: FreezeSignal | undefined): FreezeSignal | null {
  const untilMs = typeof signal?.until === 'string' ? Date.parse(signal.until) : NaN;
  const reason = shortText(signal?.reason);
  if (!Number.isFinite(untilMs) || !reason) return null;
  const by = shortText(signal?.by);
  return { until: new Date(untilMs).toISOString(), reason, ...(by ? { by } : {}) };
}

function showDetails(freeze: FleetFreeze | null): void {
  setCurrentDetails(
    freeze ? `frozen until ${freeze.until}: ${freeze.reason}` : 'not frozen: rollouts follow their schedules',
  );
}

/**
 * The fleet-wide freeze: a workflow that holds the freeze in force and answers queries. It never
 * ends on its own: it waits for signals, and for the end of the freeze in force, which then reads as
 * none.
 */
export async function fleetFreeze(input: FleetFreezeInput = {}): Promise<void> {
  let freeze: FleetFreeze | null = input.freeze ?? null;
  let history: FreezeEvent[] = input.history ?? [];
  let signals = 0;
  const nowIso = () => new Date(Date.now()).toISOString();
  const remember = (event: FreezeEvent) => {
    history = [...history, event].slice(-MAX_FREEZE_HISTORY);
    signals++;
    showDetails(freeze);
  };

  setHandler(
    freezeSignal,
    (signal) => {
      const valid = validFreeze(signal);
      // A bad payload (from the Web UI, say) is dropped: throwing here would fail the workflow
      // task again and again, and the freeze would stop answering.
      if (!valid) return;
      const { until, reason, by } = valid;
      const at = nowIso();
      freeze = { until, reason, since: at, ...(by ? { by } : {}) };
      remember({ kind: 'freeze', at, reason, until, ...(by ? { by } : {}) });
    },
    {
      description:
        'Freeze every rollout until a time. Payload: {"until": "2026-12-03T18:00:00Z", "reason": "...", "by": "..."}.',
    },
  );
  setHandler(
    unfreezeSignal,
    (signal) => {
      freeze = null;
      const by = shortText(signal?.by);
      remember({
        kind: 'unfreeze',
        at: nowIso(),
        reason: shortText(signal?.reason) ?? 'unfrozen',
        ...(by ? { by } : {}),
      });
    },
    { description: 'Lift the fleet-wide freeze. Payload: {"reason": "..."} (optional).' },
  );
  setHandler(fleetFreezeQuery, () => activeFreeze(freeze, Date.now()), {
    description: 'The freeze in force, or null: {until, reason, since, by?}.',
  });
  setHandler(fleetFreezeStatusQuery, () => ({ freeze: activeFreeze(freeze, Date.now()), history }), {
    description: 'The freeze in force (or null) and the last freeze/unfreeze events.',
  });

  const shouldContinueAsNew = () =>
    signals >= SIGNALS_BEFORE_CONTINUE_AS_NEW || workflowInfo().continueAsNewSuggested;
  while (!shouldContinueAsNew()) {
    const seen = signals;
    const active = activeFreeze(freeze, Date.now());
    const woken = () => signals !== seen || shouldContinueAsNew();
    if (!active) {
      await condition(woken);
      continue;
    }
    // Wake when the freeze ends, so workflow time (what queries read) passes its until and the
    // Web UI's details stop saying frozen.
    if (!(await condition(woken, Math.max(1, Date.parse(active.until) - Date.now())))) {
      freeze = null;
      showDetails(null);
    }
  }
  // Signals that arrive while this task completes make the server refuse the continue-as-new and
  // rerun the task with them, so none is lost.
  await continueAsNew<typeof fleetFreeze>({ freeze: activeFreeze(freeze, Date.now()), history });
}
