import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { abortRollout, readState, startCanary } from '../../src/client/rollouts';
import type { RolloutResult } from '../../src/workflows/state';
import { eventually } from '../helpers/eventually';
import { fastCanarySpec } from '../helpers/spec';
import { Stack } from '../helpers/stack';
import { createTemporalEnv } from '../helpers/temporal';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';
import { createWorker, uniqueTaskQueue } from '../helpers/worker';

const SLACK_ENV = 'ALERTS_TEST_SLACK_URL';
const JSON_ENV = 'ALERTS_TEST_JSON_URL';
const WEB_UI = 'http://127.0.0.1:8233';
const DASHBOARD = 'http://127.0.0.1:8090';

interface SlackWire {
  text: string;
  blocks: { type: string; text?: { text: string }; elements?: { text: string }[] }[];
}

/** Everything a Slack message shows, blocks and fallback, as one string to match on. */
function slackText(body: unknown): string {
  const { text, blocks } = body as SlackWire;
  const parts = blocks.flatMap((b) => [b.text?.text ?? '', ...(b.elements ?? []).map((e) => e.text)]);
  return [text, ...parts].join('\n');
}

function jsonEvents(receiver: WebhookReceiver, path: string): string[] {
  return receiver.postsTo(path).map((post) => (post.body as { event: string }).event);
}

/**
 * Alerts from real rollouts on a real dev server, posted over HTTP to a local receiver. The worker
 * runs in this process, so the sinks' URLs are this process's environment, as they are the worker's.
 */
describe('alerts on the wire (real dev server, router and receiver)', { timeout: 240_000 }, () => {
  let env: TestWorkflowEnvironment;
  let receiver: WebhookReceiver;
  const saved = { ...process.env };
  before(async () => {
    env = await createTemporalEnv();
    // The JSON hook is broken and slow: every attempt waits 2 s, then fails with a 500.
    receiver = await startWebhookReceiver({ '/json-broken': { status: 500, delayMs: 2000 } });
    process.env[SLACK_ENV] = `${receiver.origin}/slack`;
    process.env[JSON_ENV] = `${receiver.origin}/json-broken`;
    process.env.ROLLOUT_WEB_UI_URL = WEB_UI;
    process.env.ROLLOUT_DASHBOARD_URL = DASHBOARD;
  });
  after(async () => {
    process.env = saved;
    await receiver?.close();
    await env?.teardown();
  });

  it('a bad canary: rolled back with its numbers in Slack, never held up by a broken hook', async () => {
    const stack = await Stack.start({ errorRate: 0.5 });
    const taskQueue = uniqueTaskQueue('alerts-bad');
    const worker = await createWorker(env, taskQueue);
    stack.startUsers(60);
    try {
      const spec = fastCanarySpec(stack, {
        service: 'alerts-bad',
        notify: { slackWebhookUrlEnv: SLACK_ENV, webhookUrlEnv: JSON_ENV },
      });
      const handle = await startCanary(env.client, spec, taskQueue);
      const result = (await worker.runUntil(async () => {
        // Rolled back, stable at 100%, while the broken hook is still being retried: the alerts
        // did not hold the rollback, and the workflow waits for them only after it.
        await eventually(
          async () => (await readState(env.client, 'alerts-bad')).outcome === 'rolled_back',
          60_000,
          'the rollback',
        );
        assert.deepEqual((await stack.split()).weights, { stable: 100, canary: 0 });
        assert.equal((await handle.describe()).status.name, 'RUNNING', 'alerts still in flight');
        return handle.result();
      })) as RolloutResult;
      assert.equal(result.outcome, 'rolled_back');

      // Bounded retries: each JSON event was tried exactly 4 times, then given up.
      const tried = jsonEvents(receiver, '/json-broken');
      assert.deepEqual(tried.filter((e) => e === 'started').length, 4, `json attempts: ${tried.join(', ')}`);
      assert.equal(tried.filter((e) => e === 'rolled_back').length, 4);
      // The rollback was decided and done while the first alert was still being retried: with
      // awaited alerts it could only begin after the 4th attempt of `started` (≥ 15 s in).
      const lastStartedAttempt = receiver
        .postsTo('/json-broken')
        .filter((post) => (post.body as { event: string }).event === 'started')
        .at(-1)!.at;
      const restored = result.state.decisions
        .filter((d) => d.kind === 'set-weight' && /stable 100%/.test(d.reason))
        .at(-1);
      assert.ok(restored, 'stable restored');
      assert.ok(
        Date.parse(restored.at) < lastStartedAttempt,
        `stable restored at ${restored.at}, the last attempt of the first alert came at ${new Date(lastStartedAttempt).toISOString()}`,
      );

      // Slack got one message per event, the rollback with the numbers that decided it.
      const slack = receiver.postsTo('/slack').map((post) => slackText(post.body));
      assert.equal(slack.length, 2, slack.join('\n---\n'));
      assert.match(slack[0]!, /rollout started/);
      const rolledBack = slack[1]!;
      assert.match(
        rolledBack,
        /canary \d+(\.\d)?% errors vs stable \d+(\.\d)?% over \d+ requests, Bayes factor [\d.e+]+ ≥ \d+/,
      );
      const verdict = result.state.lastVerdict!;
      assert.ok(rolledBack.includes(`over ${verdict.canary.requests} requests`), rolledBack);
      assert.ok(rolledBack.includes(`${WEB_UI}/namespaces/default/workflows/rollout-alerts-bad`));
      assert.ok(rolledBack.includes(`${DASHBOARD}/rollouts/rollout-alerts-bad`));
      assert.ok(!rolledBack.includes(receiver.origin), 'no hook URL in a message');
    } finally {
      await stack.close();
    }
  });

  it('a hold for a human: the commands to resume or abort, and the links', async () => {
    // No users: the window ends inconclusive, and onInconclusive: pause holds for a human.
    const stack = await Stack.start();
    const taskQueue = uniqueTaskQueue('alerts-held');
    const worker = await createWorker(env, taskQueue);
    try {
      const spec = fastCanarySpec(stack, {
        service: 'alerts-held',
        monitoring: { window: '2s', interval: '500ms', minCanaryRequests: 15, onInconclusive: 'pause' },
        notify: { slackWebhookUrlEnv: SLACK_ENV },
      });
      const before = receiver.postsTo('/slack').length;
      const jsonBefore = receiver.postsTo('/json-broken').length;
      const handle = await startCanary(env.client, spec, taskQueue);
      const result = (await worker.runUntil(async () => {
        await eventually(
          async () => receiver.postsTo('/slack').length >= before + 2,
          60_000,
          'the held alert',
        );
        await abortRollout(env.client, 'alerts-held', 'test over');
        return handle.result();
      })) as RolloutResult;
      assert.equal(result.outcome, 'aborted');
      const slack = receiver
        .postsTo('/slack')
        .slice(before)
        .map((post) => slackText(post.body));
      const held = slack.find((text) => /held for a human/.test(text));
      assert.ok(held, slack.join('\n---\n'));
      assert.ok(held.includes('`rollout resume alerts-held`'), held);
      assert.ok(held.includes('`rollout abort alerts-held --reason "..."`'), held);
      assert.ok(held.includes(`${DASHBOARD}/rollouts/rollout-alerts-held`), held);
      assert.ok(held.includes(`${WEB_UI}/namespaces/default/workflows/rollout-alerts-held`), held);
      assert.ok(
        slack.some((text) => /aborted/.test(text)),
        'the abort is announced',
      );
      // No JSON sink in this spec: nothing was posted there for this rollout.
      assert.equal(receiver.postsTo('/json-broken').length, jsonBefore);
    } finally {
      await stack.close();
    }
  });
});
