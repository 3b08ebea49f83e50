import { allHandlersFinished, condition, continueAsNew } from '@temporalio/workflow';
import type { CanarySpec } from '../spec/canary';
import { forward } from './activity-stubs';
import { type Control, installHandlers, newControl, record, touch } from './control';
import { initialState } from './initial-state';
import { countStarted } from './rollout-metrics';
import { monitorStage } from './monitor-stage';
import { awaitDeployWindow, extendedWindow, type GateOutcome } from './deploy-window';
import { contractAfterPromotion, expandBeforeTraffic } from './migrations';
import { deployAndVerify } from './pre-traffic-checks';
import { notifyQuietly, settleNotifications } from './notifications';
import { endOnError, failBeforeTraffic, finish, retireQuietly, rollBack } from './rollback';
import type { RolloutResult, RolloutState, WindowState } from './state';
import { rolloutWeights, setCanaryWeight } from './traffic';

export interface CanaryRolloutInput {
  spec: CanarySpec;
  /** Set by continue-as-new: where the previous run stopped, mid-stage. */
  carried?: RolloutState;
}

type Progress = RolloutResult['outcome'] | 'continue-as-new';

/** Shifts traffic to the canary stage by stage, and back to stable the moment anything is wrong. */
export async function canaryRollout({ spec, carried }: CanaryRolloutInput): Promise<RolloutResult> {
  const state =
    carried ??
    initialState({
      service: spec.service,
      strategy: 'canary',
      stableVersion: spec.stable.version,
      canaryVersion: spec.canary.version,
      stageWeights: spec.stages.map((s) => s.weight),
      analysis: spec.analysis,
    });
  const control = newControl();
  // An abort that arrived just before the previous run continued as new is in its state.
  control.abortRequested = carried !== undefined && carried.abortReason !== null;
  installHandlers(state, control);
  touch(state);
  if (!carried) {
    countStarted(state);
    await notifyQuietly(spec, state, 'started', `${spec.stable.version} → ${spec.canary.version}`, {
      newEvent: true,
    });
  }

  let outcome: Progress;
  try {
    outcome = await progress(spec, state, control, carried !== undefined);
  } catch (err) {
    return endOnError(spec, state, err);
  }
  await settleNotifications(state);
  if (outcome !== 'continue-as-new') return { outcome, state };
  // A long bake: start a fresh history that carries the whole state, including the open window.
  await condition(allHandlersFinished);
  return continueAsNew<typeof canaryRollout>({ spec, carried: state });
}

async function progress(
  spec: CanarySpec,
  state: RolloutState,
  control: Control,
  resumed: boolean,
): Promise<Progress> {
  if (!resumed) {
    // Nothing changes outside a deploy window: no migration, no deploy, no traffic.
    const opened = await awaitDeployWindow(spec, state, control, 'the first traffic');
    if (opened === 'abort') return await abortBeforeTraffic(spec, state);
    // The router is the source of truth: start from a known split with no canary traffic.
    await forward.setTraffic({
      traffic: spec.traffic,
      service: spec.service,
      stable: spec.stable,
      canary: null,
      canaryWeight: 0,
    });
    const expandFailure = await expandBeforeTraffic(spec, state);
    if (expandFailure) return failBeforeTraffic(spec, state, expandFailure);
    const preTrafficFailure = await deployAndVerify(spec, state);
    if (preTrafficFailure) return failBeforeTraffic(spec, state, preTrafficFailure);
  }
  if (control.abortRequested) return rollBack(spec, state, 'aborted', state.abortReason ?? 'aborted');

  let passed: WindowState | null = null;
  for (let i = Math.max(0, state.stageIndex); i < spec.stages.length; i++) {
    const stage = spec.stages[i]!;
    // A resumed run re-enters its open stage: the router already carries that weight.
    const resumeWindow = resumed && i === state.stageIndex ? state.window : null;
    if (!resumeWindow && passed) {
      const gate = await gateStage(spec, state, control, i, passed);
      if (gate === 'continue-as-new') return gate;
      if (gate === 'abort') return rollBack(spec, state, 'aborted', state.abortReason ?? 'aborted');
      if (gate === 'rollback') {
        return rollBack(spec, state, 'rolled_back', state.lastVerdict?.summary ?? 'analysis failed');
      }
    }
    state.stageIndex = i;
    state.phase = 'monitoring';
    if (!resumeWindow) await setCanaryWeight(spec, state, stage.weight);
    if (stage.weight === 100) break;
    const outcome = await monitorStage(spec, state, control, stage, {
      resume: resumeWindow,
      mayContinueAsNew: true,
    });
    if (outcome === 'continue-as-new') return outcome;
    passed = state.window;
    state.window = null;
    if (outcome === 'abort') return rollBack(spec, state, 'aborted', state.abortReason ?? 'aborted');
    if (outcome === 'rollback') {
      return rollBack(spec, state, 'rolled_back', state.lastVerdict?.summary ?? 'analysis failed');
    }
    // A run continued as new while a gate watched this stage already told of its passing.
    if (!(resumeWindow && state.gate)) {
      await notifyQuietly(spec, state, 'stage-completed', `stage ${i + 1} at ${stage.weight}% passed`);
    }
  }
  return promote(spec, state, control);
}

/**
 * Before stage `i` moves more users: the deploy-window gate, which while closed keeps judging the
 * stage that passed, so a canary that goes bad during a freeze is still rolled back.
 */
async function gateStage(
  spec: CanarySpec,
  state: RolloutState,
  control: Control,
  i: number,
  passed: WindowState,
): Promise<GateOutcome> {
  const stage = spec.stages[i]!;
  let window = passed;
  const outcome = await awaitDeployWindow(
    spec,
    state,
    control,
    `stage ${i + 1} (${stage.weight}%)`,
    async (ms) => {
      const watched = await monitorStage(spec, state, control, spec.stages[state.stageIndex]!, {
        resume: extendedWindow(window, ms),
        mayContinueAsNew: true,
      });
      if (watched !== 'continue-as-new') {
        window = state.window ?? window;
        state.window = null;
      }
      return watched;
    },
  );
  return outcome;
}

/** An abort while waiting for the first deploy window: nothing was migrated, deployed or moved. */
async function abortBeforeTraffic(spec: CanarySpec, state: RolloutState): Promise<RolloutResult['outcome']> {
  const reason = `${state.abortReason ?? 'aborted'} (while waiting for a deploy window, before any change)`;
  finish(state, 'aborted');
  await notifyQuietly(spec, state, 'aborted', reason);
  return 'aborted';
}

/** The canary becomes the new stable; the old version stays up for the stabilization delay. */
async function promote(
  spec: CanarySpec,
  state: RolloutState,
  control: Control,
): Promise<RolloutResult['outcome']> {
  state.phase = 'promoting';
  const split = await forward.setTraffic({
    traffic: spec.traffic,
    service: spec.service,
    stable: spec.canary,
    canary: null,
    canaryWeight: 0,
  });
  state.weights = rolloutWeights(split, spec);
  record(
    state,
    'promote',
    `${spec.canary.version} carries 100%; ${spec.stable.version} kept for ${spec.promotion.stabilizationDelay / 1000}s`,
  );

  state.phase = 'stabilizing';
  touch(state);
  // Until the old version is retired, an abort switches back to it at once.
  const aborted = await condition(() => control.abortRequested, spec.promotion.stabilizationDelay);
  if (aborted) {
    return rollBack(spec, state, 'aborted', state.abortReason ?? 'aborted during stabilization');
  }
  await retireQuietly(spec, state, 'stable');
  await contractAfterPromotion(spec, state, control);
  finish(state, 'promoted');
  await notifyQuietly(spec, state, 'promoted', `${spec.canary.version} promoted`);
  return 'promoted';
}
