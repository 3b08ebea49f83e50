import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_FAULTS } from '../../src/demo/faults';
import {
  blueGreenSuite,
  blueRoute,
  carriesAll,
  decisionsOf,
  explain,
  fastBlueGreenSpec,
  firstDecision,
  greenRoute,
  msBetween,
  runBlueGreen,
} from '../helpers/blue-green';
import { effectiveChanges } from '../helpers/invariants';

describe('blue-green rollouts (real dev server, router and services)', () => {
  const suite = blueGreenSuite();

  it('switches a good green to 100%, retires blue only after the stabilization delay, and the next rollout deploys to blue', async () => {
    const { env, stack } = suite;
    const first = await runBlueGreen(
      env,
      stack,
      fastBlueGreenSpec(stack, 'bg-good', {
        // Shorter than the stabilization delay, so a retire that ignored the delay would show.
        postSwitch: { window: '1s', baselineWindow: '10s' },
        promotion: { stabilizationDelay: '3s' },
      }),
    );
    const { state } = first.result;
    assert.equal(first.result.outcome, 'promoted', explain(state));
    assert.deepEqual(state.environments, { live: 'blue', idle: 'green' });
    await first.watch.check({ outcome: 'promoted', stableVersion: 'v1', canaryVersion: 'v2', state });
    assert.ok(
      carriesAll(first.split, greenRoute(stack)),
      `green carries 100%: ${JSON.stringify(first.split)}`,
    );
    assert.equal(first.split.canary, null, 'blue has left the router table');
    assert.ok((first.stats.versions.v2?.requests ?? 0) > 0, 'users reached green after the switch');

    const switched = firstDecision(state, 'promote');
    const watched = firstDecision(state, 'advance', /post-switch window/);
    const retired = firstDecision(state, 'retire');
    assert.match(retired.reason, /^v1:/, 'the old (blue) version is the one retired');
    assert.ok(
      msBetween(switched, retired) >= 3000,
      `retired ${msBetween(switched, retired)} ms after the switch`,
    );
    assert.ok(
      msBetween(watched, retired) >= 3000,
      `retired ${msBetween(watched, retired)} ms after the post-switch window: the delay runs after it`,
    );
    // The router agrees: blue stayed in its table (at 0%, ready to switch back) for the delay.
    const changes = effectiveChanges(first.stats.splitHistory);
    const switchAt = changes.find((c) => c.stableVersion === 'v2' && c.canaryVersion === 'v1');
    const dropBlueAt = changes.find((c) => c.stableVersion === 'v2' && c.canaryVersion === null);
    assert.ok(switchAt && dropBlueAt, JSON.stringify(changes));
    assert.equal(switchAt.canaryWeight, 0);
    assert.ok(
      dropBlueAt.at - switchAt.at >= 3000,
      `blue left the router ${dropBlueAt.at - switchAt.at} ms after the switch`,
    );

    // The next rollout finds green live and deploys to blue. Blue's process still answers as "v1";
    // the router labels its traffic by the split's version, v3.
    stack.v1.setFaults({ ...DEFAULT_FAULTS });
    const next = await runBlueGreen(env, stack, fastBlueGreenSpec(stack, 'bg-good', { version: 'v3' }));
    assert.equal(next.result.outcome, 'promoted', explain(next.result.state));
    assert.deepEqual(next.result.state.environments, { live: 'green', idle: 'blue' });
    assert.equal(next.result.state.stableVersion, 'v2');
    assert.ok(
      carriesAll(next.split, blueRoute(stack, 'v3')),
      `blue's targets carry 100% as v3: ${JSON.stringify(next.split)}`,
    );
    assert.equal(next.split.canary, null);
    assert.match(firstDecision(next.result.state, 'retire').reason, /^v2:/, 'green (v2) retired this time');
    assert.ok((next.stats.versions.v3?.requests ?? 0) > 0, 'users reached v3 on blue');
  });

  for (const [check, faults] of [
    ['health', { failHealth: true }],
    ['smoke', { failSmoke: true }],
  ] as const) {
    it(`keeps blue at 100% for the whole run when green fails ${check}`, async () => {
      const { env, stack } = suite;
      stack.v2.setFaults(faults);
      const { result, samples, stats, watch } = await runBlueGreen(
        env,
        stack,
        fastBlueGreenSpec(stack, `bg-fails-${check}`),
        undefined,
        // These runs end within a second: sample densely. The router's own change history below
        // covers every moment in between.
        25,
      );
      assert.equal(result.outcome, 'failed', explain(result.state));
      assert.match(firstDecision(result.state, check).reason, check === 'health' ? /^unhealthy/ : /^failed/);
      assert.match(firstDecision(result.state, 'rollback').reason, /never received traffic/);
      assert.ok(samples.length >= 3, `sampled the router ${samples.length} times`);
      for (const [i, s] of samples.entries()) {
        assert.equal(s.weights.canary, 0, `sample ${i}: green weight 0`);
        assert.ok(carriesAll(s, blueRoute(stack)), `sample ${i}: blue v1 at 100%: ${JSON.stringify(s)}`);
      }
      assert.equal(stats.versions.v2?.requests ?? 0, 0, 'the router sent no request to v2');
      assert.ok((stats.versions.v1?.requests ?? 0) > 0, 'users were served by blue meanwhile');
      assert.deepEqual(stats.splitHistory, [], 'the rollout never changed the router');
      await watch.check({ outcome: 'failed', stableVersion: 'v1', canaryVersion: 'v2', state: result.state });
    });
  }

  it('sends a bad validation slice back to blue; green never gets past the slice', async () => {
    const { env, stack } = suite;
    stack.v2.setFaults({ errorRate: 0.5 });
    const { result, samples, split, stats, watch } = await runBlueGreen(
      env,
      stack,
      fastBlueGreenSpec(stack, 'bg-bad-slice', { validation: { weight: 10, window: '5s' } }),
    );
    assert.equal(result.outcome, 'rolled_back', explain(result.state));
    assert.match(firstDecision(result.state, 'rollback').reason, /error-rate/);
    assert.equal(decisionsOf(result.state, 'promote').length, 0, 'no switch was made');
    assert.ok(carriesAll(split, blueRoute(stack)), `final split: blue v1 at 100%: ${JSON.stringify(split)}`);
    assert.deepEqual(split.weights, { stable: 100, canary: 0 });
    for (const [i, s] of samples.entries()) {
      assert.ok(s.weights.canary <= 10, `sample ${i}: green at ${s.weights.canary}%`);
      assert.equal(s.stable?.version, 'v1', `sample ${i}: v1 stays the stable version`);
    }
    assert.ok(
      samples.some((s) => s.weights.canary === 10),
      'the sampler saw the 10% slice (the test can tell a slice from none)',
    );
    // The router's own record: 10% then back to 0, and never v2 as stable.
    const changes = effectiveChanges(stats.splitHistory);
    assert.deepEqual(
      changes.map((c) => [c.stableVersion, c.canaryVersion, c.canaryWeight]),
      [
        ['v1', 'v2', 10],
        ['v1', 'v2', 0],
      ],
    );
    assert.ok((stats.versions.v2?.errors ?? 0) > 0, 'green failed real user requests in the slice');
    await watch.check({ outcome: 'rolled_back', stableVersion: 'v1', canaryVersion: 'v2' });
  });
});
