import type { Verdict } from '../analysis/types';
import type { WindowState } from './state';

/**
 * The one place that decides what a monitoring window does next. Pure: no Temporal, no clock, no
 * I/O, so tests drive it with tables and generated inputs. The loop in watch-window.ts only carries
 * out what this returns, for the canary stages, the blue-green validation slice and the post-switch
 * watch alike.
 */

/** Where the loop stands when it asks. */
export type WatchStep =
  /** Before waiting: nothing new has happened since the last decision. */
  | 'top'
  /** A timer fired or a signal arrived. */
  | 'woke'
  /** A poll's verdict has just been kept. */
  | 'polled';

export type WatchAction =
  | { kind: 'wait'; ms: number }
  | { kind: 'poll' }
  | { kind: 'advance'; why: 'window-passed' | 'operator-promoted' | 'operator-resumed-hold' | 'legacy-keep' }
  | { kind: 'extend'; requiredMs: number }
  | { kind: 'hold' }
  | { kind: 'rollback'; why: 'verdict-failed' | 'still-inconclusive' }
  | { kind: 'abort' }
  | { kind: 'continue-as-new' };

export interface WatchPolicy {
  intervalMs: number;
  onInconclusive: 'rollback' | 'pause';
  /** Only a workflow that knows how to resume this window may be told to continue as new. */
  mayContinueAsNew: boolean;
  /**
   * How a window behaved before the one-window-loop patch, kept so that recorded histories replay:
   * - 'stage': a canary stage or validation slice did not look for an abort that came during a poll
   *   until the next wait;
   * - 'post-switch': the post-switch watch polled on every wake, ignored promote, ran on the wall
   *   clock, and kept the switch on an inconclusive end unless post-switch-inconclusive-policy was
   *   patched in.
   */
  legacy: 'none' | 'stage' | 'post-switch';
}

/** Signals as the window sees them. */
export interface WatchControl {
  abortRequested: boolean;
  promoteRequested: boolean;
  paused: boolean;
}

/** The patched() gates this function consults, asked lazily so that markers land where they always did. */
export interface WatchGates {
  abortBeforeFirstWait: () => boolean;
  postSwitchInconclusivePolicy: () => boolean;
}

export interface WatchInput {
  step: WatchStep;
  window: Pick<WindowState, 'elapsedMs' | 'requiredMs' | 'maxMs' | 'polls' | 'holdingForInconclusive'>;
  lastVerdict: Verdict | null;
  control: WatchControl;
  policy: WatchPolicy;
  gates: WatchGates;
  nowMs: number;
  nextPollAtMs: number;
  continueAsNewSuggested: boolean;
}

export function decideNext(input: WatchInput): WatchAction {
  switch (input.step) {
    case 'top':
      return beforeWaiting(input);
    case 'woke':
      return afterWaking(input);
    case 'polled':
      return afterPolling(input);
  }
}

function beforeWaiting({ control, window, policy, gates, nowMs, nextPollAtMs }: WatchInput): WatchAction {
  // An abort that arrived during a traffic change or a poll must not wait out an interval.
  if (control.abortRequested && gates.abortBeforeFirstWait()) return { kind: 'abort' };
  const untilWindowEnd = window.requiredMs - window.elapsedMs;
  if (policy.legacy === 'post-switch') {
    const ms = control.paused ? policy.intervalMs : Math.min(policy.intervalMs, untilWindowEnd);
    return { kind: 'wait', ms: Math.max(0, ms) };
  }
  // Paused time does not count, so a paused window has no end to wake for: only the next poll.
  const ms = Math.min(nextPollAtMs - nowMs, control.paused ? Infinity : untilWindowEnd);
  return { kind: 'wait', ms: Math.max(0, ms) };
}

function afterWaking(input: WatchInput): WatchAction {
  const { control, window, policy, nowMs, nextPollAtMs } = input;
  if (control.abortRequested) return { kind: 'abort' };
  if (control.promoteRequested && policy.legacy !== 'post-switch') {
    return { kind: 'advance', why: 'operator-promoted' };
  }
  if (window.holdingForInconclusive && !control.paused) {
    return { kind: 'advance', why: 'operator-resumed-hold' };
  }
  if (policy.legacy === 'post-switch' || nowMs >= nextPollAtMs) return { kind: 'poll' };
  return atWindowEnd(input);
}

function afterPolling(input: WatchInput): WatchAction {
  const { lastVerdict, policy, control, continueAsNewSuggested } = input;
  // A failing verdict rolls back whatever else holds: paused, holding or mid-window.
  if (lastVerdict?.result === 'fail') return { kind: 'rollback', why: 'verdict-failed' };
  // An abort that came during the poll must not let the window pass first.
  if (control.abortRequested && policy.legacy === 'none') return { kind: 'abort' };
  // Between polls, never mid-activity: the new run resumes this very window.
  if (policy.mayContinueAsNew && continueAsNewSuggested) return { kind: 'continue-as-new' };
  return atWindowEnd(input);
}

/** Paused, or the window still open: wait on. Otherwise the window's verdict decides. */
function atWindowEnd(input: WatchInput): WatchAction {
  const { control, window, lastVerdict, policy, gates } = input;
  if (control.paused || window.elapsedMs < window.requiredMs) return beforeWaiting(input);
  if (lastVerdict?.result === 'pass' && window.polls > 0) return { kind: 'advance', why: 'window-passed' };
  if (policy.legacy === 'post-switch' && !gates.postSwitchInconclusivePolicy()) {
    return { kind: 'advance', why: 'legacy-keep' };
  }
  if (window.requiredMs < window.maxMs) {
    return { kind: 'extend', requiredMs: Math.min(window.maxMs, window.requiredMs + policy.intervalMs) };
  }
  if (policy.onInconclusive === 'rollback') return { kind: 'rollback', why: 'still-inconclusive' };
  return { kind: 'hold' };
}
