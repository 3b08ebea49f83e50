import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import {
  ApplicationFailure,
  type MetricCounter,
  type MetricMeter,
  type MetricTags,
} from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { createActivities, type NotifyContext, type NotifyInput } from '../../src/activities';
import { initialSequentialState, judgeSequential } from '../../src/analysis/sequential/judge';
import type { Verdict } from '../../src/analysis/types';
import type { JsonEventBody } from '../../src/providers/notify/json-body';
import type { SlackBody } from '../../src/providers/notify/slack-body';
import { DEFAULT_ANALYSIS } from '../../src/spec/analysis';

/**
 * The notify activity as the worker runs it, posting over real HTTP to a local receiver. Temporal's
 * activity context is replaced by MockActivityEnvironment, a test double that supplies the
 * workflow id, namespace and schedule time, and takes a metric meter that records what is counted.
 */

interface Received {
  path: string;
  contentType: string | undefined;
  body: unknown;
}

/** Answers like Slack (200 `ok`), except on paths under /fail/ (500, echoing the path) and /gone/ (404). */
function startReceiver(): Promise<{ server: Server; origin: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '';
      received.push({
        path,
        contentType: req.headers['content-type'],
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      });
      const status = path.startsWith('/fail/') ? 500 : path.startsWith('/gone/') ? 404 : 200;
      res.writeHead(status, { 'content-type': 'text/plain' });
      // A chatty receiver quotes the path, which for a webhook is the secret.
      res.end(status === 200 ? 'ok' : `no such hook ${path}`);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ server, origin: `http://127.0.0.1:${port}`, received });
    });
  });
}

/** Counts what the activity adds, per metric name, with the tags it was added under. */
class RecordingMeter implements MetricMeter {
  readonly added: { name: string; unit?: string; description?: string; value: number; tags: MetricTags }[] =
    [];

  createCounter(name: string, unit?: string, description?: string): MetricCounter {
    const counter: MetricCounter = {
      name,
      unit,
      description,
      kind: 'counter',
      valueType: 'int',
      add: (value, tags = {}) => {
        this.added.push({ name, unit, description, value, tags });
      },
      withTags: () => counter,
    };
    return counter;
  }
  createHistogram(): never {
    throw new Error('the notify activity records no histogram');
  }
  createGauge(): never {
    throw new Error('the notify activity records no gauge');
  }
  withTags(): MetricMeter {
    return this;
  }
}

const SLACK_ENV = 'NOTIFY_TEST_SLACK_URL';
const JSON_ENV = 'NOTIFY_TEST_HOOK_URL';
const SECRET = 'T0000/B0000/XXXXSECRETXXXX';
const SCHEDULED_AT = Date.parse('2025-01-02T03:04:05.000Z');

function failingVerdict(): Verdict {
  return judgeSequential({
    state: initialSequentialState(),
    canary: { version: 'v2', requests: 312, errors: 13, p50Ms: 40, p99Ms: 130 },
    baseline: { version: 'v1', requests: 3000, errors: 3, p50Ms: 40, p99Ms: 120 },
    config: DEFAULT_ANALYSIS,
    minCanaryRequests: 300,
  }).verdict;
}

const EVIDENCE = 'canary 4.2% errors vs stable 0.1% over 312 requests, Bayes factor 3.14e+9 ≥ 200';

const context = (overrides: Partial<NotifyContext> = {}): NotifyContext => ({
  strategy: 'canary',
  stableVersion: 'v1',
  canaryVersion: 'v2',
  phase: 'monitoring',
  stageIndex: 1,
  stages: 3,
  weight: 25,
  verdict: null,
  ...overrides,
});

const input = (overrides: Partial<NotifyInput> = {}): NotifyInput => ({
  service: 'checkout',
  event: 'rolled_back',
  message: 'analysis failed',
  notify: { webhookUrlEnv: JSON_ENV, slackWebhookUrlEnv: SLACK_ENV },
  ...overrides,
});

describe('notify activity against a real HTTP receiver', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let meter: RecordingMeter;
  let logs: LogEntry[];
  let env: MockActivityEnvironment;
  const activities = createActivities();
  const saved = { ...process.env };

  before(async () => {
    receiver = await startReceiver();
  });
  after(() => new Promise<void>((resolve) => receiver.server.close(() => resolve())));

  beforeEach(() => {
    receiver.received.length = 0;
    meter = new RecordingMeter();
    logs = [];
    env = new MockActivityEnvironment(
      {
        workflowExecution: { workflowId: 'rollout-checkout', runId: 'run-1' },
        namespace: 'prod',
        scheduledTimestampMs: SCHEDULED_AT,
      },
      { metricMeter: meter, logger: new DefaultLogger('INFO', (entry) => logs.push(entry)) },
    );
    process.env[SLACK_ENV] = `${receiver.origin}/services/${SECRET}`;
    process.env[JSON_ENV] = `${receiver.origin}/hooks/${SECRET}`;
    process.env.ROLLOUT_WEB_UI_URL = 'http://temporal-ui.internal:8233';
    process.env.ROLLOUT_DASHBOARD_URL = 'https://rollouts.internal/';
  });
  afterEach(() => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  });

  const failures = () => meter.added.filter((a) => a.name === 'rollout_notification_failures');

  test('rolled_back to Slack: the evidence line in the fallback text and in the blocks', async () => {
    const verdict = failingVerdict();
    await env.run(
      activities.notify,
      input({ sink: 'slack', message: verdict.summary, context: context({ weight: 0, verdict }) }),
    );
    assert.equal(receiver.received.length, 1);
    const [post] = receiver.received;
    assert.equal(post?.path, `/services/${SECRET}`);
    assert.equal(post?.contentType, 'application/json');
    const body = post?.body as SlackBody;
    assert.equal(body.text, `:rotating_light: [checkout] rolled back: ${EVIDENCE}`);
    assert.deepEqual(
      body.blocks.map((b) => b.type),
      ['section', 'section', 'section', 'context'],
    );
    const texts = body.blocks.map((b) => (b.type === 'section' ? b.text.text : b.elements[0]?.text));
    assert.equal(texts[0], ':rotating_light: *checkout* rolled back v1 → v2');
    assert.ok(texts[1]?.startsWith(`*Evidence:* ${EVIDENCE}\n`), texts[1]);
    assert.ok(texts[1]?.endsWith('\n*Traffic:* v1 100%, v2 0%'), texts[1]);
    assert.equal(
      texts[2],
      '<http://temporal-ui.internal:8233/namespaces/prod/workflows/rollout-checkout|Temporal Web UI> · ' +
        '<https://rollouts.internal/rollouts/rollout-checkout|Rollout dashboard>',
    );
    assert.equal(
      texts[3],
      'canary · stage 2 of 3 · phase monitoring · workflow `rollout-checkout` in `prod` · 2025-01-02T03:04:05.000Z',
    );
    assert.deepEqual(failures(), []);
  });

  test('held to the JSON webhook: the commands, the links and the rollout on the wire', async () => {
    await env.run(
      activities.notify,
      input({
        sink: 'json',
        event: 'held',
        message: 'held: inconclusive',
        context: context({ phase: 'paused' }),
      }),
    );
    assert.equal(receiver.received.length, 1);
    assert.equal(receiver.received[0]?.path, `/hooks/${SECRET}`);
    const body = receiver.received[0]?.body as JsonEventBody;
    assert.deepEqual(body, {
      event: 'held',
      service: 'checkout',
      workflowId: 'rollout-checkout',
      namespace: 'prod',
      message: 'held: inconclusive',
      text: '[checkout] held for a human: held: inconclusive',
      strategy: 'canary',
      stableVersion: 'v1',
      canaryVersion: 'v2',
      phase: 'paused',
      stage: 2,
      stages: 3,
      weight: 25,
      evidence: null,
      links: {
        webUi: 'http://temporal-ui.internal:8233/namespaces/prod/workflows/rollout-checkout',
        dashboard: 'https://rollouts.internal/rollouts/rollout-checkout',
      },
      commands: { resume: 'rollout resume checkout', abort: 'rollout abort checkout --reason "..."' },
      at: '2025-01-02T03:04:05.000Z',
    });
  });

  test('held to Slack: the exact commands and both links', async () => {
    await env.run(activities.notify, input({ sink: 'slack', event: 'held', message: 'held: inconclusive' }));
    const body = receiver.received[0]?.body as SlackBody;
    const texts = body.blocks.map((b) => (b.type === 'section' ? b.text.text : ''));
    assert.ok(
      texts.includes(
        '*To continue:* `rollout resume checkout`\n*To roll back:* `rollout abort checkout --reason "..."`',
      ),
      JSON.stringify(texts),
    );
    assert.ok(texts.some((t) => t.includes('/namespaces/prod/workflows/rollout-checkout|Temporal Web UI>')));
    assert.ok(texts.some((t) => t.includes('/rollouts/rollout-checkout|Rollout dashboard>')));
  });

  test('an old history (no sink, no context) posts the JSON body to the webhook only', async () => {
    const oldInput: NotifyInput = {
      service: 'checkout',
      event: 'failed',
      message: 'deploy failed',
      notify: { webhookUrlEnv: JSON_ENV },
    };
    await env.run(activities.notify, oldInput);
    assert.equal(receiver.received.length, 1);
    const body = receiver.received[0]?.body as JsonEventBody;
    assert.equal(receiver.received[0]?.path, `/hooks/${SECRET}`);
    assert.deepEqual(
      [body.service, body.event, body.message, body.workflowId, body.text, body.strategy, body.evidence],
      [
        'checkout',
        'failed',
        'deploy failed',
        'rollout-checkout',
        '[checkout] failed: deploy failed',
        null,
        null,
      ],
    );
  });

  test('an unset variable, or a sink the spec does not configure, posts nothing and fails nothing', async () => {
    // The Slack URL is set: a json call from a spec with only a Slack sink must not post to it.
    await env.run(activities.notify, input({ sink: 'json', notify: { slackWebhookUrlEnv: SLACK_ENV } }));
    assert.deepEqual(receiver.received, []);
    delete process.env[SLACK_ENV];
    await env.run(activities.notify, input({ sink: 'slack' }));
    assert.deepEqual(receiver.received, []);
    assert.deepEqual(failures(), []);
    assert.ok(
      logs.some((l) => l.level === 'WARN' && l.message.includes(`${SLACK_ENV} is not set on this worker`)),
      JSON.stringify(logs.map((l) => l.message)),
    );
  });

  test('a receiver answering 500: a retryable failure, counted, and the URL never in the message', async () => {
    process.env[SLACK_ENV] = `${receiver.origin}/fail/${SECRET}?token=abcd1234`;
    const err = await env.run(activities.notify, input({ sink: 'slack' })).then(
      () => assert.fail('expected the post to fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ApplicationFailure, String(err));
    assert.equal(err.nonRetryable, false);
    assert.equal(err.type, 'TransientError');
    assert.match(err.message, new RegExp(`answered 500`));
    assert.ok(err.message.includes(`${receiver.origin} (URL from ${SLACK_ENV})`), err.message);
    for (const leak of [SECRET, 'XXXXSECRETXXXX', '/fail/', 'abcd1234']) {
      assert.ok(!err.message.includes(leak), `leaks ${leak}: ${err.message}`);
      assert.ok(!(err.stack ?? '').includes(leak), `stack leaks ${leak}`);
    }
    assert.equal(receiver.received.length, 1, 'one attempt, no retry inside the activity');
    const counted = failures();
    assert.equal(counted.length, 1);
    assert.equal(counted[0]?.value, 1);
    assert.equal(counted[0]?.unit, '1');
    assert.equal(counted[0]?.description, 'Notification posts that failed');
    assert.deepEqual(
      { service: counted[0]?.tags.service, event: counted[0]?.tags.event, sink: counted[0]?.tags.sink },
      { service: 'checkout', event: 'rolled_back', sink: 'slack' },
    );
  });

  test('a receiver answering 404 (hook revoked) fails without retry, and is counted too', async () => {
    process.env[JSON_ENV] = `${receiver.origin}/gone/${SECRET}`;
    const err = await env.run(activities.notify, input({ sink: 'json', event: 'promoted' })).then(
      () => assert.fail('expected the post to fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ApplicationFailure);
    assert.equal(err.nonRetryable, true);
    assert.ok(!err.message.includes(SECRET), err.message);
    assert.deepEqual(
      failures().map((f) => [f.tags.event, f.tags.sink]),
      [['promoted', 'json']],
    );
  });

  test('a refused connection is retryable and counted, naming the origin only', async () => {
    const closed = await startReceiver();
    await new Promise<void>((resolve) => closed.server.close(() => resolve()));
    process.env[SLACK_ENV] = `${closed.origin}/services/${SECRET}`;
    const err = await env.run(activities.notify, input({ sink: 'slack' })).then(
      () => assert.fail('expected the post to fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ApplicationFailure);
    assert.equal(err.nonRetryable, false);
    assert.ok(err.message.includes(`${closed.origin} (URL from ${SLACK_ENV})`), err.message);
    assert.ok(!err.message.includes(SECRET), err.message);
    assert.equal(failures().length, 1);
  });
});
