/**
 * patched() gates for changes to workflow logic, so that histories recorded before a change replay
 * with the old behaviour (see README, "Changing workflow logic safely"). Never reuse or rename one.
 */

/** A signal that arrives while a poll's activity runs wakes the next wait at once, not an interval later. */
export const WAKE_ON_SIGNALS_DURING_POLL = 'wake-on-signals-during-poll';

/** An abort that arrived before a monitoring loop began (during a traffic change) acts before the first wait. */
export const ABORT_BEFORE_FIRST_WAIT = 'abort-before-first-wait';

/** A blue-green post-switch window that ends inconclusive applies onInconclusive instead of keeping the switch. */
export const POST_SWITCH_INCONCLUSIVE_POLICY = 'post-switch-inconclusive-policy';

/**
 * Latency is always judged (analysis revision 2): the stable version's latency before the first
 * window chooses the slow bounds, polls ask for slow counts at them, and no stage passes while the
 * latency check is unarmed.
 */
export const LATENCY_ALWAYS_JUDGED = 'latency-always-judged';

/**
 * One window-watching loop for every window (canary stages, blue-green validation slice and
 * post-switch watch): metric reads run as local activities (one history event per poll instead of
 * six), the post-switch watch polls on its interval, honours promote and may continue as new, and
 * blue-green continues as new on long bakes.
 */
export const ONE_WINDOW_LOOP = 'one-window-loop';

/**
 * Notifications never hold the rollout: each configured sink (JSON webhook, Slack) is its own
 * activity with bounded retries, started without waiting; the workflow waits for them only once
 * its traffic is settled (at the end, or before continuing as new). Also adds the `started` and
 * `held` events, and only calls the notify activity when a sink is configured.
 */
export const NOTIFY_WITHOUT_WAITING = 'notify-without-waiting';

/**
 * Issue 13: every rollout reads the fleet-wide freeze (and its spec's schedule) before the first
 * traffic and before each stage advance, and waits durably while blocked; expand migrations run
 * before any traffic, contract migrations after promotion and stabilization.
 */
export const DEPLOY_GATES = 'deploy-windows-and-migrations';
