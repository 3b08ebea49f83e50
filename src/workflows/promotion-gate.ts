import { condition } from '@temporalio/workflow';
import type { BlueGreenSpec } from '../spec/blue-green';
import { type Control, record, touch } from './control';
import { notifyQuietly } from './notifications';
import { MANUAL_GATE_REASON, type RolloutState } from './state';

/**
 * Waits until the switch may happen: after the delay (auto) or on a `promote` signal (manual).
 * The wait is a durable timer or condition, so it survives worker restarts. Returns false on abort.
 */
export async function awaitPromotion(
  spec: BlueGreenSpec,
  state: RolloutState,
  control: Control,
): Promise<boolean> {
  state.phase = 'awaiting-promotion';
  const { mode, delay } = spec.promotion;
  record(
    state,
    'hold',
    mode === 'manual' ? MANUAL_GATE_REASON : `promoting automatically in ${delay / 1000}s`,
  );
  if (mode === 'manual') {
    await notifyQuietly(
      spec,
      state,
      'held',
      `${spec.version} is ready on the idle environment; promote to switch`,
      {
        newEvent: true,
      },
    );
    await condition(() => control.abortRequested || control.promoteRequested);
  } else if (delay > 0) {
    await condition(() => control.abortRequested, delay);
  }
  // A pause holds the switch, whichever the mode.
  if (state.paused) {
    touch(state);
    await condition(() => control.abortRequested || !state.paused);
  }
  control.promoteRequested = false;
  return !control.abortRequested;
}
