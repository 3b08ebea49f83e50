import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Decision } from '../../src/workflows/state';
import {
  assertRolledBackOnLatency,
  latencyCheckOf,
  type LatencyCanaryOptions,
  runLatencyCanary,
} from '../helpers/latency-canary';
import { createTemporalEnv } from '../helpers/temporal';

/** About 7 requests/s in all: the issue's low-traffic service. */
const LOW_RPS = 7;

describe('latency-only regressions at low traffic (real dev server, router and services)', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await createTemporalEnv();
  });
  after(async () => {
    await env?.teardown();
  });

  const run = (options: Omit<LatencyCanaryOptions, 'rps'>) =>
    runLatencyCanary(env, { rps: LOW_RPS, ...options });

  it('rolls back a canary 2× slower with no errors, on latency alone, at ~7 requests/s', async () => {
    const run7 = await run({
      service: 'slow-low-traffic',
      v1: { latencyMs: 20 },
      v2: { latencyMs: 40 },
      warmupMs: 8000,
      spec: () => ({
        stages: [25, 50, 100],
        monitoring: { window: '30s', interval: '2s', minCanaryRequests: 20, maxWindow: '60s' },
      }),
    });
    assertRolledBackOnLatency(run7);
    // Armed before the canary served anyone: the reference came from v1's traffic before the rollout.
    const rollback = run7.result.state.decisions.find((d) => d.kind === 'rollback');
    assert.match(latencyCheckOf(rollback?.evidence)?.note ?? '', /before the rollout/);
  });

  it('never passes a stage before the latency check is armed, and promotes a good canary at low traffic', async () => {
    const { result, split } = await run({
      service: 'unarmed-low-traffic',
      v1: { latencyMs: 20 },
      v2: { latencyMs: 20 },
      // Hardly any traffic before the rollout: a reference of a handful of requests at most, and
      // stage 1 may not pass before the latency test has judged minCanaryRequests in it.
      warmupMs: 0,
      spec: () => ({
        stages: [25, 50, 100],
        monitoring: { window: '4s', interval: '1s', minCanaryRequests: 8, maxWindow: '40s' },
      }),
    });
    assert.equal(result.outcome, 'promoted', result.state.details);
    assert.equal(split.stable?.version, 'v2');
    const advances = result.state.decisions.filter((d) => d.kind === 'advance');
    assert.equal(advances.length, 2);
    for (const advance of advances) {
      const latency = latencyCheckOf(advance.evidence);
      assert.equal(latency?.passed, true, `advanced with latency ${JSON.stringify(latency)}`);
      assert.equal(latency?.unarmed, undefined);
    }
    // At window end of stage 1 the latency test had not judged enough yet: the window was extended.
    const unarmedExtend = result.state.decisions.find(
      (d: Decision) =>
        d.kind === 'extend' && d.stage === 0 && latencyCheckOf(d.evidence)?.unarmed !== undefined,
    );
    assert.ok(
      unarmedExtend,
      `an extension while latency was unarmed: ${result.state.decisions.map((d) => `${d.kind}: ${d.reason}`).join('\n')}`,
    );
  });

  it('never passes when the metrics source counts no slow requests: onInconclusive applies', async () => {
    const { result, split, samples } = await run({
      service: 'no-latency-data',
      v1: { latencyMs: 20 },
      v2: { latencyMs: 20 },
      warmupMs: 3000,
      spec: (stack) => ({
        stages: [25, 100],
        monitoring: {
          window: '3s',
          interval: '1s',
          minCanaryRequests: 5,
          maxWindow: '6s',
          onInconclusive: 'rollback',
        },
        // A real JSON endpoint (the router's own admin API) read through the http provider, whose
        // slowRequests path names a field the endpoint never has: no slow counts, ever.
        metrics: {
          provider: 'http',
          url: `${stack.router.adminUrl}/admin/metrics?version={{version}}&sinceMs={{sinceMs}}&untilMs={{untilMs}}&slowerThanMs={{slowerThanMs}}`,
          fields: {
            requests: '$.requests',
            errors: '$.errors',
            p50Ms: '$.p50Ms',
            p99Ms: '$.p99Ms',
            slowRequests: '$.noSuchField',
          },
        },
      }),
    });
    assert.equal(result.outcome, 'rolled_back');
    const rollback = result.state.decisions.find((d) => d.kind === 'rollback');
    assert.match(
      rollback?.reason ?? '',
      /still inconclusive .*latency check unarmed: the metrics source reports no slow-request counts/,
    );
    assert.ok(!result.state.decisions.some((d) => d.kind === 'advance'));
    assert.deepEqual(split.weights, { stable: 100, canary: 0 });
    assert.ok(samples.every((s) => s.weights.canary <= 25));
  });
});
