import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { secretEnvNames } from '../../src/activities/secret-env';
import { initialSequentialState, judgeSequential } from '../../src/analysis/sequential/judge';
import { judgePostSwitch } from '../../src/analysis/post-switch';
import { judgeThreshold } from '../../src/analysis/threshold';
import type { Verdict, VersionMetrics } from '../../src/analysis/types';
import type { AlertContext, RolloutAlert } from '../../src/providers/notify/alert';
import { alertOneLiner } from '../../src/providers/notify/alert-lines';
import { heldCommands } from '../../src/providers/notify/commands';
import { evidenceLine, numbersLine } from '../../src/providers/notify/evidence-line';
import { millis, percent, significant } from '../../src/providers/notify/figures';
import { jsonEventBody } from '../../src/providers/notify/json-body';
import { alertLinks } from '../../src/providers/notify/links';
import { escapeMrkdwn, slackBody } from '../../src/providers/notify/slack-body';
import { analysisSchema, DEFAULT_ANALYSIS } from '../../src/spec/analysis';
import { notifySinks, sinkUrlEnv } from '../../src/spec/notify-sinks';
import { notifySchema } from '../../src/spec/providers';

const metrics = (
  version: string,
  requests: number,
  errors: number,
  p99Ms: number | null,
  extra: Partial<VersionMetrics> = {},
): VersionMetrics => ({ version, requests, errors, p50Ms: 40, p99Ms, ...extra });

/** The sequential judge (the default mode) on a canary at 13/312 errors against 3/3000. */
function sequentialErrorFailure(): Verdict {
  const { verdict } = judgeSequential({
    state: initialSequentialState(),
    canary: metrics('v2', 312, 13, 130),
    baseline: metrics('v1', 3000, 3, 120),
    config: DEFAULT_ANALYSIS,
    minCanaryRequests: 300,
  });
  return verdict;
}

/** The sequential latency test with a fixed 200 ms bound: 15 of 312 canary requests slow, 30 of 3000 stable. */
function sequentialLatencyFailure(): Verdict {
  const config = analysisSchema.parse({ latencyThresholdMs: 200 });
  const { verdict } = judgeSequential({
    state: initialSequentialState(200),
    canary: metrics('v2', 312, 0, 850, { slowCounts: [30, 15] }),
    baseline: metrics('v1', 3000, 3, 120, { slowCounts: [30, 15] }),
    config,
    minCanaryRequests: 300,
  });
  return verdict;
}

function thresholdFailure(): Verdict {
  return judgeThreshold({
    canary: metrics('v2', 312, 13, 850),
    baseline: metrics('v1', 3000, 3, 120),
    config: analysisSchema.parse({ mode: 'threshold' }),
    minCanaryRequests: 100,
  });
}

const context = (overrides: Partial<AlertContext> = {}): AlertContext => ({
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

const alert = (overrides: Partial<RolloutAlert> = {}): RolloutAlert => ({
  service: 'checkout',
  event: 'rolled_back',
  message: 'analysis failed',
  workflowId: 'rollout-checkout',
  namespace: 'default',
  context: context(),
  links: {},
  at: '2025-01-02T03:04:05.000Z',
  ...overrides,
});

describe('figures', () => {
  test('percent, millis and three significant digits', () => {
    assert.deepEqual(
      [percent(13 / 312), percent(0.001), percent(0.01), percent(0)],
      ['4.2%', '0.1%', '1%', '0%'],
    );
    assert.deepEqual([millis(850.4), millis(4.25), millis(null)], ['850ms', '4.3ms', 'unknown']);
    assert.deepEqual(
      [
        significant(540.123),
        significant(3781.6),
        significant(999_499),
        significant(999_999),
        significant(3.14e9),
        significant(0.01234),
      ],
      ['540', '3780', '999000', '1.00e+6', '3.14e+9', '0.0123'],
    );
  });
});

describe('evidenceLine', () => {
  test('the example shape: an error-rate check with its Bayes factor against the bound', () => {
    const verdict: Verdict = {
      result: 'fail',
      summary: 'error-rate: …',
      canary: metrics('v2', 312, 13, 130),
      baseline: metrics('v1', 3000, 3, 120),
      checks: [
        {
          name: 'error-rate',
          canary: 0.0417,
          baseline: 0.001,
          limit: 200,
          statistic: 540.219,
          passed: false,
          note: '',
        },
        { name: 'latency', canary: 130, baseline: 120, limit: 200, statistic: 0.4, passed: true, note: '' },
        { name: 'sample-size', canary: 312, baseline: 3000, limit: 300, passed: true, note: '' },
      ],
    };
    assert.equal(
      evidenceLine(verdict),
      'canary 4.2% errors vs stable 0.1% over 312 requests, Bayes factor 540 ≥ 200',
    );
  });

  test('a real sequential error-rate failure', () => {
    const verdict = sequentialErrorFailure();
    assert.equal(verdict.result, 'fail');
    assert.equal(
      evidenceLine(verdict),
      'canary 4.2% errors vs stable 0.1% over 312 requests, Bayes factor 3.14e+9 ≥ 200',
    );
  });

  test('a real sequential latency failure reads as p99s, with the slow-count Bayes factor', () => {
    const verdict = sequentialLatencyFailure();
    assert.equal(verdict.result, 'fail');
    assert.equal(
      evidenceLine(verdict),
      'canary p99 850ms vs stable 120ms over 312 requests, Bayes factor 3780 ≥ 200',
    );
  });

  test('threshold mode has no statistic: each failing check with its limit, in its unit', () => {
    assert.equal(
      evidenceLine(thresholdFailure()),
      'canary 4.2% errors vs stable 0.1% over 312 requests (limit 1.1%); ' +
        'canary p99 850ms vs stable 120ms over 312 requests (limit 170ms)',
    );
  });

  test('post-switch absolute limits and hard resource limits', () => {
    const verdict = judgePostSwitch({
      current: metrics('v2', 312, 13, 130, { cpuPercent: 97 }),
      baseline: metrics('v1', 3000, 300, 120),
      config: DEFAULT_ANALYSIS,
      limits: { maxErrorRate: 0.02 },
      minRequests: 100,
    });
    assert.equal(verdict.result, 'fail');
    assert.equal(
      evidenceLine(verdict),
      'canary CPU 97% (limit 90%); canary 4.2% errors over 312 requests (limit 2%)',
    );
  });

  test('nothing failed, or no verdict: no line; a short sample is not a failure', () => {
    const short = judgeThreshold({
      canary: metrics('v2', 12, 0, null),
      baseline: metrics('v1', 300, 0, null),
      config: analysisSchema.parse({ mode: 'threshold' }),
      minCanaryRequests: 100,
    });
    assert.equal(short.checks.find((c) => c.name === 'sample-size')?.passed, false);
    assert.equal(evidenceLine(short), null);
    assert.equal(evidenceLine(null), null);
  });

  test('numbersLine: where the rates stand, with p99s only when both are known', () => {
    assert.equal(
      numbersLine(thresholdFailure()),
      'canary 4.2% errors vs stable 0.1% over 312 requests; p99 850ms vs 120ms',
    );
    const noLatency = { ...thresholdFailure(), canary: metrics('v2', 312, 13, null) };
    assert.equal(numbersLine(noLatency), 'canary 4.2% errors vs stable 0.1% over 312 requests');
  });
});

describe('links and commands', () => {
  test('links only for the base URLs the worker holds, ids encoded, trailing slashes dropped', () => {
    assert.deepEqual(alertLinks('rollout-checkout', 'default', {}), {});
    assert.deepEqual(
      alertLinks('rollout-a/b c', 'prod ns', {
        ROLLOUT_WEB_UI_URL: 'http://localhost:8233/',
        ROLLOUT_DASHBOARD_URL: 'https://dash.example.com/ops',
      }),
      {
        webUi: 'http://localhost:8233/namespaces/prod%20ns/workflows/rollout-a%2Fb%20c',
        dashboard: 'https://dash.example.com/ops/rollouts/rollout-a%2Fb%20c',
      },
    );
    assert.deepEqual(alertLinks('w', 'n', { ROLLOUT_WEB_UI_URL: 'localhost:8233' }), {});
  });

  test('held: resume and abort by service; promote at a manual gate; the full id when the CLI needs it', () => {
    assert.deepEqual(heldCommands(alert({ event: 'held' })), {
      resume: 'rollout resume checkout',
      abort: 'rollout abort checkout --reason "..."',
    });
    assert.deepEqual(
      heldCommands(alert({ event: 'held', context: context({ phase: 'awaiting-promotion' }) })),
      {
        promote: 'rollout promote checkout',
        abort: 'rollout abort checkout --reason "..."',
      },
    );
    // The CLI does not prefix an id that already starts with rollout-.
    assert.deepEqual(
      heldCommands(alert({ service: 'rollout-x', workflowId: 'rollout-rollout-x', context: null })),
      {
        resume: 'rollout resume rollout-rollout-x',
        abort: 'rollout abort rollout-rollout-x --reason "..."',
      },
    );
  });
});

describe('sinks', () => {
  test('the spec takes both variables by name, strictly', () => {
    assert.deepEqual(notifySchema.parse({ webhookUrlEnv: 'HOOK', slackWebhookUrlEnv: 'SLACK_URL' }), {
      webhookUrlEnv: 'HOOK',
      slackWebhookUrlEnv: 'SLACK_URL',
    });
    assert.equal(notifySchema.safeParse({ slackWebhookUrlEnv: 'slack_url' }).success, false);
    assert.equal(notifySchema.safeParse({ slackWebhookUrl: 'https://hooks.slack.com/x' }).success, false);
  });

  test('notifySinks: one per configured variable, json first', () => {
    assert.deepEqual(notifySinks({}), []);
    assert.deepEqual(notifySinks({ webhookUrlEnv: 'HOOK' }), ['json']);
    assert.deepEqual(notifySinks({ slackWebhookUrlEnv: 'SLACK_URL' }), ['slack']);
    assert.deepEqual(notifySinks({ slackWebhookUrlEnv: 'SLACK_URL', webhookUrlEnv: 'HOOK' }), [
      'json',
      'slack',
    ]);
    assert.equal(sinkUrlEnv({ slackWebhookUrlEnv: 'SLACK_URL' }, 'slack'), 'SLACK_URL');
    assert.equal(sinkUrlEnv({ slackWebhookUrlEnv: 'SLACK_URL' }, 'json'), undefined);
  });

  test('both URL variables are secrets, cut out of every failure message', () => {
    assert.deepEqual(secretEnvNames({ notify: { webhookUrlEnv: 'HOOK', slackWebhookUrlEnv: 'SLACK_URL' } }), [
      'HOOK',
      'SLACK_URL',
    ]);
  });
});

describe('the JSON event body', () => {
  test('a rollback: the old fields, the rollout, the evidence and the links', () => {
    const verdict = sequentialErrorFailure();
    const body = jsonEventBody(
      alert({
        message: verdict.summary,
        context: context({ weight: 0, verdict }),
        links: { webUi: 'http://ui/namespaces/default/workflows/rollout-checkout' },
      }),
    );
    assert.deepEqual(body, {
      event: 'rolled_back',
      service: 'checkout',
      workflowId: 'rollout-checkout',
      namespace: 'default',
      message: verdict.summary,
      text: '[checkout] rolled back: canary 4.2% errors vs stable 0.1% over 312 requests, Bayes factor 3.14e+9 ≥ 200',
      strategy: 'canary',
      stableVersion: 'v1',
      canaryVersion: 'v2',
      phase: 'monitoring',
      stage: 2,
      stages: 3,
      weight: 0,
      evidence: {
        result: 'fail',
        summary: verdict.summary,
        line: 'canary 4.2% errors vs stable 0.1% over 312 requests, Bayes factor 3.14e+9 ≥ 200',
        checks: verdict.checks,
        canary: { requests: 312, errors: 13, p99Ms: 130 },
        baseline: { requests: 3000, errors: 3, p99Ms: 120 },
      },
      links: { webUi: 'http://ui/namespaces/default/workflows/rollout-checkout' },
      at: '2025-01-02T03:04:05.000Z',
    });
  });

  test('held carries the commands; without context (older histories) the rollout fields are null', () => {
    const body = jsonEventBody(alert({ event: 'held', message: 'inconclusive', context: null }));
    assert.deepEqual(body.commands, {
      resume: 'rollout resume checkout',
      abort: 'rollout abort checkout --reason "..."',
    });
    assert.equal(body.text, '[checkout] held for a human: inconclusive');
    assert.deepEqual(
      [
        body.strategy,
        body.stableVersion,
        body.canaryVersion,
        body.phase,
        body.stage,
        body.stages,
        body.weight,
      ],
      [null, null, null, null, null, null, null],
    );
    assert.equal(body.evidence, null);
    assert.equal('commands' in jsonEventBody(alert({ event: 'promoted' })), false);
  });

  test('before the first stage there is no stage number', () => {
    assert.equal(
      jsonEventBody(alert({ event: 'started', context: context({ stageIndex: -1 }) })).stage,
      null,
    );
  });
});

describe('the Slack body', () => {
  test('a rollback: the evidence in the fallback text and in a section, then links and context', () => {
    const verdict = sequentialErrorFailure();
    const body = slackBody(
      alert({
        message: 'error-rate: 13/312 vs 3/3000 <details>',
        context: context({ weight: 0, verdict }),
        links: {
          webUi: 'http://ui/namespaces/default/workflows/rollout-checkout',
          dashboard: 'http://dash/rollouts/rollout-checkout?a=1&b=2',
        },
      }),
    );
    const line = 'canary 4.2% errors vs stable 0.1% over 312 requests, Bayes factor 3.14e+9 ≥ 200';
    assert.equal(body.text, `:rotating_light: [checkout] rolled back: ${line}`);
    assert.deepEqual(body.blocks, [
      { type: 'section', text: { type: 'mrkdwn', text: ':rotating_light: *checkout* rolled back v1 → v2' } },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `*Evidence:* ${line}\nerror-rate: 13/312 vs 3/3000 &lt;details&gt;\n*Traffic:* v1 100%, v2 0%`,
        },
      },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text:
            '<http://ui/namespaces/default/workflows/rollout-checkout|Temporal Web UI> · ' +
            '<http://dash/rollouts/rollout-checkout?a=1&amp;b=2|Rollout dashboard>',
        },
      },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: 'canary · stage 2 of 3 · phase monitoring · workflow `rollout-checkout` in `default` · 2025-01-02T03:04:05.000Z',
          },
        ],
      },
    ]);
  });

  test('held: the numbers, the exact commands and both links', () => {
    const inconclusive = judgeThreshold({
      canary: metrics('v2', 150, 1, 125),
      baseline: metrics('v1', 1500, 9, 120),
      config: analysisSchema.parse({ mode: 'threshold' }),
      minCanaryRequests: 300,
    });
    assert.equal(inconclusive.result, 'inconclusive');
    const body = slackBody(
      alert({
        event: 'held',
        message: 'held until a human decides: only 150 of 300 canary requests needed for a verdict',
        context: context({ phase: 'paused', verdict: inconclusive }),
        links: { webUi: 'http://ui/w', dashboard: 'http://dash/rollouts/rollout-checkout' },
      }),
    );
    assert.equal(
      body.text,
      ':raised_hand: [checkout] held for a human: held until a human decides: only 150 of 300 canary requests needed for a verdict',
    );
    assert.deepEqual(
      body.blocks.map((b) => (b.type === 'section' ? b.text.text : b.elements[0]?.text)),
      [
        ':raised_hand: *checkout* held for a human v1 → v2',
        'held until a human decides: only 150 of 300 canary requests needed for a verdict\n' +
          '*Numbers:* canary 0.7% errors vs stable 0.6% over 150 requests; p99 125ms vs 120ms\n' +
          '*Traffic:* v1 75%, v2 25%',
        '*To continue:* `rollout resume checkout`\n*To roll back:* `rollout abort checkout --reason "..."`',
        '<http://ui/w|Temporal Web UI> · <http://dash/rollouts/rollout-checkout|Rollout dashboard>',
        'canary · stage 2 of 3 · phase paused · workflow `rollout-checkout` in `default` · 2025-01-02T03:04:05.000Z',
      ],
    );
  });

  test('without context or links: headline, message and the workflow only', () => {
    const body = slackBody(alert({ event: 'aborted', message: 'operator: bad config', context: null }));
    assert.equal(body.text, ':octagonal_sign: [checkout] aborted: operator: bad config');
    assert.deepEqual(body.blocks, [
      { type: 'section', text: { type: 'mrkdwn', text: ':octagonal_sign: *checkout* aborted' } },
      { type: 'section', text: { type: 'mrkdwn', text: 'operator: bad config' } },
      {
        type: 'context',
        elements: [
          { type: 'mrkdwn', text: 'workflow `rollout-checkout` in `default` · 2025-01-02T03:04:05.000Z' },
        ],
      },
    ]);
  });

  test('every event reads as its own label; a long message is cut to what Slack accepts', () => {
    const labels = (['started', 'stage-completed', 'rollback-retrying', 'promoted', 'failed'] as const).map(
      (event) => alertOneLiner(alert({ event, message: 'm' })),
    );
    assert.deepEqual(labels, [
      '[checkout] rollout started: m',
      '[checkout] stage passed: m',
      '[checkout] rollback still retrying: m',
      '[checkout] promoted: m',
      '[checkout] failed: m',
    ]);
    const long = slackBody(alert({ message: 'x'.repeat(5000), context: null }));
    const section = long.blocks[1];
    assert.ok(section?.type === 'section');
    assert.equal(section.text.text.length, 3000);
    assert.equal(escapeMrkdwn('a<b>&c'), 'a&lt;b&gt;&amp;c');
  });
});
