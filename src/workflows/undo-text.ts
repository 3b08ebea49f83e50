import type { RolloutActivities } from '../activities';
import type { EnvironmentName } from '../spec/blue-green';
import type { RolloutState } from './state';

type TrafficSplit = Awaited<ReturnType<RolloutActivities['getTraffic']>>;
type HealthReport = Awaited<ReturnType<RolloutActivities['checkHealth']>>;

/** Where the version put back lives: a blue-green environment, or a canary's stable place. */
export type UndoEnvironment = EnvironmentName | 'stable';

/** "v2 100%" or "v1 90%, v2 10%": what a load balancer serves, in a decision's words. */
export function splitText(split: TrafficSplit): string {
  const parts = [
    split.stable ? `${split.stable.version} ${split.weights.stable}%` : null,
    split.canary ? `${split.canary.version} ${split.weights.canary}%` : null,
  ].filter((part) => part !== null);
  return parts.length > 0 ? parts.join(', ') : 'nothing';
}

export function healthText(version: string, health: HealthReport, how: string): string {
  if (health.healthy)
    return `${version} is healthy (${how}) on ${health.targets.map((t) => t.target).join(', ')}`;
  const unhealthy = health.targets.filter((t) => !t.healthy);
  return `${version} is not healthy (${how}): ${unhealthy.map((t) => `${t.target} (${t.lastError ?? `status ${t.lastStatus}`})`).join(', ')}`;
}

/**
 * A blue-green undo reads like a blue-green rollout: `live` is where the version taken out runs,
 * `idle` where the one put back runs. A canary has no environments.
 */
export function undoEnvironments(
  strategy: RolloutState['strategy'],
  environment: UndoEnvironment | undefined,
): RolloutState['environments'] {
  if (strategy !== 'blue-green' || environment === undefined || environment === 'stable') return null;
  return { live: environment === 'blue' ? 'green' : 'blue', idle: environment };
}
