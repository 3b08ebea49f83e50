import type { RolloutCore } from '../spec/rollout-core';
import { forward } from './activity-stubs';
import { record } from './control';
import type { RolloutState } from './state';

/**
 * Moves the canary to `weight` percent and records what the load balancer confirmed. The canary's
 * header route (testers) is in force from the first stage until the rollout ends: every other
 * split a rollout sets (start, promotion, rollback) carries none, which removes it.
 */
export async function setCanaryWeight(spec: RolloutCore, state: RolloutState, weight: number): Promise<void> {
  const split = await forward.setTraffic({
    traffic: spec.traffic,
    service: spec.service,
    stable: spec.stable,
    canary: spec.canary,
    canaryWeight: weight,
    ...(spec.canary.match ? { match: spec.canary.match } : {}),
  });
  state.weights = { stable: split.weights.stable, canary: split.weights.canary };
  record(
    state,
    'set-weight',
    `${confirmedBy(spec)} canary ${split.weights.canary}%, stable ${split.weights.stable}%`,
  );
}

/** "router confirms" / "haproxy confirms": whose read-back the state quotes. */
export function confirmedBy(spec: Pick<RolloutCore, 'traffic'>): string {
  return `${spec.traffic.provider === 'embedded' ? 'router' : spec.traffic.provider} confirms`;
}
