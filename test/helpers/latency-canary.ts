import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { CheckEvidence, Verdict } from '../../src/analysis/types';
import { startCanary } from '../../src/client/rollouts';
import type { Faults } from '../../src/demo/service';
import type { CanarySpecInput } from '../../src/spec/canary';
import type { RolloutResult } from '../../src/workflows/state';
import { fastCanarySpec } from './spec';
import { sampleSplits, Stack } from './stack';
import { createWorker, uniqueTaskQueue } from './worker';

export const latencyCheckOf = (verdict: unknown): CheckEvidence | undefined =>
  (verdict as Verdict | undefined)?.checks.find((c) => c.name === 'latency');

export interface LatencyCanaryOptions {
  service: string;
  v1: Partial<Faults>;
  v2: Partial<Faults>;
  rps: number;
  /** Users before the rollout starts: what the stable version's latency reference is read from. */
  warmupMs: number;
  spec: (stack: Stack) => Partial<CanarySpecInput>;
  /** Runs once the stack is up, before users start (e.g. a Prometheus that scrapes v1 and v2). */
  setUp?: (stack: Stack) => Promise<void>;
}

/** One canary rollout on a real stack (router, v1, v2, users) with an in-process worker. */
export async function runLatencyCanary(env: TestWorkflowEnvironment, options: LatencyCanaryOptions) {
  const stack = await Stack.start(options.v2, options.v1);
  const taskQueue = uniqueTaskQueue(options.service);
  const worker = await createWorker(env, taskQueue);
  const sampler = sampleSplits(stack);
  try {
    await options.setUp?.(stack);
    // v1 is live before the rollout, as in production: the warm-up traffic is its latency history.
    await stack.routeAllToV1();
    stack.startUsers(options.rps, 180_000);
    await new Promise((r) => setTimeout(r, options.warmupMs));
    const spec = fastCanarySpec(stack, { service: options.service, ...options.spec(stack) });
    const handle = await startCanary(env.client, spec, taskQueue);
    const result = (await worker.runUntil(handle.result())) as RolloutResult;
    const samples = sampler.stop();
    await stack.traffic?.stop();
    return { result, samples, split: await stack.split(), stats: await stack.stats() };
  } finally {
    sampler.stop();
    await stack.close();
  }
}

type Run = Awaited<ReturnType<typeof runLatencyCanary>>;

/** A canary 2× slower than stable, no errors: rolled back on latency alone, and never past stage 1. */
export function assertRolledBackOnLatency({ result, split, stats, samples }: Run): void {
  assert.equal(result.outcome, 'rolled_back', result.state.details);
  const rollback = result.state.decisions.find((d) => d.kind === 'rollback');
  assert.ok(rollback);
  assert.match(rollback.reason, /^latency: /);
  const latency = latencyCheckOf(rollback.evidence);
  assert.equal(latency?.passed, false);
  assert.ok((latency?.statistic ?? 0) >= (latency?.limit ?? Infinity));
  const errors = (rollback.evidence as Verdict).checks.find((c) => c.name === 'error-rate');
  assert.equal(errors?.passed, true, 'no error evidence: latency alone rolled it back');
  assert.equal(stats.versions.v2?.errors ?? 0, 0);
  assert.deepEqual(split.weights, { stable: 100, canary: 0 });
  assert.equal(split.stable?.version, 'v1');
  assert.ok(
    samples.every((s) => s.weights.canary <= 25),
    'never past the first stage',
  );
}
