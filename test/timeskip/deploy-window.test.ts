import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import { FLEET_FREEZE_WORKFLOW_ID } from '../../src/schedule/fleet-freeze';
import { abortSignal } from '../../src/workflows/control';
import {
  fleetFreeze,
  freezeSignal,
  scheduleChangedSignal,
  unfreezeSignal,
} from '../../src/workflows/fleet-freeze';
import type { RolloutState } from '../../src/workflows/state';
import { goesBad } from '../helpers/activity-doubles';
import {
  DAY,
  HOUR,
  decisionsOf,
  explain,
  fakeWorld,
  longBlueGreenSpec,
  longCanarySpec,
  msBetween,
  queryState,
  report,
  runRollout,
  timeSkippingSuite,
} from '../helpers/time-skipping';

/*
 * Deploy windows and freezes on the time-skipping server: multi-day waits run in seconds. Each test
 * asserts when (in simulated time) the rollout did what, what it left on the router double, and
 * that nothing ever waited before a rollback or an abort.
 */

const suite = timeSkippingSuite();

const WEEKDAY = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
const iso = (ms: number) => new Date(ms).toISOString();

/** Three day-long stages (10, 25, 50%), then 100%, with hourly polls. */
const dayStages = [
  { weight: 10, window: '1d' },
  { weight: 25, window: '1d' },
  { weight: 50, window: '1d' },
  100,
];

/** Simulated ms from the rollout's start to a decision. */
const sinceStart = (state: RolloutState, at: string) => msBetween(state.startedAt, at);

describe('deploy windows and freezes on the time-skipping server', () => {
  test('outside its deploy window a rollout waits (state says when it opens), then runs inside it', async () => {
    const now = await suite.env.currentTimeMs();
    // A 12-hour window starting on the hour, 30+ hours from now, on that weekday only.
    const opensAt = Math.ceil((now + 30 * HOUR) / HOUR) * HOUR;
    const day = WEEKDAY[new Date(opensAt).getUTCDay()]!;
    const spec = longCanarySpec({
      service: 'checkout-window',
      stages: [{ weight: 10, window: '1h' }, { weight: 50, window: '1h' }, 100],
      monitoring: { window: '1h', interval: '10m' },
      promotion: { stabilizationDelay: '1h' },
      schedule: {
        timezone: 'UTC',
        windows: [{ days: [day], from: hhmm(opensAt), to: hhmm(opensAt + 12 * HOUR) }],
      },
    });
    const world = fakeWorld(suite.env, { requestsPerSecond: 5 });
    let waiting: RolloutState | undefined;
    let routerWhileWaiting: unknown[] = [];
    const run = await runRollout(suite.env, { strategy: 'canary', value: spec }, world, async (handle) => {
      await suite.env.sleep(10 * HOUR);
      waiting = await queryState(handle);
      routerWhileWaiting = world.router.trafficHistory();
    });
    report('deploy window', run);
    const { state } = run.result;
    assert.equal(run.result.outcome, 'promoted', explain(state));

    const label = `waiting for deploy window (opens ${day[0]!.toUpperCase()}${day.slice(1)} ${hhmm(opensAt)} UTC)`;
    assert.ok(waiting, 'queried while waiting');
    assert.equal(waiting.phase, 'waiting-for-window');
    assert.equal(waiting.gate?.label, label);
    assert.equal(waiting.gate?.opensAt, iso(opensAt));
    assert.equal(waiting.gate?.before, 'the first traffic');
    assert.ok(waiting.details.includes(label), waiting.details);
    // Nothing was deployed or moved while waiting.
    assert.equal(decisionsOf(waiting, 'deploy').length, 0, explain(waiting));
    assert.deepEqual(routerWhileWaiting, [], 'the router was not touched while waiting');

    // The first change of any kind came at the window's opening, not before.
    const firstCall = world.calls.find((c) => c.name !== 'readFleetFreeze');
    assert.ok(firstCall, 'the rollout did something');
    assert.ok(firstCall.atMs >= opensAt, `${iso(firstCall.atMs)} < ${iso(opensAt)}`);
    assert.ok(firstCall.atMs < opensAt + 5 * 60_000, `${iso(firstCall.atMs)}`);
    const [waited, opened] = decisionsOf(state, 'schedule');
    assert.ok(waited && opened, explain(state));
    assert.match(waited.reason, /^waiting for deploy window \(opens /);
    assert.match(opened.reason, /^deploy window open: going on with the first traffic/);
    assert.deepEqual(
      decisionsOf(state, 'set-weight').map((d) => d.weight),
      [10, 50, 100],
    );
    assert.equal(state.gate, null);
  });

  test('a freeze between stages holds the advance and keeps judging the canary; it goes on at the end', async () => {
    const now = await suite.env.currentTimeMs();
    // Stage 3 would start 2 days in: frozen from 1.5 to 3 days in.
    const freeze = { from: iso(now + 1.5 * DAY), until: iso(now + 3 * DAY), reason: 'year-end' };
    const spec = longCanarySpec({
      service: 'checkout-freeze',
      stages: dayStages,
      schedule: { timezone: 'UTC', freezes: [freeze] },
    });
    const world = fakeWorld(suite.env, { requestsPerSecond: 1 });
    const run = await runRollout(suite.env, { strategy: 'canary', value: spec }, world);
    report('freeze between stages', run);
    const { state } = run.result;
    assert.equal(run.result.outcome, 'promoted', explain(state));

    const weights = decisionsOf(state, 'set-weight');
    assert.deepEqual(
      weights.map((d) => d.weight),
      [10, 25, 50, 100],
    );
    const fifty = weights[2]!;
    // Stage 3 waited for the freeze to end (3 days in), and not a watch chunk more.
    assert.ok(Date.parse(fifty.at) >= Date.parse(freeze.until), `${fifty.at} < ${freeze.until}`);
    assert.ok(Date.parse(fifty.at) < Date.parse(freeze.until) + HOUR, fifty.at);
    const [waited] = decisionsOf(state, 'schedule');
    assert.ok(waited, explain(state));
    assert.match(waited.reason, /^waiting: freeze "year-end" until .*; before stage 3 \(50%\)$/);
    // While frozen at 25% the canary was still judged, hour by hour.
    const gateStart = Date.parse(waited.at);
    const polledWhileFrozen = world
      .callsOf('readMetrics')
      .filter((c) => c.atMs > gateStart && c.atMs < Date.parse(freeze.until));
    assert.ok(polledWhileFrozen.length >= 20, `${polledWhileFrozen.length} polls while frozen`);
    assert.deepEqual(world.router.trafficHistory(), [
      { v1: 100 },
      { v1: 90, v2: 10 },
      { v1: 75, v2: 25 },
      { v1: 50, v2: 50 },
      { v2: 100 },
      { v2: 100 },
    ]);
  });

  test('a canary that goes bad during a freeze is rolled back at once, without waiting for the freeze', async () => {
    const now = await suite.env.currentTimeMs();
    const freeze = { from: iso(now + 1.5 * DAY), until: iso(now + 4 * DAY), reason: 'incident 42' };
    const spec = longCanarySpec({
      service: 'checkout-freeze-bad',
      stages: dayStages,
      schedule: { timezone: 'UTC', freezes: [freeze] },
    });
    // 2.25 days in: the gate holds stage 3 back, v2 is at 25%, and starts failing one in ten.
    const world = fakeWorld(suite.env, {
      requestsPerSecond: 1,
      behaviour: goesBad('v2', 2.25 * DAY, { errorRate: 0.1 }),
    });
    const run = await runRollout(suite.env, { strategy: 'canary', value: spec }, world);
    report('rollback during a freeze', run);
    const { state } = run.result;
    assert.equal(run.result.outcome, 'rolled_back', explain(state));
    const [rollback] = decisionsOf(state, 'rollback');
    assert.ok(rollback, explain(state));
    const rolledBackAt = sinceStart(state, rollback.at);
    assert.ok(rolledBackAt > 2.25 * DAY && rolledBackAt < 2.25 * DAY + 3 * HOUR, `${rolledBackAt / HOUR} h`);
    assert.ok(Date.parse(rollback.at) < Date.parse(freeze.until), 'rolled back inside the freeze');
    assert.deepEqual(world.router.traffic(), { v1: 100 });
    assert.deepEqual(
      decisionsOf(state, 'set-weight').map((d) => d.weight),
      [10, 25, 0],
    );
    assert.equal(state.gate, null);
  });

  test('an abort while waiting for the first window ends the rollout at once, with nothing changed', async () => {
    const now = await suite.env.currentTimeMs();
    const opensAt = Math.ceil((now + 3 * DAY) / HOUR) * HOUR;
    const spec = longCanarySpec({
      service: 'checkout-window-abort',
      schedule: {
        timezone: 'Europe/Berlin',
        freezes: [{ from: iso(now - HOUR), until: iso(opensAt), reason: 'release freeze' }],
      },
    });
    const world = fakeWorld(suite.env, { requestsPerSecond: 1 });
    const run = await runRollout(suite.env, { strategy: 'canary', value: spec }, world, async (handle) => {
      await suite.env.sleep(5 * HOUR);
      await handle.signal(abortSignal, { reason: 'not this week' });
    });
    const { state } = run.result;
    assert.equal(run.result.outcome, 'aborted', explain(state));
    assert.ok(run.simulatedMs >= 5 * HOUR && run.simulatedMs < 5 * HOUR + 60_000, `${run.simulatedMs}`);
    assert.deepEqual(
      world.calls.filter((c) => c.name !== 'readFleetFreeze').map((c) => c.name),
      [],
      'no deploy, no traffic change',
    );
    assert.deepEqual(world.router.trafficHistory(), [], 'the router was never touched');
    assert.deepEqual(world.router.traffic(), { v1: 100 });
    const [waited] = decisionsOf(state, 'schedule');
    assert.match(waited?.reason ?? '', /^waiting: freeze "release freeze" until .* Europe\/Berlin/);
  });

  test('a fleet-wide freeze holds a rollout until rollout unfreeze wakes it', async () => {
    const now = await suite.env.currentTimeMs();
    const spec = longCanarySpec({
      service: 'checkout-fleet',
      stages: [{ weight: 10, window: '1h' }, 100],
      monitoring: { window: '1h', interval: '10m' },
      promotion: { stabilizationDelay: '1h' },
    });
    const world = fakeWorld(suite.env, { requestsPerSecond: 5 });
    const unfreezeAt = 26.5 * HOUR;
    const run = await runRollout(
      suite.env,
      { strategy: 'canary', value: spec },
      world,
      async (handle) => {
        await suite.env.sleep(unfreezeAt);
        const waiting = await queryState(handle);
        assert.equal(waiting.phase, 'waiting-for-window');
        assert.equal(waiting.gate?.reason, 'fleet-freeze');
        assert.match(waiting.gate?.label ?? '', /fleet freeze until .*\(change freeze\)/);
        // What `rollout unfreeze` does: lift the freeze, then wake the waiting rollouts.
        await suite.env.client.workflow.getHandle(FLEET_FREEZE_WORKFLOW_ID).signal(unfreezeSignal, {});
        await handle.signal(scheduleChangedSignal);
      },
      {
        beforeStart: async (taskQueue) => {
          await suite.env.client.workflow.signalWithStart(fleetFreeze, {
            workflowId: FLEET_FREEZE_WORKFLOW_ID,
            taskQueue,
            args: [{}],
            signal: freezeSignal,
            signalArgs: [{ until: iso(now + 5 * DAY), reason: 'change freeze' }],
          });
        },
      },
    );
    try {
      const { state } = run.result;
      assert.equal(run.result.outcome, 'promoted', explain(state));
      const firstCall = world.calls.find((c) => c.name !== 'readFleetFreeze');
      assert.ok(firstCall);
      const startedAt = Date.parse(state.startedAt);
      // Woken by the signal, not by the hourly look.
      assert.ok(firstCall.atMs - startedAt >= unfreezeAt, `${(firstCall.atMs - startedAt) / HOUR} h`);
      assert.ok(
        firstCall.atMs - startedAt < unfreezeAt + 5 * 60_000,
        `${(firstCall.atMs - startedAt) / HOUR} h`,
      );
    } finally {
      // Once the rollout ends, the test server skips years ahead and may time the freeze out first.
      await suite.env.client.workflow
        .getHandle(FLEET_FREEZE_WORKFLOW_ID)
        .terminate('test over')
        .catch((err: unknown) => {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        });
    }
  });

  test('blue-green waits for the window before its switch, and an abort there goes back to blue at once', async () => {
    const now = await suite.env.currentTimeMs();
    const freeze = { from: iso(now + 30 * 60_000), until: iso(now + 3 * DAY), reason: 'weekend' };
    const spec = longBlueGreenSpec({
      service: 'checkout-bg-freeze',
      validation: { weight: 5, window: '1h' },
      monitoring: { window: '1h', interval: '10m' },
      schedule: { timezone: 'UTC', freezes: [freeze] },
    });
    const world = fakeWorld(suite.env, { requestsPerSecond: 5 });
    let waiting: RolloutState | undefined;
    const run = await runRollout(
      suite.env,
      { strategy: 'blue-green', value: spec },
      world,
      async (handle) => {
        await suite.env.sleep(DAY);
        waiting = await queryState(handle);
        await handle.signal(abortSignal, { reason: 'changed our mind' });
      },
    );
    const { state } = run.result;
    assert.equal(run.result.outcome, 'aborted', explain(state));
    assert.equal(waiting?.phase, 'waiting-for-window');
    assert.equal(waiting?.gate?.before, 'the switch');
    assert.equal(decisionsOf(state, 'promote').length, 0, 'never switched');
    assert.deepEqual(world.router.traffic(), { v1: 100 });
    assert.ok(run.simulatedMs < DAY + 5 * 60_000, `${run.simulatedMs / HOUR} h`);
  });
});
