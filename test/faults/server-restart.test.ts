import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readState, startCanary } from '../../src/client/rollouts';
import { freePort } from '../../src/devserver/free-port';
import type { RolloutResult } from '../../src/workflows/state';
import { Cleanup, FaultEnv, firstWorkerProgressAfter, sleep } from '../helpers/fault-env';
import { assertSetWeightDecisions, InvariantWatch } from '../helpers/invariants';
import { fastCanarySpec } from '../helpers/spec';
import { Stack } from '../helpers/stack';
import { eventually } from '../helpers/eventually';
import { uniqueTaskQueue } from '../helpers/worker';
import { startKillableWorker } from '../helpers/worker-process';

/**
 * The Temporal server itself goes away mid-rollout and comes back on the same port with the same
 * SQLite file. The worker process is left running throughout: it must reconnect by itself.
 */
describe('Temporal server restarted mid-rollout', () => {
  const STAGES = [20, 50, 100];
  const cleanup = new Cleanup();
  const dir = mkdtempSync(join(tmpdir(), 'rollout-server-restart-'));
  after(async () => {
    await cleanup.run();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the rollout continues and is promoted; the same worker process reconnects', async () => {
    const env = cleanup.add(
      await FaultEnv.start({ dbFilename: join(dir, 'temporal.db'), port: await freePort() }),
      (e) => e.close(),
    );
    const stack = cleanup.add(await Stack.start(), (s) => s.close());
    stack.startUsers(60, 300_000);
    const taskQueue = uniqueTaskQueue('server-restart');
    const worker = cleanup.add(await startKillableWorker({ address: env.address, taskQueue }), (w) =>
      w.kill(),
    );
    const watch = cleanup.add(new InvariantWatch(stack), (w) => w.stop());
    const spec = fastCanarySpec(stack, {
      service: 'server-restart',
      stages: STAGES,
      monitoring: { window: '6s', interval: '1s', minCanaryRequests: 15, maxWindow: '12s' },
    });
    const handle = await startCanary(env.client, spec, taskQueue);
    await eventually(
      async () => {
        const s = await readState(env.client, 'server-restart');
        return s.phase === 'monitoring' && s.stageIndex === 0 && (s.window?.elapsedMs ?? 0) >= 2000;
      },
      40_000,
      'the first window under way',
    );

    const stoppedAt = Date.now();
    await env.stopServer();
    const stopTook = Date.now() - stoppedAt;
    // Down for longer than the rest of the window: with no server, nothing may advance.
    await sleep(6000);
    assert.equal(
      (await stack.split()).weights.canary,
      20,
      'the router keeps the stage while the server is down',
    );
    assert.ok(worker.alive(), 'the worker process survives the outage');

    const restartAt = Date.now();
    await env.startServer();
    const upAt = Date.now();
    const result = (await handle.result()) as RolloutResult;
    const progressAt = await firstWorkerProgressAfter(handle, upAt);
    console.log(
      `server restart: stop took ${stopTook} ms; down ${restartAt - stoppedAt} ms; start took ${
        upAt - restartAt
      } ms; server up → first worker progress ${(progressAt ?? NaN) - upAt} ms; server up → promoted ${
        Date.now() - upAt
      } ms`,
    );

    assert.ok(worker.alive(), 'the same worker process finished the rollout');
    assert.equal(result.outcome, 'promoted');
    assertSetWeightDecisions(result.state, STAGES);
    assert.ok(progressAt !== undefined, 'the worker made progress after the restart');
    await watch.check({
      outcome: 'promoted',
      stableVersion: 'v1',
      canaryVersion: 'v2',
      stages: STAGES,
      state: result.state,
    });
  });
});
