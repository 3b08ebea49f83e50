import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli } from '../helpers/cli';

// None of these reaches a Temporal server: the address points nowhere, so a connection attempt
// would exit 4, which is what the last test wants.
const NOWHERE = { TEMPORAL_ADDRESS: '127.0.0.1:1', ROLLOUT_DASHBOARD_TOKEN: '' };

describe('rollout dashboard: flags and refusals', () => {
  test('--help lists the flags and exits 0', async () => {
    const run = await runCli(['dashboard', '--help'], NOWHERE);
    assert.equal(run.code, 0, run.stderr);
    for (const flag of ['--port', '--host', '--token-env', '--web-ui-url', '--public-url'])
      assert.ok(run.stdout.includes(flag), `${flag} in:\n${run.stdout}`);
  });

  test('beyond loopback without a token it refuses to start: exit 2, before reaching Temporal', async () => {
    const run = await runCli(['dashboard', '--host', '0.0.0.0'], NOWHERE);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /beyond loopback, without a token: set ROLLOUT_DASHBOARD_TOKEN/);
  });

  test('a weak token in the env var --token-env names is refused, and not printed', async () => {
    const run = await runCli(['dashboard', '--host', '0.0.0.0', '--token-env', 'MY_TOKEN'], {
      ...NOWHERE,
      MY_TOKEN: 'hunter2hunter2',
    });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /MY_TOKEN must be at least 16 characters/);
    assert.ok(!run.stderr.includes('hunter2'));
  });

  test('a bad port or Web UI URL is a usage error', async () => {
    assert.equal((await runCli(['dashboard', '--port', '70000'], NOWHERE)).code, 2);
    assert.equal((await runCli(['dashboard', '--web-ui-url', 'javascript:alert(1)'], NOWHERE)).code, 2);
  });

  test('Temporal unreachable: exit 4', async () => {
    const run = await runCli(['dashboard', '--port', '0'], NOWHERE);
    assert.equal(run.code, 4, run.stderr);
    assert.match(run.stderr, /cannot reach Temporal at 127\.0\.0\.1:1/);
  });
});
