import { allHandlersFinished, condition, continueAsNew } from '@temporalio/workflow';
import type { CanarySpec } from '../spec/canary';
import { forward } from './activity-stubs';
import { type Control, installHandlers, newControl, record, touch } from './control';
import { initialState } from './initial-state';
import { countStarted } from './rollout-metrics';
import { monitorStage } from './monitor-stage';
import { deployAndVerify } from './pre-traffic-checks';
import { notifyQuietly, settleNotifications } from './notifications';
import { endOnError, failBeforeTraffic, finish, retireQuietly, rollBack } from './rollback';
import type { RolloutResult, RolloutState } from './state';
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
    // The router is the source of truth: start from a known split with no canary traffic.
    await forward.setTraffic({
      traffic: spec.traffic,
      service: spec.service,
      stable: spec.stable,
      canary: null,
      canaryWeight: 0,
    });
    const preTrafficFailure = await deployAndVerify(spec, state);
    if (preTrafficFailure) return failBeforeTraffic(spec, state, preTrafficFailure);
  }
  if (control.abortRequested) return rollBack(spec, state, 'aborted', state.abortReason ?? 'aborted');

  for (let i = Math.max(0, state.stageIndex); i < spec.stages.length; i++) {
    const stage = spec.stages[i]!;
    // A resumed run re-enters its open stage: the router already carries that weight.
    const resumeWindow = resumed && i === state.stageIndex ? state.window : null;
    state.stageIndex = i;
    state.phase = 'monitoring';
    if (!resumeWindow) await setCanaryWeight(spec, state, stage.weight);
    if (stage.weight === 100) break;
    const outcome = await monitorStage(spec, state, control, stage, {
      resume: resumeWindow,
      mayContinueAsNew: true,
    });
    if (outcome === 'continue-as-new') return outcome;
    state.window = null;
    if (outcome === 'abort') return rollBack(spec, state, 'aborted', state.abortReason ?? 'aborted');
    if (outcome === 'rollback') {
      return rollBack(spec, state, 'rolled_back', state.lastVerdict?.summary ?? 'analysis failed');
    }
    await notifyQuietly(spec, state, 'stage-completed', `stage ${i + 1} at ${stage.weight}% passed`);
  }
  return promote(spec, state, control);
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
  finish(state, 'promoted');
  await notifyQuietly(spec, state, 'promoted', `${spec.canary.version} promoted`);
  return 'promoted';
}
