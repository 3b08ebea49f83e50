import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
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

/**
 * Notifications: at most 4 attempts, each cut at 5 s by the HTTP timeout, with 1, 2 and 4 s between
 * them (given up within about 30 s), and the workflow never waits on them before a traffic change.
 * Failed attempts are counted by the activity (rollout_notification_failures).
 */
export const notifying = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '4s', maximumAttempts: 4 },
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

/**
 * Metric reads as local activities: they run inside the workflow task, so a poll costs one marker
 * event instead of an activity's three plus a second workflow task. The price: a signal that comes
 * during a read is taken when the read returns, so a read gets one attempt (the provider's own
 * timeout, 5 s by default, bounds it) and a failed read is "no data" until the next poll. A worker
 * that dies mid-read loses the workflow task; the next worker reads again (reads change nothing).
 */
export const localPolling = proxyLocalActivities<RolloutActivities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 1 },
});

/** The reads a monitoring window uses: local activities from the one-window-loop patch on. */
export function metricReads(oneWindowLoop: boolean): Pick<RolloutActivities, 'readMetrics'> {
  return oneWindowLoop ? localPolling : polling;
}

/**
 * Migration steps: long (a backfill may take minutes), heartbeating so a dead worker is noticed in
 * 10 s, and retried, which is safe because the runner's ledger applies each SQL file once.
 */
export const migrating = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '30m',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
});

/**
 * The fleet-wide freeze, read at each gate: a local activity (one marker event), retried briefly;
 * a read that still fails keeps the gate closed until the next check.
 */
export const freezeReads = proxyLocalActivities<RolloutActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', maximumAttempts: 3 },
});
