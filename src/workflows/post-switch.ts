import { condition } from '@temporalio/workflow';
import { judgePostSwitch } from '../analysis/post-switch';
import type { Verdict, VersionMetrics } from '../analysis/types';
import type { BlueGreenSpec } from '../spec/blue-green';
import type { RolloutCore } from '../spec/rollout-core';
import { polling } from './activity-stubs';
import { type Control, nowIso, record, touch } from './control';
import { keepVerdict } from './monitor-stage';
import type { RolloutState } from './state';

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
  for (;;) {
    const seen = control.seq;
    const wait = Math.min(interval, end - Date.now());
    if (wait > 0) await condition(() => control.seq !== seen, wait);
    if (control.abortRequested) return 'abort';
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
        summary: `metrics unavailable: ${(err as Error).message}`,
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
    if (Date.now() >= end) {
      record(
        state,
        'advance',
        `post-switch window of ${spec.postSwitch.window / 1000}s passed: ${verdict.summary}`,
        verdict,
      );
      return 'keep';
    }
  }
}
