import type { RolloutCore } from '../spec/rollout-core';
import { forward } from './activity-stubs';
import { record } from './control';
import type { RolloutState } from './state';

/** Moves the canary to `weight` percent and records what the router confirmed. */
export async function setCanaryWeight(spec: RolloutCore, state: RolloutState, weight: number): Promise<void> {
  const split = await forward.setTraffic({
    traffic: spec.traffic,
    stable: spec.stable,
    canary: spec.canary,
    canaryWeight: weight,
  });
  state.weights = { stable: split.weights.stable, canary: split.weights.canary };
  record(
    state,
    'set-weight',
    `router confirms canary ${split.weights.canary}%, stable ${split.weights.stable}%`,
  );
}
