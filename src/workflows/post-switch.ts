import { patched } from '@temporalio/workflow';
import { judgePostSwitch } from '../analysis/post-switch';
import type { Verdict, VersionMetrics } from '../analysis/types';
import type { RolloutActivities } from '../activities';
import type { BlueGreenSpec } from '../spec/blue-green';
import type { RolloutCore } from '../spec/rollout-core';
import { metricReads } from './activity-stubs';
import type { Control } from './control';
import { failureText } from './failure-text';
import { ONE_WINDOW_LOOP } from './patches';
import type { RolloutState, WindowState } from './state';
import { emptyMetrics, newWindow, type WatchLabels, type WatchOutcome, watchWindow } from './watch-window';

type Reads = Pick<RolloutActivities, 'readMetrics'>;

const POST_SWITCH_LABELS: WatchLabels = {
  window: 'post-switch window',
  failedPrefix: 'after the switch: ',
  promoted: 'operator promoted: keeping the switch',
  resumedHold: 'operator resumed: keeping the switch',
  holdReason: 'post-switch analysis inconclusive: resume keeps the switch, abort switches back',
  inconclusive: () => 'post-switch window ended inconclusive',
};

async function readBoth(
  reads: Reads,
  core: RolloutCore,
  sinceMs: number,
): Promise<{ stable: VersionMetrics; canary: VersionMetrics }> {
  return reads.readMetrics({
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
    const reads = metricReads(patched(ONE_WINDOW_LOOP));
    return (await readBoth(reads, core, switchedAt - spec.postSwitch.baselineWindow)).stable;
  } catch {
    return null;
  }
}

/**
 * Watches the new environment with all traffic on it. A failing poll, or an abort, means switch
 * back at once; the old environment is still running. Pause does not stop this guard: it only
 * stops the window's clock, so that nothing is decided while an operator looks.
 */
export async function monitorAfterSwitch(
  spec: BlueGreenSpec,
  core: RolloutCore,
  state: RolloutState,
  control: Control,
  switchedAt: number,
  baseline: VersionMetrics | null,
  resume: WindowState | null = null,
): Promise<WatchOutcome> {
  const { minCanaryRequests } = spec.monitoring;
  const noBaseline = emptyMetrics(core.stable.version);
  state.window = resume ?? newWindow(state, spec.postSwitch.window, spec.postSwitch.window);
  const oneWindowLoop = patched(ONE_WINDOW_LOOP);
  const reads = metricReads(oneWindowLoop);
  const poll = async (): Promise<Verdict> => {
    try {
      const { canary } = await readBoth(reads, core, switchedAt);
      return judgePostSwitch({
        current: canary,
        baseline: baseline ?? noBaseline,
        config: spec.analysis,
        limits: spec.postSwitch,
        minRequests: minCanaryRequests,
      });
    } catch (err) {
      return {
        result: 'inconclusive',
        summary: `metrics unavailable: ${failureText(err)}`,
        checks: [],
        canary: noBaseline,
        baseline: noBaseline,
      };
    }
  };
  return watchWindow({
    target: spec,
    state,
    control,
    monitoring: spec.monitoring,
    mayContinueAsNew: oneWindowLoop,
    legacy: oneWindowLoop ? 'none' : 'post-switch',
    labels: POST_SWITCH_LABELS,
    poll,
    ...(oneWindowLoop ? {} : { wallClockFromMs: switchedAt }),
  });
}
