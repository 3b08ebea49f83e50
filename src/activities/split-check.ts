import type { DesiredSplit, TrafficSplit, VersionTarget } from '../providers/traffic/types';

const only = ({ version, targets, routes }: VersionTarget): VersionTarget =>
  routes === undefined ? { version, targets } : { version, targets, routes };

/**
 * The split as providers get it: versions carry only what a load balancer routes by (a canary's
 * spec also holds its header match, which travels as `match`, and only while the rollout runs).
 */
export function desiredSplit(input: DesiredSplit): DesiredSplit {
  const { stable, canary, canaryWeight, match } = input;
  const split: DesiredSplit = { stable: only(stable), canary: canary ? only(canary) : null, canaryWeight };
  return match ? { ...split, match } : split;
}

const matchKey = (match: TrafficSplit['match']): string =>
  match ? JSON.stringify(Object.entries(match.headers).sort(([a], [b]) => a.localeCompare(b))) : 'none';

/**
 * Why the load balancer's own answer differs from what was asked, or undefined. Read back, never
 * assumed: a proxy that silently dropped a weight or kept a header route must fail the step.
 */
export function splitMismatch(desired: DesiredSplit, actual: TrafficSplit): string | undefined {
  if (actual.weights.canary !== desired.canaryWeight) {
    return `canary ${actual.weights.canary}%, wanted ${desired.canaryWeight}%`;
  }
  if (actual.stable?.version !== desired.stable.version) {
    return `stable ${actual.stable?.version ?? 'none'}, wanted ${desired.stable.version}`;
  }
  if (desired.canaryWeight > 0 && actual.canary?.version !== desired.canary?.version) {
    return `canary ${actual.canary?.version ?? 'none'}, wanted ${desired.canary?.version}`;
  }
  if (matchKey(actual.match) !== matchKey(desired.match)) {
    return `header route ${matchKey(actual.match)}, wanted ${matchKey(desired.match)}`;
  }
  return undefined;
}
