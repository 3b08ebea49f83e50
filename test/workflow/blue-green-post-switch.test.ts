import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { abortRollout, readState } from '../../src/client/rollouts';
import {
  blueGreenSuite,
  blueRoute,
  carriesAll,
  explain,
  fastBlueGreenSpec,
  firstDecision,
  greenRoute,
  phaseReached,
  routerCarriesAll,
  runBlueGreen,
} from '../helpers/blue-green';
import { eventually as until } from '../helpers/eventually';
import { effectiveChanges } from '../helpers/invariants';
import { TcpRelay } from '../helpers/tcp-relay';

describe('blue-green after the switch: switch back on degradation or abort', () => {
  const suite = blueGreenSuite();

  it('switches back to blue within seconds when green degrades after the switch', async (t) => {
    const { env, stack } = suite;
    const service = 'bg-degrades';
    let faultAt = 0;
    let blueAgainAt = 0;
    const { result, split, stats, watch } = await runBlueGreen(
      env,
      stack,
      fastBlueGreenSpec(stack, service, { postSwitch: { window: '20s', maxErrorRate: 0.05 } }),
      async () => {
        await phaseReached(env, service, 'post-switch');
        assert.ok(carriesAll(await stack.split(), greenRoute(stack)), 'green carries 100% after the switch');
        stack.v2.setFaults({ errorRate: 0.5 });
        faultAt = Date.now();
        // Every 10 ms from the fault on: the first moment the router is back on blue.
        blueAgainAt = await routerCarriesAll(stack, blueRoute(stack), 30_000, 10);
      },
    );
    const { state } = result;
    assert.equal(result.outcome, 'rolled_back', explain(state));
    assert.ok(carriesAll(split, blueRoute(stack)), `final split: blue v1 at 100%: ${JSON.stringify(split)}`);
    assert.deepEqual(split.weights, { stable: 100, canary: 0 });
    await watch.check({ outcome: 'rolled_back', stableVersion: 'v1', canaryVersion: 'v2' });

    // The first failing post-switch poll: its verdict is the evidence of the first 'rollback' decision.
    const failing = firstDecision(state, 'rollback', /^after the switch:/);
    assert.match(failing.reason, /error-rate/);
    assert.equal((failing.evidence as { result?: string } | undefined)?.result, 'fail');
    assert.ok(
      state.recentVerdicts.filter((v) => v.result === 'fail').length === 1,
      'the first failing poll ended the watch',
    );
    const failedAt = Date.parse(failing.at);
    const switchBackMs = blueAgainAt - failedAt;
    const changes = effectiveChanges(stats.splitHistory);
    const routerBack = changes.find((c) => c.at >= faultAt && c.stableVersion === 'v1');
    assert.ok(routerBack, `the router recorded the switch back: ${JSON.stringify(changes)}`);
    t.diagnostic(
      `post-switch switch-back: failing poll → router 100% blue ${switchBackMs} ms ` +
        `(router's own change record: ${routerBack.at - failedAt} ms); ` +
        `fault injected → failing poll ${failedAt - faultAt} ms, → router 100% blue ${blueAgainAt - faultAt} ms`,
    );
    assert.ok(
      switchBackMs >= 0,
      `the router went back to blue after the failing poll, not before (${switchBackMs} ms)`,
    );
    assert.ok(switchBackMs < 5000, `failing poll → 100% blue took ${switchBackMs} ms`);
    assert.ok(failedAt - faultAt < 15_000, 'caught well inside the 20 s post-switch window');
    assert.ok((stats.versions.v2?.errors ?? 0) > 0, 'green really failed user requests');
  });

  it('does not keep green when the post-switch window never reached a verdict (too few requests)', async () => {
    const { env, stack } = suite;
    const { result, split } = await runBlueGreen(
      env,
      stack,
      fastBlueGreenSpec(stack, 'bg-blind-post-switch', {
        monitoring: {
          window: '2s',
          interval: '500ms',
          minCanaryRequests: 1_000_000,
          onInconclusive: 'rollback',
        },
      }),
    );
    assert.ok(
      result.state.recentVerdicts.length > 0 &&
        result.state.recentVerdicts.every((v) => v.result === 'inconclusive'),
      'no poll after the switch reached a verdict',
    );
    assert.equal(result.outcome, 'rolled_back', explain(result.state));
    assert.ok(carriesAll(split, blueRoute(stack)), `back on blue: ${JSON.stringify(split)}`);
  });

  it('acts on an abort that arrives while a post-switch poll is in flight as soon as the poll returns', async (t) => {
    const { env, stack } = suite;
    const service = 'bg-abort-mid-poll';
    const HELD_MS = 1500;
    // The metrics reads go through a relay that can slow them down; traffic changes do not.
    let onMetricsRequest: (() => void) | null = null;
    const relay = await TcpRelay.start({
      target: stack.router.adminUrl,
      onClientData: (text) => {
        if (text.startsWith('GET /admin/metrics')) onMetricsRequest?.();
      },
    });
    try {
      let pollReleasedAt = 0;
      let blueAgainAt = 0;
      const { result } = await runBlueGreen(
        env,
        stack,
        fastBlueGreenSpec(stack, service, {
          monitoring: { window: '5s', interval: '5s', minCanaryRequests: 20 },
          postSwitch: { window: '60s' },
          metrics: { provider: 'embedded', adminUrl: relay.url },
        }),
        async () => {
          await phaseReached(env, service, 'post-switch');
          relay.delayMs = HELD_MS;
          await new Promise<void>((resolve) => (onMetricsRequest = resolve));
          onMetricsRequest = null;
          pollReleasedAt = Date.now() + HELD_MS;
          // The poll is held in the relay. Metric reads are local activities: the signal is taken
          // in the workflow task after the read returns, never an interval later.
          await abortRollout(env.client, service, 'aborted mid-poll');
          await until(
            async () => (await readState(env.client, service)).abortReason !== null,
            HELD_MS + 5000,
            'the workflow to take the abort',
            10,
          );
          relay.delayMs = 0;
          blueAgainAt = await routerCarriesAll(stack, blueRoute(stack), 20_000, 10);
        },
      );
      assert.equal(result.outcome, 'aborted', explain(result.state));
      const lateBy = blueAgainAt - pollReleasedAt;
      t.diagnostic(`abort during a poll: router on blue ${lateBy} ms after the poll returned`);
      assert.ok(lateBy < 2000, `router on blue ${lateBy} ms after the held poll returned (interval 5 s)`);
    } finally {
      await relay.close();
    }
  });

  it('abort during post-switch monitoring puts blue back at 100% and keeps the reason', async () => {
    const { env, stack } = suite;
    const service = 'bg-abort-post-switch';
    const reason = 'support tickets spiking on green';
    let abortedAt = 0;
    const { result, split, stats, watch } = await runBlueGreen(
      env,
      stack,
      fastBlueGreenSpec(stack, service, { postSwitch: { window: '60s' } }),
      async () => {
        await phaseReached(env, service, 'post-switch');
        assert.ok(carriesAll(await stack.split(), greenRoute(stack)), 'green carries 100% before the abort');
        abortedAt = Date.now();
        await abortRollout(env.client, service, reason);
      },
    );
    const { state } = result;
    assert.equal(result.outcome, 'aborted', explain(state));
    assert.equal(state.abortReason, reason);
    assert.equal(firstDecision(state, 'abort').reason, reason);
    assert.ok(carriesAll(split, blueRoute(stack)), `final split: blue v1 at 100%: ${JSON.stringify(split)}`);
    assert.deepEqual(split.weights, { stable: 100, canary: 0 });
    await watch.check({ outcome: 'aborted', stableVersion: 'v1', canaryVersion: 'v2' });
    const back = effectiveChanges(stats.splitHistory).find(
      (c) => c.at >= abortedAt && c.stableVersion === 'v1',
    );
    assert.ok(back, 'the router recorded the switch back');
    assert.ok(
      back.at - abortedAt < 5000,
      `abort → router on blue in ${back.at - abortedAt} ms, not at window end`,
    );
    assert.match(firstDecision(state, 'retire').reason, /^v2:/, 'green retired after the abort');
  });
});
