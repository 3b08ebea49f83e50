import { condition } from '@temporalio/workflow';
import type { BlueGreenSpec } from '../spec/blue-green';
import type { RolloutCore } from '../spec/rollout-core';
import { forward } from './activity-stubs';
import { type Control, installHandlers, newControl, record, touch } from './control';
import { findLive } from './find-live';
import { initialState } from './initial-state';
import { monitorStage } from './monitor-stage';
import { monitorAfterSwitch, readBaseline } from './post-switch';
import { deployAndVerify } from './pre-traffic-checks';
import { awaitPromotion } from './promotion-gate';
import { endOnError, failBeforeTraffic, finish, notifyQuietly, retireQuietly, rollBack } from './rollback';
import type { Outcome, RolloutResult, RolloutState } from './state';
import { setCanaryWeight } from './traffic';

export interface BlueGreenRolloutInput {
  spec: BlueGreenSpec;
}

/**
 * Deploys to the idle environment, proves it before any user reaches it, switches all traffic in
 * one call, watches it, and switches back to the still-running old environment if anything is wrong.
 */
export async function blueGreenRollout({ spec }: BlueGreenRolloutInput): Promise<RolloutResult> {
  const state = initialState({
    service: spec.service,
    strategy: 'blue-green',
    stableVersion: '(live)',
    canaryVersion: spec.version,
    stageWeights: spec.validation.weight > 0 ? [spec.validation.weight, 100] : [100],
    analysis: spec.analysis,
  });
  const control = newControl();
  installHandlers(state, control);
  touch(state);
  let core: RolloutCore | null = null;
  try {
    const live = findLive(spec, await forward.getTraffic({ traffic: spec.traffic, service: spec.service }));
    core = live.core;
    state.environments = { live: live.live, idle: live.idle };
    state.stableVersion = core.stable.version;
    record(
      state,
      'deploy',
      `live: ${live.live} runs ${core.stable.version}; deploying ${spec.version} to ${live.idle}`,
    );
    return { outcome: await progress(spec, core, state, control), state };
  } catch (err) {
    return endOnError(core, state, err);
  }
}

async function progress(
  spec: BlueGreenSpec,
  core: RolloutCore,
  state: RolloutState,
  control: Control,
): Promise<Outcome> {
  const failure = await deployAndVerify(core, state);
  if (failure) return failBeforeTraffic(core, state, failure);
  if (control.abortRequested) return rollBack(core, state, 'aborted', state.abortReason ?? 'aborted');

  if (spec.validation.weight > 0) {
    state.stageIndex = 0;
    state.phase = 'validating';
    await setCanaryWeight(core, state, spec.validation.weight);
    const verdict = await monitorStage(core, state, control, {
      weight: spec.validation.weight,
      windowMs: spec.validation.window,
    });
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
  }

  if (!(await awaitPromotion(spec, state, control)))
    return rollBack(core, state, 'aborted', state.abortReason ?? 'aborted');

  state.phase = 'switching';
  state.stageIndex = state.stageWeights.length - 1;
  const split = await forward.setTraffic({
    traffic: spec.traffic,
    service: spec.service,
    stable: core.canary,
    canary: core.stable,
    canaryWeight: 0,
  });
  const switchedAt = Date.now();
  state.weights = { stable: split.weights.canary, canary: split.weights.stable };
  record(state, 'promote', `switched: ${state.environments?.idle} (${core.canary.version}) carries 100%`);

  state.phase = 'post-switch';
  const baseline = await readBaseline(core, spec, switchedAt);
  const watched = await monitorAfterSwitch(spec, core, state, control, switchedAt, baseline);
  state.window = null;
  if (watched === 'abort')
    return rollBack(core, state, 'aborted', state.abortReason ?? 'aborted after the switch');
  if (watched === 'switch-back')
    return rollBack(core, state, 'rolled_back', state.lastVerdict?.summary ?? 'post-switch check failed');

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
  finish(state, 'promoted');
  await notifyQuietly(core, 'promoted', `${core.canary.version} live on ${state.environments?.idle}`);
  return 'promoted';
}
