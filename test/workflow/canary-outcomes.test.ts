import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startCanary } from '../../src/client/rollouts';
import type { RolloutResult } from '../../src/workflows/state';
import { fastCanarySpec } from '../helpers/spec';
import { sampleSplits, Stack } from '../helpers/stack';
import { createTemporalEnv } from '../helpers/temporal';
import { createWorker, uniqueTaskQueue } from '../helpers/worker';
import { eventually } from '../helpers/eventually';

describe('canary rollout outcomes (real dev server, router and services)', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await createTemporalEnv();
  });
  after(async () => {
    await env?.teardown();
  });

  async function run(service: string, v2Faults: Parameters<typeof Stack.start>[0], specOverrides = {}) {
    const stack = await Stack.start(v2Faults);
    const taskQueue = uniqueTaskQueue(service);
    const worker = await createWorker(env, taskQueue);
    stack.startUsers(60);
    const sampler = sampleSplits(stack);
    try {
      const spec = fastCanarySpec(stack, { service, ...specOverrides });
      const handle = await startCanary(env.client, spec, taskQueue);
      const result = (await worker.runUntil(handle.result())) as RolloutResult;
      const samples = sampler.stop();
      await stack.traffic?.stop();
      return { result, samples, split: await stack.split(), stats: await stack.stats(), stack };
    } finally {
      sampler.stop();
      await stack.close();
    }
  }

  it('rolls a bad canary back by itself at the first stage', async () => {
    const { result, split, stats, samples } = await run('bad-canary', { errorRate: 0.5 });
    assert.equal(result.outcome, 'rolled_back');
    assert.equal(result.state.phase, 'rolled-back');
    assert.deepEqual(split.weights, { stable: 100, canary: 0 });
    assert.equal(split.stable?.version, 'v1');
    // It never got past the first stage's 20%.
    assert.ok(
      samples.every((s) => s.weights.canary <= 20),
      'canary weight rose above the first stage',
    );
    const rollback = result.state.decisions.find((d) => d.kind === 'rollback');
    assert.ok(rollback, 'a rollback decision is recorded');
    assert.match(rollback.reason, /error-rate/);
    const verdict = result.state.lastVerdict;
    assert.equal(verdict?.result, 'fail');
    assert.ok((verdict?.canary.errors ?? 0) > 0, 'evidence carries the counts');
    const errorCheck = verdict?.checks.find((c) => c.name === 'error-rate');
    assert.ok(
      errorCheck &&
        errorCheck.passed === false &&
        (errorCheck.statistic ?? 0) >= (errorCheck.limit ?? Infinity),
    );
    assert.ok((stats.versions.v2?.errors ?? 0) > 0, 'the router saw the canary fail');
    assert.equal(result.state.weights.canary, 0);
  });

  it('catches a bad canary mid-window, long before the window ends', async () => {
    const { result } = await run(
      'mid-window',
      { errorRate: 0.3 },
      {
        monitoring: { window: '60s', interval: '1s', minCanaryRequests: 50 },
      },
    );
    assert.equal(result.outcome, 'rolled_back');
    const setWeight = result.state.decisions.find((d) => d.kind === 'set-weight' && d.weight === 20);
    const rollback = result.state.decisions.find((d) => d.kind === 'rollback');
    assert.ok(setWeight && rollback);
    const caughtAfterMs = Date.parse(rollback.at) - Date.parse(setWeight.at);
    assert.ok(caughtAfterMs < 15_000, `caught ${caughtAfterMs} ms into a 60 s window`);
    // Sequential mode: the rollback came before the canary reached minCanaryRequests.
    assert.match(rollback.reason, /error-rate: .*Bayes factor/);
  });

  it('promotes a good canary through every stage', async () => {
    const { result, split, samples } = await run('good-canary', {});
    assert.equal(result.outcome, 'promoted');
    assert.equal(split.stable?.version, 'v2');
    assert.equal(split.weights.stable, 100);
    const weights = result.state.decisions.filter((d) => d.kind === 'set-weight').map((d) => d.weight);
    assert.deepEqual(weights, [20, 50, 100]);
    assert.equal(result.state.decisions.filter((d) => d.kind === 'advance').length, 2);
    assert.ok(
      result.state.decisions.some((d) => d.kind === 'retire' && /v1/.test(d.reason)),
      'v1 retired after stabilization',
    );
    for (const s of samples) assert.equal(s.weights.stable + s.weights.canary, 100);
    // Search attributes let the Web UI filter rollouts by service, strategy, phase and weight.
    const listed = await eventually(
      async () => {
        const found = [];
        for await (const wf of env.client.workflow.list({
          query: `RolloutService = "good-canary" AND RolloutStrategy = "canary" AND RolloutPhase = "promoted" AND CanaryWeight = 100`,
        }))
          found.push(wf.workflowId);
        return found.length > 0 && found;
      },
      10_000,
      'the promoted rollout in a search-attribute query',
    );
    assert.deepEqual(listed, ['rollout-good-canary']);
  });

  for (const [name, faults] of [
    ['health', { failHealth: true }],
    ['smoke', { failSmoke: true }],
  ] as const) {
    it(`keeps a canary that fails ${name} at 0% for the whole run`, async () => {
      const { result, samples, stats } = await run(`fails-${name}`, faults);
      assert.equal(result.outcome, 'failed');
      assert.ok(samples.length > 0);
      assert.ok(
        samples.every((s) => s.weights.canary === 0),
        'the canary weight was never above 0',
      );
      assert.equal(stats.versions.v2?.requests ?? 0, 0, 'no user request reached v2');
      assert.ok(result.state.decisions.some((d) => d.kind === name));
    });
  }
});
