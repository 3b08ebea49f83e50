import { CancellationScope, condition, isCancellation } from '@temporalio/workflow';
import type { RolloutCore } from '../spec/rollout-core';
import { restoring, waiting } from './activity-stubs';
import { nowIso, record, touch } from './control';
import type { Outcome, Phase, RolloutState } from './state';
import { failureText } from './failure-text';
import { cancelContract } from './migrations';
import { notifyQuietly, settleNotifications } from './notifications';
import { countEnded, observeRollback } from './rollout-metrics';
import { confirmedBy, rolloutWeights } from './traffic';

const SLOW_ROLLBACK_WARNING = '15s';

/**
 * Puts 100% on stable. Runs in a non-cancellable scope so a Cancel from the Web UI still restores
 * traffic, and retries forever: a rollout must never end with traffic on a failed version.
 */
export async function restoreStable(spec: RolloutCore, state: RolloutState, reason: string): Promise<void> {
  await CancellationScope.nonCancellable(async () => {
    const startedMs = Date.now();
    state.phase = 'rolling-back';
    record(state, 'rollback', reason);
    let done = false;
    const restored = restoring
      .setTraffic({
        traffic: spec.traffic,
        service: spec.service,
        stable: spec.stable,
        canary: spec.canary,
        canaryWeight: 0,
      })
      .finally(() => {
        done = true;
      });
    if (!(await condition(() => done, SLOW_ROLLBACK_WARNING))) {
      record(state, 'error', 'rollback is still retrying: the traffic provider does not answer');
      await notifyQuietly(
        spec,
        state,
        'rollback-retrying',
        'the traffic provider does not answer; still retrying',
      );
    }
    const split = await restored;
    state.weights = rolloutWeights(split, spec);
    record(
      state,
      'set-weight',
      `${confirmedBy(spec)} stable ${split.weights.stable}%, canary ${split.weights.canary}%`,
    );
    observeRollback(state, startedMs);
  });
}

/** Retiring the failed canary is housekeeping: its failure must not hide the rollback's outcome. */
export async function retireQuietly(
  spec: RolloutCore,
  state: RolloutState,
  which: 'stable' | 'canary',
): Promise<void> {
  await CancellationScope.nonCancellable(async () => {
    try {
      const environment = which === 'stable' ? state.environments?.live : state.environments?.idle;
      const result = await waiting.retireVersion({
        service: spec.service,
        deploy: spec.deploy,
        target: spec[which],
        environment: environment ?? which,
      });
      record(state, 'retire', `${spec[which].version}: ${result.details}`);
    } catch (err) {
      record(state, 'error', `could not retire ${spec[which].version}: ${failureText(err)}`);
    }
  });
}

const PHASE_AT_END: Record<Outcome, Phase> = {
  promoted: 'promoted',
  rolled_back: 'rolled-back',
  aborted: 'aborted',
  failed: 'failed',
};

export function finish(state: RolloutState, outcome: Outcome): void {
  state.outcome = outcome;
  state.phase = PHASE_AT_END[outcome];
  state.window = null;
  if (state.gate) state.gate = null;
  if (outcome !== 'promoted') cancelContract(state, `the rollout ${outcome.replace('_', ' ')}`);
  touch(state);
  state.finishedAt = state.updatedAt;
  countEnded(state);
}

/** Ends a rollout that saw trouble: stable back to 100%, the new version retired, everyone told. */
export async function rollBack(
  spec: RolloutCore,
  state: RolloutState,
  outcome: 'rolled_back' | 'aborted',
  reason: string,
): Promise<Outcome> {
  await restoreStable(spec, state, reason);
  await retireQuietly(spec, state, 'canary');
  finish(state, outcome);
  await notifyQuietly(spec, state, outcome, reason);
  return outcome;
}

/** Ends a rollout whose new version failed its checks before it took any traffic. */
export async function failBeforeTraffic(
  spec: RolloutCore,
  state: RolloutState,
  reason: string,
): Promise<Outcome> {
  record(state, 'rollback', `${reason}; the new version never received traffic`);
  await retireQuietly(spec, state, 'canary');
  finish(state, 'failed');
  await notifyQuietly(spec, state, 'failed', reason);
  return 'failed';
}

/**
 * An error or a Cancel from the Web UI: restore stable traffic if any moved, then let the workflow
 * fail or end as cancelled. `spec` is null when the rollout failed before it knew its versions.
 */
export async function endOnError(
  spec: RolloutCore | null,
  state: RolloutState,
  err: unknown,
): Promise<never> {
  const cancelled = isCancellation(err);
  const reason = cancelled ? 'workflow cancelled' : `error: ${failureText(err)}`;
  if (!cancelled) state.firstFailureAt ??= nowIso();
  if (
    spec &&
    (state.weights.canary > 0 ||
      ['monitoring', 'validating', 'switching', 'post-switch', 'promoting'].includes(state.phase))
  ) {
    await restoreStable(spec, state, reason);
  }
  if (!cancelled) record(state, 'error', reason);
  finish(state, cancelled ? 'aborted' : 'failed');
  if (spec) await notifyQuietly(spec, state, state.outcome ?? 'failed', reason);
  await settleNotifications(state);
  throw err;
}
