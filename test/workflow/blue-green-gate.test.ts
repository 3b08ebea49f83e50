import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { promoteRollout, startBlueGreen } from '../../src/client/rollouts';
import type { RolloutResult } from '../../src/workflows/state';
import {
  blueGreenSuite,
  blueRoute,
  carriesAll,
  decisionsOf,
  explain,
  fastBlueGreenSpec,
  greenRoute,
  phaseReached,
  routerSplit,
} from '../helpers/blue-green';
import { sleep } from '../helpers/fault-env';
import { effectiveChanges, InvariantWatch } from '../helpers/invariants';
import { createWorker, uniqueTaskQueue } from '../helpers/worker';

describe('blue-green manual promotion gate (real dev server, router and services)', () => {
  const suite = blueGreenSuite();

  it('waits at the gate across a worker restart, then switches on promote', async () => {
    const { env, stack } = suite;
    const service = 'bg-manual-gate';
    const taskQueue = uniqueTaskQueue(service);
    const spec = fastBlueGreenSpec(stack, service, {
      promotion: { mode: 'manual', stabilizationDelay: '1s' },
    });
    const watch = new InvariantWatch(stack, 50);
    const first = await createWorker(env, taskQueue);
    const firstRun = first.run();
    let promotedAt = 0;
    let result: RolloutResult;
    try {
      const handle = await startBlueGreen(env.client, spec, taskQueue);
      const gated = await phaseReached(env, service, 'awaiting-promotion');
      assert.deepEqual(gated.weights, { stable: 100, canary: 0 });
      assert.match(decisionsOf(gated, 'hold')[0]?.reason ?? '', /waiting for a promote signal/);

      first.shutdown();
      await firstRun;
      const downAt = Date.now();
      const sampledBefore = watch.samples.length;
      await sleep(2500);
      const whileDown = watch.samples.slice(sampledBefore);
      assert.ok(whileDown.length >= 20, `sampled ${whileDown.length} times while no worker ran`);
      for (const s of [...whileDown, await routerSplit(stack)]) {
        assert.ok(carriesAll(s, blueRoute(stack)), `no worker: still blue v1 at 100%: ${JSON.stringify(s)}`);
      }

      const second = await createWorker(env, taskQueue);
      result = (await second.runUntil(async () => {
        // The new worker rebuilds the workflow from history: at the same gate, nothing switched.
        const resumed = await phaseReached(env, service, 'awaiting-promotion');
        assert.equal(resumed.decisions.length, gated.decisions.length, explain(resumed));
        assert.ok(carriesAll(await routerSplit(stack), blueRoute(stack)), 'still blue before promote');
        assert.ok(Date.now() - downAt > 2000);
        promotedAt = Date.now();
        await promoteRollout(env.client, service);
        return handle.result();
      })) as RolloutResult;
    } finally {
      watch.stop();
      if (first.getState() === 'RUNNING') {
        first.shutdown();
        await firstRun.catch(() => undefined);
      }
    }

    assert.equal(result.outcome, 'promoted', explain(result.state));
    const [signal] = decisionsOf(result.state, 'promote-request');
    const [switched] = decisionsOf(result.state, 'promote');
    assert.match(signal?.reason ?? '', /requested by operator/);
    assert.ok(
      Date.parse(switched?.at ?? '') >= Date.parse(signal?.at ?? ''),
      'switched only after the signal',
    );
    assert.match(switched?.reason ?? '', /^switched: green \(v2\) carries 100%/);
    const split = await routerSplit(stack);
    assert.ok(carriesAll(split, greenRoute(stack)), `green v2 at 100%: ${JSON.stringify(split)}`);
    await watch.check({ outcome: 'promoted', stableVersion: 'v1', canaryVersion: 'v2' });
    // The router's record: nothing moved until the promote signal.
    const changes = effectiveChanges((await stack.stats()).splitHistory);
    const toGreen = changes.find((c) => c.stableVersion === 'v2');
    assert.ok(toGreen, JSON.stringify(changes));
    assert.ok(toGreen.at >= promotedAt, `switched ${toGreen.at - promotedAt} ms after the promote signal`);
    assert.ok(
      changes.filter((c) => c.at < promotedAt).every((c) => c.stableVersion === 'v1' && c.canaryWeight === 0),
      `the router only changed after promote: ${JSON.stringify(changes)}`,
    );
  });
});
