import { allHandlersFinished, condition, continueAsNew, patched } from '@temporalio/workflow';
import type { VersionMetrics } from '../analysis/types';
import type { BlueGreenSpec } from '../spec/blue-green';
import type { RolloutCore } from '../spec/rollout-core';
import { forward } from './activity-stubs';
import { type Control, installHandlers, newControl, record, touch } from './control';
import { findLive } from './find-live';
import { initialState } from './initial-state';
import { countStarted } from './rollout-metrics';
import { monitorStage } from './monitor-stage';
import { ONE_WINDOW_LOOP } from './patches';
import { monitorAfterSwitch, readBaseline } from './post-switch';
import { awaitDeployWindow } from './deploy-window';
import { contractAfterPromotion, expandBeforeTraffic } from './migrations';
import { deployAndVerify } from './pre-traffic-checks';
import { awaitPromotion } from './promotion-gate';
import { notifyQuietly, settleNotifications } from './notifications';
import { endOnError, failBeforeTraffic, finish, retireQuietly, rollBack } from './rollback';
import type { Outcome, RolloutResult, RolloutState } from './state';
import { rolloutWeights, setCanaryWeight } from './traffic';

/** What a continued run needs to re-enter an open window: the state, and what the first run learnt. */
export interface BlueGreenCarried {
  state: RolloutState;
  /** The rollout as "old version on the live environment, new version on the idle one". */
  core: RolloutCore;
  /** Set once all traffic is on the new environment. */
  switched: { at: number; baseline: VersionMetrics | null } | null;
}

export interface BlueGreenRolloutInput {
  spec: BlueGreenSpec;
  /** Set by continue-as-new: where the previous run stopped, mid-window. */
  carried?: BlueGreenCarried;
}

type Progress = Outcome | { continueAsNew: BlueGreenCarried };

/**
 * Deploys to the idle environment, proves it before any user reaches it, switches all traffic in
 * one call, watches it, and switches back to the still-running old environment if anything is wrong.
 */
export async function blueGreenRollout({ spec, carried }: BlueGreenRolloutInput): Promise<RolloutResult> {
  const state =
    carried?.state ??
    initialState({
      service: spec.service,
      strategy: 'blue-green',
      // Unknown until the router says which environment is live.
      stableVersion: null,
      canaryVersion: spec.version,
      stageWeights: spec.validation.weight > 0 ? [spec.validation.weight, 100] : [100],
      analysis: spec.analysis,
    });
  const control = newControl();
  // An abort that arrived just before the previous run continued as new is in its state.
  control.abortRequested = carried !== undefined && carried.state.abortReason !== null;
  installHandlers(state, control);
  touch(state);
  if (!carried) {
    countStarted(state);
    await notifyQuietly(spec, state, 'started', `${spec.version} to the idle environment`, {
      newEvent: true,
    });
  }
  let core: RolloutCore | null = carried?.core ?? null;
  let outcome: Progress;
  try {
    if (!core) {
      const live = findLive(spec, await forward.getTraffic({ traffic: spec.traffic, service: spec.service }));
      core = live.core;
      state.environments = { live: live.live, idle: live.idle };
      state.stableVersion = core.stable.version;
      record(
        state,
        'deploy',
        `live: ${live.live} runs ${core.stable.version}; deploying ${spec.version} to ${live.idle}`,
      );
    }
    outcome = await progress(spec, core, state, control, carried);
  } catch (err) {
    return endOnError(core, state, err);
  }
  await settleNotifications(state);
  if (typeof outcome === 'string') return { outcome, state };
  // A long bake: start a fresh history that carries the whole state, including the open window.
  await condition(allHandlersFinished);
  return continueAsNew<typeof blueGreenRollout>({ spec, carried: outcome.continueAsNew });
}

async function progress(
  spec: BlueGreenSpec,
  core: RolloutCore,
  state: RolloutState,
  control: Control,
  carried: BlueGreenCarried | undefined,
): Promise<Progress> {
  if (!carried) {
    // Nothing changes outside a deploy window: no migration, no deploy, no traffic.
    if ((await awaitDeployWindow(spec, state, control, 'the deploy')) === 'abort') {
      finish(state, 'aborted');
      await notifyQuietly(core, state, 'aborted', `${state.abortReason ?? 'aborted'} (before any change)`);
      return 'aborted';
    }
    const expandFailure = await expandBeforeTraffic(core, state);
    if (expandFailure) return failBeforeTraffic(core, state, expandFailure);
    const failure = await deployAndVerify(core, state);
    if (failure) return failBeforeTraffic(core, state, failure);
  }
  if (control.abortRequested) return rollBack(core, state, 'aborted', state.abortReason ?? 'aborted');

  let switched = carried?.switched ?? null;
  if (!switched) {
    const resumeWindow = carried && state.phase === 'validating' ? state.window : null;
    if (spec.validation.weight > 0 && (!carried || resumeWindow)) {
      const outcome = await validate(spec, core, state, control, resumeWindow);
      if (outcome) return outcome;
    }
    if (!(await awaitPromotion(spec, state, control)))
      return rollBack(core, state, 'aborted', state.abortReason ?? 'aborted');
    if ((await awaitDeployWindow(spec, state, control, 'the switch')) === 'abort')
      return rollBack(core, state, 'aborted', state.abortReason ?? 'aborted');
    switched = await switchTraffic(spec, core, state);
  }

  state.phase = 'post-switch';
  const resumeWindow = carried?.switched ? state.window : null;
  const watched = await monitorAfterSwitch(
    spec,
    core,
    state,
    control,
    switched.at,
    switched.baseline,
    resumeWindow,
  );
  if (watched === 'continue-as-new') return { continueAsNew: { state, core, switched } };
  state.window = null;
  if (watched === 'abort')
    return rollBack(core, state, 'aborted', state.abortReason ?? 'aborted after the switch');
  if (watched === 'rollback')
    return rollBack(core, state, 'rolled_back', state.lastVerdict?.summary ?? 'post-switch check failed');
  return stabilize(spec, core, state, control);
}

/** The validation slice: the new environment beside the old one at a small weight, judged. */
async function validate(
  spec: BlueGreenSpec,
  core: RolloutCore,
  state: RolloutState,
  control: Control,
  resumeWindow: RolloutState['window'],
): Promise<Progress | null> {
  // Asked here, where the first monitoring loop asks it anyway: only new runs may continue as new.
  const mayContinueAsNew = patched(ONE_WINDOW_LOOP);
  state.stageIndex = 0;
  state.phase = 'validating';
  if (!resumeWindow) await setCanaryWeight(core, state, spec.validation.weight);
  const verdict = await monitorStage(
    core,
    state,
    control,
    { weight: spec.validation.weight, windowMs: spec.validation.window },
    { resume: resumeWindow, mayContinueAsNew },
  );
  if (verdict === 'continue-as-new') return { continueAsNew: { state, core, switched: null } };
  state.window = null;
  if (verdict === 'abort') return rollBack(core, state, 'aborted', state.abortReason ?? 'aborted');
  if (verdict === 'rollback')
    return rollBack(
      core,
      state,
      'rolled_back',
      `validation slice failed: ${state.lastVerdict?.summary ?? ''}`,
    );
  // Back to 0 while the gate waits: only a proven switch moves users.
  await setCanaryWeight(core, state, 0);
  return null;
}

/** All traffic to the new environment in one call; the old one keeps running until retired. */
async function switchTraffic(
  spec: BlueGreenSpec,
  core: RolloutCore,
  state: RolloutState,
): Promise<NonNullable<BlueGreenCarried['switched']>> {
  state.phase = 'switching';
  state.stageIndex = state.stageWeights.length - 1;
  // The router's stable slot now holds the new version; rolloutWeights reads it back by version.
  const split = await forward.setTraffic({
    traffic: spec.traffic,
    service: spec.service,
    stable: core.canary,
    canary: core.stable,
    canaryWeight: 0,
  });
  const at = Date.now();
  state.weights = rolloutWeights(split, core);
  record(state, 'promote', `switched: ${state.environments?.idle} (${core.canary.version}) carries 100%`);
  state.phase = 'post-switch';
  return { at, baseline: await readBaseline(core, spec, at) };
}

async function stabilize(
  spec: BlueGreenSpec,
  core: RolloutCore,
  state: RolloutState,
  control: Control,
): Promise<Outcome> {
  state.phase = 'stabilizing';
  touch(state);
  // Until the old environment is retired, an abort switches back to it at once.
  if (await condition(() => control.abortRequested, spec.promotion.stabilizationDelay)) {
    return rollBack(core, state, 'aborted', state.abortReason ?? 'aborted during stabilization');
  }
  await retireQuietly(core, state, 'stable');
  // The old environment leaves the router's table: it is the idle target of the next rollout.
  await forward.setTraffic({
    traffic: spec.traffic,
    service: spec.service,
    stable: core.canary,
    canary: null,
    canaryWeight: 0,
  });
  await contractAfterPromotion(core, state, control);
  finish(state, 'promoted');
  await notifyQuietly(core, state, 'promoted', `${core.canary.version} live on ${state.environments?.idle}`);
  return 'promoted';
}
