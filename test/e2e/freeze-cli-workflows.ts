/*
 * The workflows of test/e2e/freeze-cli.test.ts: the real freeze workflow, and a stand-in running
 * rollout (registered under the canary's type name, which is what the CLI lists) that counts the
 * schedule-changed signals it receives.
 */
import { condition, defineQuery, defineSignal, setHandler } from '@temporalio/workflow';
import { scheduleChangedSignal } from '../../src/workflows/fleet-freeze';

export { fleetFreeze } from '../../src/workflows/fleet-freeze';

export const scheduleChangesQuery = defineQuery<number>('scheduleChanges');
export const finishSignal = defineSignal('finish');

export async function canaryRollout(): Promise<number> {
  let changes = 0;
  let finished = false;
  setHandler(scheduleChangedSignal, () => void changes++);
  setHandler(scheduleChangesQuery, () => changes);
  setHandler(finishSignal, () => void (finished = true));
  await condition(() => finished);
  return changes;
}
