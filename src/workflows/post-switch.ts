import { condition, patched } from '@temporalio/workflow';
import { judgePostSwitch } from '../analysis/post-switch';
import type { Verdict, VersionMetrics } from '../analysis/types';
import type { BlueGreenSpec } from '../spec/blue-green';
import type { RolloutCore } from '../spec/rollout-core';
import { polling } from './activity-stubs';
import { type Control, nowIso, record, touch } from './control';
import { keepVerdict } from './monitor-stage';
import {
  ABORT_BEFORE_FIRST_WAIT,
  POST_SWITCH_INCONCLUSIVE_POLICY,
  WAKE_ON_SIGNALS_DURING_POLL,
} from './patches';
import type { RolloutState } from './state';
import { failureText } from './failure-text';

export type PostSwitchOutcome = 'keep' | 'switch-back' | 'abort';

async function readBoth(
  core: RolloutCore,
  sinceMs: number,
): Promise<{ stable: VersionMetrics; canary: VersionMetrics }> {
  return polling.readMetrics({
    metrics: core.metrics,
    stableVersion: core.stable.version,
    canaryVersion: core.canary.version,
    sinceMs,
  });
}

/** The old environment over the minutes before the switch: what "normal" looked like. */
export async function readBaseline(
  core: RolloutCore,
  spec: BlueGreenSpec,
  switchedAt: number,
): Promise<VersionMetrics | null> {
  try {
    return (await readBoth(core, switchedAt - spec.postSwitch.baselineWindow)).stable;
  } catch {
    return null;
  }
}

/**
 * Watches the new environment with all traffic on it. A failing poll, or an abort, means switch
 * back at once; the old environment is still running. Pause does not stop this guard.
 */
export async function monitorAfterSwitch(
  spec: BlueGreenSpec,
  core: RolloutCore,
  state: RolloutState,
  control: Control,
  switchedAt: number,
  baseline: VersionMetrics | null,
): Promise<PostSwitchOutcome> {
  const { interval, minCanaryRequests } = spec.monitoring;
  const end = switchedAt + spec.postSwitch.window;
  const noBaseline: VersionMetrics = {
    version: core.stable.version,
    requests: 0,
    errors: 0,
    p50Ms: null,
    p99Ms: null,
  };
  state.window = {
    stage: state.stageIndex,
    startedAt: nowIso(),
    elapsedMs: 0,
    requiredMs: spec.postSwitch.window,
    maxMs: spec.postSwitch.window,
    polls: 0,
    holdingForInconclusive: false,
  };
  const wakeOnSignalsDuringPoll = patched(WAKE_ON_SIGNALS_DURING_POLL);
  let seen = control.seq;
  let holding = false;
  for (;;) {
    if (control.abortRequested && patched(ABORT_BEFORE_FIRST_WAIT)) return 'abort';
    if (!wakeOnSignalsDuringPoll) seen = control.seq;
    const wait = holding || state.paused ? interval : Math.min(interval, end - Date.now());
    if (wait > 0) await condition(() => control.seq !== seen, wait);
    seen = control.seq;
    if (control.abortRequested) return 'abort';
    if (holding && !state.paused) {
      record(state, 'advance', 'operator resumed: keeping the switch', state.lastVerdict);
      return 'keep';
    }
    state.window.elapsedMs = Date.now() - switchedAt;
    let verdict: Verdict;
    try {
      const { canary } = await readBoth(core, switchedAt);
      verdict = judgePostSwitch({
        current: canary,
        baseline: baseline ?? noBaseline,
        config: spec.analysis,
        limits: spec.postSwitch,
        minRequests: minCanaryRequests,
      });
    } catch (err) {
      verdict = {
        result: 'inconclusive',
        summary: `metrics unavailable: ${failureText(err)}`,
        checks: [],
        canary: noBaseline,
        baseline: noBaseline,
      };
    }
    state.window.polls++;
    keepVerdict(state, verdict);
    if (verdict.result === 'fail') {
      record(state, 'rollback', `after the switch: ${verdict.summary}`, verdict);
      return 'switch-back';
    }
    touch(state);
    // Paused (by an operator, or by the policy below): keep guarding, decide nothing.
    if (holding || state.paused || Date.now() < end) continue;
    if (verdict.result === 'pass' || !patched(POST_SWITCH_INCONCLUSIVE_POLICY)) {
      record(
        state,
        'advance',
        `post-switch window of ${spec.postSwitch.window / 1000}s passed: ${verdict.summary}`,
        verdict,
      );
      return 'keep';
    }
    // Inconclusive is never a pass: switch back, or hold for a human.
    if (spec.monitoring.onInconclusive === 'rollback') {
      record(state, 'rollback', `post-switch window ended inconclusive: ${verdict.summary}`, verdict);
      return 'switch-back';
    }
    holding = true;
    state.paused = true;
    state.pauseReason = 'post-switch analysis inconclusive: resume keeps the switch, abort switches back';
    record(state, 'hold', `post-switch window ended inconclusive: ${verdict.summary}`, verdict);
  }
}
