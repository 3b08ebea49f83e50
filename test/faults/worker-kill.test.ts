import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readState, startCanary } from '../../src/client/rollouts';
import type { RolloutResult } from '../../src/workflows/state';
import { activityAttempts, FaultEnv, firstWorkerProgressAfter, until } from '../helpers/fault-env';
import { assertSetWeightDecisions, InvariantWatch } from '../helpers/invariants';
import { fastCanarySpec } from '../helpers/spec';
import { Stack } from '../helpers/stack';
import { TcpRelay } from '../helpers/tcp-relay';
import { eventually, uniqueTaskQueue } from '../helpers/worker';
import { startKillableWorker } from '../helpers/worker-process';

/**
 * The worker is SIGKILLed (no graceful shutdown, no sticky-queue release, in-flight activities lost)
 * at three moments, and a fresh worker process finishes the rollout. What the kill costs is set by
 * Temporal's timeouts, not by us: a workflow task on the dead worker's sticky queue is rerouted after
 * the sticky schedule-to-start timeout (10 s), and an activity that was running is retried after its
 * startToCloseTimeout (traffic 15 s, polls 10 s) or heartbeatTimeout (retire 30 s).
 */
describe('worker SIGKILLed mid-rollout; a new worker process finishes it', () => {
  let env: FaultEnv;
  before(async () => {
    env = await FaultEnv.start();
  });
  after(async () => {
    await env?.close();
  });

  const STAGES = [20, 50, 100];

  async function setUp(service: string, v2Faults = {}) {
    const stack = await Stack.start(v2Faults);
    stack.startUsers(60, 300_000);
    const taskQueue = uniqueTaskQueue(service);
    const first = await startKillableWorker({ address: env.address, taskQueue });
    return { stack, taskQueue, first };
  }

  it('(a) kill in the middle of a monitoring window: the rollout is promoted, stages in order', async () => {
    const { stack, taskQueue, first } = await setUp('kill-mid-window');
    let second: Awaited<ReturnType<typeof startKillableWorker>> | undefined;
    try {
      const spec = fastCanarySpec(stack, {
        service: 'kill-mid-window',
        stages: STAGES,
        monitoring: { window: '6s', interval: '1s', minCanaryRequests: 15, maxWindow: '12s' },
      });
      const watch = new InvariantWatch(stack);
      const handle = await startCanary(env.client, spec, taskQueue);
      await eventually(
        async () => {
          const s = await readState(env.client, 'kill-mid-window');
          return s.phase === 'monitoring' && s.stageIndex === 0 && (s.window?.elapsedMs ?? 0) >= 2500;
        },
        40_000,
        'half of the first window',
      );
      await first.kill();
      const killedAt = Date.now();
      assert.equal((await stack.split()).weights.canary, 20, 'the router keeps the stage the worker left');

      second = await startKillableWorker({ address: env.address, taskQueue });
      const result = (await handle.result()) as RolloutResult;
      const progressAt = await firstWorkerProgressAfter(handle, second.readyAt);
      console.log(
        `(a) kill → new worker ready ${second.readyAt - killedAt} ms; ready → first progress ${
          (progressAt ?? NaN) - second.readyAt
        } ms; kill → promoted ${Date.now() - killedAt} ms`,
      );

      assert.equal(result.outcome, 'promoted');
      assertSetWeightDecisions(result.state, STAGES);
      assert.equal(
        result.state.decisions.filter((d) => d.kind === 'advance').length,
        2,
        'two windows passed',
      );
      assert.ok(progressAt !== undefined, 'the new worker made progress');
      await watch.check({
        outcome: 'promoted',
        stableVersion: 'v1',
        canaryVersion: 'v2',
        stages: STAGES,
        state: result.state,
      });
    } finally {
      await first.kill();
      await second?.kill();
      await stack.close();
    }
  });

  it('(b) kill while a traffic activity is in flight: the lost completion is retried, no stage repeated', async () => {
    // The traffic admin API is reached through a relay that holds every request 2.5 s, so a PUT
    // /admin/split is in flight long enough to kill the worker with it: the kill happens the moment the
    // relay receives the PUT for the second stage. The relay still delivers it (a request already on
    // the wire is not taken back), so the router moves to 50% with nobody to hear the answer: the
    // effect happened, the completion was lost. Metrics go straight to the router.
    const { stack, taskQueue, first } = await setUp('kill-in-flight');
    let second: Awaited<ReturnType<typeof startKillableWorker>> | undefined;
    let killedAt = 0;
    let killing: Promise<void> | undefined;
    const relay = await TcpRelay.start({
      target: stack.router.adminUrl,
      delayMs: 2500,
      onClientData: (text) => {
        if (!killing && /"canaryWeight":50/.test(text)) {
          killedAt = Date.now();
          killing = first.kill();
        }
      },
    });
    try {
      const spec = fastCanarySpec(stack, {
        service: 'kill-in-flight',
        stages: STAGES,
        traffic: { provider: 'embedded', adminUrl: relay.url },
        metrics: { provider: 'embedded', adminUrl: stack.router.adminUrl },
      });
      const watch = new InvariantWatch(stack);
      const handle = await startCanary(env.client, spec, taskQueue);
      await eventually(async () => killing, 60_000, 'the PUT for the second stage');
      await killing;
      // The delayed PUT lands although its sender is dead.
      await eventually(async () => (await stack.split()).weights.canary === 50, 10_000, 'the orphaned PUT');

      second = await startKillableWorker({ address: env.address, taskQueue });
      const result = (await handle.result()) as RolloutResult;
      const attempts = await activityAttempts(handle);
      const retried = attempts.filter((a) => a.type === 'setTraffic' && a.attempt > 1);
      const progressAt = await firstWorkerProgressAfter(handle, second.readyAt);
      console.log(
        `(b) kill → new worker ready ${second.readyAt - killedAt} ms; ready → first progress ${
          (progressAt ?? NaN) - second.readyAt
        } ms; kill → promoted ${Date.now() - killedAt} ms; retried: ${JSON.stringify(retried)}`,
      );

      assert.equal(result.outcome, 'promoted');
      assertSetWeightDecisions(result.state, STAGES);
      assert.equal(retried.length, 1, 'exactly one traffic activity was retried: the one killed in flight');
      assert.match(retried[0]?.lastFailure ?? '', /timeout|timed out/i, 'it was retried after its timeout');
      assert.ok(
        (retried[0]?.at ?? 0) - killedAt >= 14_000,
        'the server waited for startToCloseTimeout (15 s) before retrying',
      );
      await watch.check({
        outcome: 'promoted',
        stableVersion: 'v1',
        canaryVersion: 'v2',
        stages: STAGES,
        state: result.state,
      });
    } finally {
      await first.kill();
      await second?.kill();
      await relay.close();
      await stack.close();
    }
  });

  it('(c) kill right after a rollback decision: the rollback completes, canary never returns', async () => {
    const { stack, taskQueue, first } = await setUp('kill-in-rollback', { errorRate: 0.5 });
    let second: Awaited<ReturnType<typeof startKillableWorker>> | undefined;
    try {
      const spec = fastCanarySpec(stack, {
        service: 'kill-in-rollback',
        stages: STAGES,
        monitoring: { window: '20s', interval: '1s', minCanaryRequests: 15, maxWindow: '40s' },
      });
      const watch = new InvariantWatch(stack);
      const handle = await startCanary(env.client, spec, taskQueue);
      // Kill the moment the router is back at 0% after having had canary traffic: the rollback
      // decision is made and applied, but the workflow has not yet confirmed it, retired the canary,
      // recorded the outcome or notified.
      let sawCanary = false;
      await until(
        async () => {
          const split = await stack.split();
          if (split.weights.canary > 0) sawCanary = true;
          return sawCanary && split.weights.canary === 0;
        },
        60_000,
        'the router back at 0% canary',
      );
      await first.kill();
      const killedAt = Date.now();
      const description = await handle.describe();
      assert.equal(description.status.name, 'RUNNING', 'killed before the workflow finished');

      second = await startKillableWorker({ address: env.address, taskQueue });
      const result = (await handle.result()) as RolloutResult;
      const progressAt = await firstWorkerProgressAfter(handle, second.readyAt);
      console.log(
        `(c) kill → new worker ready ${second.readyAt - killedAt} ms; ready → first progress ${
          (progressAt ?? NaN) - second.readyAt
        } ms; kill → rolled back ${Date.now() - killedAt} ms; attempts ${JSON.stringify(
          (await activityAttempts(handle)).filter((a) => a.attempt > 1),
        )}`,
      );

      assert.equal(result.outcome, 'rolled_back');
      assert.equal(result.state.phase, 'rolled-back');
      assertSetWeightDecisions(result.state, STAGES);
      assert.deepEqual(
        result.state.decisions.filter((d) => d.kind === 'set-weight').map((d) => d.weight),
        [20, 0],
        'rolled back at the first stage',
      );
      assert.equal(
        result.state.decisions.filter((d) => d.kind === 'retire').length,
        1,
        'canary retired once',
      );
      await watch.check({
        outcome: 'rolled_back',
        stableVersion: 'v1',
        canaryVersion: 'v2',
        stages: STAGES,
        state: result.state,
      });
    } finally {
      await first.kill();
      await second?.kill();
      await stack.close();
    }
  });
});
