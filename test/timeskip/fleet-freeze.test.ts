import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { type WorkflowHandle, WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { createFleetFreezeActivities } from '../../src/activities/fleet-freeze';
import { FLEET_FREEZE_WORKFLOW_ID, type FleetFreeze } from '../../src/schedule/fleet-freeze';
import {
  fleetFreeze,
  fleetFreezeQuery,
  fleetFreezeStatusQuery,
  freezeSignal,
  MAX_FREEZE_HISTORY,
  SIGNALS_BEFORE_CONTINUE_AS_NEW,
  unfreezeSignal,
} from '../../src/workflows/fleet-freeze';
import { eventually } from '../helpers/eventually';
import { createTimeSkippingEnv, DAY, HOUR } from '../helpers/time-skipping';
import type { readFleetFreezeProbe } from './fleet-freeze-probe';

/*
 * The fleet-wide freeze workflow on the time-skipping server, with a worker that runs the real
 * readFleetFreeze activity. One freeze workflow id for the whole namespace: each test ends it.
 */

const noop = () => undefined;
const quiet = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };

const TASK_QUEUE = `fleet-freeze-${process.pid}`;
let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;

before(async () => {
  const [created, workflowBundle] = await Promise.all([
    createTimeSkippingEnv(),
    bundleWorkflowCode({ workflowsPath: require.resolve('./fleet-freeze-probe'), logger: quiet }),
  ]);
  env = created;
  worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue: TASK_QUEUE,
    workflowBundle,
    activities: createFleetFreezeActivities(),
  });
  running = worker.run();
});
after(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

const freezeHandle = (): WorkflowHandle<typeof fleetFreeze> =>
  env.client.workflow.getHandle<typeof fleetFreeze>(FLEET_FREEZE_WORKFLOW_ID);

afterEach(async () => {
  await freezeHandle()
    .terminate('next test')
    .catch(() => undefined);
});

/** What `rollout freeze` sends, straight to the server (the test server has no visibility list). */
async function freeze(until: number, reason: string, by?: string): Promise<void> {
  await env.client.workflow.signalWithStart(fleetFreeze, {
    workflowId: FLEET_FREEZE_WORKFLOW_ID,
    taskQueue: TASK_QUEUE,
    args: [{}],
    signal: freezeSignal,
    signalArgs: [{ until: new Date(until).toISOString(), reason, ...(by ? { by } : {}) }],
  });
}

async function probe(): Promise<{ remote: FleetFreeze | null; local: FleetFreeze | null }> {
  return env.client.workflow.execute<typeof readFleetFreezeProbe>('readFleetFreezeProbe', {
    taskQueue: TASK_QUEUE,
    workflowId: `probe-${process.pid}-${Date.now()}-${Math.random()}`,
  });
}

// Far enough that no skipped timer reaches it during a test.
const YEARS = 3650 * DAY;

describe('the fleet freeze workflow on the time-skipping server', () => {
  test('a freeze reads back from the query, with who, why and since when', async () => {
    const now = await env.currentTimeMs();
    await freeze(now + YEARS, 'incident 123', 'alice');
    const read = await freezeHandle().query(fleetFreezeQuery);
    assert.ok(read, 'frozen');
    assert.equal(read.until, new Date(now + YEARS).toISOString());
    assert.equal(read.reason, 'incident 123');
    assert.equal(read.by, 'alice');
    assert.ok(
      Math.abs(Date.parse(read.since) - now) < HOUR,
      `${read.since} vs ${new Date(now).toISOString()}`,
    );
    const status = await freezeHandle().query(fleetFreezeStatusQuery);
    assert.deepEqual(status.freeze, read);
    assert.deepEqual(
      status.history.map((e) => [e.kind, e.reason, e.by, e.until]),
      [['freeze', 'incident 123', 'alice', read.until]],
    );
  });

  test('a freeze whose until has passed reads as none once time moves past it', async () => {
    const now = await env.currentTimeMs();
    await freeze(now + 2 * DAY, 'two days');
    assert.equal((await freezeHandle().query(fleetFreezeQuery))?.reason, 'two days');
    await env.sleep(DAY);
    assert.equal(
      (await freezeHandle().query(fleetFreezeQuery))?.reason,
      'two days',
      'still frozen after a day',
    );
    await env.sleep(DAY + HOUR);
    assert.equal(await freezeHandle().query(fleetFreezeQuery), null);
    const described = await freezeHandle().describe();
    assert.equal(described.status.name, 'RUNNING', 'the workflow stays, ready for the next freeze');
    assert.equal(
      await freezeHandle()
        .query(fleetFreezeStatusQuery)
        .then((s) => s.freeze),
      null,
    );
  });

  test('unfreeze clears the freeze at once and is kept in the history', async () => {
    const now = await env.currentTimeMs();
    await freeze(now + YEARS, 'release train');
    await freezeHandle().signal(unfreezeSignal, { reason: 'all clear', by: 'bob' });
    assert.equal(await freezeHandle().query(fleetFreezeQuery), null);
    const { history } = await freezeHandle().query(fleetFreezeStatusQuery);
    assert.deepEqual(
      history.map((e) => [e.kind, e.reason, e.by ?? null]),
      [
        ['freeze', 'release train', null],
        ['unfreeze', 'all clear', 'bob'],
      ],
    );
  });

  test('a malformed freeze signal is dropped, and the workflow keeps answering', async () => {
    const now = await env.currentTimeMs();
    await freeze(now + YEARS, 'good');
    await freezeHandle().signal(freezeSignal, { until: 'soon', reason: 'bad' });
    await freezeHandle().signal(freezeSignal, { until: new Date(now + YEARS).toISOString(), reason: '  ' });
    assert.equal((await freezeHandle().query(fleetFreezeQuery))?.reason, 'good');
  });

  test('after many signals it continues as new, keeping the freeze and the last events', async () => {
    const now = await env.currentTimeMs();
    const until = new Date(now + YEARS).toISOString();
    await freeze(now + YEARS, 'freeze 0');
    const first = await freezeHandle().describe();
    for (let sent = 1; sent <= SIGNALS_BEFORE_CONTINUE_AS_NEW; sent += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          freezeHandle().signal(freezeSignal, { until, reason: `freeze ${sent + j}` }),
        ),
      );
    }
    await freezeHandle().signal(freezeSignal, { until, reason: 'final', by: 'dave' });
    // Signals are accepted before the worker has run them: wait for the last one to be seen.
    const status = await eventually(
      async () => {
        const read = await freezeHandle().query(fleetFreezeStatusQuery);
        return read.freeze?.reason === 'final' && read;
      },
      20_000,
      'the final freeze',
    );
    const latest = await freezeHandle().describe();
    assert.notEqual(latest.runId, first.runId, 'a new run');
    assert.equal(latest.status.name, 'RUNNING');
    assert.equal(status.freeze?.until, until);
    assert.equal(status.freeze?.reason, 'final');
    assert.equal(status.history.length, MAX_FREEZE_HISTORY);
    assert.deepEqual(status.history.at(-1), {
      kind: 'freeze',
      at: status.freeze?.since,
      reason: 'final',
      by: 'dave',
      until,
    });
    // The run before ended by continuing as new, not by failing.
    const before = await env.client.workflow.getHandle(FLEET_FREEZE_WORKFLOW_ID, first.runId).describe();
    assert.equal(before.status.name, 'CONTINUED_AS_NEW');
  });

  test('readFleetFreeze: null before any freeze, the freeze after, null once the workflow has ended', async () => {
    assert.deepEqual(await probe(), { remote: null, local: null });
    const now = await env.currentTimeMs();
    await freeze(now + YEARS, 'incident 7', 'carol');
    const read = await probe();
    assert.equal(read.remote?.reason, 'incident 7');
    assert.equal(read.remote?.by, 'carol');
    assert.equal(read.remote?.until, new Date(now + YEARS).toISOString());
    assert.deepEqual(read.local, read.remote);
    // Seen once in many runs: the test server reported the run closed already ("Completed
    // workflow") when asked to terminate it. Either way it has ended, which is what is tested.
    await freezeHandle()
      .terminate('a freeze nobody can lift must not hold rollouts')
      .catch((err: unknown) => {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      });
    assert.notEqual((await freezeHandle().describe()).status.name, 'RUNNING');
    assert.deepEqual(await probe(), { remote: null, local: null });
  });
});
