import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import Fastify, { type FastifyInstance } from 'fastify';
import { classified } from '../../src/activities/failures';
import { secretEnvNames } from '../../src/activities/secret-env';
import { freePort } from '../../src/devserver/free-port';
import { COMMAND_ENV_ALLOW, commandEnv, withheldSecrets } from '../../src/providers/child-env';
import { CommandDeployer } from '../../src/providers/deploy/command';
import { ProcessDeployer } from '../../src/providers/deploy/process';
import { WebhookDeployer } from '../../src/providers/deploy/webhook';
import { ConfigurationError, TransientError } from '../../src/providers/errors';
import { describeFetchError, requestJson } from '../../src/providers/http-json';
import { postWebhook, type RolloutEvent } from '../../src/providers/notify/notifier';
import { OutputTail } from '../../src/providers/output-tail';
import {
  originOf,
  REDACTED,
  redact,
  secretForms,
  urlsToOrigins,
  withoutCredentials,
} from '../../src/providers/redact';

/** Issue 9, section 1: no worker secret in a provider's message, result or progress. */

const SECRET_PATH = '/services/T000/B000/SECRETPATH';
const SECRET_TOKEN = 'Bearer tok-9f8e7d6c5b4a';
const SOME_SECRET = 'some-secret-value-42';
const request = {
  service: 'checkout',
  version: 'v2',
  targets: ['http://127.0.0.1:1'],
  environment: 'canary',
};
const event: RolloutEvent = {
  service: 'checkout',
  event: 'failed',
  message: 'deploy failed',
  workflowId: 'rollout-checkout',
};

const saved = { ...process.env };
afterEach(() => {
  for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
  Object.assign(process.env, saved);
});

/** The message of a rejection, asserting the class and that no secret fragment is in it. */
async function failureMessage(promise: Promise<unknown>, secrets: string[]): Promise<string> {
  const err = await promise.then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e as Error,
  );
  for (const secret of secrets) {
    assert.ok(!err.message.includes(secret), `message leaks ${secret}: ${err.message}`);
    assert.ok(!(err.stack ?? '').includes(secret), `stack leaks ${secret}`);
  }
  return err.message;
}

describe('redaction helpers', () => {
  test('originOf keeps scheme, host and port only', () => {
    assert.equal(
      originOf('https://user:pw@hooks.example.com:8443/services/T/B/X?token=1#f'),
      'https://hooks.example.com:8443',
    );
    assert.equal(originOf('not a url'), '(invalid URL)');
  });

  test('withoutCredentials drops userinfo and query, keeps the path', () => {
    assert.equal(withoutCredentials('http://u:p@127.0.0.1:9/api/x?key=abc'), 'http://127.0.0.1:9/api/x');
  });

  test('secretForms covers a URL secret whole, by path, query and userinfo, and escaped', () => {
    const forms = secretForms('http://bob:pa%24ss@127.0.0.1:1/services/T000/B000/SECRETPATH?sig=xyz1');
    for (const form of ['/services/T000/B000/SECRETPATH', '?sig=xyz1', 'pa%24ss', 'pa$ss']) {
      assert.ok(forms.includes(form), `missing ${form}`);
    }
    assert.ok(secretForms('a"b\\c-long').includes('a\\"b\\\\c-long'), 'JSON-escaped form');
    assert.deepEqual(secretForms('ab'), [], 'fragments under 4 characters are not scrubbed');
  });

  test('redact replaces every occurrence, longest secret first', () => {
    assert.equal(
      redact('x SECRETPATH-LONG y SECRETPATH', ['SECRETPATH', 'SECRETPATH-LONG']),
      `x ${REDACTED} y ${REDACTED}`,
    );
  });

  test('urlsToOrigins cuts quoted URLs to their origin', () => {
    assert.equal(
      urlsToOrigins('Failed to parse URL from http://h:1/services/T000/B000/SECRETPATH?x=1 now'),
      'Failed to parse URL from http://h:1 now',
    );
  });

  test('describeFetchError never quotes a secret path', () => {
    const err = new TypeError('fetch failed: http://127.0.0.1:1/services/T000/B000/SECRETPATH');
    assert.equal(describeFetchError(err), 'fetch failed: http://127.0.0.1:1');
  });

  test('OutputTail is bounded, redacted, and drops a secret cut in half by the bound', () => {
    const tail = new OutputTail(50, ['0123456789SECRET']);
    tail.push('x'.repeat(200) + '0123456789SECRET' + 'y'.repeat(45));
    const text = tail.text();
    assert.ok(text.length <= 50);
    assert.ok(!text.includes('SECRET') && !text.includes('789'), text);
    const whole = new OutputTail(2000, ['0123456789SECRET']);
    whole.push('before 0123456789SECRET after');
    assert.equal(whole.text(), `before ${REDACTED} after`);
  });

  test('commandEnv passes PATH, HOME, allowed names, the spec env and ROLLOUT_*; nothing else', () => {
    const env = commandEnv(
      { FROM_SPEC: '1' },
      { ROLLOUT_VERSION: 'v2' },
      {
        PATH: '/bin',
        HOME: '/home/w',
        SOME_SECRET,
        ALLOWED_ONE: 'a',
        ROLLOUT_ADMIN_TOKEN: 'worker-token',
        [COMMAND_ENV_ALLOW]: 'ALLOWED_ONE, MISSING',
      },
    );
    assert.deepEqual(env, {
      PATH: '/bin',
      HOME: '/home/w',
      ALLOWED_ONE: 'a',
      FROM_SPEC: '1',
      ROLLOUT_VERSION: 'v2',
    });
  });

  test('withheldSecrets lists worker values of 8+ characters the child was not given', () => {
    const withheld = withheldSecrets(
      { PATH: '/usr/bin:/bin' },
      { PATH: '/usr/bin:/bin', SOME_SECRET, SHORT: 'abc' },
    );
    assert.deepEqual(withheld, [SOME_SECRET]);
  });

  test('secretEnvNames: the notify URL variable and the webhook header variables', () => {
    assert.deepEqual(
      secretEnvNames({
        notify: { webhookUrlEnv: 'SLACK_WEBHOOK_URL' },
        deploy: {
          provider: 'webhook',
          url: 'http://x',
          headersFromEnv: { Authorization: 'DEPLOY_TOKEN' },
          timeout: 1,
        },
      }),
      ['SLACK_WEBHOOK_URL', 'DEPLOY_TOKEN'],
    );
  });
});

describe('classified: the second line of defence', () => {
  test('scrubs the values of spec-named variables from any provider error, and keeps the class', async () => {
    process.env.SLACK_WEBHOOK_URL = `http://127.0.0.1:1${SECRET_PATH}`;
    process.env.DEPLOY_TOKEN = SECRET_TOKEN;
    const leaky = new ConfigurationError(`refused ${process.env.SLACK_WEBHOOK_URL} with ${SECRET_TOKEN}`);
    const err = (await classified(() => Promise.reject(leaky), ['SLACK_WEBHOOK_URL', 'DEPLOY_TOKEN']).catch(
      (e: unknown) => e,
    )) as ApplicationFailure;
    assert.ok(err instanceof ApplicationFailure);
    assert.equal(err.type, 'ConfigurationError');
    assert.equal(err.nonRetryable, true);
    for (const secret of [SECRET_PATH, SECRET_TOKEN]) {
      assert.ok(!err.message.includes(secret) && !(err.stack ?? '').includes(secret), err.message);
    }
    const transient = (await classified(
      () => Promise.reject(new TransientError(`only ${SECRET_PATH}`)),
      ['SLACK_WEBHOOK_URL'],
    ).catch((e: unknown) => e)) as ApplicationFailure;
    assert.equal(transient.type, 'TransientError');
    assert.equal(transient.nonRetryable, false);
    assert.ok(!transient.message.includes('SECRETPATH'));
  });

  test('an ApplicationFailure is rebuilt too, with its type and retry intent', async () => {
    process.env.DEPLOY_TOKEN = SECRET_TOKEN;
    const built = ApplicationFailure.nonRetryable(`with ${SECRET_TOKEN}`, 'Custom');
    const err = (await classified(() => Promise.reject(built), ['DEPLOY_TOKEN']).catch(
      (e: unknown) => e,
    )) as ApplicationFailure;
    assert.equal(err.type, 'Custom');
    assert.equal(err.nonRetryable, true);
    assert.ok(!err.message.includes(SECRET_TOKEN), err.message);
  });

  test('a cancellation passes unchanged', async () => {
    const cancelled = new CancelledFailure('cancelled');
    await assert.rejects(
      classified(() => Promise.reject(cancelled)),
      (e) => e === cancelled,
    );
  });
});

describe('notify webhook URL never in a failure message', () => {
  let server: FastifyInstance;
  let port: number;
  before(async () => {
    server = Fastify();
    // A hostile or chatty endpoint: it echoes the path it was called on.
    server.post('/*', async (req, reply) =>
      reply.code(req.url.includes('500') ? 500 : 404).send(`no route ${req.url}`),
    );
    await server.listen({ port: 0, host: '127.0.0.1' });
    port = (server.server.address() as { port: number }).port;
  });
  after(() => server.close());

  test('a refused connection names the origin and the variable only', async () => {
    process.env.SLACK_WEBHOOK_URL = `http://hook-user:hook-pass@127.0.0.1:1${SECRET_PATH}?sig=abcd`;
    const message = await failureMessage(postWebhook('SLACK_WEBHOOK_URL', event), [
      SECRET_PATH,
      'SECRETPATH',
      'sig=abcd',
      'hook-user',
      'hook-pass',
    ]);
    assert.match(message, /http:\/\/127\.0\.0\.1:1 \(URL from SLACK_WEBHOOK_URL\)/);
  });

  test('an answer that echoes the secret path is redacted (4xx and 5xx)', async () => {
    for (const code of ['404', '500']) {
      process.env.SLACK_WEBHOOK_URL = `http://127.0.0.1:${port}/services/${code}/B000/SECRETPATH`;
      const message = await failureMessage(postWebhook('SLACK_WEBHOOK_URL', event), [
        'SECRETPATH',
        `/services/${code}`,
      ]);
      assert.match(message, new RegExp(`answered ${code}`));
    }
  });

  test('a value that is not a URL is refused without being quoted', async () => {
    process.env.SLACK_WEBHOOK_URL = 'hooks.example.com/SECRETPATH';
    const message = await failureMessage(postWebhook('SLACK_WEBHOOK_URL', event), [
      'SECRETPATH',
      'hooks.example',
    ]);
    assert.match(message, /SLACK_WEBHOOK_URL/);
  });
});

describe('webhook deploy headers never in a failure message', () => {
  let server: FastifyInstance;
  let url: string;
  before(async () => {
    server = Fastify();
    // Echoes the Authorization header back, as some error pages do.
    server.post('/deploy', async (req, reply) => {
      const body = req.body as { version: string };
      const status = body.version === 'ok' ? 200 : body.version === 'bad' ? 401 : 503;
      return reply.code(status).send({ seen: req.headers.authorization });
    });
    await server.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(server.server.address() as { port: number }).port}/deploy`;
  });
  after(() => server.close());

  const hook = () =>
    new WebhookDeployer({
      provider: 'webhook',
      url,
      headersFromEnv: { Authorization: 'DEPLOY_TOKEN' },
      timeout: 5000,
    });

  test('a header value with CR/LF is refused, and the message does not contain it', async () => {
    process.env.DEPLOY_TOKEN = `${SECRET_TOKEN}\r\nX-Injected: yes`;
    const err = await hook()
      .deploy(request)
      .catch((e: unknown) => e as Error);
    assert.ok(err instanceof ConfigurationError);
    assert.match(err.message, /DEPLOY_TOKEN/);
    for (const secret of [SECRET_TOKEN, 'tok-9f8e', 'X-Injected'])
      assert.ok(!err.message.includes(secret), err.message);
  });

  test('an answer echoing the token is redacted in errors (4xx, 5xx) and in the result', async () => {
    process.env.DEPLOY_TOKEN = SECRET_TOKEN;
    await failureMessage(hook().deploy({ ...request, version: 'bad' }), [SECRET_TOKEN, 'tok-9f8e']);
    await failureMessage(hook().deploy({ ...request, version: 'busy' }), [SECRET_TOKEN, 'tok-9f8e']);
    const result = await hook().deploy({ ...request, version: 'ok' });
    assert.ok(!result.details.includes('tok-9f8e'), result.details);
    assert.match(result.details, /\[redacted\]/);
  });

  test('a refused connection quotes no userinfo or query of the spec URL', async () => {
    process.env.DEPLOY_TOKEN = SECRET_TOKEN;
    const deployer = new WebhookDeployer({
      provider: 'webhook',
      url: 'http://admin:hunter22@127.0.0.1:1/deploy?apikey=k-123456',
      headersFromEnv: { Authorization: 'DEPLOY_TOKEN' },
      timeout: 2000,
    });
    const message = await failureMessage(deployer.deploy(request), [
      'hunter22',
      'apikey',
      'k-123456',
      SECRET_TOKEN,
    ]);
    assert.match(message, /POST http:\/\/127\.0\.0\.1:1\/deploy failed/);
  });

  test('requestJson scrubs the secrets it is given from a fetch error', async () => {
    await failureMessage(
      requestJson('http://127.0.0.1:1/x', {
        headers: { 'x-token': `${SOME_SECRET}\n` },
        secrets: [SOME_SECRET],
      }),
      [SOME_SECRET],
    );
  });
});

describe('deploy commands cannot read worker secrets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'secrets-'));

  test('printenv SOME_SECRET: the command does not get it, and fails without it', async () => {
    process.env.SOME_SECRET = SOME_SECRET;
    const deployer = new CommandDeployer({
      provider: 'command',
      command: '/usr/bin/printenv',
      args: ['SOME_SECRET'],
      env: {},
      timeout: 5000,
    });
    const progress: string[] = [];
    const message = await failureMessage(
      deployer.deploy(request, (m) => progress.push(m)),
      [SOME_SECRET],
    );
    assert.match(message, /failed \(exit 1\)/);
    assert.ok(progress.every((m) => !m.includes(SOME_SECRET)));
  });

  test('a worker secret read around the environment (a file, another process) is redacted in the result and the progress', async () => {
    process.env.SOME_SECRET = SOME_SECRET;
    // The same value is readable elsewhere on the host: redaction of the output is the second line.
    const file = join(dir, 'secret.txt');
    writeFileSync(file, `SOME_SECRET=${SOME_SECRET}\n`);
    const deployer = new CommandDeployer({
      provider: 'command',
      command: '/bin/cat',
      args: [file],
      env: {},
      timeout: 5000,
    });
    const progress: string[] = [];
    const result = await deployer.deploy(request, (m) => progress.push(m));
    assert.match(result.details, /SOME_SECRET=\[redacted\]/);
    assert.ok(progress.length > 0 && progress.every((m) => !m.includes(SOME_SECRET)));
  });

  test('only PATH, HOME, allowed variables, the spec env and ROLLOUT_* reach the command; output is bounded', async () => {
    process.env.SOME_SECRET = SOME_SECRET;
    process.env.OPERATOR_ALLOWED = 'allowed-value-1';
    process.env[COMMAND_ENV_ALLOW] = 'OPERATOR_ALLOWED';
    const deployer = new CommandDeployer({
      provider: 'command',
      command: process.execPath,
      args: ['-e', `console.log('x'.repeat(10000)); console.log(Object.keys(process.env).sort().join(','))`],
      env: { FROM_SPEC: 'yes' },
      timeout: 5000,
    });
    const result = await deployer.deploy(request, () => undefined);
    const names = (result.details.split('\n').at(-1) ?? '').split(',');
    const expected = ['FROM_SPEC', 'OPERATOR_ALLOWED', 'PATH', 'ROLLOUT_ACTION', 'ROLLOUT_ENVIRONMENT'];
    expected.push('ROLLOUT_SERVICE', 'ROLLOUT_TARGETS', 'ROLLOUT_VERSION');
    if (process.env.HOME) expected.push('HOME');
    assert.deepEqual(names.sort(), expected.sort());
    assert.ok(result.details.length < 600, 'only a bounded tail is kept');
  });

  test('the process provider starts its command with the same minimal environment', async () => {
    process.env.SOME_SECRET = SOME_SECRET;
    process.env.DURABLE_ROLLOUTS_STATE_DIR = dir;
    const out = join(dir, 'process-env.json');
    const target = `http://127.0.0.1:${await freePort()}`;
    const deployer = new ProcessDeployer({
      provider: 'process',
      command: process.execPath,
      args: ['-e', `require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.env))`],
      env: { FAULT_ERROR_RATE: '0' },
      readyTimeout: 1500,
    });
    const message = await failureMessage(
      deployer.deploy({ ...request, targets: [target] }, () => undefined),
      [SOME_SECRET],
    );
    assert.match(message, /did not listen/);
    const seen = JSON.parse(readFileSync(out, 'utf8')) as Record<string, string>;
    assert.equal(seen.SOME_SECRET, undefined);
    assert.equal(seen.DURABLE_ROLLOUTS_STATE_DIR, undefined);
    assert.equal(seen.FAULT_ERROR_RATE, '0');
    assert.equal(seen.PORT, new URL(target).port);
    assert.equal(seen.ROLLOUT_VERSION, 'v2');
    assert.equal(seen.PATH, process.env.PATH);
  });
});
