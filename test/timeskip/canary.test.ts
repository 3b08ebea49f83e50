import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { abortSignal, pauseSignal, resumeSignal } from '../../src/workflows/control';
import type { Verdict } from '../../src/analysis/types';
import { MAX_SERIES_POINTS } from '../../src/workflows/series';
import type { RolloutState } from '../../src/workflows/state';
import { goesBad } from '../helpers/activity-doubles';
import {
  DAY,
  HOUR,
  decisionsOf,
  explain,
  fakeWorld,
  longCanarySpec,
  msBetween,
  queryState,
  report,
  runRollout,
  timeSkippingSuite,
} from '../helpers/time-skipping';

/*
 * Canary rollouts with day-long windows on the time-skipping server. Each test asserts what the
 * workflow decided (state.decisions), what it left on the router double, and how much simulated
 * time the decisions took; wall time is only printed.
 */

const suite = timeSkippingSuite();

/** Three monitored stages of a day each, then 100%. */
const threeDayStages = [
  { weight: 10, window: '1d' },
  { weight: 25, window: '1d' },
  { weight: 50, window: '1d' },
  100,
];

describe('canary on the time-skipping server', () => {
  test('three day-long stages and a 2-day stabilization delay promote the canary', async () => {
    const spec = longCanarySpec({ service: 'checkout-promote', stages: threeDayStages });
    const world = fakeWorld(suite.env, { requestsPerSecond: 1 });
    const seen: RolloutState[] = [];
    const run = await runRollout(suite.env, { strategy: 'canary', value: spec }, world, async (handle) => {
      // A day and a half in: stage 2 (25%) is half through its window.
      await suite.env.sleep(36 * HOUR);
      seen.push(await queryState(handle));
    });
    report('canary promotes', run);
    const { state } = run.result;

    assert.equal(run.result.outcome, 'promoted', explain(state));
    assert.deepEqual(
      decisionsOf(state, 'set-weight').map((d) => d.weight),
      [10, 25, 50, 100],
    );
    const advances = decisionsOf(state, 'advance');
    assert.equal(advances.length, 3, explain(state));
    decisionsOf(state, 'set-weight')
      .slice(0, 3)
      .forEach((set, i) => {
        const advance = advances[i]!;
        // Each stage held its full day, and not much more: one poll at most.
        assert.ok(msBetween(set, advance) >= DAY, `stage ${i + 1}: ${msBetween(set, advance)} ms`);
        assert.ok(msBetween(set, advance) < DAY + HOUR, `stage ${i + 1}: ${msBetween(set, advance)} ms`);
        assert.equal((advance.evidence as Verdict).result, 'pass');
      });

    const [mid] = seen;
    assert.ok(mid, 'queried midway');
    assert.equal(mid.phase, 'monitoring');
    assert.equal(mid.stageIndex, 1);
    assert.ok(mid.window, 'a window is open');
    assert.equal(mid.window.requiredMs, DAY);
    // 12 h into stage 2; elapsed counts up at each hourly poll.
    assert.ok(
      mid.window.elapsedMs >= 11 * HOUR && mid.window.elapsedMs <= 12 * HOUR,
      `${mid.window.elapsedMs}`,
    );

    // The old version stays up for the stabilization delay, then is retired.
    const [promote] = decisionsOf(state, 'promote');
    const [retire] = decisionsOf(state, 'retire');
    assert.ok(promote && retire, explain(state));
    assert.ok(msBetween(promote, retire) >= 2 * DAY && msBetween(promote, retire) < 2 * DAY + HOUR);
    assert.deepEqual(
      world.callsOf('retireVersion').map((c) => c.detail),
      ['v1 on stable'],
    );

    assert.deepEqual(world.router.trafficHistory(), [
      { v1: 100 },
      { v1: 90, v2: 10 },
      { v1: 75, v2: 25 },
      { v1: 50, v2: 50 },
      { v2: 100 },
      { v2: 100 },
    ]);
    assert.equal(world.router.current.stable?.version, 'v2');
    assert.deepEqual(world.router.current.weights, { stable: 100, canary: 0 });

    // 3 days of stages and 2 of stabilization.
    assert.ok(run.simulatedMs >= 5 * DAY && run.simulatedMs < 5 * DAY + 2 * HOUR, `${run.simulatedMs}`);
  });

  test('a canary that goes bad on day 2 is rolled back, with the failing verdict as evidence', async () => {
    const spec = longCanarySpec({ service: 'checkout-bad', stages: threeDayStages });
    // 36 h in, halfway through stage 2, one request in 20 starts failing.
    const world = fakeWorld(suite.env, {
      requestsPerSecond: 1,
      behaviour: goesBad('v2', 36 * HOUR, { errorRate: 0.05 }),
    });
    const run = await runRollout(suite.env, { strategy: 'canary', value: spec }, world);
    report('canary goes bad', run);
    const { state } = run.result;

    assert.equal(run.result.outcome, 'rolled_back', explain(state));
    assert.equal(world.router.current.weights.canary, 0);
    assert.deepEqual(world.router.traffic(), { v1: 100 });
    assert.deepEqual(
      decisionsOf(state, 'set-weight').map((d) => d.weight),
      [10, 25, 0],
    );
    assert.equal(decisionsOf(state, 'advance').length, 1, 'stage 1 passed, stage 2 did not');

    const failed = decisionsOf(state, 'rollback').find((d) => d.evidence !== undefined);
    assert.ok(failed, explain(state));
    assert.equal(failed.stage, 1);
    assert.equal(failed.weight, 25);
    const verdict = failed.evidence as Verdict;
    assert.equal(verdict.result, 'fail');
    const errorRate = verdict.checks.find((c) => c.name === 'error-rate');
    assert.equal(errorRate?.passed, false, JSON.stringify(verdict.checks));
    assert.ok(verdict.canary.errors > verdict.baseline.errors);

    // Caught within two hourly polls of going bad, not at the end of the day-long window.
    const sinceBad = msBetween(state.startedAt, failed) - 36 * HOUR;
    assert.ok(sinceBad >= 0 && sinceBad <= 2 * HOUR, `${sinceBad} ms after going bad`);
    assert.deepEqual(
      world.callsOf('retireVersion').map((c) => c.detail),
      ['v2 on canary'],
    );
    assert.ok(run.simulatedMs >= 36 * HOUR && run.simulatedMs < 39 * HOUR, `${run.simulatedMs}`);
  });

  test('a day paused mid-window does not count towards the window', async () => {
    const spec = longCanarySpec({
      service: 'checkout-pause',
      stages: [{ weight: 10, window: '1d' }, 100],
      promotion: { stabilizationDelay: '1h' },
    });
    const world = fakeWorld(suite.env, { requestsPerSecond: 1 });
    const seen: RolloutState[] = [];
    const run = await runRollout(suite.env, { strategy: 'canary', value: spec }, world, async (handle) => {
      await suite.env.sleep(6 * HOUR);
      await handle.signal(pauseSignal, { reason: 'a day off' });
      await suite.env.sleep(DAY);
      seen.push(await queryState(handle));
      await handle.signal(resumeSignal, {});
      await suite.env.sleep(HOUR);
      seen.push(await queryState(handle));
    });
    report('canary paused for a day', run);
    const { state } = run.result;
    const [paused, resumed] = seen;
    assert.ok(paused && resumed);

    assert.equal(paused.paused, true);
    assert.ok(paused.window, 'the window stays open while paused');
    assert.equal(paused.window.holdingForInconclusive, false);
    // Paused after 6 h: the day since has not counted.
    assert.ok(
      paused.window.elapsedMs >= 5 * HOUR && paused.window.elapsedMs <= 6 * HOUR,
      `${paused.window.elapsedMs}`,
    );
    assert.ok(paused.window.polls >= 29, `still polling while paused: ${paused.window.polls} polls`);
    assert.equal(resumed.paused, false);
    assert.ok(
      resumed.window !== null && resumed.window.elapsedMs >= 6 * HOUR && resumed.window.elapsedMs <= 7 * HOUR,
      `${resumed.window?.elapsedMs}`,
    );

    assert.equal(run.result.outcome, 'promoted', explain(state));
    const [set] = decisionsOf(state, 'set-weight');
    const [advance] = decisionsOf(state, 'advance');
    assert.ok(set && advance);
    // The 1-day window took 2 days: one monitored, one paused.
    assert.ok(msBetween(set, advance) >= 2 * DAY && msBetween(set, advance) < 2 * DAY + 2 * HOUR);
    assert.deepEqual(
      state.decisions.map((d) => d.kind).filter((k) => k === 'pause' || k === 'resume' || k === 'advance'),
      ['pause', 'resume', 'advance'],
    );
  });

  test('an abort during a 2-day stabilization delay switches back to the old version', async () => {
    const spec = longCanarySpec({ service: 'checkout-abort', stages: [{ weight: 50, window: '6h' }, 100] });
    const world = fakeWorld(suite.env, { requestsPerSecond: 1 });
    const seen: RolloutState[] = [];
    const run = await runRollout(suite.env, { strategy: 'canary', value: spec }, world, async (handle) => {
      // 6 h of stage, then promotion: a day in, the stabilization delay has a day left.
      await suite.env.sleep(DAY);
      seen.push(await queryState(handle));
      await handle.signal(abortSignal, { reason: 'v2 breaks the nightly batch' });
    });
    report('abort while stabilizing', run);
    const { state } = run.result;

    assert.equal(seen[0]?.phase, 'stabilizing');
    assert.deepEqual(seen[0].weights, { stable: 0, canary: 100 });
    assert.equal(run.result.outcome, 'aborted', explain(state));
    assert.equal(state.abortReason, 'v2 breaks the nightly batch');
    // v1 was never retired: it takes all traffic back at once.
    assert.deepEqual(world.router.trafficHistory(), [
      { v1: 100 },
      { v1: 50, v2: 50 },
      { v2: 100 },
      { v2: 100 },
      { v1: 100 },
    ]);
    assert.equal(world.router.current.stable?.version, 'v1');
    assert.deepEqual(
      world.callsOf('retireVersion').map((c) => c.detail),
      ['v2 on canary'],
    );
    const [promote] = decisionsOf(state, 'promote');
    const [abort] = decisionsOf(state, 'abort');
    assert.ok(promote && abort, explain(state));
    assert.ok(msBetween(promote, abort) >= 17 * HOUR && msBetween(promote, abort) < 2 * DAY);
    assert.ok(run.simulatedMs >= DAY && run.simulatedMs < DAY + HOUR, `${run.simulatedMs}`);
  });

  describe('too few canary requests: extended up to maxWindow, then onInconclusive', () => {
    // 0.01 requests/s with 10% on the canary: about 4 canary requests an hour, never the 1000 needed.
    const inconclusive = (service: string, onInconclusive: 'pause' | 'rollback') =>
      longCanarySpec({
        service,
        stages: [{ weight: 10, window: '6h' }, 100],
        monitoring: {
          window: '6h',
          interval: '1h',
          maxWindow: '12h',
          minCanaryRequests: 1000,
          onInconclusive,
        },
        promotion: { stabilizationDelay: '1h' },
      });

    test("'pause' holds at maxWindow, keeps polling, and a resume an hour later advances", async () => {
      const spec = inconclusive('checkout-hold', 'pause');
      const world = fakeWorld(suite.env, { requestsPerSecond: 0.01 });
      const seen: RolloutState[] = [];
      const run = await runRollout(suite.env, { strategy: 'canary', value: spec }, world, async (handle) => {
        await suite.env.sleep(13 * HOUR);
        seen.push(await queryState(handle));
        await suite.env.sleep(HOUR);
        seen.push(await queryState(handle));
        await handle.signal(resumeSignal, {});
      });
      report('inconclusive, held, resumed', run);
      const { state } = run.result;
      const [held, later] = seen;
      assert.ok(held?.window && later?.window, 'a window was open while held');

      assert.equal(held.paused, true);
      assert.equal(held.window.holdingForInconclusive, true);
      assert.equal(held.window.requiredMs, 12 * HOUR);
      assert.equal(held.window.maxMs, 12 * HOUR);
      assert.match(held.pauseReason ?? '', /inconclusive/);
      assert.equal(held.decisions.at(-1)?.kind, 'hold', explain(held));
      // Held, but still guarding: the hourly polls go on.
      assert.equal(later.paused, true);
      assert.ok(later.window.polls > held.window.polls, `${held.window.polls} → ${later.window.polls} polls`);

      assert.equal(run.result.outcome, 'promoted', explain(state));
      const extends_ = decisionsOf(state, 'extend');
      assert.equal(extends_.length, 6, 'extended hour by hour from 6 h to 12 h');
      const [set] = decisionsOf(state, 'set-weight');
      const [hold] = decisionsOf(state, 'hold');
      const [resume] = decisionsOf(state, 'resume');
      assert.ok(set && hold && resume, explain(state));
      assert.equal((hold.evidence as Verdict).result, 'inconclusive');
      assert.ok(
        msBetween(set, hold) >= 12 * HOUR && msBetween(set, hold) < 13 * HOUR,
        `${msBetween(set, hold)}`,
      );
      assert.ok(msBetween(hold, resume) >= HOUR, `${msBetween(hold, resume)}`);
      const advance = decisionsOf(state, 'advance')[0];
      assert.match(advance?.reason ?? '', /operator resumed after inconclusive analysis/);
      assert.ok(advance && msBetween(resume, advance) < HOUR, 'the resume advanced at once');
      assert.deepEqual(world.router.traffic(), { v2: 100 });
    });

    test("'rollback' rolls back at maxWindow", async () => {
      const spec = inconclusive('checkout-inconclusive', 'rollback');
      const world = fakeWorld(suite.env, { requestsPerSecond: 0.01 });
      const run = await runRollout(suite.env, { strategy: 'canary', value: spec }, world);
      report('inconclusive, rolled back', run);
      const { state } = run.result;

      assert.equal(run.result.outcome, 'rolled_back', explain(state));
      assert.equal(decisionsOf(state, 'hold').length, 0);
      assert.equal(decisionsOf(state, 'extend').length, 6);
      const rollback = decisionsOf(state, 'rollback').find((d) => d.evidence !== undefined);
      assert.ok(rollback, explain(state));
      assert.match(rollback.reason, /still inconclusive after 43200s/);
      assert.equal((rollback.evidence as Verdict).result, 'inconclusive');
      const [set] = decisionsOf(state, 'set-weight');
      assert.ok(set && msBetween(set, rollback) >= 12 * HOUR && msBetween(set, rollback) < 13 * HOUR);
      assert.deepEqual(world.router.traffic(), { v1: 100 });
      assert.equal(world.router.current.weights.canary, 0);
    });
  });

  test('a 3-day bake polled every 6 minutes continues as new and resumes its window', async () => {
    // 720 polls: the server suggests continue-as-new near 4K history events, about 680 polls in.
    const spec = longCanarySpec({
      service: 'checkout-bake',
      stages: [{ weight: 10, window: '3d' }, 100],
      monitoring: { window: '3d', interval: '6m' },
      promotion: { stabilizationDelay: '1h' },
    });
    const world = fakeWorld(suite.env, { requestsPerSecond: 1 });
    const run = await runRollout(suite.env, { strategy: 'canary', value: spec }, world);
    report('3-day bake across runs', run);
    const { state } = run.result;

    const { workflowId, firstExecutionRunId } = run.handle;
    const first = await suite.env.client.workflow.getHandle(workflowId, firstExecutionRunId).describe();
    const last = await suite.env.client.workflow.getHandle(workflowId).describe();
    assert.equal(first.status.name, 'CONTINUED_AS_NEW');
    assert.notEqual(last.runId, firstExecutionRunId);
    assert.equal(last.status.name, 'COMPLETED');

    assert.equal(run.result.outcome, 'promoted', explain(state));
    // The new run re-entered the open stage: no second weight change, and the window went on
    // from where it stopped rather than starting its 3 days again.
    assert.deepEqual(
      decisionsOf(state, 'set-weight').map((d) => d.weight),
      [10, 100],
    );
    assert.deepEqual(world.router.trafficHistory(), [
      { v1: 100 },
      { v1: 90, v2: 10 },
      { v2: 100 },
      { v2: 100 },
    ]);
    const [set] = decisionsOf(state, 'set-weight');
    const [advance] = decisionsOf(state, 'advance');
    assert.ok(set && advance, explain(state));
    assert.ok(msBetween(set, advance) >= 3 * DAY && msBetween(set, advance) < 3 * DAY + HOUR);
    // Every poll, in both runs, read the same window: metrics since the stage's first second.
    const reads = world.callsOf('readMetrics').filter((c) => c.window?.untilMs === undefined);
    assert.ok(reads.length >= 700, `${reads.length} polls`);
    assert.deepEqual([...new Set(reads.map((c) => c.window?.sinceMs))].length, 1);
    // The verdicts and the analysis evidence were carried into the new run.
    assert.equal(state.verdictCount, reads.length);
    assert.equal(
      world.callsOf('readMetrics').length - reads.length,
      1,
      'one latency reference, before the stage',
    );
    // The plotted series crossed into the new run, bounded, and still holds every poll once.
    const series = state.series ?? [];
    assert.ok(series.length > 0 && series.length <= MAX_SERIES_POINTS, `${series.length} points`);
    assert.equal(
      series.reduce((polls, point) => polls + point.polls, 0),
      state.verdictCount,
    );
    assert.ok(series[0]!.at - Date.parse(set.at) < HOUR, "it begins with the first run's polls");
    assert.equal(series.at(-1)!.canary.requests, state.lastVerdict?.canary.requests);
  });
});
