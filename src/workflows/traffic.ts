import type { RolloutActivities } from '../activities';
import type { RolloutCore } from '../spec/rollout-core';
import { forward } from './activity-stubs';
import { record } from './control';
import type { RolloutState, Weights } from './state';

type TrafficSplit = Awaited<ReturnType<RolloutActivities['setTraffic']>>;

/**
 * The load balancer's answer in the rollout's own terms: `stable` is the old version and `canary`
 * the new one, whichever of the load balancer's slots each sits in. (A blue-green switch and a
 * canary promotion put the new version in the stable slot.)
 */
export function rolloutWeights(split: TrafficSplit, core: Pick<RolloutCore, 'stable' | 'canary'>): Weights {
  const weightOf = (version: string): number =>
    split.stable?.version === version
      ? split.weights.stable
      : split.canary?.version === version
        ? split.weights.canary
        : 0;
  return { stable: weightOf(core.stable.version), canary: weightOf(core.canary.version) };
}

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
  state.weights = rolloutWeights(split, spec);
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
