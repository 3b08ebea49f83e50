import assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { get, type OutgoingHttpHeaders } from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { readState, startCanary } from '../../src/client/rollouts';
import { requireTemporalCli } from '../../src/devserver/resolve-cli';
import { CommandTrafficRouter } from '../../src/providers/traffic/command';
import { EmbeddedTrafficRouter } from '../../src/providers/traffic/embedded';
import { HaproxyTrafficRouter } from '../../src/providers/traffic/haproxy';
import { NginxTrafficRouter } from '../../src/providers/traffic/nginx';
import type { DesiredSplit } from '../../src/providers/traffic/types';
import { ADMIN_TOKEN_ENV } from '../../src/router/admin-auth';
import { type RouterHandle, startRouter } from '../../src/router/server';
import type { SplitView } from '../../src/router/split';
import { trafficSchema } from '../../src/spec/traffic';
import type { RolloutResult } from '../../src/workflows/state';
import { runCli } from '../helpers/cli';
import { eventually } from '../helpers/eventually';
import { BACKEND, type HaproxyHandle, readServers, startHaproxy } from '../helpers/haproxy';
import {
  HAPROXY_ROLLBACK_LINE,
  HAPROXY_SHOW_LINE,
  hapiArgv,
  JQ_STABLE_ONLY,
  JQ_SWITCH_BACK,
  jqRollback,
  NGINX_HAND_FILE,
  ROOT,
  run,
  runbookText,
  runOk,
  tally,
} from '../helpers/manual-rollback';
import { type NginxHandle, startNginx } from '../helpers/nginx';
import { fastCanarySpec } from '../helpers/spec';
import { Stack } from '../helpers/stack';
import { createTemporalEnv } from '../helpers/temporal';
import { answeringName, type Upstream } from '../helpers/upstream';
import { createWorker, uniqueTaskQueue } from '../helpers/worker';

const REQUESTS = 200;
const CANARY_WEIGHT = 30;
const TOKEN = 'manual-rollback-admin-token-0123456789';

/** One GET on a fresh connection (a reloaded nginx's old workers never keep it): status and body. */
function request(url: string, headers: OutgoingHttpHeaders = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(5_000, () => req.destroy(new Error('request timed out')));
  });
}

/**
 * Who answers REQUESTS requests through a load balancer, each as its own user (headersOf(i)), 8 at a
 * time. Every answer must be a 200.
 */
async function answers(
  url: string,
  headersOf: (i: number) => OutgoingHttpHeaders = () => ({}),
): Promise<Record<string, number>> {
  const bodies: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < REQUESTS) {
        const i = next++;
        const answer = await request(url, headersOf(i));
        assert.equal(answer.status, 200, `request ${i}: ${answer.body}`);
        bodies.push(answer.body);
      }
    }),
  );
  return tally(bodies);
}

/** Before the by-hand step: the canary really takes part of the traffic. */
function assertSplit(counts: Record<string, number>): void {
  const canary = counts.v2 ?? 0;
  assert.ok(
    canary >= 0.1 * REQUESTS && canary <= 0.5 * REQUESTS,
    `the canary answers about ${CANARY_WEIGHT}% before the rollback: ${JSON.stringify(counts)}`,
  );
}

const allStable = { v1: REQUESTS };

let v1: Upstream;
let v2: Upstream;

before(async () => {
  v1 = await answeringName('v1');
  v2 = await answeringName('v2');
});
after(async () => {
  await Promise.allSettled([v1?.close(), v2?.close()]);
});

test('the runbook prints every by-hand command these tests run, verbatim', () => {
  const text = runbookText();
  for (const snippet of [
    JQ_STABLE_ONLY,
    JQ_SWITCH_BACK,
    `perl -MIO::Socket::UNIX -e '${hapiArgv('', '')[3]}'`,
    `hapi '${HAPROXY_ROLLBACK_LINE}'`,
    `hapi '${HAPROXY_SHOW_LINE}'`,
    "hapi 'show servers state' > /var/lib/haproxy/server-state",
    `echo '${HAPROXY_ROLLBACK_LINE}' | socat stdio unix-connect:/run/haproxy/admin.sock`,
    'npm run --silent nginx:initial-split -- --version v1 --upstream blue',
    NGINX_HAND_FILE.trim(),
    'curl -sS --fail-with-body -H "authorization: Bearer $ROUTER_ADMIN_TOKEN" http://127.0.0.1:9901/admin/split',
    '-H \'content-type: application/json\' -H "authorization: Bearer $ROUTER_ADMIN_TOKEN"',
    '--data \'{"stable":{"version":"v1","targets":["http://10.0.0.11:8080"]},"canary":null,"canaryWeight":0}\'',
    '"split":{"stable":{"version":"v1","routes":["blue"]},"canary":null,"canaryWeight":0}',
    'temporal workflow signal --workflow-id rollout-checkout --name abort --input \'{"reason":"',
    'temporal workflow cancel --workflow-id rollout-checkout',
    'rollout abort checkout --reason',
  ]) {
    assert.ok(text.includes(snippet), `docs/runbook.md prints ${snippet}`);
  }
});

test('every test the runbook cites exists, under its title verbatim', () => {
  const citations = [...runbookText().matchAll(/`(test\/[^`]+\.test\.ts)` › `([^`]+)`/g)];
  assert.ok(citations.length >= 40, `the runbook cites its proofs (${citations.length} found)`);
  for (const [, file, title] of citations) {
    const source = readFileSync(path.join(ROOT, file as string), 'utf8');
    const quoted = ["'", '"', '`'].some((q) => source.includes(`${q}${title}${q}`));
    assert.ok(quoted, `${file} has a test titled ${JSON.stringify(title)}`);
  }
});

describe('by hand at the embedded router: the admin API', () => {
  let router: RouterHandle;
  const auth = `authorization: Bearer ${TOKEN}`;
  const canaryAt = (canaryWeight: number): DesiredSplit => ({
    stable: { version: 'v1', targets: [v1.url] },
    canary: { version: 'v2', targets: [v2.url] },
    canaryWeight,
  });
  const users = (i: number) => ({ 'x-user-id': `user-${i}` });

  before(async () => {
    router = await startRouter({ adminToken: TOKEN });
  });
  after(async () => {
    await router?.close();
  });

  /** The provider itself sets the canary split, with the token from the worker's env as always. */
  async function setCanary(): Promise<void> {
    process.env[ADMIN_TOKEN_ENV] = TOKEN;
    try {
      await new EmbeddedTrafficRouter(router.adminUrl).setSplit(canaryAt(CANARY_WEIGHT));
    } finally {
      delete process.env[ADMIN_TOKEN_ENV];
    }
    assertSplit(await answers(router.url, users));
  }

  async function routerSplit(): Promise<SplitView> {
    return JSON.parse(
      await runOk(['curl', '-sS', '--fail-with-body', '-H', auth, `${router.adminUrl}/admin/split`]),
    ) as SplitView;
  }

  test('reading the split, then PUT stable alone at 100% (curl, with the admin token): every answer from stable', async () => {
    await setCanary();
    const live = await routerSplit();
    assert.equal(live.weights.canary, CANARY_WEIGHT);
    const body = JSON.stringify({
      stable: { version: live.stable?.version, targets: live.stable?.targets },
      canary: null,
      canaryWeight: 0,
    });
    // The runbook's command, with this router's address and the body written from what GET showed.
    const put = (headers: string[]) => [
      'curl',
      '-sS',
      '--fail-with-body',
      '-X',
      'PUT',
      `${router.adminUrl}/admin/split`,
      ...headers,
      '--data',
      body,
    ];
    const refused = await run(put(['-H', 'content-type: application/json']));
    assert.notEqual(refused.code, 0, 'without the token the router refuses the PUT');
    assert.match(refused.stdout, /401|unauthorized|token/i);
    assert.equal((await routerSplit()).weights.canary, CANARY_WEIGHT, 'and nothing changed');

    const answer = JSON.parse(await runOk(put(['-H', 'content-type: application/json', '-H', auth])));
    assert.deepEqual(answer.weights, { stable: 100, canary: 0 }, 'the router answers with the new split');
    assert.deepEqual(await answers(router.url, users), allStable);
    assert.deepEqual((await routerSplit()).weights, { stable: 100, canary: 0 });
  });

  const jqPipeline = (filter: string) => jqRollback(router.adminUrl, filter, ['-H', auth]);

  test('during canary stages, the jq one-liner (GET | jq | PUT --data @-) does the same from the live split', async () => {
    await setCanary();
    const result = await jqPipeline(JQ_STABLE_ONLY);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.deepEqual(await answers(router.url, users), allStable);
    const split = await routerSplit();
    assert.deepEqual(split.weights, { stable: 100, canary: 0 });
    assert.deepEqual(split.stable, { version: 'v1', targets: [v1.url] }, 'stable kept its targets');
  });

  test('after a blue-green switch the old environment is in the canary slot: the switch-back filter puts it back', async () => {
    // What the blue-green switch leaves in the router: the new version in the stable slot at 100%.
    process.env[ADMIN_TOKEN_ENV] = TOKEN;
    try {
      await new EmbeddedTrafficRouter(router.adminUrl).setSplit({
        stable: { version: 'v2', targets: [v2.url] },
        canary: { version: 'v1', targets: [v1.url] },
        canaryWeight: 0,
      });
    } finally {
      delete process.env[ADMIN_TOKEN_ENV];
    }
    assert.deepEqual(await answers(router.url, users), { v2: REQUESTS }, 'green has everyone');
    const result = await jqPipeline(JQ_SWITCH_BACK);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.deepEqual(await answers(router.url, users), allStable);
    const split = await routerSplit();
    assert.deepEqual(split.stable, { version: 'v1', targets: [v1.url] });
    assert.equal(split.canary, null);
  });
});

describe('by hand at HAProxy: the Runtime API on the admin socket', () => {
  let haproxy: HaproxyHandle;
  let router: HaproxyTrafficRouter;
  let socket: string;
  const canaryAt = (canaryWeight: number): DesiredSplit => ({
    stable: { version: 'v1', targets: [v1.url], routes: ['blue'] },
    canary: { version: 'v2', targets: [v2.url], routes: ['green'] },
    canaryWeight,
  });
  // Users with no cookie follow the weights; one user is pinned to the canary server by its cookie.
  const pinnedToCanary = { cookie: 'ROLLOUT_SERVER=green' };

  before(async () => {
    haproxy = await startHaproxy({ blue: v1.url, green: v2.url });
    assert.equal(BACKEND, 'app', "the runbook's backend name");
    router = new HaproxyTrafficRouter(haproxy.configFor());
    socket = haproxy.unixRuntimeApi.slice('unix:'.length);
  });
  after(async () => {
    await haproxy?.stop();
  });

  async function setCanary(): Promise<void> {
    await router.setSplit(canaryAt(CANARY_WEIGHT));
    assertSplit(await answers(haproxy.url));
    assert.equal((await request(haproxy.url, pinnedToCanary)).body, 'v2', 'the pinned user is on the canary');
  }

  async function assertAllStable(): Promise<void> {
    assert.deepEqual(await answers(haproxy.url), allStable);
    assert.deepEqual(await answers(haproxy.url, () => pinnedToCanary), allStable, 'pinned users too');
  }

  test('hapi (perl over the unix socket) sends the rollback line: every answer from stable, also a user pinned to the canary', async () => {
    await setCanary();
    const out = await runOk(hapiArgv(socket, HAPROXY_ROLLBACK_LINE));
    assert.equal(out.trim(), '', `HAProxy answers nothing to commands that worked: ${JSON.stringify(out)}`);
    await assertAllStable();

    const shown = await runOk(hapiArgv(socket, HAPROXY_SHOW_LINE));
    assert.match(shown, /^1\n# be_id be_name srv_id srv_name /, 'the check command prints the servers state');
    const servers = await readServers(haproxy.runtimeApi);
    assert.deepEqual(servers.blue, { admin: 'ready', weight: 256 });
    assert.equal(servers.green?.admin, 'maint');
    const split = await router.getSplit();
    assert.deepEqual(split.weights, { stable: 100, canary: 0 }, "the provider's read-back agrees");
    assert.equal(split.canary, null);
  });

  test('saving the servers state by hand keeps the rollback across a HAProxy restart', async () => {
    await setCanary();
    await runOk(hapiArgv(socket, HAPROXY_ROLLBACK_LINE));
    // The provider wrote the canary split into the state file; a restart now would bring it back.
    writeFileSync(haproxy.stateFile, await runOk(hapiArgv(socket, 'show servers state')));
    await haproxy.restart();
    await eventually(async () => (await readServers(haproxy.runtimeApi)).blue?.admin === 'ready', 5_000);
    await assertAllStable();
    assert.equal((await readServers(haproxy.runtimeApi)).green?.admin, 'maint', 'green came back in maint');
  });

  test('socat sends the same line the same way', async () => {
    await setCanary();
    const out = await runOk(['socat', 'stdio', `unix-connect:${socket}`], {
      stdin: `${HAPROXY_ROLLBACK_LINE}\n`,
    });
    assert.equal(out.trim(), '');
    await assertAllStable();
  });
});

describe('by hand at NGINX: a stable-only include file, nginx -t, reload', () => {
  let nginx: NginxHandle;
  let router: NginxTrafficRouter;
  let testArgv: string[];
  let reloadArgv: string[];
  const canaryAt = (canaryWeight: number): DesiredSplit => ({
    stable: { version: 'v1', targets: [v1.url], routes: ['blue'] },
    canary: { version: 'v2', targets: [v2.url], routes: ['green'] },
    canaryWeight,
  });
  const users = (i: number) => ({ cookie: `rollout_user=user-${i}` });

  before(async () => {
    nginx = await startNginx({ upstreams: { blue: v1.url, green: v2.url } });
    const config = nginx.configFor();
    router = new NginxTrafficRouter(config);
    // `nginx -t` and `nginx -s reload`, pointed at this test's own prefix and config.
    testArgv = [...config.test];
    reloadArgv = [...config.reload];
  });
  after(async () => {
    await nginx?.stop();
  });

  async function setCanary(): Promise<void> {
    await nginx.reloaded(() => router.setSplit(canaryAt(CANARY_WEIGHT)));
    assertSplit(await answers(nginx.url, users));
  }

  /** As the runbook: write beside the include file, rename over it, nginx -t, then reload. */
  async function replaceAndReload(content: string): Promise<void> {
    const temp = path.join(path.dirname(nginx.includeFile), `.${path.basename(nginx.includeFile)}.new`);
    writeFileSync(temp, content);
    renameSync(temp, nginx.includeFile);
    await nginx.reloaded(async () => {
      await runOk(testArgv);
      await runOk(reloadArgv);
    });
  }

  test('the file from npm run nginx:initial-split: every user on stable, and the provider still reads it back', async () => {
    await setCanary();
    const content = await runOk(
      ['npm', 'run', '--silent', 'nginx:initial-split', '--', '--version', 'v1', '--upstream', 'blue'],
      { cwd: ROOT },
    );
    assert.match(content, /^# durable-rollouts nginx split /);
    await replaceAndReload(content);
    assert.deepEqual(await answers(nginx.url, users), allStable);
    const split = await router.getSplit();
    assert.deepEqual(split.weights, { stable: 100, canary: 0 }, "the provider's read-back agrees");
    assert.equal(split.canary, null);
  });

  test('the hand-written two-map file: every user on stable; the next provider step rewrites it', async () => {
    await setCanary();
    await replaceAndReload(NGINX_HAND_FILE);
    assert.deepEqual(await answers(nginx.url, users), allStable);
    assert.equal((await request(`${nginx.url}/__rollout/split`)).body, 'rolledback00');
    // A rollout's rollback (or the next rollout) replaces the hand-written file with its own.
    await nginx.reloaded(() => router.setSplit(canaryAt(0)));
    assert.deepEqual((await router.getSplit()).weights, { stable: 100, canary: 0 });
    assert.deepEqual(await answers(nginx.url, users), allStable);
  });
});

describe('by hand with the command provider: your command, given a set request at canary 0', () => {
  const EXAMPLE = path.join(ROOT, 'docs', 'examples', 'haproxy-traffic-command.py');
  let haproxy: HaproxyHandle;
  let args: string[];

  before(async () => {
    haproxy = await startHaproxy({ blue: v1.url, green: v2.url });
    args = [
      '--runtime-api',
      haproxy.unixRuntimeApi,
      '--backend',
      BACKEND,
      '--state',
      `${haproxy.stateFile}.json`,
    ];
  });
  after(async () => {
    await haproxy?.stop();
  });

  test('docs/examples/haproxy-traffic-command.py run by hand with the stable-only split: every answer from stable', async () => {
    const config = trafficSchema.parse({ provider: 'command', command: EXAMPLE, args, timeout: 5000 });
    if (config.provider !== 'command') throw new Error('not a command config');
    await new CommandTrafficRouter(config, 'checkout').setSplit({
      stable: { version: 'v1', targets: [v1.url], routes: ['blue'] },
      canary: { version: 'v2', targets: [v2.url], routes: ['green'] },
      canaryWeight: CANARY_WEIGHT,
    });
    assertSplit(await answers(haproxy.url));

    const requestLine = JSON.stringify({
      action: 'set',
      service: 'checkout',
      split: { stable: { version: 'v1', routes: ['blue'] }, canary: null, canaryWeight: 0 },
    });
    assert.ok(runbookText().includes(`echo '${requestLine}'`), 'the runbook prints this request');
    const printed = JSON.parse(await runOk([EXAMPLE, ...args], { stdin: `${requestLine}\n` }));
    assert.deepEqual(printed.weights, { stable: 100, canary: 0 }, 'it prints the split now applied');
    assert.deepEqual(await answers(haproxy.url), allStable);
    const got = JSON.parse(
      await runOk([EXAMPLE, ...args], { stdin: '{"action":"get","service":"checkout"}\n' }),
    );
    assert.deepEqual(got.weights, { stable: 100, canary: 0 }, 'and a get reads the same back');
  });
});

describe('emergency rollback through Temporal: the CLI, the Web UI payload, Cancel, Terminate', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let stack: Stack;
  let taskQueue: string;
  let cliEnv: NodeJS.ProcessEnv;
  let temporal: string;

  before(async () => {
    env = await createTemporalEnv();
    taskQueue = uniqueTaskQueue('manual-rollback');
    worker = await createWorker(env, taskQueue);
    running = worker.run();
    stack = await Stack.start();
    stack.startUsers(60, 300_000);
    cliEnv = { TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: 'default', ROLLOUT_TASK_QUEUE: taskQueue };
    temporal = requireTemporalCli().path;
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await stack?.close();
    await env?.teardown();
  });

  /** A canary at its first stage (20%) whose 5-minute window only an operator can end in time. */
  async function canaryAt20(service: string) {
    await stack.routeAllToV1();
    const spec = fastCanarySpec(stack, {
      service,
      monitoring: { window: '5m', interval: '1s', minCanaryRequests: 15 },
    });
    const handle = await startCanary(env.client, spec, taskQueue);
    await eventually(
      async () => {
        const state = await readState(env.client, service);
        return state.phase === 'monitoring' && state.weights.canary === 20 && state;
      },
      30_000,
      `${service} monitoring at 20%`,
    );
    assert.equal((await stack.split()).weights.canary, 20, 'the router gives the canary 20%');
    return handle;
  }

  const connection = () => ['--address', env.address, '--namespace', 'default'];

  async function assertAborted(handle: { result(): Promise<unknown> }, reason: string): Promise<void> {
    const result = (await handle.result()) as RolloutResult;
    assert.equal(result.outcome, 'aborted');
    assert.equal(result.state.abortReason, reason, 'the reason is kept');
    assert.deepEqual((await stack.split()).weights, { stable: 100, canary: 0 });
  }

  test('rollout abort <service> --reason: exit 0, stable back at 100%, the reason kept', async () => {
    const handle = await canaryAt20('mr-cli-abort');
    const cli = await runCli(['abort', 'mr-cli-abort', '--reason', 'customer complaints'], cliEnv);
    assert.equal(cli.code, 0, cli.stderr);
    await assertAborted(handle, 'customer complaints');
  });

  test("temporal workflow signal --name abort with the Web UI's JSON payload does the same", async () => {
    const handle = await canaryAt20('mr-signal-abort');
    await runOk([
      temporal,
      'workflow',
      'signal',
      '--workflow-id',
      'rollout-mr-signal-abort',
      '--name',
      'abort',
      '--input',
      '{"reason":"sent with the temporal CLI"}',
      ...connection(),
    ]);
    await assertAborted(handle, 'sent with the temporal CLI');
  });

  test('Cancel (temporal workflow cancel, the Web UI’s Request Cancellation) restores stable, then the workflow ends cancelled', async () => {
    const handle = await canaryAt20('mr-cancel');
    await runOk([temporal, 'workflow', 'cancel', '--workflow-id', 'rollout-mr-cancel', ...connection()]);
    await assert.rejects(handle.result(), 'the result of a cancelled workflow is a failure');
    assert.equal((await handle.describe()).status.name, 'CANCELLED');
    assert.deepEqual((await stack.split()).weights, { stable: 100, canary: 0 });
  });

  test('Terminate runs no code: the canary keeps its 20%; the by-hand admin API call then puts stable back', async () => {
    const handle = await canaryAt20('mr-terminate');
    await runOk([
      temporal,
      'workflow',
      'terminate',
      '--workflow-id',
      'rollout-mr-terminate',
      '--reason',
      'terminated in a test',
      ...connection(),
    ]);
    assert.equal((await handle.describe()).status.name, 'TERMINATED');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.deepEqual((await stack.split()).weights, { stable: 80, canary: 20 }, 'nothing rolled back');

    // The router of this stack runs without ROUTER_ADMIN_TOKEN: no authorization header.
    const result = await jqRollback(stack.router.adminUrl, JQ_STABLE_ONLY);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const split = await stack.split();
    assert.deepEqual(split.weights, { stable: 100, canary: 0 });
    assert.equal(split.stable?.version, 'v1');
  });
});
