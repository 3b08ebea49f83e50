import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { FLEET_FREEZE_WORKFLOW_ID, type FleetFreezeStatus } from '../../src/schedule/fleet-freeze';
import { lastJsonLine, runCli } from '../helpers/cli';
import { eventually } from '../helpers/eventually';
import { createTemporalEnv } from '../helpers/temporal';
import { uniqueTaskQueue } from '../helpers/worker';
import { canaryRollout, finishSignal, scheduleChangesQuery } from './freeze-cli-workflows';

/*
 * `rollout freeze`, `unfreeze` and `freeze-status` as a user runs them, against a real dev server
 * (the visibility list that finds running rollouts needs one), with a worker for the freeze
 * workflow and a stand-in running rollout.
 */

const noop = () => undefined;
const quiet = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };

interface FreezeOut {
  frozen: boolean;
  until: string;
  reason: string;
  by: string | null;
  notified: string[];
}

describe('rollout freeze / unfreeze / freeze-status against a real dev server', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let cliEnv: NodeJS.ProcessEnv;
  const rolloutId = `rollout-freeze-cli-${process.pid}`;
  const endedId = `rollout-freeze-cli-ended-${process.pid}`;

  before(async () => {
    const [created, workflowBundle] = await Promise.all([
      createTemporalEnv(),
      bundleWorkflowCode({ workflowsPath: require.resolve('./freeze-cli-workflows'), logger: quiet }),
    ]);
    env = created;
    const taskQueue = uniqueTaskQueue('freeze-cli');
    worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      workflowBundle,
    });
    running = worker.run();
    cliEnv = { TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: 'default', ROLLOUT_TASK_QUEUE: taskQueue };
    await env.client.workflow.start(canaryRollout, { workflowId: rolloutId, taskQueue });
    // One that has ended must not be signalled (and must not make the command fail).
    const ended = await env.client.workflow.start(canaryRollout, { workflowId: endedId, taskQueue });
    await ended.signal(finishSignal);
    await ended.result();
    // The CLI finds rollouts through visibility, which lags a start a little.
    await eventually(
      async () => {
        const ids: string[] = [];
        for await (const w of env.client.workflow.list({ query: `ExecutionStatus = 'Running'` }))
          ids.push(w.workflowId);
        return ids.includes(rolloutId);
      },
      20_000,
      'the rollout to be listed',
    );
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
  });

  const changesSeen = () => env.client.workflow.getHandle(rolloutId).query(scheduleChangesQuery);
  async function signalNames(workflowId: string): Promise<string[]> {
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    return (history.events ?? []).flatMap(
      (e) => e.workflowExecutionSignaledEventAttributes?.signalName ?? [],
    );
  }

  it('freeze-status says not frozen before anyone froze', async () => {
    const human = await runCli(['freeze-status'], cliEnv);
    assert.equal(human.code, 0, human.stderr);
    assert.equal(human.stdout.trim(), 'not frozen');
    const json = await runCli(['freeze-status', '--json'], cliEnv);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(lastJsonLine<FleetFreezeStatus>(json.stdout), {
      frozen: false,
      freeze: null,
      history: [],
    });
  });

  it('refuses a bad --until or --reason with exit 2, before touching Temporal', async () => {
    for (const [args, message] of [
      [
        ['--until', 'tomorrow', '--reason', 'x'],
        /"tomorrow" is neither a duration like 2h or 3d nor an ISO time/,
      ],
      [['--until', '2020-01-01T00:00:00Z', '--reason', 'x'], /has passed: a freeze must end in the future/],
      [['--until', '2030-01-01T00:00:00', '--reason', 'x'], /nor an ISO time with an offset/],
      [['--until', '2h', '--reason', '  '], /must be 1 to 200 characters/],
      [['--until', '2h'], /required option '--reason <text>' not specified/],
    ] as const) {
      const run = await runCli(['freeze', ...args], cliEnv);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
    }
    await assert.rejects(env.client.workflow.getHandle(FLEET_FREEZE_WORKFLOW_ID).describe(), /not found/i);
  });

  it('freeze starts the freeze, tells the running rollout, and freeze-status shows it', async () => {
    const before = Date.now();
    const run = await runCli(
      ['freeze', '--until', '2h', '--reason', 'incident 123', '--by', 'alice', '--json'],
      cliEnv,
    );
    assert.equal(run.code, 0, run.stderr);
    const out = lastJsonLine<FreezeOut>(run.stdout);
    assert.equal(out.frozen, true);
    assert.equal(out.reason, 'incident 123');
    assert.equal(out.by, 'alice');
    const untilMs = Date.parse(out.until);
    assert.ok(untilMs >= before + 2 * 3_600_000 && untilMs <= Date.now() + 2 * 3_600_000, out.until);
    assert.deepEqual(out.notified, [rolloutId]);
    await eventually(async () => (await changesSeen()) === 1, 10_000, 'one schedule-changed');
    assert.deepEqual(await signalNames(rolloutId), ['schedule-changed']);
    assert.deepEqual(await signalNames(endedId), ['finish']);

    const status = await runCli(['freeze-status', '--json'], cliEnv);
    assert.equal(status.code, 0, status.stderr);
    const read = lastJsonLine<FleetFreezeStatus & { frozen: boolean }>(status.stdout);
    assert.equal(read.frozen, true);
    assert.equal(read.freeze?.until, out.until);
    assert.equal(read.freeze?.reason, 'incident 123');
    assert.equal(read.freeze?.by, 'alice');
    assert.deepEqual(
      read.history.map((e) => [e.kind, e.reason]),
      [['freeze', 'incident 123']],
    );
    const human = await runCli(['freeze-status'], cliEnv);
    assert.equal(
      human.stdout.trim(),
      `frozen until ${out.until} (incident 123), since ${read.freeze?.since} by alice`,
    );
  });

  it('unfreeze lifts it, tells the rollout again, and freeze-status says not frozen', async () => {
    const run = await runCli(['unfreeze', '--reason', 'all clear', '--json'], cliEnv);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(lastJsonLine(run.stdout), { frozen: false, wasRunning: true, notified: [rolloutId] });
    await eventually(async () => (await changesSeen()) === 2, 10_000, 'a second schedule-changed');
    const status = await runCli(['freeze-status', '--json'], cliEnv);
    const read = lastJsonLine<FleetFreezeStatus & { frozen: boolean }>(status.stdout);
    assert.equal(read.frozen, false);
    assert.equal(read.freeze, null);
    assert.deepEqual(
      read.history.map((e) => [e.kind, e.reason]),
      [
        ['freeze', 'incident 123'],
        ['unfreeze', 'all clear'],
      ],
    );
    const human = await runCli(['unfreeze'], cliEnv);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^fleet unfrozen; told 1 running rollout$/m);
  });
});
