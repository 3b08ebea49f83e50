import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import Fastify, { type FastifyInstance } from 'fastify';
import { readState, startCanary } from '../../src/client/rollouts';
import { freePort } from '../../src/devserver/free-port';
import { resolveTemporalCli } from '../../src/devserver/resolve-cli';
import { type RouterHandle, startRouter } from '../../src/router/server';
import type { CanarySpecInput } from '../../src/spec/canary';
import { fastCanarySpec } from '../helpers/spec';
import { Stack } from '../helpers/stack';
import { createTemporalEnv } from '../helpers/temporal';
import { createWorker, uniqueTaskQueue } from '../helpers/worker';

const run = promisify(execFile);

/**
 * Issue 9, section 1: with secrets in the worker's environment and every provider that touches one
 * failing, neither the exported history nor the state (what `status --json` prints) holds any of
 * them, in any encoding the history uses.
 */
const SECRETS = {
  SLACK_WEBHOOK_URL: 'http://127.0.0.1:1/services/T000/B000/SECRETPATH',
  DEPLOY_TOKEN: 'Bearer e2e-header-token-456',
  DEPLOY_TOKEN_CRLF: 'Bearer e2e-crlf-token-123\r\nX-Evil: 1',
  SOME_SECRET: 'e2e-some-secret-789',
  // The worker's router token; the token router below expects another, so every call is refused.
  ROUTER_ADMIN_TOKEN: 'worker-router-token-SECRET-0123',
} as const;
/** Fragments that must not appear either: the secret part of each value. */
const FORBIDDEN = [
  ...Object.values(SECRETS),
  '/services/T000/B000',
  'SECRETPATH',
  'e2e-header-token-456',
  'e2e-crlf-token-123',
  'X-Evil',
  'e2e-some-secret-789',
  '/services/T111/B111',
  'ECHOSECRET',
  'router-token-SECRET',
];

/** Every string in the exported history, plus the decoded form of each base64 payload. */
function searchable(history: unknown): string {
  const parts: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') {
      parts.push(value);
      if (value.length >= 8 && /^[A-Za-z0-9+/]+=*$/.test(value))
        parts.push(Buffer.from(value, 'base64').toString('utf8'));
    } else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(history);
  return parts.join('\n');
}

describe('secrets stay out of history and status (issue 9, section 1)', () => {
  let env: TestWorkflowEnvironment;
  let stack: Stack;
  let echo: FastifyInstance;
  let echoUrl: string;
  let tokenRouter: RouterHandle;
  const envBefore = { ...process.env };

  before(async () => {
    Object.assign(process.env, SECRETS, {
      DURABLE_ROLLOUTS_STATE_DIR: mkdtempSync(join(tmpdir(), 'secrets-e2e-')),
    });
    echo = Fastify();
    // A chatty endpoint: every answer echoes the path and the Authorization header it was sent.
    echo.post('/*', async (req, reply) =>
      reply
        .code(req.url.startsWith('/deploy') ? 401 : 404)
        .send({ path: req.url, auth: req.headers.authorization }),
    );
    await echo.listen({ port: 0, host: '127.0.0.1' });
    echoUrl = `http://127.0.0.1:${(echo.server.address() as { port: number }).port}`;
    // A notify URL like the first, but its endpoint echoes the secret path back in a 404.
    process.env.SLACK_WEBHOOK_URL_ECHO = `${echoUrl}/services/T111/B111/ECHOSECRET`;
    env = await createTemporalEnv();
    stack = await Stack.start();
    tokenRouter = await startRouter({
      port: 0,
      adminPort: 0,
      adminToken: 'the-routers-own-token-9876543210',
    });
  });
  after(async () => {
    await stack?.close();
    await tokenRouter?.close();
    await echo?.close();
    await env?.teardown();
    for (const name of Object.keys(process.env)) if (!(name in envBefore)) delete process.env[name];
  });

  it('no secret in the exported history or the state, whichever provider fails', async () => {
    const notify = { webhookUrlEnv: 'SLACK_WEBHOOK_URL' };
    // Nothing listens on the canary target: if a deploy ever succeeded (a leak), the health check
    // would still end the rollout, and the assertions below report the leak instead of a hang.
    const canary = { version: 'v2', targets: [`http://127.0.0.1:${await freePort()}`] };
    const cases: Record<string, Partial<CanarySpecInput> & { expect: RegExp }> = {
      // The command asks for a worker secret; it does not get it, and fails.
      'secrets-printenv': {
        deploy: { provider: 'command', command: '/usr/bin/printenv', args: ['SOME_SECRET'], timeout: '5s' },
        notify,
        expect: /printenv deploy failed \(exit 1\)/,
      },
      // The deployed process asks too; it never listens.
      'secrets-process': {
        deploy: {
          provider: 'process',
          command: '/usr/bin/printenv',
          args: ['SOME_SECRET'],
          readyTimeout: '500ms',
        },
        notify,
        expect: /did not listen/,
      },
      // A header secret with CR/LF: refused before anything is sent.
      'secrets-header-crlf': {
        deploy: {
          provider: 'webhook',
          url: `${echoUrl}/deploy`,
          headersFromEnv: { Authorization: 'DEPLOY_TOKEN_CRLF' },
        },
        notify,
        expect: /DEPLOY_TOKEN_CRLF holds a control character/,
      },
      // The deploy service answers 401 and echoes the token.
      'secrets-header-echo': {
        deploy: {
          provider: 'webhook',
          url: `${echoUrl}/deploy`,
          headersFromEnv: { Authorization: 'DEPLOY_TOKEN' },
        },
        notify,
        expect: /answered 401/,
      },
      // The router refuses the worker's token: the traffic provider's 401 must not quote it.
      'secrets-router-token': {
        traffic: { provider: 'embedded', adminUrl: tokenRouter.adminUrl },
        notify,
        expect: /401/,
      },
      // The traffic provider is down; the notify endpoint echoes its secret path in a 404.
      'secrets-notify-echo': {
        traffic: { provider: 'embedded', adminUrl: 'http://127.0.0.1:1' },
        notify: { webhookUrlEnv: 'SLACK_WEBHOOK_URL_ECHO' },
        expect: /notify webhook http:\/\/127\.0\.0\.1:\d+ \(URL from SLACK_WEBHOOK_URL_ECHO\) answered 404/,
      },
    };

    const cli = resolveTemporalCli();
    assert.ok(cli, 'the Temporal CLI is needed to export histories; run npm ci');
    const exportHistory = async (workflowId: string): Promise<string> => {
      const args = [
        'workflow',
        'show',
        '--workflow-id',
        workflowId,
        '--address',
        env.address,
        '--output',
        'json',
      ];
      const { stdout } = await run(cli.path, args, { maxBuffer: 64 * 1024 * 1024 });
      return searchable(JSON.parse(stdout));
    };

    const taskQueue = uniqueTaskQueue('secrets');
    const worker = await createWorker(env, taskQueue);
    // The worker keeps running while the states are read: a failed run's state comes from a query.
    const ended = await worker.runUntil(async () => {
      const started = await Promise.all(
        Object.entries(cases).map(async ([service, { expect: _expect, ...overrides }]) =>
          startCanary(env.client, fastCanarySpec(stack, { service, canary, ...overrides }), taskQueue),
        ),
      );
      await Promise.all(started.map((handle) => handle.result().catch(() => undefined)));
      return Promise.all(
        started.map(async ({ workflowId }) => ({
          workflowId,
          history: await exportHistory(workflowId),
          state: await readState(env.client, workflowId),
        })),
      );
    });

    const expectations = Object.values(cases).map((c) => c.expect);
    for (const [i, { workflowId, history, state }] of ended.entries()) {
      // As `status --json` prints it.
      const status = JSON.stringify(state);
      for (const secret of FORBIDDEN) {
        assert.ok(!history.includes(secret), `${workflowId}: history holds ${JSON.stringify(secret)}`);
        assert.ok(!status.includes(secret), `${workflowId}: status holds ${JSON.stringify(secret)}`);
      }
      assert.equal(state.outcome, 'failed', `${workflowId} failed`);
      // The failures are there, with their causes: the test is not passing on an empty history.
      assert.match(history, expectations[i]!, `${workflowId}: the provider failure is in history`);
      assert.match(
        history,
        /notify webhook http:\/\/127\.0\.0\.1:\d+ \(URL from SLACK_WEBHOOK_URL(_ECHO)?\)/,
      );
    }
  });
});
