import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { abortRollout, pauseRollout, readState, resumeRollout, startCanary } from '../../src/client/rollouts';
import type { RolloutResult } from '../../src/workflows/state';
import { eventually } from '../helpers/eventually';
import { sleep } from '../helpers/fault-env';
import { assertSetWeightDecisions } from '../helpers/invariants';
import { faultSuite } from '../helpers/fault-suite';
import { fastCanarySpec } from '../helpers/spec';

/**
 * Signals sent while no worker runs at all (the last one was SIGKILLed) are stored by Temporal and
 * acted on when a worker process starts again.
 */
describe('signals sent while no worker runs', () => {
  const STAGES = [20, 50, 100];
  const suite = faultSuite();
  const setUp = (service: string) => suite.setUp(service);

  const monitoringAt = (service: string, weight: number) =>
    eventually(
      async () => {
        const s = await readState(suite.env.client, service);
        return s.phase === 'monitoring' && s.weights.canary === weight && (s.window?.polls ?? 0) >= 1 && s;
      },
      40_000,
      `${service} monitoring at ${weight}%`,
    );

  it('pause sent while down holds the stage once a worker runs; resume sent while down continues', async () => {
    const { stack, taskQueue, startWorker, watch } = await setUp('absent-pause');
    const spec = fastCanarySpec(stack, {
      service: 'absent-pause',
      stages: STAGES,
      monitoring: { window: '4s', interval: '1s', minCanaryRequests: 15, maxWindow: '8s' },
    });
    const first = await startWorker();
    const handle = await startCanary(suite.env.client, spec, taskQueue);
    await monitoringAt('absent-pause', 20);
    await first.kill();
    await pauseRollout(suite.env.client, 'absent-pause', 'sent while no worker ran');
    // Longer than the whole window: were the pause ignored, the stage would be over when a worker returns.
    await sleep(5000);
    assert.equal((await stack.split()).weights.canary, 20, 'nothing moves without a worker');

    const second = await startWorker();
    const paused = await eventually(
      async () => {
        const s = await readState(suite.env.client, 'absent-pause');
        return s.paused && s;
      },
      30_000,
      'the pause honoured',
    );
    assert.equal(paused.pauseReason, 'sent while no worker ran');
    const pollsWhenPaused = paused.window?.polls ?? 0;
    // Two more windows' worth of time with a worker running: a paused rollout stays where it is.
    await sleep(8000);
    const held = await readState(suite.env.client, 'absent-pause');
    assert.equal(held.paused, true);
    assert.equal(held.stageIndex, 0, 'still the first stage');
    assert.equal(held.phase, 'monitoring');
    assert.equal((await stack.split()).weights.canary, 20, 'router still at the first stage');
    assert.ok((held.window?.polls ?? 0) > pollsWhenPaused, 'the paused rollout keeps guarding (polls)');
    assert.ok(
      (held.window?.elapsedMs ?? Infinity) < 4000,
      'paused time, including the outage, did not count',
    );

    await second.kill();
    await resumeRollout(suite.env.client, 'absent-pause');
    await sleep(1000);
    assert.equal((await stack.split()).weights.canary, 20, 'nothing moves without a worker');
    await startWorker();
    const result = (await handle.result()) as RolloutResult;

    assert.equal(result.outcome, 'promoted');
    const kinds = result.state.decisions.map((d) => d.kind);
    assert.ok(
      kinds.indexOf('pause') >= 0 && kinds.indexOf('pause') < kinds.indexOf('resume'),
      'pause, then resume',
    );
    assert.equal(kinds.filter((k) => k === 'pause').length, 1);
    assert.equal(kinds.filter((k) => k === 'resume').length, 1);
    assertSetWeightDecisions(result.state, STAGES);
    await watch.check({
      outcome: 'promoted',
      stableVersion: 'v1',
      canaryVersion: 'v2',
      stages: STAGES,
      state: result.state,
    });
  });

  it('abort sent while down, in a 5 min window, rolls back within seconds of a worker starting', async () => {
    const { stack, taskQueue, startWorker, watch } = await setUp('absent-abort');
    const spec = fastCanarySpec(stack, {
      service: 'absent-abort',
      stages: STAGES,
      monitoring: { window: '5m', interval: '1s', minCanaryRequests: 15 },
    });
    const first = await startWorker();
    const handle = await startCanary(suite.env.client, spec, taskQueue);
    await monitoringAt('absent-abort', 20);
    await first.kill();
    const killedAt = Date.now();
    await abortRollout(suite.env.client, 'absent-abort', 'sent while no worker ran');
    const abortedAt = Date.now();
    await sleep(3000);
    assert.equal((await stack.split()).weights.canary, 20, 'nothing acts on the abort without a worker');

    const second = await startWorker();
    await eventually(
      async () => (await stack.split()).weights.canary === 0,
      60_000,
      'router at 0% canary',
      10,
    );
    const rolledBackAt = Date.now();
    const result = (await handle.result()) as RolloutResult;
    const readyToRollback = rolledBackAt - second.readyAt;
    console.log(
      `abort while down: worker spawn → ready ${second.readyAt - second.spawnedAt} ms; worker ready → ` +
        `router at 0% ${readyToRollback} ms; abort sent → router at 0% ${rolledBackAt - abortedAt} ms ` +
        `(worker down ${second.readyAt - killedAt} ms of it)`,
    );

    assert.equal(result.outcome, 'aborted');
    assert.equal(result.state.abortReason, 'sent while no worker ran');
    assert.ok(readyToRollback < 15_000, `rolled back ${readyToRollback} ms after a worker was ready`);
    assertSetWeightDecisions(result.state, STAGES);
    await watch.check({
      outcome: 'aborted',
      stableVersion: 'v1',
      canaryVersion: 'v2',
      stages: STAGES,
      state: result.state,
    });
  });
});
