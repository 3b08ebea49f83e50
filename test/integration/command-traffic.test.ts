import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../src/devserver/free-port';
import { COMMAND_ENV_ALLOW } from '../../src/providers/child-env';
import { ConfigurationError, TransientError } from '../../src/providers/errors';
import { CommandTrafficRouter } from '../../src/providers/traffic/command';
import type { DesiredSplit } from '../../src/providers/traffic/types';
import { type CommandTrafficConfig, trafficSchema } from '../../src/spec/traffic';
import { BACKEND, type HaproxyHandle, readServers, startHaproxy } from '../helpers/haproxy';
import { answeringName } from '../helpers/upstream';

const EXAMPLE = path.join(__dirname, '../../docs/examples/haproxy-traffic-command.py');
const PYTHON = '/usr/bin/python3';
const SECRET = 's3cr3t-value-123';

function commandConfig(input: Record<string, unknown>): CommandTrafficConfig {
  const config = trafficSchema.parse({ provider: 'command', timeout: 5000, ...input });
  if (config.provider !== 'command') throw new Error('not a command config');
  return config;
}

/** The error a promise rejects with, asserting its class. */
async function rejection<E extends Error>(promise: Promise<unknown>, type: new () => E): Promise<E> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof type, `expected a ${type.name}, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected a ${type.name}, but it resolved`);
}

describe('command traffic provider driving a real HAProxy through docs/examples/haproxy-traffic-command.py', () => {
  const upstreams: Server[] = [];
  const urls: Record<string, string> = {};
  let haproxy: HaproxyHandle;
  let dir: string;
  let statePath: string;
  let router: CommandTrafficRouter;

  const v1 = (routes = ['blue']) => ({ version: 'v1', targets: [urls.blue as string], routes });
  const v2 = (routes = ['green']) => ({ version: 'v2', targets: [urls.green as string], routes });
  const canaryAt = (canaryWeight: number, extra: Partial<DesiredSplit> = {}): DesiredSplit => ({
    stable: v1(),
    canary: v2(),
    canaryWeight,
    ...extra,
  });
  const exampleArgs = (runtimeApi: string) => [
    '--runtime-api',
    runtimeApi,
    '--backend',
    BACKEND,
    '--state',
    statePath,
  ];
  /** A tiny helper command in the temp dir, run as `python3 <file> ...args`. */
  const helper = (name: string, source: string, config: Record<string, unknown> = {}) => {
    const file = path.join(dir, `${name}.py`);
    writeFileSync(file, source);
    const { args = [], ...rest } = config as { args?: string[] };
    return new CommandTrafficRouter(
      commandConfig({ command: PYTHON, args: [file, ...args], ...rest }),
      'checkout',
    );
  };

  before(async () => {
    for (const name of ['blue', 'green']) {
      const upstream = await answeringName(name);
      upstreams.push(upstream.server);
      urls[name] = upstream.url;
    }
    haproxy = await startHaproxy({ blue: urls.blue as string, green: urls.green as string });
    dir = mkdtempSync(path.join(tmpdir(), 'durable-rollouts-command-traffic-'));
    statePath = path.join(dir, 'haproxy-app.json');
    router = new CommandTrafficRouter(
      commandConfig({ command: EXAMPLE, args: exampleArgs(haproxy.runtimeApi) }),
      'checkout',
    );
  });

  after(async () => {
    delete process.env.SOME_WORKER_TOKEN;
    await haproxy?.stop();
    for (const server of upstreams) {
      server.closeAllConnections();
      server.close();
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Which upstream answers each of `requests` requests through HAProxy's frontend (no cookies). */
  async function countAnswers(requests: number): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (let i = 0; i < requests; i++) {
      const response = await fetch(haproxy.url);
      const body = await response.text();
      assert.equal(response.status, 200, body);
      counts[body] = (counts[body] ?? 0) + 1;
    }
    return counts;
  }

  test('the example is executable and starts with a python3 shebang', () => {
    assert.ok(statSync(EXAMPLE).mode & 0o111, 'chmod +x');
    assert.match(readFileSync(EXAMPLE, 'utf8'), /^#!\/usr\/bin\/env python3\n/);
  });

  test('weights at 0, 25 and 100% are what HAProxy applies, the 0% side is in maint, get equals set', async () => {
    for (const weight of [0, 25, 100]) {
      const applied = await router.setSplit(canaryAt(weight));
      const read = await router.getSplit();
      assert.deepEqual(read, applied, `get after set at ${weight}%`);
      assert.deepEqual(applied, {
        stable: v1(),
        canary: v2(),
        weights: { stable: 100 - weight, canary: weight },
        match: null,
        readBack:
          `haproxy ${BACKEND}: ` +
          `${weight === 100 ? 'blue maint' : `blue ready weight ${100 - weight}`} (v1), ` +
          `${weight === 0 ? 'green maint' : `green ready weight ${weight}`} (v2)`,
      });

      // HAProxy's own view, read independently of the command.
      const servers = await readServers(haproxy.runtimeApi);
      assert.equal(servers.blue?.admin, weight === 100 ? 'maint' : 'ready', `blue at ${weight}%`);
      assert.equal(servers.green?.admin, weight === 0 ? 'maint' : 'ready', `green at ${weight}%`);
      if (weight < 100) assert.equal(servers.blue?.weight, 100 - weight);
      if (weight > 0) assert.equal(servers.green?.weight, weight);

      // Real requests through the frontend.
      const requests = weight === 25 ? 300 : 40;
      const counts = await countAnswers(requests);
      const green = counts.green ?? 0;
      if (weight === 0) assert.deepEqual(counts, { blue: requests }, 'none on the canary at 0%');
      else if (weight === 100) assert.deepEqual(counts, { green: requests }, 'all on the canary at 100%');
      else {
        assert.ok(
          green >= 0.15 * requests && green <= 0.35 * requests,
          `${green} of ${requests} on the canary at 25%`,
        );
      }
    }
    const state = JSON.parse(readFileSync(statePath, 'utf8'));
    assert.deepEqual(
      { stable: state.stable.server, canary: state.canary.server },
      { stable: 'blue', canary: 'green' },
    );
  });

  test('promotion: canary null puts the old stable server in maint', async () => {
    await router.setSplit(canaryAt(100));
    const split = await router.setSplit({ stable: v2(), canary: null, canaryWeight: 0 });
    assert.deepEqual(split, {
      stable: v2(),
      canary: null,
      weights: { stable: 100, canary: 0 },
      match: null,
      readBack: `haproxy ${BACKEND}: blue maint, green ready weight 100 (v2)`,
    });
    assert.deepEqual(await router.getSplit(), split);
    const servers = await readServers(haproxy.runtimeApi);
    assert.deepEqual(
      { blue: servers.blue?.admin, green: servers.green?.admin },
      { blue: 'maint', green: 'ready' },
    );
    assert.deepEqual(await countAnswers(20), { green: 20 });
  });

  test('the unix socket Runtime API reads the same split as the TCP one', async () => {
    const applied = await router.setSplit(canaryAt(25));
    const overUnix = new CommandTrafficRouter(
      commandConfig({ command: EXAMPLE, args: exampleArgs(haproxy.unixRuntimeApi) }),
      'checkout',
    );
    assert.deepEqual(await overUnix.getSplit(), applied);
  });

  test('exit 2 for an unknown server is a ConfigurationError quoting the script, and HAProxy is untouched', async () => {
    await router.setSplit(canaryAt(25));
    const before = await readServers(haproxy.runtimeApi);
    const err = await rejection(
      router.setSplit({ stable: v1(), canary: v2(['nope']), canaryWeight: 50 }),
      ConfigurationError,
    );
    assert.match(err.message, /refused \(exit 2\)/);
    assert.match(err.message, /split\.canary: no server nope in the backend \(it has: blue, green\)/);
    assert.deepEqual(await readServers(haproxy.runtimeApi), before);
  });

  test('a header route is refused: the example does not do them', async () => {
    const before = await readServers(haproxy.runtimeApi);
    const err = await rejection(
      router.setSplit(canaryAt(0, { match: { headers: { 'x-canary': 'always' } } })),
      ConfigurationError,
    );
    assert.match(err.message, /refused \(exit 2\).*does not do header routes/s);
    assert.deepEqual(await readServers(haproxy.runtimeApi), before);
  });

  test('a name that is not a HAProxy name never reaches the Runtime API', async () => {
    const before = await readServers(haproxy.runtimeApi);
    // The command gets what the caller gives it; the schema would refuse this route, the script too.
    const err = await rejection(
      router.setSplit({ stable: v1(['blue;shutdown sessions']), canary: null, canaryWeight: 0 }),
      ConfigurationError,
    );
    assert.match(err.message, /is not a HAProxy name/);
    assert.deepEqual(await readServers(haproxy.runtimeApi), before);
  });

  test('HAProxy unreachable is a TransientError', async () => {
    const unreachable = new CommandTrafficRouter(
      commandConfig({ command: EXAMPLE, args: exampleArgs(`tcp://127.0.0.1:${await freePort()}`) }),
      'checkout',
    );
    const err = await rejection(unreachable.getSplit(), TransientError);
    assert.match(err.message, /failed \(exit 1\).*Connection refused/s);
  });

  test('a command that prints no JSON, or JSON that is not a split, is a ConfigurationError', async () => {
    const garbage = helper('garbage', 'print("all good, weights set!")\n');
    assert.match((await rejection(garbage.getSplit(), ConfigurationError)).message, /printed no JSON split/);
    const invalid = helper(
      'invalid',
      'import json\nprint(json.dumps({"stable": None, "canary": None, "weights": {"stable": 150, "canary": 0}}))\n',
    );
    assert.match(
      (await rejection(invalid.getSplit(), ConfigurationError)).message,
      /printed a split that is not valid: weights\.stable/,
    );
  });

  test('a command that runs past its timeout is killed: TransientError', async () => {
    const slow = helper('slow', 'import time\ntime.sleep(30)\n', { timeout: 300 });
    const started = Date.now();
    const err = await rejection(slow.getSplit(), TransientError);
    assert.match(err.message, /killed by SIGKILL after 300ms/);
    assert.ok(Date.now() - started < 5000, 'killed, not waited for');
  });

  test('arguments reach the command literally: no shell', async () => {
    const pwned = path.join(dir, 'pwned');
    const args = [
      `a; touch ${pwned}`,
      `$(touch ${pwned})`,
      `\`touch ${pwned}\``,
      '&& echo hi',
      '\'q\' "q"',
      '*',
    ];
    const echo = helper(
      'echo-argv',
      [
        'import json, sys',
        'sys.stdin.read()',
        'print(json.dumps({"stable": {"version": "v1"}, "canary": None,',
        '  "weights": {"stable": 100, "canary": 0}, "readBack": json.dumps(sys.argv[1:])}))',
        '',
      ].join('\n'),
      { args },
    );
    const split = await echo.getSplit();
    assert.deepEqual(JSON.parse(split.readBack as string), args);
    assert.equal(existsSync(pwned), false, 'nothing was run by a shell');
  });

  test('the command does not see worker secrets: only PATH, HOME and the spec env', async () => {
    process.env.SOME_WORKER_TOKEN = SECRET;
    try {
      // The whole environment goes in targets (no length limit there), its names in readBack,
      // which is at most 500 characters.
      const env = helper(
        'print-env',
        [
          'import json',
          // As exec'd: os.environ would add LC_CTYPE when Python coerces a C locale (PEP 538).
          'env = sorted(open("/proc/self/environ", "rb").read().decode().split("\\0")[:-1])',
          'print(json.dumps({"stable": {"version": "v1", "targets": env},',
          '  "canary": None, "weights": {"stable": 100, "canary": 0},',
          '  "readBack": " ".join(e.split("=", 1)[0] for e in env)}))',
          '',
        ].join('\n'),
        { env: { SPEC_VAR: 'given' } },
      );
      const split = await env.getSplit();
      const entries = split.stable?.targets ?? [];
      assert.equal(
        entries.some((entry) => entry.includes(SECRET)),
        false,
        'the secret is not in the environment',
      );
      assert.ok(!(split.readBack ?? '').includes('SOME_WORKER_TOKEN'), split.readBack);
      assert.ok(entries.includes(`PATH=${process.env.PATH}`), 'PATH is passed');
      assert.ok(entries.includes('SPEC_VAR=given'), 'the spec env is passed');
      // An operator's allow list (if this machine has one) lets further names through; nothing else.
      const allowed = ['PATH', 'HOME', 'SPEC_VAR', ...(process.env[COMMAND_ENV_ALLOW] ?? '').split(',')];
      for (const name of (split.readBack ?? '').split(' ')) {
        assert.ok(allowed.map((n) => n.trim()).includes(name), `unexpected variable ${name}`);
      }
    } finally {
      delete process.env.SOME_WORKER_TOKEN;
    }
  });
});
