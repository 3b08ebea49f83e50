import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  abortRollout,
  pauseRollout,
  promoteRollout,
  readState,
  resumeRollout,
  RolloutAlreadyRunningError,
  startCanary,
} from '../../src/client/rollouts';
import type { RolloutResult } from '../../src/workflows/state';
import { fastCanarySpec } from '../helpers/spec';
import { Stack } from '../helpers/stack';
import { createTemporalEnv } from '../helpers/temporal';
import { createWorker, uniqueTaskQueue } from '../helpers/worker';
import { eventually } from '../helpers/eventually';

describe('canary rollout control: pause, resume, abort, one at a time', () => {
  let env: TestWorkflowEnvironment;
  let stack: Stack;
  before(async () => {
    env = await createTemporalEnv();
    stack = await Stack.start();
    stack.startUsers(60, 300_000);
  });
  after(async () => {
    await stack?.close();
    await env?.teardown();
  });

  const monitoringAt = (service: string, weight: number) =>
    eventually(
      async () => {
        const state = await readState(env.client, service);
        return state.phase === 'monitoring' && state.weights.canary === weight && state;
      },
      30_000,
      `${service} monitoring at ${weight}%`,
    );

  it('pause holds the weight through a whole window, and resume continues to promotion', async () => {
    const taskQueue = uniqueTaskQueue('pause');
    const worker = await createWorker(env, taskQueue);
    const spec = fastCanarySpec(stack, { service: 'pause-resume' });
    const handle = await startCanary(env.client, spec, taskQueue);
    const result = await worker.runUntil(async () => {
      await monitoringAt('pause-resume', 20);
      await pauseRollout(env.client, 'pause-resume', 'checking dashboards');
      // Twice the 3 s window: an unpaused rollout would have advanced by now.
      await new Promise((r) => setTimeout(r, 6000));
      const held = await readState(env.client, 'pause-resume');
      assert.equal(held.paused, true);
      assert.equal(held.stageIndex, 0);
      assert.equal((await stack.split()).weights.canary, 20, 'router still at the first stage');
      assert.ok((held.window?.polls ?? 0) >= 4, 'polling and guarding went on while paused');
      await resumeRollout(env.client, 'pause-resume');
      return (await handle.result()) as RolloutResult;
    });
    assert.equal(result.outcome, 'promoted');
    const kinds = result.state.decisions.map((d) => d.kind);
    assert.ok(kinds.indexOf('pause') < kinds.indexOf('resume'));
    assert.equal(result.state.decisions.find((d) => d.kind === 'pause')?.reason, 'checking dashboards');
    assert.equal((await stack.split()).stable?.version, 'v2');
  });

  it('abort mid-window restores 100% stable and keeps the reason', async () => {
    await stack.resetToV1();
    const taskQueue = uniqueTaskQueue('abort');
    const worker = await createWorker(env, taskQueue);
    const spec = fastCanarySpec(stack, {
      service: 'abort-mid-window',
      monitoring: { window: '30s', interval: '1s', minCanaryRequests: 15 },
    });
    const handle = await startCanary(env.client, spec, taskQueue);
    const result = await worker.runUntil(async () => {
      await monitoringAt('abort-mid-window', 20);
      await abortRollout(env.client, 'abort-mid-window', 'customer complaints');
      return (await handle.result()) as RolloutResult;
    });
    assert.equal(result.outcome, 'aborted');
    assert.equal(result.state.abortReason, 'customer complaints');
    const split = await stack.split();
    assert.deepEqual(split.weights, { stable: 100, canary: 0 });
    assert.equal(split.stable?.version, 'v1');
  });

  it('honours a signal sent while no worker is running', async () => {
    await stack.resetToV1();
    const taskQueue = uniqueTaskQueue('no-worker');
    const spec = fastCanarySpec(stack, {
      service: 'no-worker',
      monitoring: { window: '60s', interval: '1s', minCanaryRequests: 15 },
    });
    const first = await createWorker(env, taskQueue);
    const firstRun = first.run();
    const handle = await startCanary(env.client, spec, taskQueue);
    await monitoringAt('no-worker', 20);
    first.shutdown();
    await firstRun;

    await abortRollout(env.client, 'no-worker', 'sent while the worker was down');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await stack.split()).weights.canary, 20, 'nothing acts on the signal without a worker');

    const second = await createWorker(env, taskQueue);
    const started = Date.now();
    const result = (await second.runUntil(handle.result())) as RolloutResult;
    assert.equal(result.outcome, 'aborted');
    assert.equal(result.state.abortReason, 'sent while the worker was down');
    assert.deepEqual((await stack.split()).weights, { stable: 100, canary: 0 });
    assert.ok(Date.now() - started < 20_000, 'rolled back soon after a worker came back');
  });

  it('promote ends the current stage at once, long before its window', async () => {
    await stack.resetToV1();
    const taskQueue = uniqueTaskQueue('promote');
    const worker = await createWorker(env, taskQueue);
    const spec = fastCanarySpec(stack, {
      service: 'promote-stage',
      monitoring: { window: '5m', interval: '1s', minCanaryRequests: 15 },
    });
    const handle = await startCanary(env.client, spec, taskQueue);
    await worker.runUntil(async () => {
      await monitoringAt('promote-stage', 20);
      const sent = Date.now();
      await promoteRollout(env.client, 'promote-stage');
      // Stage 2 of 3 at 50%: the 5 minute window of stage 1 was cut short by the operator.
      await eventually(async () => (await stack.split()).weights.canary === 50, 10_000, 'canary at 50%');
      assert.ok(Date.now() - sent < 10_000);
      const state = await readState(env.client, 'promote-stage');
      assert.equal(state.stageIndex, 1);
      assert.ok(state.decisions.some((d) => d.kind === 'advance' && /operator promote/.test(d.reason)));
      await abortRollout(env.client, 'promote-stage', 'test cleanup');
      await handle.result();
    });
  });

  it('refuses a second rollout of the same service', async () => {
    await stack.resetToV1();
    const taskQueue = uniqueTaskQueue('second');
    const worker = await createWorker(env, taskQueue);
    const spec = fastCanarySpec(stack, {
      service: 'only-one',
      monitoring: { window: '30s', interval: '1s', minCanaryRequests: 15 },
    });
    const handle = await startCanary(env.client, spec, taskQueue);
    await assert.rejects(startCanary(env.client, spec, taskQueue), (err: unknown) => {
      assert.ok(err instanceof RolloutAlreadyRunningError);
      assert.match(err.message, /already running.*rollout-only-one/);
      return true;
    });
    const result = await worker.runUntil(async () => {
      await abortRollout(env.client, 'only-one', 'test cleanup');
      return (await handle.result()) as RolloutResult;
    });
    assert.equal(result.outcome, 'aborted');
  });
});
