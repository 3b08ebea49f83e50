import { condition, isCancellation } from '@temporalio/workflow';
import type { AnalysisConfig } from '../spec/analysis';
import type { VersionTarget } from '../spec/canary';
import type { HealthCheckConfig } from '../spec/checks';
import type { DeployConfig, NotifyConfig, TrafficConfig } from '../spec/providers';
import { forward, waiting } from './activity-stubs';
import { type Control, installHandlers, newControl, nowIso, record, touch } from './control';
import { failureText } from './failure-text';
import { initialState } from './initial-state';
import { notifyQuietly, settleNotifications } from './notifications';
import { finish } from './rollback';
import { countStarted } from './rollout-metrics';
import type { Outcome, RolloutResult, RolloutState } from './state';
import { confirmedBy, rolloutWeights } from './traffic';
import { healthText, splitText, type UndoEnvironment, undoEnvironments } from './undo-text';

export interface UndoRolloutInput {
  service: string;
  /** Why, in the operator's words: kept in the state and in every notification. */
  reason: string;
  /** The strategy of the rollout being undone (what the state, the metrics and the UI call it). */
  strategy: 'canary' | 'blue-green';
  /** The version live now, taken out; it keeps running. */
  from: VersionTarget;
  /** The version put back. */
  to: VersionTarget;
  traffic: TrafficConfig;
  /** How `to` is deployed again if it no longer answers. */
  deploy: DeployConfig;
  healthCheck: HealthCheckConfig;
  notify?: NotifyConfig;
  /** What the deploy provider calls `to`'s place: a blue-green environment, or the canary's stable. */
  environment?: UndoEnvironment;
  /** Where the client found `to`, and why it chose it: the first decision quotes it. */
  source?: { workflowId: string; runId: string; why: string };
}

/** The state's latency-mode note reads analysis.latency only; an undo judges nothing. */
const NOT_JUDGED = { latency: 'on' } as AnalysisConfig;

/**
 * `rollout undo`: puts the previous version back at once, without analysis. It health-checks it,
 * redeploys it through the deploy provider if it no longer answers, then gives it all traffic in
 * one call. The undone version keeps running, so an undo of the undo is as quick.
 */
export async function undoRollout(input: UndoRolloutInput): Promise<RolloutResult> {
  const state = initialState({
    service: input.service,
    strategy: input.strategy,
    // Read as any rollout's: the old version is the one taken out, the new one the one put back.
    stableVersion: input.from.version,
    canaryVersion: input.to.version,
    stageWeights: [100],
    analysis: NOT_JUDGED,
  });
  state.environments = undoEnvironments(input.strategy, input.environment);
  state.phase = 'undoing';
  state.undo = { reason: input.reason, from: input.from.version, to: input.to.version, method: null };
  const control = newControl();
  installHandlers(state, control);
  const target = { service: input.service, notify: input.notify ?? {} };
  countStarted(state);
  record(
    state,
    'undo',
    `undo: putting ${input.to.version} back in place of ${input.from.version} (${input.reason})` +
      (input.source ? `; ${input.source.why}` : ''),
    input.source,
  );
  await notifyQuietly(target, state, 'started', `undo: ${input.from.version} → ${input.to.version}`, {
    newEvent: true,
  });
  let outcome: Outcome;
  try {
    outcome = await undo(input, state, control);
  } catch (err) {
    // Traffic moves in one call, the last step: an error before it leaves the router as it was.
    const cancelled = isCancellation(err);
    const reason = cancelled ? 'workflow cancelled' : `error: ${failureText(err)}`;
    if (!cancelled) state.firstFailureAt ??= nowIso();
    record(state, 'error', `${reason}; traffic untouched: ${input.from.version} still serves`);
    finish(state, cancelled ? 'aborted' : 'failed');
    await notifyQuietly(target, state, state.outcome ?? 'failed', `undo ${reason}`);
    await settleNotifications(state);
    throw err;
  }
  const ended = `undo ${input.from.version} → ${input.to.version}`;
  await notifyQuietly(
    target,
    state,
    outcome,
    outcome === 'promoted' ? `${ended} done` : `${ended}: ${outcome}`,
  );
  await settleNotifications(state);
  return { outcome, state };
}

async function undo(input: UndoRolloutInput, state: RolloutState, control: Control): Promise<Outcome> {
  const { from, to } = input;
  const before = await forward.getTraffic({ traffic: input.traffic, service: input.service });
  const serving = before.stable?.version === from.version && before.weights.stable === 100;
  record(
    state,
    'undo',
    `${input.traffic.provider === 'embedded' ? 'router' : input.traffic.provider} serves ${splitText(before)}` +
      (serving
        ? ''
        : ` (expected ${from.version} at 100%: someone changed it since; ${to.version} gets all traffic anyway)`),
    before,
  );
  if (control.abortRequested) return stop(state, from.version);

  const health = await waiting.checkHealth({ targets: to.targets, healthCheck: input.healthCheck });
  record(state, 'undo', healthText(to.version, health, 'still running'), health);
  if (control.abortRequested) return stop(state, from.version);

  if (health.healthy) state.undo!.method = 'switch';
  else {
    state.undo!.method = 'redeploy';
    touch(state);
    const failure = await redeploy(input, state);
    if (failure) {
      record(state, 'undo', `${failure}; traffic untouched: ${from.version} still serves`);
      finish(state, 'failed');
      return 'failed';
    }
    if (control.abortRequested) return stop(state, from.version);
  }

  // A pause holds the undo before traffic moves; an abort then ends it with nothing changed.
  await condition(() => !state.paused || control.abortRequested);
  if (control.abortRequested) return stop(state, from.version);
  const split = await forward.setTraffic({
    traffic: input.traffic,
    service: input.service,
    stable: to,
    canary: null,
    canaryWeight: 0,
  });
  state.stageIndex = 0;
  state.weights = rolloutWeights(split, { stable: from, canary: to });
  record(
    state,
    'undo',
    `switched: ${confirmedBy(input)} ${to.version} carries ${state.weights.canary}%, ${from.version} ` +
      `${state.weights.stable}%; ${from.version} keeps running (not retired), so undoing this undo is a switch too`,
    split,
  );
  finish(state, 'promoted');
  return 'promoted';
}

/** Deploys `to` again and proves it healthy; returns why it could not, or null. */
async function redeploy(input: UndoRolloutInput, state: RolloutState): Promise<string | null> {
  const { to } = input;
  if (input.deploy.provider === 'none') {
    return `${to.version} does not answer and the deploy provider is "none": nothing can start it again`;
  }
  try {
    const deployed = await waiting.deployVersion({
      service: input.service,
      deploy: input.deploy,
      target: to,
      environment: input.environment ?? 'stable',
    });
    record(state, 'undo', `redeployed ${to.version}: ${deployed.details}`, deployed);
  } catch (err) {
    return `could not redeploy ${to.version}: ${failureText(err)}`;
  }
  const health = await waiting.checkHealth({ targets: to.targets, healthCheck: input.healthCheck });
  record(state, 'undo', healthText(to.version, health, 'redeployed'), health);
  if (health.healthy) return null;
  return `${to.version} is still unhealthy after the redeploy`;
}

function stop(state: RolloutState, from: string): Outcome {
  record(
    state,
    'undo',
    `undo aborted (${state.abortReason ?? 'aborted'}); traffic untouched: ${from} still serves`,
  );
  finish(state, 'aborted');
  return 'aborted';
}
