import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Verdict, VerdictResult } from '../../src/analysis/types';
import {
  decideNext,
  type WatchAction,
  type WatchInput,
  type WatchPolicy,
  type WatchStep,
} from '../../src/workflows/window-decision';

const verdict = (result: VerdictResult): Verdict => ({
  result,
  summary: result,
  checks: [],
  canary: { version: 'v2', requests: 0, errors: 0, p50Ms: null, p99Ms: null },
  baseline: { version: 'v1', requests: 0, errors: 0, p50Ms: null, p99Ms: null },
});

const POLICY: WatchPolicy = {
  intervalMs: 10_000,
  onInconclusive: 'pause',
  mayContinueAsNew: true,
  legacy: 'none',
};

/** Gates as recorded in a history: fixed answers, and a count of how often each was asked. */
function gates(answers: { abortBeforeFirstWait?: boolean; postSwitchInconclusivePolicy?: boolean } = {}) {
  const asked = { abortBeforeFirstWait: 0, postSwitchInconclusivePolicy: 0 };
  return {
    asked,
    gates: {
      abortBeforeFirstWait: () => (asked.abortBeforeFirstWait++, answers.abortBeforeFirstWait ?? true),
      postSwitchInconclusivePolicy: () => (
        asked.postSwitchInconclusivePolicy++,
        answers.postSwitchInconclusivePolicy ?? true
      ),
    },
  };
}

function input(
  overrides: Partial<Omit<WatchInput, 'window' | 'control'>> & {
    window?: Partial<WatchInput['window']>;
    control?: Partial<WatchInput['control']>;
  },
): WatchInput {
  return {
    step: 'woke',
    lastVerdict: null,
    policy: POLICY,
    gates: gates().gates,
    nowMs: 100_000,
    nextPollAtMs: 110_000,
    continueAsNewSuggested: false,
    ...overrides,
    window: {
      elapsedMs: 0,
      requiredMs: 60_000,
      maxMs: 120_000,
      polls: 0,
      holdingForInconclusive: false,
      ...overrides.window,
    },
    control: { abortRequested: false, promoteRequested: false, paused: false, ...overrides.control },
  };
}

describe('decideNext: the window decision table', () => {
  const cases: { name: string; given: Parameters<typeof input>[0]; expect: WatchAction }[] = [
    {
      name: 'before the first poll: wait for it',
      given: { step: 'top' },
      expect: { kind: 'wait', ms: 10_000 },
    },
    {
      name: 'the window ends before the next poll: wake at its end',
      given: { step: 'top', window: { elapsedMs: 55_000 } },
      expect: { kind: 'wait', ms: 5_000 },
    },
    {
      name: 'paused: the window has no end to wake for, only the next poll',
      given: { step: 'top', window: { elapsedMs: 59_000 }, control: { paused: true } },
      expect: { kind: 'wait', ms: 10_000 },
    },
    {
      name: 'a poll overdue: no negative wait',
      given: { step: 'top', nowMs: 120_000 },
      expect: { kind: 'wait', ms: 0 },
    },
    {
      name: 'an abort that came during a traffic change acts before any wait',
      given: { step: 'top', control: { abortRequested: true } },
      expect: { kind: 'abort' },
    },
    { name: 'woken by an abort', given: { control: { abortRequested: true } }, expect: { kind: 'abort' } },
    {
      name: 'woken by a promote',
      given: { control: { promoteRequested: true } },
      expect: { kind: 'advance', why: 'operator-promoted' },
    },
    {
      name: 'abort wins over promote',
      given: { control: { promoteRequested: true, abortRequested: true } },
      expect: { kind: 'abort' },
    },
    {
      name: 'resumed while holding for an inconclusive window',
      given: { window: { holdingForInconclusive: true } },
      expect: { kind: 'advance', why: 'operator-resumed-hold' },
    },
    { name: 'the poll is due', given: { nowMs: 110_000 }, expect: { kind: 'poll' } },
    {
      name: 'woken early by a signal: wait on for the poll',
      given: { nowMs: 104_000 },
      expect: { kind: 'wait', ms: 6_000 },
    },
    {
      name: 'a failing verdict rolls back',
      given: { step: 'polled', lastVerdict: verdict('fail'), window: { polls: 1 } },
      expect: { kind: 'rollback', why: 'verdict-failed' },
    },
    {
      name: 'a failing verdict rolls back while paused and holding',
      given: {
        step: 'polled',
        lastVerdict: verdict('fail'),
        window: { polls: 9, holdingForInconclusive: true },
        control: { paused: true },
      },
      expect: { kind: 'rollback', why: 'verdict-failed' },
    },
    {
      name: 'a long history continues as new between polls',
      given: {
        step: 'polled',
        lastVerdict: verdict('pass'),
        continueAsNewSuggested: true,
        window: { polls: 3 },
      },
      expect: { kind: 'continue-as-new' },
    },
    {
      name: 'a failing verdict rolls back even when a new run is suggested',
      given: { step: 'polled', lastVerdict: verdict('fail'), continueAsNewSuggested: true },
      expect: { kind: 'rollback', why: 'verdict-failed' },
    },
    {
      name: 'passing at the window end advances',
      given: { step: 'polled', lastVerdict: verdict('pass'), window: { elapsedMs: 60_000, polls: 6 } },
      expect: { kind: 'advance', why: 'window-passed' },
    },
    {
      name: 'passing before the window end waits on',
      given: { step: 'polled', lastVerdict: verdict('pass'), window: { elapsedMs: 30_000, polls: 3 } },
      expect: { kind: 'wait', ms: 10_000 },
    },
    {
      name: 'a pass from an earlier window does not pass this one',
      given: { lastVerdict: verdict('pass'), window: { elapsedMs: 60_000, polls: 0 } },
      expect: { kind: 'extend', requiredMs: 70_000 },
    },
    {
      name: 'inconclusive at the end extends by an interval',
      given: {
        step: 'polled',
        lastVerdict: verdict('inconclusive'),
        window: { elapsedMs: 60_000, polls: 6 },
      },
      expect: { kind: 'extend', requiredMs: 70_000 },
    },
    {
      name: 'an extension stops at maxWindow',
      given: {
        step: 'polled',
        lastVerdict: verdict('inconclusive'),
        window: { elapsedMs: 115_000, requiredMs: 115_000, polls: 11 },
      },
      expect: { kind: 'extend', requiredMs: 120_000 },
    },
    {
      name: 'inconclusive at maxWindow holds for a human',
      given: {
        step: 'polled',
        lastVerdict: verdict('inconclusive'),
        window: { elapsedMs: 120_000, requiredMs: 120_000, polls: 12 },
      },
      expect: { kind: 'hold' },
    },
    {
      name: 'inconclusive at maxWindow rolls back under onInconclusive: rollback',
      given: {
        step: 'polled',
        policy: { ...POLICY, onInconclusive: 'rollback' },
        lastVerdict: verdict('inconclusive'),
        window: { elapsedMs: 120_000, requiredMs: 120_000, polls: 12 },
      },
      expect: { kind: 'rollback', why: 'still-inconclusive' },
    },
    {
      name: 'paused at the window end: decide nothing',
      given: {
        step: 'polled',
        lastVerdict: verdict('pass'),
        window: { elapsedMs: 60_000, polls: 6 },
        control: { paused: true },
      },
      expect: { kind: 'wait', ms: 10_000 },
    },
    {
      name: 'promote was ignored after the switch before one-window-loop',
      given: {
        policy: { ...POLICY, legacy: 'post-switch' },
        control: { promoteRequested: true },
        nowMs: 110_000,
      },
      expect: { kind: 'poll' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(decideNext(input(c.given)), c.expect));
  }
});

describe('decideNext: the post-switch watch as recorded before one-window-loop', () => {
  const legacy: WatchPolicy = {
    ...POLICY,
    legacy: 'post-switch',
    mayContinueAsNew: false,
  };
  it('polls on every wake, even one a signal caused', () => {
    assert.deepEqual(decideNext(input({ policy: legacy, nowMs: 101_000 })), { kind: 'poll' });
  });
  it('waits a whole interval while paused, and up to the window end otherwise', () => {
    assert.deepEqual(decideNext(input({ step: 'top', policy: legacy, control: { paused: true } })), {
      kind: 'wait',
      ms: 10_000,
    });
    assert.deepEqual(decideNext(input({ step: 'top', policy: legacy, window: { elapsedMs: 57_000 } })), {
      kind: 'wait',
      ms: 3_000,
    });
  });
  it('keeps the switch on an inconclusive end unless the inconclusive policy was patched in', () => {
    const end = {
      step: 'polled' as const,
      lastVerdict: verdict('inconclusive'),
      window: { elapsedMs: 60_000, requiredMs: 60_000, maxMs: 60_000, polls: 6 },
    };
    const unpatched = gates({ postSwitchInconclusivePolicy: false });
    assert.deepEqual(decideNext(input({ ...end, policy: legacy, gates: unpatched.gates })), {
      kind: 'advance',
      why: 'legacy-keep',
    });
    assert.deepEqual(decideNext(input({ ...end, policy: legacy })), { kind: 'hold' });
  });
  it('asks the inconclusive gate only for a window that ends without a pass, as the old code did', () => {
    const g = gates();
    decideNext(
      input({
        step: 'polled',
        policy: legacy,
        gates: g.gates,
        lastVerdict: verdict('pass'),
        window: { elapsedMs: 60_000, polls: 1 },
      }),
    );
    decideNext(
      input({ step: 'polled', policy: legacy, gates: g.gates, lastVerdict: verdict('inconclusive') }),
    );
    assert.equal(g.asked.postSwitchInconclusivePolicy, 0);
  });
  it('asks the abort gate only when an abort is pending', () => {
    const g = gates();
    decideNext(input({ step: 'top', gates: g.gates }));
    assert.equal(g.asked.abortBeforeFirstWait, 0);
    const unpatched = gates({ abortBeforeFirstWait: false });
    assert.deepEqual(
      decideNext(input({ step: 'top', gates: unpatched.gates, control: { abortRequested: true } })),
      {
        kind: 'wait',
        ms: 10_000,
      },
    );
    assert.equal(unpatched.asked.abortBeforeFirstWait, 1);
  });
});

const arbitraryInput = fc.record({
  step: fc.constantFrom<WatchStep>('top', 'woke', 'polled'),
  result: fc.constantFrom<VerdictResult | null>('pass', 'fail', 'inconclusive', null),
  elapsedMs: fc.integer({ min: 0, max: 200_000 }),
  requiredMs: fc.integer({ min: 1_000, max: 200_000 }),
  extraMaxMs: fc.integer({ min: 0, max: 100_000 }),
  polls: fc.integer({ min: 0, max: 50 }),
  holding: fc.boolean(),
  abortRequested: fc.boolean(),
  promoteRequested: fc.boolean(),
  paused: fc.boolean(),
  nowMs: fc.integer({ min: 0, max: 1_000_000 }),
  untilPollMs: fc.integer({ min: -20_000, max: 20_000 }),
  intervalMs: fc.integer({ min: 500, max: 60_000 }),
  onInconclusive: fc.constantFrom<'pause' | 'rollback'>('pause', 'rollback'),
  legacy: fc.constantFrom<WatchPolicy['legacy']>('none', 'stage', 'post-switch'),
  mayContinueAsNew: fc.boolean(),
  suggested: fc.boolean(),
});

type ArbitraryWindow = typeof arbitraryInput extends fc.Arbitrary<infer T> ? T : never;

function toInput(a: ArbitraryWindow): WatchInput {
  return {
    step: a.step,
    lastVerdict: a.result === null ? null : verdict(a.result),
    window: {
      elapsedMs: a.elapsedMs,
      requiredMs: a.requiredMs,
      maxMs: a.requiredMs + a.extraMaxMs,
      polls: a.polls,
      holdingForInconclusive: a.holding,
    },
    control: { abortRequested: a.abortRequested, promoteRequested: a.promoteRequested, paused: a.paused },
    policy: {
      intervalMs: a.intervalMs,
      onInconclusive: a.onInconclusive,
      mayContinueAsNew: a.mayContinueAsNew,
      legacy: a.legacy,
    },
    gates: gates().gates,
    nowMs: a.nowMs,
    nextPollAtMs: a.nowMs + a.untilPollMs,
    continueAsNewSuggested: a.suggested,
  };
}

describe('decideNext: properties over any window', () => {
  it('an abort is never waited out, and no window passes while one is pending', () => {
    fc.assert(
      fc.property(arbitraryInput, (a) => {
        const action = decideNext(toInput({ ...a, abortRequested: true, legacy: 'none' }));
        // A failing verdict rolls back anyway; a new run carries the abort and acts on it first.
        if (!(action.kind === 'rollback' || action.kind === 'continue-as-new')) {
          assert.equal(action.kind, 'abort');
        }
      }),
    );
  });
  it('a failing verdict after a poll always rolls back', () => {
    fc.assert(
      fc.property(arbitraryInput, (a) => {
        const action = decideNext(toInput({ ...a, step: 'polled', result: 'fail', abortRequested: false }));
        assert.deepEqual(action, { kind: 'rollback', why: 'verdict-failed' });
      }),
    );
  });
  it('a window passes only on a pass of its own, at its end, unpaused', () => {
    fc.assert(
      fc.property(arbitraryInput, (a) => {
        const i = toInput(a);
        const action = decideNext(i);
        if (action.kind === 'advance' && action.why === 'window-passed') {
          assert.equal(i.lastVerdict?.result, 'pass');
          assert.ok(i.window.polls > 0);
          assert.ok(i.window.elapsedMs >= i.window.requiredMs);
          assert.equal(i.control.paused, false);
        }
      }),
    );
  });
  it('paused, nothing is decided but a rollback on failure, an abort, or an operator promote', () => {
    fc.assert(
      fc.property(arbitraryInput, (a) => {
        const action = decideNext(toInput({ ...a, paused: true }));
        assert.ok(
          ['wait', 'poll', 'abort', 'continue-as-new'].includes(action.kind) ||
            (action.kind === 'rollback' && action.why === 'verdict-failed') ||
            (action.kind === 'advance' && action.why === 'operator-promoted'),
          JSON.stringify(action),
        );
      }),
    );
  });
  it('waits are never negative, and finite', () => {
    fc.assert(
      fc.property(arbitraryInput, (a) => {
        const action = decideNext(toInput(a));
        if (action.kind === 'wait')
          assert.ok(action.ms >= 0 && Number.isFinite(action.ms) && action.ms <= a.intervalMs + 20_000);
      }),
    );
  });
  it('an extension grows the window by at most an interval and never past maxWindow', () => {
    fc.assert(
      fc.property(arbitraryInput, (a) => {
        const i = toInput(a);
        const action = decideNext(i);
        if (action.kind === 'extend') {
          assert.ok(action.requiredMs > i.window.requiredMs);
          assert.ok(action.requiredMs <= i.window.maxMs);
          assert.ok(action.requiredMs - i.window.requiredMs <= i.policy.intervalMs);
        }
      }),
    );
  });
  it('only a workflow that may continue as new is told to', () => {
    fc.assert(
      fc.property(arbitraryInput, (a) => {
        const action = decideNext(toInput({ ...a, mayContinueAsNew: false }));
        assert.notEqual(action.kind, 'continue-as-new');
      }),
    );
  });
});

/**
 * The loop's side, without Temporal: a simulated clock, a poll that answers from a script, and the
 * actions carried out as watch-window.ts does. Checks that decisions compose into whole windows.
 */
function simulate(
  policy: WatchPolicy,
  results: (pollIndex: number) => VerdictResult,
  requiredMs: number,
  maxMs: number,
) {
  let now = 0;
  let nextPollAt = policy.intervalMs;
  let step: WatchStep = 'top';
  const window = { elapsedMs: 0, requiredMs, maxMs, polls: 0, holdingForInconclusive: false };
  const control = { abortRequested: false, promoteRequested: false, paused: false };
  let lastVerdict: Verdict | null = null;
  const log: string[] = [];
  for (let i = 0; i < 100_000; i++) {
    const action = decideNext({
      step,
      window,
      lastVerdict,
      control,
      policy,
      gates: gates().gates,
      nowMs: now,
      nextPollAtMs: nextPollAt,
      continueAsNewSuggested: false,
    });
    switch (action.kind) {
      case 'wait':
        now += action.ms;
        window.elapsedMs += action.ms;
        step = 'woke';
        break;
      case 'poll':
        lastVerdict = verdict(results(window.polls));
        window.polls++;
        nextPollAt = now + policy.intervalMs;
        step = 'polled';
        break;
      case 'extend':
        window.requiredMs = action.requiredMs;
        log.push(`extend ${action.requiredMs}`);
        step = 'top';
        break;
      case 'hold':
        control.paused = true;
        window.holdingForInconclusive = true;
        return { end: 'hold', now, polls: window.polls, log };
      default:
        return { end: action.kind, now, polls: window.polls, log };
    }
  }
  throw new Error('the window never ended');
}

describe('decideNext: whole windows', () => {
  it('a healthy 60 s window polls six times and passes at 60 s', () => {
    const run = simulate(POLICY, () => 'pass', 60_000, 60_000);
    assert.deepEqual(run, { end: 'advance', now: 60_000, polls: 6, log: [] });
  });
  it('a canary that fails on the third poll is rolled back at 30 s', () => {
    const run = simulate(POLICY, (n) => (n === 2 ? 'fail' : 'pass'), 60_000, 60_000);
    assert.equal(run.end, 'rollback');
    assert.equal(run.now, 30_000);
  });
  it('an inconclusive window extends poll by poll to maxWindow, then holds', () => {
    const run = simulate(POLICY, () => 'inconclusive', 60_000, 90_000);
    assert.deepEqual(run.log, ['extend 70000', 'extend 80000', 'extend 90000']);
    assert.equal(run.end, 'hold');
    assert.equal(run.now, 90_000);
  });
  it('an inconclusive window that turns conclusive in its extension passes', () => {
    const run = simulate(POLICY, (n) => (n < 7 ? 'inconclusive' : 'pass'), 60_000, 120_000);
    assert.equal(run.end, 'advance');
    assert.equal(run.polls, 8);
  });
  it('a day-long window at 10 s polls polls 8,640 times', () => {
    const run = simulate(POLICY, () => 'pass', 86_400_000, 86_400_000);
    assert.equal(run.polls, 8_640);
    assert.equal(run.end, 'advance');
  });
});
