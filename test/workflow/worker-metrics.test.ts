import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { abortRollout, readState, resumeRollout, startCanary } from '../../src/client/rollouts';
import { freePort } from '../../src/devserver/free-port';
import type { RolloutResult } from '../../src/workflows/state';
import { eventually } from '../helpers/eventually';
import { type PrometheusHandle, startPrometheus } from '../helpers/prometheus';
import { fastCanarySpec } from '../helpers/spec';
import { Stack } from '../helpers/stack';
import { createTemporalEnv } from '../helpers/temporal';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';
import { uniqueTaskQueue } from '../helpers/worker';
import { type KillableWorker, startKillableWorker } from '../helpers/worker-process';

/** One number from an instant query: the sum over the series it selects, or null when none match. */
async function value(prometheus: PrometheusHandle, promql: string): Promise<number | null> {
  const samples = await prometheus.query(promql);
  if (samples.length === 0) return null;
  return samples.reduce((sum, sample) => sum + Number(sample.value[1]), 0);
}

/**
 * The worker process as operators run it (src/worker/main.ts with ROLLOUT_METRICS_ADDRESS), scraped
 * every second by a real Prometheus while real rollouts run through the real router.
 */
describe('worker metrics, scraped by a real Prometheus', { timeout: 300_000 }, () => {
  let env: TestWorkflowEnvironment;
  let worker: KillableWorker | undefined;
  let prometheus: PrometheusHandle | undefined;
  let metricsAddress: string;
  let taskQueue: string;
  let hook: WebhookReceiver | undefined;
  before(async () => {
    env = await createTemporalEnv();
    // An alert hook that is down: every post fails, and the worker counts each failed attempt.
    hook = await startWebhookReceiver({ '/down': { status: 503 } });
    metricsAddress = `127.0.0.1:${await freePort()}`;
    taskQueue = uniqueTaskQueue('metrics');
    worker = await startKillableWorker({
      address: env.address,
      taskQueue,
      env: { ROLLOUT_METRICS_ADDRESS: metricsAddress, METRICS_TEST_HOOK_URL: `${hook.origin}/down` },
    });
    prometheus = await startPrometheus({ targets: [metricsAddress], scrapeIntervalSeconds: 1 });
  });
  after(async () => {
    await prometheus?.stop();
    await worker?.kill();
    await hook?.close();
    await env?.teardown();
  });

  /** Waits for two scrapes that began after now, so the series hold everything done before. */
  async function scrapedNow(): Promise<void> {
    await prometheus!.waitForScrapesAfter(Date.now());
    await prometheus!.waitForScrapesAfter(Date.now());
  }

  it('serves the SDK runtime metrics and nothing is scraped before a rollout', async () => {
    await scrapedNow();
    const up = await value(prometheus!, `up{instance="${metricsAddress}"}`);
    assert.equal(up, 1, 'Prometheus scrapes the worker');
    // The SDK's own runtime metrics come through the same exporter.
    const slots = await prometheus!.query(`temporal_worker_task_slots_available{task_queue="${taskQueue}"}`);
    assert.ok(slots.length > 0, 'the SDK reports its task slots');
    assert.equal(await value(prometheus!, 'rollout_started_total'), null, 'no rollout counted yet');
  });

  it('a bad canary: started, verdicts, the weight it reached, rolled back, and how fast', async () => {
    const stack = await Stack.start({ errorRate: 0.5 });
    try {
      stack.startUsers(60);
      const spec = fastCanarySpec(stack, {
        service: 'metrics-bad',
        notify: { webhookUrlEnv: 'METRICS_TEST_HOOK_URL' },
      });
      const handle = await startCanary(env.client, spec, taskQueue);
      // While it runs, the weight gauge shows the first stage.
      await eventually(
        async () => (await value(prometheus!, 'rollout_canary_weight{service="metrics-bad"}')) === 20,
        60_000,
        'rollout_canary_weight at the first stage',
      );
      const result = (await handle.result()) as RolloutResult;
      assert.equal(result.outcome, 'rolled_back');
      await scrapedNow();
      const service = 'service="metrics-bad"';
      assert.equal(await value(prometheus!, `rollout_started_total{${service},strategy="canary"}`), 1);
      assert.equal(
        await value(prometheus!, `rollout_ended_total{${service},strategy="canary",outcome="rolled_back"}`),
        1,
      );
      assert.equal(await value(prometheus!, `rollout_canary_weight{${service}}`), 0);
      assert.equal(await value(prometheus!, `rollout_phase{${service},phase="rolled-back"}`), 1);
      assert.equal(await value(prometheus!, `rollout_phase{${service},phase="monitoring"}`), 0);
      // One verdict per poll, by result: exactly the polls the state counted, and the last one failed.
      const fails = await value(prometheus!, `rollout_verdicts_total{${service},result="fail"}`);
      const all = await value(prometheus!, `rollout_verdicts_total{${service}}`);
      assert.equal(fails, 1);
      assert.equal(all, result.state.verdictCount);
      // Both rollback histograms saw this rollback, within the time the state says it took.
      assert.equal(await value(prometheus!, `rollout_rollback_convergence_seconds_count{${service}}`), 1);
      assert.equal(await value(prometheus!, `rollout_failure_to_rollback_seconds_count{${service}}`), 1);
      const seconds = await value(prometheus!, `rollout_failure_to_rollback_seconds_sum{${service}}`);
      const rollback = result.state.decisions.find((d) => d.kind === 'rollback');
      assert.ok(rollback && result.state.firstFailureAt && seconds !== null);
      assert.ok(Date.parse(rollback.at) >= Date.parse(result.state.firstFailureAt));
      assert.ok(seconds >= 0 && seconds < 30, `first failure to rollback took ${seconds}s`);
      assert.equal(await value(prometheus!, `rollout_holds_waiting{${service}}`), 0);
      // Every failed alert post is counted: started and rolled_back, each tried its 4 times.
      const posts = hook!.postsTo('/down').length;
      assert.equal(posts, 8);
      assert.equal(
        await value(prometheus!, `rollout_notification_failures_total{${service},sink="json"}`),
        posts,
      );
      assert.equal(
        await value(prometheus!, `rollout_notification_failures_total{${service},event="rolled_back"}`),
        4,
      );
    } finally {
      await stack.close();
    }
  });

  it('a hold for a human shows in rollout_holds_waiting until it is resumed', async () => {
    // No users: every window ends inconclusive, and onInconclusive: pause holds for a human.
    const stack = await Stack.start();
    try {
      const spec = fastCanarySpec(stack, {
        service: 'metrics-hold',
        monitoring: { window: '5s', interval: '1s', minCanaryRequests: 15, onInconclusive: 'pause' },
      });
      const handle = await startCanary(env.client, spec, taskQueue);
      await eventually(
        async () => (await readState(env.client, 'metrics-hold')).window?.holdingForInconclusive === true,
        60_000,
        'the inconclusive hold',
      );
      await eventually(
        async () => (await value(prometheus!, 'rollout_holds_waiting{service="metrics-hold"}')) === 1,
        20_000,
        'rollout_holds_waiting at 1',
      );
      await resumeRollout(env.client, 'metrics-hold');
      await eventually(
        async () => (await value(prometheus!, 'rollout_holds_waiting{service="metrics-hold"}')) === 0,
        20_000,
        'rollout_holds_waiting back to 0 after the resume',
      );
      await abortRollout(env.client, 'metrics-hold', 'test over');
      const result = (await handle.result()) as RolloutResult;
      assert.equal(result.outcome, 'aborted');
      await scrapedNow();
      assert.equal(
        await value(prometheus!, 'rollout_ended_total{service="metrics-hold",outcome="aborted"}'),
        1,
      );
      // An abort with no failing check is no failure: only the convergence histogram counts it.
      assert.equal(
        await value(prometheus!, 'rollout_rollback_convergence_seconds_count{service="metrics-hold"}'),
        1,
      );
      assert.equal(
        await value(prometheus!, 'rollout_failure_to_rollback_seconds_count{service="metrics-hold"}'),
        null,
      );
    } finally {
      await stack.close();
    }
  });
  it('a worker restart replays the history without counting anything twice', async () => {
    const stack = await Stack.start();
    try {
      stack.startUsers(60);
      const service = 'service="metrics-replay"';
      const spec = fastCanarySpec(stack, {
        service: 'metrics-replay',
        stages: [20, 50, 100],
        monitoring: { window: '5s', interval: '1s', minCanaryRequests: 15 },
      });
      const handle = await startCanary(env.client, spec, taskQueue);
      await eventually(
        async () => (await readState(env.client, 'metrics-replay')).verdictCount >= 3,
        60_000,
        'a few verdicts before the restart',
      );
      await eventually(
        async () => ((await value(prometheus!, `rollout_verdicts_total{${service}}`)) ?? 0) >= 3,
        20_000,
        'the first worker exported its verdicts',
      );
      // SIGKILL, then a new worker process on the same address: it replays the whole history.
      await worker!.kill();
      worker = await startKillableWorker({
        address: env.address,
        taskQueue,
        env: { ROLLOUT_METRICS_ADDRESS: metricsAddress },
      });
      const result = (await handle.result()) as RolloutResult;
      assert.equal(result.outcome, 'promoted');
      await scrapedNow();
      // The new process counts only what it did itself: the start, and the polls before the
      // restart, were the first process's, and replaying them emitted nothing.
      assert.equal(await value(prometheus!, `rollout_started_total{${service}}`), null);
      assert.equal(await value(prometheus!, `rollout_ended_total{${service},outcome="promoted"}`), 1);
      const verdicts = await value(prometheus!, `rollout_verdicts_total{${service}}`);
      assert.ok(
        verdicts !== null && verdicts >= 1 && verdicts <= result.state.verdictCount - 3,
        `the new worker counted ${verdicts} of ${result.state.verdictCount} verdicts`,
      );
      // Promoted: the new version carries everything.
      assert.equal(await value(prometheus!, `rollout_canary_weight{${service}}`), 100);
      assert.equal(await value(prometheus!, `rollout_phase{${service},phase="promoted"}`), 1);
    } finally {
      await stack.close();
    }
  });
});
