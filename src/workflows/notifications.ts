import { CancellationScope, patched } from '@temporalio/workflow';
import type { NotifyContext, RolloutEventName } from '../activities';
import { notifySinks } from '../spec/notify-sinks';
import type { RolloutCore } from '../spec/rollout-core';

/** What a notification needs from the spec: both strategies' specs and the resolved core have it. */
export type NotifyTarget = Pick<RolloutCore, 'service' | 'notify'>;
import { notifying, polling } from './activity-stubs';
import { NOTIFY_WITHOUT_WAITING } from './patches';
import type { RolloutState } from './state';

// Keyed by the run's own state object, so nothing is shared between workflows in one isolate.
const inFlight = new WeakMap<RolloutState, Promise<void>[]>();

function contextOf(state: RolloutState): NotifyContext {
  return {
    strategy: state.strategy,
    stableVersion: state.stableVersion,
    canaryVersion: state.canaryVersion,
    phase: state.phase,
    stageIndex: state.stageIndex,
    stages: state.stageWeights.length,
    weight: state.weights.canary,
    verdict: state.lastVerdict,
  };
}

export interface NotifyOptions {
  /** An event older histories never sent (started, held): under the old logic, send nothing. */
  newEvent?: boolean;
}

/**
 * Tells the configured sinks, without ever holding the rollout: each sink's activity is started
 * and left running (its retries are bounded, its failures counted), and settleNotifications()
 * waits for them once traffic is settled. Histories from before the gate awaited one notify call
 * right here, and replay so.
 */
export async function notifyQuietly(
  spec: NotifyTarget,
  state: RolloutState,
  event: RolloutEventName,
  message: string,
  { newEvent = false }: NotifyOptions = {},
): Promise<void> {
  if (!patched(NOTIFY_WITHOUT_WAITING)) {
    if (newEvent) return;
    await CancellationScope.nonCancellable(async () => {
      try {
        await polling.notify({ service: spec.service, event, message, notify: spec.notify });
      } catch {
        // Notifications are best effort; the decision is already in the state.
      }
    });
    return;
  }
  const context = contextOf(state);
  for (const sink of notifySinks(spec.notify)) {
    // Non-cancellable: a Cancel from the Web UI must not swallow the alert that says what happened.
    const sent: Promise<void> = CancellationScope.nonCancellable(() =>
      notifying.notify({ service: spec.service, event, message, notify: spec.notify, sink, context }),
    )
      .catch(() => {
        // Counted by the activity; the decision is already in the state.
      })
      .finally(() => {
        inFlight.set(
          state,
          (inFlight.get(state) ?? []).filter((other) => other !== sent),
        );
      });
    inFlight.set(state, [...(inFlight.get(state) ?? []), sent]);
  }
}

/**
 * Whether alerts are still being sent. A window does not continue as new meanwhile: the new run
 * could not wait for them, and waiting here would stop the polling and the signals.
 */
export function notificationsPending(state: RolloutState): boolean {
  return (inFlight.get(state)?.length ?? 0) > 0;
}

/**
 * Waits for the notifications still being sent. Called only where nothing else waits on it: at the
 * end of the rollout (traffic already restored or promoted) and before continuing as new.
 */
export async function settleNotifications(state: RolloutState): Promise<void> {
  const started = inFlight.get(state);
  if (!started?.length) return;
  inFlight.set(state, []);
  await CancellationScope.nonCancellable(() => Promise.all(started));
}
