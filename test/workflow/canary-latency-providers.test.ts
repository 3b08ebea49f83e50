import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Verdict } from '../../src/analysis/types';
import { assertRolledBackOnLatency, runLatencyCanary } from '../helpers/latency-canary';
import { type PrometheusHandle, startPrometheus } from '../helpers/prometheus';
import type { Stack } from '../helpers/stack';
import { createTemporalEnv } from '../helpers/temporal';

const stages = { stages: [25, 50, 100] };

describe('latency-only regressions through every metrics provider (real dev server, router and services)', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await createTemporalEnv();
  });
  after(async () => {
    await env?.teardown();
  });

  it('http provider: slow counts per bound from a JSON endpoint (the router admin API) roll back a 2× slower canary', async () => {
    const run = await runLatencyCanary(env, {
      service: 'slow-http-metrics',
      v1: { latencyMs: 20 },
      v2: { latencyMs: 40 },
      rps: 20,
      warmupMs: 3000,
      spec: (stack: Stack) => ({
        ...stages,
        monitoring: { window: '30s', interval: '1s', minCanaryRequests: 20, maxWindow: '60s' },
        metrics: {
          provider: 'http',
          url: `${stack.router.adminUrl}/admin/metrics?version={{version}}&sinceMs={{sinceMs}}&untilMs={{untilMs}}&slowerThanMs={{slowerThanMs}}`,
          fields: {
            requests: '$.requests',
            errors: '$.errors',
            p50Ms: '$.p50Ms',
            p99Ms: '$.p99Ms',
            slowRequests: '$.slowRequests',
          },
        },
      }),
    });
    assertRolledBackOnLatency(run);
  });

  it('prometheus provider: slow counts from the histogram buckets roll back a 2× slower canary', async () => {
    let prometheus: PrometheusHandle | undefined;
    try {
      const run = await runLatencyCanary(env, {
        service: 'slow-prometheus-metrics',
        v1: { latencyMs: 20 },
        v2: { latencyMs: 40 },
        rps: 20,
        warmupMs: 4000,
        setUp: async (stack) => {
          const targets = [stack.v1.url, stack.v2.url].map((u) => new URL(u).host);
          prometheus = await startPrometheus({ targets, scrapeIntervalSeconds: 1 });
          await prometheus.waitForScrapesAfter(Date.now());
        },
        spec: () => ({
          ...stages,
          monitoring: { window: '40s', interval: '2s', minCanaryRequests: 20, maxWindow: '80s' },
          metrics: { provider: 'prometheus', url: prometheus!.url, minRange: '3s' },
        }),
      });
      assertRolledBackOnLatency(run);
      // The demo histogram's edges are 10, 25 and 50 ms: a 40 ms canary is above 25 ms, a 20 ms stable below.
      const rollback = run.result.state.decisions.find((d) => d.kind === 'rollback');
      assert.ok(((rollback?.evidence as Verdict).canary.p99Ms ?? 0) > 25);
    } finally {
      await prometheus?.stop();
    }
  });
});
