import { condition, patched, workflowInfo } from '@temporalio/workflow';
import { failedChecks } from '../analysis/sample-size';
import type { Verdict, VersionMetrics } from '../analysis/types';
import { type Control, nowIso, record, touch } from './control';
import {
  ABORT_BEFORE_FIRST_WAIT,
  POST_SWITCH_INCONCLUSIVE_POLICY,
  WAKE_ON_SIGNALS_DURING_POLL,
} from './patches';
import { type NotifyTarget, notificationsPending, notifyQuietly } from './notifications';
import { countVerdict } from './rollout-metrics';
import { appendPoint, seriesPoint } from './series';
import { RECENT_VERDICTS_KEPT, type RolloutState, type WindowState } from './state';
import { type WatchAction, type WatchPolicy, type WatchStep, decideNext } from './window-decision';

/** 'continue-as-new': the history is long; carry state.window into a new run and resume there. */
export type WatchOutcome = 'advance' | 'rollback' | 'abort' | 'continue-as-new';

/** The words each watch uses in its decisions; the numbers come from the window and the verdict. */
export interface WatchLabels {
  /** "window" or "post-switch window". */
  window: string;
  /** Put before a failing verdict's summary. */
  failedPrefix: string;
  promoted: string;
  resumedHold: string;
  /** What the state says while the inconclusive policy holds for a human. */
  holdReason: string;
  /** Why the window ended inconclusive, before the verdict's summary. */
  inconclusive: (window: WindowState) => string;
}

export interface WatchOptions {
  /** Who hears of a hold for a human. */
  target: NotifyTarget;
  state: RolloutState;
  control: Control;
  monitoring: { interval: number; onInconclusive: WatchPolicy['onInconclusive'] };
  mayContinueAsNew: boolean;
  legacy: WatchPolicy['legacy'];
  labels: WatchLabels;
  /** One read of both versions, judged. A failed read must come back as an inconclusive verdict. */
  poll: () => Promise<Verdict>;
  /** Legacy post-switch only: its window ran on the wall clock from the switch, paused or not. */
  wallClockFromMs?: number;
}

export function newWindow(state: RolloutState, requiredMs: number, maxMs: number): WindowState {
  return {
    stage: state.stageIndex,
    startedAt: nowIso(),
    elapsedMs: 0,
    requiredMs,
    maxMs: Math.max(maxMs, requiredMs),
    polls: 0,
    holdingForInconclusive: false,
  };
}

export function emptyMetrics(version: string): VersionMetrics {
  return { version, requests: 0, errors: 0, p50Ms: null, p99Ms: null };
}

/**
 * Keeps a poll's verdict: the last few whole, one point of the plotted series, and the time of the
 * first failing check. None of it schedules anything, so it needs no patched() gate.
 */
export function keepVerdict(state: RolloutState, verdict: Verdict): void {
  state.lastVerdict = verdict;
  state.verdictCount++;
  state.recentVerdicts.push(verdict);
  if (state.recentVerdicts.length > RECENT_VERDICTS_KEPT) state.recentVerdicts.shift();
  const now = Date.now();
  // A read that failed judged nothing (no checks) and counted nothing: no point, or the plot
  // would drop to zero mid-window.
  if (state.window && verdict.checks.length > 0) {
    const windowStart = Date.parse(state.window.startedAt);
    state.series = appendPoint(
      state.series ?? [],
      seriesPoint(verdict, now, windowStart, state.stageIndex, state.weights.canary),
    );
  }
  // A pass clears it: a blip the canary recovered from is not where a later rollback began.
  const failing = verdict.result === 'fail' || failedChecks(verdict.checks).length > 0;
  if (verdict.result === 'pass') state.firstFailureAt = null;
  else if (failing && !state.firstFailureAt) state.firstFailureAt = new Date(now).toISOString();
  countVerdict(state, verdict);
}

/**
 * Watches state.window until it ends. Polls every interval and rolls back on the first failing
 * verdict, paused or not. Only unpaused time counts towards the window, because a durable timer
 * cannot itself be paused. What happens next is always decideNext's answer; this loop only waits,
 * polls and records.
 */
export async function watchWindow(options: WatchOptions): Promise<WatchOutcome> {
  const { state, control, labels, poll, wallClockFromMs } = options;
  const window = state.window;
  if (!window) throw new Error('watchWindow needs state.window');
  const policy: WatchPolicy = {
    intervalMs: options.monitoring.interval,
    onInconclusive: options.monitoring.onInconclusive,
    mayContinueAsNew: options.mayContinueAsNew,
    legacy: options.legacy,
  };
  const wakeOnSignalsDuringPoll = patched(WAKE_ON_SIGNALS_DURING_POLL);
  const gates = {
    abortBeforeFirstWait: () => patched(ABORT_BEFORE_FIRST_WAIT),
    postSwitchInconclusivePolicy: () => patched(POST_SWITCH_INCONCLUSIVE_POLICY),
  };
  let lastTick = Date.now();
  let nextPollAt = Date.now() + policy.intervalMs;
  let seenSeq = control.seq;
  let step: WatchStep = 'top';

  const tick = (woke: boolean) => {
    const now = Date.now();
    if (wallClockFromMs !== undefined) window.elapsedMs = now - wallClockFromMs;
    else if (woke) {
      if (!state.paused) window.elapsedMs += now - lastTick;
      lastTick = now;
    }
  };

  for (;;) {
    tick(false);
    const action: WatchAction = decideNext({
      step,
      window,
      lastVerdict: state.lastVerdict,
      control: { ...control, paused: state.paused },
      policy,
      gates,
      nowMs: Date.now(),
      nextPollAtMs: nextPollAt,
      // Not while alerts are in flight: the next poll asks again. Older histories awaited every
      // alert, so for them nothing is ever in flight and this changes nothing.
      continueAsNewSuggested:
        policy.mayContinueAsNew && workflowInfo().continueAsNewSuggested && !notificationsPending(state),
    });
    const verdict = state.lastVerdict;
    switch (action.kind) {
      case 'wait':
        if (!wakeOnSignalsDuringPoll) seenSeq = control.seq;
        if (action.ms > 0) await condition(() => control.seq !== seenSeq, action.ms);
        seenSeq = control.seq;
        tick(true);
        step = 'woke';
        continue;
      case 'poll': {
        const polled = await poll();
        window.polls++;
        keepVerdict(state, polled);
        nextPollAt = Date.now() + policy.intervalMs;
        if (polled.result !== 'fail') touch(state);
        step = 'polled';
        continue;
      }
      case 'extend':
        window.requiredMs = action.requiredMs;
        record(
          state,
          'extend',
          `inconclusive at ${labels.window} end, extended to ${window.requiredMs / 1000}s: ${verdict?.summary ?? 'no verdict yet'}`,
          verdict,
        );
        step = 'top';
        continue;
      case 'hold':
        state.paused = true;
        state.pauseReason = labels.holdReason;
        window.holdingForInconclusive = true;
        record(state, 'hold', `${labels.inconclusive(window)}: ${verdict?.summary ?? 'no verdict'}`, verdict);
        await notifyQuietly(
          options.target,
          state,
          'held',
          `${labels.holdReason}: ${verdict?.summary ?? 'no verdict'}`,
          {
            newEvent: true,
          },
        );
        step = 'top';
        continue;
      case 'advance':
        recordAdvance(state, control, labels, action.why, window, verdict);
        return 'advance';
      case 'rollback':
        record(
          state,
          'rollback',
          action.why === 'verdict-failed'
            ? `${labels.failedPrefix}${verdict?.summary ?? 'analysis failed'}`
            : `${labels.inconclusive(window)}: ${verdict?.summary ?? 'no verdict'}`,
          verdict,
        );
        return 'rollback';
      case 'abort':
        return 'abort';
      case 'continue-as-new':
        return 'continue-as-new';
    }
  }
}

function recordAdvance(
  state: RolloutState,
  control: Control,
  labels: WatchLabels,
  why: Extract<WatchAction, { kind: 'advance' }>['why'],
  window: WindowState,
  verdict: Verdict | null,
): void {
  if (why === 'operator-promoted') {
    control.promoteRequested = false;
    record(state, 'advance', labels.promoted, verdict);
  } else if (why === 'operator-resumed-hold') {
    record(state, 'advance', labels.resumedHold, verdict);
  } else {
    record(
      state,
      'advance',
      `${labels.window} of ${window.requiredMs / 1000}s passed: ${verdict?.summary ?? 'no verdict'}`,
      verdict,
    );
  }
}
