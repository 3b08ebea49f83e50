import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readState, startCanary } from '../../src/client/rollouts';
import type { Faults } from '../../src/demo/service';
import type { RolloutResult } from '../../src/workflows/state';
import { eventually } from '../helpers/eventually';
import { activityAttempts, firstWorkerProgressAfter, sleep } from '../helpers/fault-env';
import { assertSetWeightDecisions } from '../helpers/invariants';
import { faultSuite } from '../helpers/fault-suite';
import { fastCanarySpec } from '../helpers/spec';
import { isMetricRead } from '../helpers/history-events';
import { TcpRelay } from '../helpers/tcp-relay';

/**
 * The worker process is SIGKILLed (no graceful shutdown, no sticky-queue release, in-flight
 * activities lost) at three moments, and a fresh worker process finishes the rollout. What a kill
 * costs is set by Temporal's timeouts: a workflow task sent to the dead worker's sticky queue is
 * rerouted after the sticky schedule-to-start timeout (10 s), and an activity that was running is
 * retried only after its startToCloseTimeout (traffic 15 s, restore and polls 10 s) or its
 * heartbeatTimeout (retire, deploy, checks: 30 s).
 */
describe('worker SIGKILLed mid-rollout; a new worker process finishes it', () => {
  const STAGES = [20, 50, 100];
  const suite = faultSuite();
  async function setUp(service: string, v2Faults: Partial<Faults> = {}) {
    const fault = await suite.setUp(service, v2Faults);
    return { ...fault, first: await fault.startWorker() };
  }

  it('(a) kill in the middle of a monitoring window: promoted, every stage once and in order', async () => {
    const { stack, taskQueue, first, startWorker, watch } = await setUp('kill-mid-window');
    const spec = fastCanarySpec(stack, {
      service: 'kill-mid-window',
      stages: STAGES,
      monitoring: { window: '6s', interval: '1s', minCanaryRequests: 15, maxWindow: '12s' },
    });
    const handle = await startCanary(suite.env.client, spec, taskQueue);
    await eventually(
      async () => {
        const s = await readState(suite.env.client, 'kill-mid-window');
        return s.phase === 'monitoring' && s.stageIndex === 0 && (s.window?.elapsedMs ?? 0) >= 2500;
      },
      40_000,
      'half of the first window',
    );
    await first.kill();
    const killedAt = Date.now();
    assert.equal((await stack.split()).weights.canary, 20, 'the router keeps the stage the worker left');

    const second = await startWorker();
    const result = (await handle.result()) as RolloutResult;
    const progressAt = await firstWorkerProgressAfter(handle, second.readyAt);
    console.log(
      `(a) kill → new worker ready ${second.readyAt - killedAt} ms; ready → first progress ${
        (progressAt ?? NaN) - second.readyAt
      } ms; kill → promoted ${Date.now() - killedAt} ms`,
    );

    assert.equal(result.outcome, 'promoted');
    assertSetWeightDecisions(result.state, STAGES);
    assert.equal(result.state.decisions.filter((d) => d.kind === 'advance').length, 2, 'two windows passed');
    assert.ok(progressAt !== undefined, 'the new worker made progress');
    await watch.check({
      outcome: 'promoted',
      stableVersion: 'v1',
      canaryVersion: 'v2',
      stages: STAGES,
      state: result.state,
    });
  });

  it('(b) kill while a traffic activity is in flight: the lost completion is retried, no stage repeated', async () => {
    // The traffic admin API is reached through a relay that holds every request 2.5 s, so that a
    // PUT /admin/split is in flight long enough to kill the worker with it: the kill happens the
    // moment the relay receives the PUT for the second stage. The relay still delivers it (bytes on
    // the wire are not taken back), so the router moves to 50% with nobody left to hear the answer:
    // the effect happened, the completion was lost. Metrics go straight to the router.
    const { stack, taskQueue, first, startWorker, watch } = await setUp('kill-in-flight');
    let killedAt = 0;
    let killing: Promise<void> | undefined;
    const relay = suite.cleanup.add(
      await TcpRelay.start({
        target: stack.router.adminUrl,
        delayMs: 2500,
        onClientData: (text) => {
          if (!killing && text.includes('"canaryWeight":50')) {
            killedAt = Date.now();
            killing = first.kill();
          }
        },
      }),
      (r) => r.close(),
    );
    const spec = fastCanarySpec(stack, {
      service: 'kill-in-flight',
      stages: STAGES,
      traffic: { provider: 'embedded', adminUrl: relay.url },
      metrics: { provider: 'embedded', adminUrl: stack.router.adminUrl },
    });
    const handle = await startCanary(suite.env.client, spec, taskQueue);
    await eventually(async () => killing !== undefined, 60_000, 'the PUT for the second stage');
    await killing;
    // The delayed PUT lands although its sender is dead.
    await eventually(async () => (await stack.split()).weights.canary === 50, 10_000, 'the orphaned PUT');

    const second = await startWorker();
    const result = (await handle.result()) as RolloutResult;
    const retried = (await activityAttempts(handle)).filter((a) => a.attempt > 1);
    const progressAt = await firstWorkerProgressAfter(handle, second.readyAt);
    console.log(
      `(b) kill → new worker ready ${second.readyAt - killedAt} ms; ready → first progress ${
        (progressAt ?? NaN) - second.readyAt
      } ms; kill → promoted ${Date.now() - killedAt} ms; retried: ${JSON.stringify(retried)}`,
    );

    assert.equal(result.outcome, 'promoted');
    assertSetWeightDecisions(result.state, STAGES);
    assert.equal(retried.length, 1, 'exactly one activity was retried: the one killed in flight');
    assert.equal(retried[0]?.type, 'setTraffic');
    assert.match(retried[0]?.lastFailure ?? '', /timeout|timed out/i, 'it was retried because it timed out');
    assert.ok(
      (retried[0]?.at ?? 0) - killedAt >= 14_000,
      'the server waited for the activity startToCloseTimeout (15 s) before retrying',
    );
    await watch.check({
      outcome: 'promoted',
      stableVersion: 'v1',
      canaryVersion: 'v2',
      stages: STAGES,
      state: result.state,
    });
  });

  it('(c) kill right after the rollback reached the router: rolled back, canary never returns', async () => {
    const { stack, taskQueue, first, startWorker, watch } = await setUp('kill-in-rollback', {
      errorRate: 0.5,
    });
    const spec = fastCanarySpec(stack, {
      service: 'kill-in-rollback',
      stages: STAGES,
      monitoring: { window: '20s', interval: '1s', minCanaryRequests: 15, maxWindow: '40s' },
    });
    const handle = await startCanary(suite.env.client, spec, taskQueue);
    // Kill the moment the router is back at 0% after having had canary traffic: the rollback was
    // decided and applied, but the workflow has not yet confirmed it, retired the canary, recorded
    // the outcome or notified. The router is polled every 5 ms.
    let sawCanary = false;
    await eventually(
      async () => {
        const split = await stack.split();
        if (split.weights.canary > 0) sawCanary = true;
        return sawCanary && split.weights.canary === 0;
      },
      60_000,
      'the router back at 0% canary',
      5,
    );
    await first.kill();
    const killedAt = Date.now();
    assert.equal((await handle.describe()).status.name, 'RUNNING', 'killed before the workflow finished');

    const second = await startWorker();
    const result = (await handle.result()) as RolloutResult;
    const progressAt = await firstWorkerProgressAfter(handle, second.readyAt);
    const retried = (await activityAttempts(handle)).filter((a) => a.attempt > 1);
    console.log(
      `(c) kill → new worker ready ${second.readyAt - killedAt} ms; ready → first progress ${
        (progressAt ?? NaN) - second.readyAt
      } ms; kill → rolled back ${Date.now() - killedAt} ms; retried: ${JSON.stringify(retried)}`,
    );

    assert.equal(result.outcome, 'rolled_back');
    assert.equal(result.state.phase, 'rolled-back');
    assert.deepEqual(
      result.state.decisions.filter((d) => d.kind === 'set-weight').map((d) => d.weight),
      [20, 0],
      'rolled back at the first stage, confirmed once',
    );
    assert.equal(result.state.decisions.filter((d) => d.kind === 'retire').length, 1, 'canary retired once');
    await watch.check({
      outcome: 'rolled_back',
      stableVersion: 'v1',
      canaryVersion: 'v2',
      stages: STAGES,
      state: result.state,
    });
  });

  it('(d) kill during the health check of an unhealthy canary: it never gets a single request', async () => {
    // The health-check activity heartbeats once per attempt; after the kill the server notices the
    // missing heartbeats after heartbeatTimeout (30 s) and the new worker checks again from scratch.
    // This is the slowest test here, and the only one that exercises the "never a request to a
    // version that failed its checks" invariant across a crash.
    const { stack, taskQueue, first, startWorker, watch } = await setUp('kill-in-health', {
      failHealth: true,
    });
    const spec = fastCanarySpec(stack, {
      service: 'kill-in-health',
      stages: STAGES,
      healthCheck: { retries: 6, interval: '1s', timeout: '1s' },
    });
    const handle = await startCanary(suite.env.client, spec, taskQueue);
    await eventually(
      async () => (await readState(suite.env.client, 'kill-in-health')).phase === 'health-checking',
      30_000,
      'the health check under way',
    );
    await sleep(1500);
    await first.kill();
    const killedAt = Date.now();

    const second = await startWorker();
    const result = (await handle.result()) as RolloutResult;
    const retried = (await activityAttempts(handle)).filter((a) => a.attempt > 1);
    console.log(
      `(d) kill → failed ${Date.now() - killedAt} ms (new worker ready after ${
        second.readyAt - killedAt
      } ms); retried: ${JSON.stringify(retried)}`,
    );

    assert.equal(result.outcome, 'failed');
    assert.ok(result.state.decisions.some((d) => d.kind === 'health' && d.reason.startsWith('unhealthy')));
    assert.deepEqual(
      retried.map((a) => a.type),
      ['checkHealth'],
      'the health check killed mid-way ran again on the new worker',
    );
    assert.match(retried[0]?.lastFailure ?? '', /heartbeat/i);
    assert.equal(result.state.decisions.filter((d) => d.kind === 'set-weight').length, 0);
    await watch.check({
      outcome: 'failed',
      stableVersion: 'v1',
      canaryVersion: 'v2',
      stages: STAGES,
      state: result.state,
    });
    assert.ok(watch.samples.every((s) => s.weights.canary === 0));
  });

  it('(e) kill during a metric read (a local activity): the lost workflow task is run again, the read repeated, no stage repeated', async () => {
    // Metric reads run as local activities inside a workflow task. The metrics admin API is reached
    // through a relay that holds reads 3 s once armed; the worker is killed the moment the relay
    // receives a read in the first window. Nothing of that workflow task reached the server, so
    // after the workflow-task timeout the next worker replays and reads again.
    const { stack, taskQueue, first, startWorker, watch } = await setUp('kill-in-local-read');
    let armed = false;
    let killedAt = 0;
    let killing: Promise<void> | undefined;
    const readsAt: number[] = [];
    const relay = suite.cleanup.add(
      await TcpRelay.start({
        target: stack.router.adminUrl,
        onClientData: (text) => {
          if (!text.startsWith('GET /admin/metrics')) return;
          readsAt.push(Date.now());
          if (armed && !killing) {
            killedAt = Date.now();
            killing = first.kill();
          }
        },
      }),
      (r) => r.close(),
    );
    const spec = fastCanarySpec(stack, {
      service: 'kill-in-local-read',
      stages: STAGES,
      monitoring: { window: '6s', interval: '1s', minCanaryRequests: 15, maxWindow: '12s' },
      metrics: { provider: 'embedded', adminUrl: relay.url },
    });
    const handle = await startCanary(suite.env.client, spec, taskQueue);
    await eventually(
      async () => {
        const s = await readState(suite.env.client, 'kill-in-local-read');
        return s.phase === 'monitoring' && s.stageIndex === 0 && (s.window?.polls ?? 0) >= 2;
      },
      40_000,
      'two polls in the first window',
    );
    relay.delayMs = 3000;
    armed = true;
    await eventually(async () => killing !== undefined, 20_000, 'a read in flight to kill');
    await killing;
    relay.delayMs = 0;
    assert.equal((await stack.split()).weights.canary, 20, 'the router keeps the stage the worker left');

    const second = await startWorker();
    const result = (await handle.result()) as RolloutResult;
    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    const timedOut = events.filter((e) => e.workflowTaskTimedOutEventAttributes).length;
    const activityReads = events.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'readMetrics',
    ).length;
    const readsAfter = readsAt.filter((t) => t >= second.readyAt).length;
    console.log(
      `(e) kill mid-read → new worker ready ${second.readyAt - killedAt} ms; kill → promoted ${
        Date.now() - killedAt
      } ms; workflow tasks timed out: ${timedOut}; reads after the restart: ${readsAfter}`,
    );

    assert.equal(result.outcome, 'promoted');
    assertSetWeightDecisions(result.state, STAGES);
    assert.equal(activityReads, 0, 'reads are local activities: no activity task was scheduled for them');
    assert.ok(events.filter(isMetricRead).length >= 4, 'the reads are recorded as local-activity markers');
    assert.ok(timedOut >= 1, 'the workflow task that held the killed read timed out on the server');
    assert.ok(readsAfter >= 1, 'the new worker read again');
    await watch.check({
      outcome: 'promoted',
      stableVersion: 'v1',
      canaryVersion: 'v2',
      stages: STAGES,
      state: result.state,
    });
  });
});
