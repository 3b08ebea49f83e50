import { condition, patched, workflowInfo } from '@temporalio/workflow';
import { type AnalysisRevision, judge, startStage } from '../analysis/judge';
import { latencyTolerance, offerReference, requestedBounds } from '../analysis/sequential/latency-bounds';
import type { Verdict, VersionMetrics } from '../analysis/types';
import type { Stage } from '../spec/canary';
import type { RolloutCore } from '../spec/rollout-core';
import { polling } from './activity-stubs';
import { type Control, nowIso, record, touch } from './control';
import { ABORT_BEFORE_FIRST_WAIT, LATENCY_ALWAYS_JUDGED, WAKE_ON_SIGNALS_DURING_POLL } from './patches';
import { RECENT_VERDICTS_KEPT, type RolloutState, type WindowState } from './state';
import { failureText } from './failure-text';

/** 'continue-as-new': the history is long; carry state.window into a new run and resume there. */
export type StageOutcome = 'advance' | 'rollback' | 'abort' | 'continue-as-new';

const emptyMetrics = (version: string): VersionMetrics => ({
  version,
  requests: 0,
  errors: 0,
  p50Ms: null,
  p99Ms: null,
});

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
  spec: RolloutCore,
  state: RolloutState,
  sinceMs: number,
  metricErrors: { count: number },
  revision: AnalysisRevision,
): Promise<Verdict> {
  try {
    const { stable, canary } = await polling.readMetrics({
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
async function readLatencyReference(spec: RolloutCore, state: RolloutState, firstCountedMs: number) {
  const bounds = state.analysis.latencyBounds;
  if (spec.analysis.latency === 'off' || bounds === undefined || bounds.boundsMs !== null) return;
  try {
    const { stable } = await polling.readMetrics({
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

export function keepVerdict(state: RolloutState, verdict: Verdict): void {
  state.lastVerdict = verdict;
  state.verdictCount++;
  state.recentVerdicts.push(verdict);
  if (state.recentVerdicts.length > RECENT_VERDICTS_KEPT) state.recentVerdicts.shift();
}

/**
 * Watches one stage. Polls both versions every interval and rolls back on the first failing
 * verdict, paused or not. Only unpaused time counts towards the window, because a durable timer
 * cannot itself be paused. Too few requests extends the window up to maxWindow, then applies the
 * onInconclusive policy.
 */
export async function monitorStage(
  spec: RolloutCore,
  state: RolloutState,
  control: Control,
  stage: Stage,
  resume: WindowState | null = null,
  /** Only a workflow that knows how to resume a window may be told to continue as new. */
  mayContinueAsNew = false,
): Promise<StageOutcome> {
  const { interval, maxWindow, onInconclusive } = spec.monitoring;
  if (resume) {
    // Carried over by continue-as-new: same stage start, so metrics and analysis continue seamlessly.
    state.window = resume;
  } else {
    state.window = {
      stage: state.stageIndex,
      startedAt: nowIso(),
      elapsedMs: 0,
      requiredMs: stage.windowMs,
      maxMs: Math.max(maxWindow, stage.windowMs),
      polls: 0,
      holdingForInconclusive: false,
    };
    state.analysis = startStage(state.analysis);
  }
  const window = state.window;
  const stageStart = Date.parse(window.startedAt);
  // From the next whole second: per-second metrics must not count requests from before the stage
  // (a previous rollout that used the same version name, say).
  const firstCountedMs = Math.ceil(stageStart / 1000) * 1000;
  const revision: AnalysisRevision = patched(LATENCY_ALWAYS_JUDGED) ? 2 : 1;
  if (revision === 2 && !resume) await readLatencyReference(spec, state, firstCountedMs);
  const metricErrors = { count: 0 };
  let lastTick = Date.now();
  let nextPollAt = Date.now() + interval;

  const wakeOnSignalsDuringPoll = patched(WAKE_ON_SIGNALS_DURING_POLL);
  let seenSeq = control.seq;
  for (;;) {
    if (control.abortRequested && patched(ABORT_BEFORE_FIRST_WAIT)) return 'abort';
    if (!wakeOnSignalsDuringPoll) seenSeq = control.seq;
    const untilWindowEnd = state.paused ? Infinity : window.requiredMs - window.elapsedMs;
    const wait = Math.max(0, Math.min(nextPollAt - Date.now(), untilWindowEnd));
    if (wait > 0) await condition(() => control.seq !== seenSeq, wait);
    seenSeq = control.seq;

    const now = Date.now();
    if (!state.paused) window.elapsedMs += now - lastTick;
    lastTick = now;
    if (control.abortRequested) return 'abort';
    if (control.promoteRequested) {
      control.promoteRequested = false;
      record(state, 'advance', 'stage ended early by an operator promote', state.lastVerdict);
      return 'advance';
    }

    if (window.holdingForInconclusive && !state.paused) {
      record(state, 'advance', 'operator resumed after inconclusive analysis', state.lastVerdict);
      return 'advance';
    }

    if (now >= nextPollAt) {
      const verdict = await poll(spec, state, firstCountedMs, metricErrors, revision);
      window.polls++;
      keepVerdict(state, verdict);
      nextPollAt = Date.now() + interval;
      if (verdict.result === 'fail') {
        record(state, 'rollback', verdict.summary, verdict);
        return 'rollback';
      }
      touch(state);
      // Between polls, never mid-activity: the new run resumes this very window.
      if (mayContinueAsNew && workflowInfo().continueAsNewSuggested) return 'continue-as-new';
    }

    if (state.paused || window.elapsedMs < window.requiredMs) continue;
    const verdict = state.lastVerdict;
    if (verdict?.result === 'pass' && window.polls > 0) {
      record(state, 'advance', `window of ${window.requiredMs / 1000}s passed: ${verdict.summary}`, verdict);
      return 'advance';
    }
    if (window.requiredMs < window.maxMs) {
      window.requiredMs = Math.min(window.maxMs, window.requiredMs + interval);
      record(
        state,
        'extend',
        `inconclusive at window end, extended to ${window.requiredMs / 1000}s: ${verdict?.summary ?? 'no verdict yet'}`,
        verdict,
      );
      continue;
    }
    if (onInconclusive === 'rollback') {
      record(
        state,
        'rollback',
        `still inconclusive after ${window.maxMs / 1000}s: ${verdict?.summary ?? 'no verdict'}`,
        verdict,
      );
      return 'rollback';
    }
    state.paused = true;
    state.pauseReason = 'analysis inconclusive: resume to advance, abort to roll back';
    window.holdingForInconclusive = true;
    record(
      state,
      'hold',
      `still inconclusive after ${window.maxMs / 1000}s: ${verdict?.summary ?? 'no verdict'}`,
      verdict,
    );
  }
}
