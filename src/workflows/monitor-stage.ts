import { patched } from '@temporalio/workflow';
import { type AnalysisRevision, judge, startStage } from '../analysis/judge';
import { latencyTolerance, offerReference, requestedBounds } from '../analysis/sequential/latency-bounds';
import type { Verdict } from '../analysis/types';
import type { Stage } from '../spec/canary';
import type { RolloutCore } from '../spec/rollout-core';
import type { RolloutActivities } from '../activities';
import { metricReads } from './activity-stubs';
import type { Control } from './control';
import { failureText } from './failure-text';
import { LATENCY_ALWAYS_JUDGED, ONE_WINDOW_LOOP } from './patches';
import type { RolloutState, WindowState } from './state';
import { emptyMetrics, newWindow, type WatchLabels, type WatchOutcome, watchWindow } from './watch-window';

type Reads = Pick<RolloutActivities, 'readMetrics'>;

export interface MonitorStageOptions {
  /** Carried over by continue-as-new: same stage start, so metrics and analysis continue seamlessly. */
  resume?: WindowState | null;
  /** Only a workflow that knows how to resume a window may be told to continue as new. */
  mayContinueAsNew?: boolean;
}

const STAGE_LABELS: WatchLabels = {
  window: 'window',
  failedPrefix: '',
  promoted: 'stage ended early by an operator promote',
  resumedHold: 'operator resumed after inconclusive analysis',
  holdReason: 'analysis inconclusive: resume to advance, abort to roll back',
  inconclusive: (window) => `still inconclusive after ${window.maxMs / 1000}s`,
};

/** What a poll asks the metrics source to count beyond requests and errors. */
function latencyRequest(spec: RolloutCore, state: RolloutState, revision: AnalysisRevision) {
  if (revision === 1) {
    const slowerThanMs = state.analysis.slowThresholdMs;
    return slowerThanMs === null ? {} : { slowerThanMs };
  }
  const bounds = state.analysis.latencyBounds;
  const boundsMs = bounds === undefined ? null : requestedBounds(bounds, latencyTolerance(spec.analysis));
  return spec.analysis.latency === 'off' || boundsMs === null ? {} : { latencyBoundsMs: boundsMs };
}

/** Reads both versions over the stage so far and judges them; a failed read is "no data", never a pass. */
async function poll(
  reads: Reads,
  spec: RolloutCore,
  state: RolloutState,
  sinceMs: number,
  metricErrors: { count: number },
  revision: AnalysisRevision,
): Promise<Verdict> {
  try {
    const { stable, canary } = await reads.readMetrics({
      metrics: spec.metrics,
      stableVersion: spec.stable.version,
      canaryVersion: spec.canary.version,
      sinceMs,
      ...latencyRequest(spec, state, revision),
    });
    metricErrors.count = 0;
    const judged = judge({
      state: state.analysis,
      canary,
      baseline: stable,
      config: spec.analysis,
      minCanaryRequests: spec.monitoring.minCanaryRequests,
      revision,
      stageLabel: `stage ${state.stageIndex + 1}`,
    });
    state.analysis = judged.state;
    return judged.verdict;
  } catch (err) {
    metricErrors.count++;
    return {
      result: 'inconclusive',
      summary: `metrics unavailable (${metricErrors.count} in a row): ${failureText(err)}`,
      checks: [],
      canary: emptyMetrics(spec.canary.version),
      baseline: emptyMetrics(spec.stable.version),
    };
  }
}

/**
 * Before a stage's first window, when no earlier stage has given the latency test a reference: the
 * stable version's latency over the minutes before, so that the test is armed from the first poll.
 * Ends the second before the stage's first counted second, so it never overlaps what it classifies.
 */
async function readLatencyReference(
  reads: Reads,
  spec: RolloutCore,
  state: RolloutState,
  firstCountedMs: number,
) {
  const bounds = state.analysis.latencyBounds;
  if (spec.analysis.latency === 'off' || bounds === undefined || bounds.boundsMs !== null) return;
  try {
    const { stable } = await reads.readMetrics({
      metrics: spec.metrics,
      stableVersion: spec.stable.version,
      canaryVersion: spec.canary.version,
      sinceMs: firstCountedMs - spec.analysis.latencyBaselineWindow,
      untilMs: firstCountedMs - 1,
    });
    const offered = offerReference(bounds, stable, 'before the rollout');
    state.analysis = { ...state.analysis, latencyBounds: offered };
    state.analysis = startStage(state.analysis);
  } catch {
    // No reference yet: the first poll's baseline arms the test instead (one interval later).
  }
}

/**
 * Watches one stage with the canary beside the stable version: a canary stage, or the blue-green
 * validation slice. Too few requests extends the window up to maxWindow, then applies the
 * onInconclusive policy.
 */
export async function monitorStage(
  spec: RolloutCore,
  state: RolloutState,
  control: Control,
  stage: Stage,
  { resume = null, mayContinueAsNew = false }: MonitorStageOptions = {},
): Promise<WatchOutcome> {
  const { maxWindow } = spec.monitoring;
  if (resume) {
    state.window = resume;
  } else {
    state.window = newWindow(state, stage.windowMs, maxWindow);
    state.analysis = startStage(state.analysis);
  }
  const stageStart = Date.parse(state.window.startedAt);
  // From the next whole second: per-second metrics must not count requests from before the stage
  // (a previous rollout that used the same version name, say).
  const firstCountedMs = Math.ceil(stageStart / 1000) * 1000;
  const revision: AnalysisRevision = patched(LATENCY_ALWAYS_JUDGED) ? 2 : 1;
  const oneWindowLoop = patched(ONE_WINDOW_LOOP);
  const reads = metricReads(oneWindowLoop);
  if (revision === 2 && !resume) await readLatencyReference(reads, spec, state, firstCountedMs);
  const metricErrors = { count: 0 };
  return watchWindow({
    target: spec,
    state,
    control,
    monitoring: spec.monitoring,
    mayContinueAsNew,
    legacy: oneWindowLoop ? 'none' : 'stage',
    labels: STAGE_LABELS,
    poll: () => poll(reads, spec, state, firstCountedMs, metricErrors, revision),
  });
}
