/*
 * The workflows of test/timeskip/fleet-freeze.test.ts: the real freeze workflow, and a probe that
 * runs the real readFleetFreeze activity the way a rollout does (as an activity, and as a local one).
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { createFleetFreezeActivities } from '../../src/activities/fleet-freeze';
import type { FleetFreeze } from '../../src/schedule/fleet-freeze';

export { fleetFreeze } from '../../src/workflows/fleet-freeze';

type Activities = ReturnType<typeof createFleetFreezeActivities>;
const remote = proxyActivities<Activities>({ startToCloseTimeout: '10s', retry: { maximumAttempts: 1 } });
const local = proxyLocalActivities<Activities>({ startToCloseTimeout: '10s', retry: { maximumAttempts: 1 } });

export async function readFleetFreezeProbe(): Promise<{
  remote: FleetFreeze | null;
  local: FleetFreeze | null;
}> {
  return { remote: await remote.readFleetFreeze(), local: await local.readFleetFreeze() };
}
