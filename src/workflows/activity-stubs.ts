import { proxyActivities } from '@temporalio/workflow';
import type { RolloutActivities } from '../activities';

/** Forward steps: a few retries, then the rollout fails (and rolls back). */
export const forward = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 5 },
});

/** Polls: a short retry, then the poll counts as "no data"; the window decides what that means. */
export const polling = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', maximumAttempts: 2 },
});

/** Steps that wait on the world (deploy, health, smoke) heartbeat, so a dead worker is noticed quickly. */
export const waiting = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '15m',
  // The activities heartbeat every 2 s, so a dead worker is noticed in 10 s.
  heartbeatTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 3 },
});

/** Restoring stable traffic never gives up: no maximumAttempts. */
export const restoring = proxyActivities<RolloutActivities>({
  // setTraffic makes two router calls of up to 5 s each.
  startToCloseTimeout: '12s',
  retry: { initialInterval: '250ms', backoffCoefficient: 2, maximumInterval: '10s' },
});
