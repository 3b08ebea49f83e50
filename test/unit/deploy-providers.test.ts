import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { CommandDeployer } from '../../src/providers/deploy/command';
import { WebhookDeployer } from '../../src/providers/deploy/webhook';
import { ConfigurationError, TransientError } from '../../src/providers/errors';
import { SpecError } from '../../src/spec/errors';
import { parseBlueGreenSpec } from '../../src/spec/load';

const dir = mkdtempSync(join(tmpdir(), 'deploy-providers-'));
const request = {
  service: 'checkout',
  version: 'v2',
  targets: ['http://127.0.0.1:1', 'http://127.0.0.1:2'],
  environment: 'green',
};

/** A real child process that records exactly what it received. */
function recorder(out: string, exitCode = 0) {
  return new CommandDeployer({
    provider: 'command',
    command: process.execPath,
    args: [
      '-e',
      `require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify({ argv: process.argv.slice(1), env: { action: process.env.ROLLOUT_ACTION, version: process.env.ROLLOUT_VERSION, environment: process.env.ROLLOUT_ENVIRONMENT, targets: process.env.ROLLOUT_TARGETS, extra: process.env.EXTRA } })); process.exit(${exitCode});`,
      // Shell syntax that must arrive as one literal argument and never run.
      `$(touch ${join(dir, 'pwned-1')}); touch ${join(dir, 'pwned-2')} && \`touch ${join(dir, 'pwned-3')}\` | cat > /dev/null`,
    ],
    env: { EXTRA: '; touch never' },
    timeout: 10_000,
  });
}

describe('command deploy provider', () => {
  test('passes shell metacharacters literally and runs nothing but the command', async () => {
    const out = join(dir, 'literal.json');
    await recorder(out).deploy(request, () => undefined);
    const seen = JSON.parse(readFileSync(out, 'utf8')) as { argv: string[]; env: Record<string, string> };
    assert.equal(seen.argv.length, 1);
    assert.match(
      seen.argv[0] as string,
      /^\$\(touch .*pwned-1\); touch .*pwned-2 && `touch .*pwned-3` \| cat > \/dev\/null$/,
    );
    for (const n of [1, 2, 3]) assert.equal(existsSync(join(dir, `pwned-${n}`)), false);
    assert.deepEqual(seen.env, {
      action: 'deploy',
      version: 'v2',
      environment: 'green',
      targets: 'http://127.0.0.1:1,http://127.0.0.1:2',
      extra: '; touch never',
    });
  });

  test('retire runs the same command with ROLLOUT_ACTION=retire', async () => {
    const out = join(dir, 'retire.json');
    await recorder(out).retire(request);
    assert.equal((JSON.parse(readFileSync(out, 'utf8')) as { env: { action: string } }).env.action, 'retire');
  });

  test('exit 2 is a permanent failure, other codes retry, a timeout kills', async () => {
    await assert.rejects(
      recorder(join(dir, 'x2.json'), 2).deploy(request, () => undefined),
      ConfigurationError,
    );
    await assert.rejects(
      recorder(join(dir, 'x1.json'), 1).deploy(request, () => undefined),
      TransientError,
    );
    const slow = new CommandDeployer({
      provider: 'command',
      command: process.execPath,
      args: ['-e', 'setTimeout(() => {}, 60000)'],
      env: {},
      timeout: 300,
    });
    await assert.rejects(
      slow.deploy(request, () => undefined),
      /killed by SIGKILL after 300ms/,
    );
    const missing = new CommandDeployer({
      provider: 'command',
      command: '/nonexistent/deploy',
      args: [],
      env: {},
      timeout: 1000,
    });
    await assert.rejects(
      missing.deploy(request, () => undefined),
      ConfigurationError,
    );
  });

  test('a spec whose command is a shell string is rejected before anything runs', () => {
    const base = {
      service: 'checkout',
      version: 'v2',
      environments: { blue: { targets: ['http://127.0.0.1:1'] }, green: { targets: ['http://127.0.0.1:2'] } },
    };
    for (const command of ['sh -c "deploy"', 'deploy;rm', '$(deploy)', 'deploy|x']) {
      assert.throws(
        () => parseBlueGreenSpec({ ...base, deploy: { provider: 'command', command } }),
        (err: unknown) => err instanceof SpecError && err.issues.some((i) => i.path === 'deploy.command'),
      );
    }
  });
});

describe('webhook deploy provider', () => {
  let server: FastifyInstance;
  let url: string;
  const received: { body: unknown; auth: string | undefined }[] = [];
  before(async () => {
    server = Fastify();
    server.post('/deploy', async (req, reply) => {
      received.push({ body: req.body, auth: req.headers.authorization });
      const body = req.body as { version: string };
      if (body.version === 'bad') return reply.code(422).send({ error: 'unknown version' });
      if (body.version === 'flaky') return reply.code(503).send({ error: 'busy' });
      return { accepted: true };
    });
    await server.listen({ port: 0, host: '127.0.0.1' });
    const address = server.server.address() as { port: number };
    url = `http://127.0.0.1:${address.port}/deploy`;
  });
  after(() => server.close());

  test('POSTs the deploy as JSON with headers taken from the worker environment', async () => {
    process.env.TEST_DEPLOY_TOKEN = 'Bearer s3cret';
    const hook = new WebhookDeployer({
      provider: 'webhook',
      url,
      headersFromEnv: { Authorization: 'TEST_DEPLOY_TOKEN' },
      timeout: 5000,
    });
    const result = await hook.deploy(request);
    assert.match(result.details, /accepted/);
    assert.deepEqual(received.at(-1), { body: { action: 'deploy', ...request }, auth: 'Bearer s3cret' });
  });

  test('4xx is a configuration error, 5xx retries, a missing header variable is refused', async () => {
    const hook = new WebhookDeployer({ provider: 'webhook', url, headersFromEnv: {}, timeout: 5000 });
    await assert.rejects(hook.deploy({ ...request, version: 'bad' }), ConfigurationError);
    await assert.rejects(hook.deploy({ ...request, version: 'flaky' }), TransientError);
    const unset = new WebhookDeployer({
      provider: 'webhook',
      url,
      headersFromEnv: { Authorization: 'NOT_SET_ANYWHERE' },
      timeout: 5000,
    });
    await assert.rejects(unset.deploy(request), /NOT_SET_ANYWHERE is not set/);
  });
});
