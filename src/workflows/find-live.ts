import { ApplicationFailure } from '@temporalio/workflow';
import type { RolloutActivities } from '../activities';
import type { BlueGreenSpec, EnvironmentName } from '../spec/blue-green';
import type { RolloutCore } from '../spec/rollout-core';

export interface LiveEnvironment {
  live: EnvironmentName;
  idle: EnvironmentName;
  /** The rollout seen as "old version on the live environment, new version on the idle one". */
  core: RolloutCore;
}

type TrafficSplit = Awaited<ReturnType<RolloutActivities['getTraffic']>>;

const sameSet = (a: string[], b: string[]): boolean =>
  a.length === b.length && [...a].sort().every((t, i) => t === [...b].sort()[i]);

/** The embedded router names targets; every other load balancer names its own routes. */
function routedBy(environment: { targets: string[]; routes?: string[] }, routes: boolean): string[] {
  return routes ? (environment.routes ?? []) : environment.targets;
}

/**
 * Which environment serves users is the router's answer, not the previous rollout's memory:
 * someone may have switched by hand.
 */
export function findLive(spec: BlueGreenSpec, split: TrafficSplit): LiveEnvironment {
  const live = split.stable;
  if (!live) {
    throw ApplicationFailure.nonRetryable(
      'the router has no live version: point it at blue or green first',
      'NoLiveEnvironment',
    );
  }
  if (split.weights.canary > 0) {
    throw ApplicationFailure.nonRetryable(
      `the router still sends ${split.weights.canary}% to ${split.canary?.version}: finish or abort that rollout first`,
      'SplitInProgress',
    );
  }
  const byRoutes = spec.traffic.provider !== 'embedded';
  const liveNames = routedBy(live, byRoutes);
  const name = (['blue', 'green'] as const).find((env) =>
    sameSet(routedBy(spec.environments[env], byRoutes), liveNames),
  );
  if (!name) {
    throw ApplicationFailure.nonRetryable(
      `the router's live ${byRoutes ? 'routes' : 'targets'} ${liveNames.join(', ')} are neither blue's nor green's`,
      'UnknownLiveEnvironment',
    );
  }
  if (live.version === spec.version) {
    throw ApplicationFailure.nonRetryable(`${spec.version} is already live on ${name}`, 'AlreadyLive');
  }
  const idle = name === 'blue' ? 'green' : 'blue';
  return {
    live: name,
    idle,
    core: {
      ...spec,
      stable: { version: live.version, ...spec.environments[name] },
      canary: { version: spec.version, ...spec.environments[idle] },
    },
  };
}
