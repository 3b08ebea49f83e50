import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, beforeEach, describe, test } from 'node:test';
import { type DemoServiceHandle, startDemoService } from '../../src/demo/service';
import { startTraffic, UNKNOWN_VERSION } from '../../src/demo/traffic';

async function call<T>(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as T, headers: res.headers };
}

function postFaults(service: DemoServiceHandle, body: unknown) {
  return call<Record<string, unknown>>(`${service.url}/__faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('demo service', () => {
  let service: DemoServiceHandle;

  before(async () => {
    service = await startDemoService({ version: 'v7' });
  });

  after(async () => {
    await service?.close();
  });

  beforeEach(() => {
    service.setFaults({ errorRate: 0, latencyMs: 0, failHealth: false, failSmoke: false });
  });

  test('reports its version on health, smoke and catch-all routes', async () => {
    assert.match(service.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(service.version, 'v7');
    const health = await call(`${service.url}/healthz`);
    assert.deepEqual([health.status, health.body], [200, { status: 'ok', version: 'v7' }]);
    assert.equal(health.headers.get('x-service-version'), 'v7');
    const smoke = await call(`${service.url}/smoke`);
    assert.deepEqual([smoke.status, smoke.body], [200, { ok: true, version: 'v7' }]);

    for (const [method, url, body] of [
      ['GET', '/', undefined],
      ['GET', '/api/checkout?cart=1', undefined],
      ['POST', '/api/checkout', '{"not json'],
      ['DELETE', '/healthz', undefined],
    ] as const) {
      const res = await call<{ version: string; path: string }>(`${service.url}${url}`, {
        method,
        body,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
      });
      assert.equal(res.status, 200, `${method} ${url}`);
      assert.deepEqual(res.body, { version: 'v7', path: url.split('?')[0] });
      assert.equal(res.headers.get('x-service-version'), 'v7');
    }
  });

  test('failHealth and failSmoke flip the probes', async () => {
    service.setFaults({ failHealth: true });
    const health = await call(`${service.url}/healthz`);
    assert.equal(health.status, 503);
    assert.equal((await call(`${service.url}/smoke`)).status, 200);

    const changed = await postFaults(service, { failHealth: false, failSmoke: true });
    assert.deepEqual(changed.body, { errorRate: 0, latencyMs: 0, failHealth: false, failSmoke: true });
    assert.equal((await call(`${service.url}/healthz`)).status, 200);
    const smoke = await call(`${service.url}/smoke`);
    assert.deepEqual([smoke.status, smoke.body], [500, { ok: false }]);
  });

  test('errorRate injects 500s on catch-all routes only', async () => {
    await postFaults(service, { errorRate: 1 });
    for (let i = 0; i < 20; i++) {
      const res = await call(`${service.url}/api/checkout`);
      assert.deepEqual([res.status, res.body], [500, { error: 'injected fault', version: 'v7' }]);
    }
    assert.equal((await call(`${service.url}/healthz`)).status, 200);

    service.setFaults({ errorRate: 0.5 });
    let failures = 0;
    for (let i = 0; i < 200; i++) {
      const res = await fetch(`${service.url}/x`);
      await res.arrayBuffer();
      if (res.status === 500) failures += 1;
    }
    assert.ok(failures > 60 && failures < 140, `${failures}/200 failed at errorRate 0.5`);
  });

  test('latencyMs delays catch-all answers', async () => {
    service.setFaults({ latencyMs: 120 });
    const started = performance.now();
    const res = await call(`${service.url}/slow`);
    const elapsed = performance.now() - started;
    assert.equal(res.status, 200);
    assert.ok(elapsed >= 115 && elapsed < 1000, `took ${elapsed}ms`);
    const probeStarted = performance.now();
    await call(`${service.url}/healthz`);
    assert.ok(performance.now() - probeStarted < 100, 'probes are not delayed');
  });

  test('GET/POST /__faults validate and report the fault state', async () => {
    assert.deepEqual((await call(`${service.url}/__faults`)).body, {
      errorRate: 0,
      latencyMs: 0,
      failHealth: false,
      failSmoke: false,
    });
    const bad = await postFaults(service, { errorRate: 2, latencyMs: -1, failHealth: 'yes', extra: 1 });
    assert.equal(bad.status, 400);
    const paths = (bad.body.issues as { path: string }[]).map((i) => i.path).sort();
    assert.deepEqual(paths, ['(root)', 'errorRate', 'failHealth', 'latencyMs']);
    assert.equal((await call<{ errorRate: number }>(`${service.url}/__faults`)).body.errorRate, 0);

    const ok = await postFaults(service, { latencyMs: 5 });
    assert.deepEqual(ok.body, { errorRate: 0, latencyMs: 5, failHealth: false, failSmoke: false });
  });

  test('programmatic misuse throws', async () => {
    assert.throws(() => service.setFaults({ errorRate: 1.5 }));
    await assert.rejects(startDemoService({ version: 'bad version' }), /invalid version/);
    await assert.rejects(startDemoService({ version: 'v1', faults: { latencyMs: -5 } }));
  });
});

describe('demo service shutdown', () => {
  test('close() lets a request in flight finish, so a retired version fails no user', async () => {
    const service = await startDemoService({ version: 'slow', faults: { latencyMs: 300 } });
    const pending = fetch(`${service.url}/in-flight`).then(
      (res) => res.status,
      () => 'transport error',
    );
    await sleep(50);
    await service.close();
    assert.equal(await pending, 200);
    await assert.rejects(fetch(`${service.url}/after-close`), 'a closed service accepts nothing new');
  });

  test('close() does not wait out a very long injected delay: it gives up after the drain time', async () => {
    const service = await startDemoService({ version: 'slow', faults: { latencyMs: 30_000 } });
    const pending = fetch(`${service.url}/stuck`).then(
      (res) => res.status,
      () => 'transport error',
    );
    await sleep(50);
    const started = performance.now();
    await service.close();
    const waited = performance.now() - started;
    assert.ok(waited < 8000, `close waited ${waited} ms`);
    assert.equal(await pending, 503);
  });
});

const serviceMain = path.join(__dirname, '../../src/demo/service-main.ts');

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const cliChildren = new Set<ChildProcess>();

function runCli(
  args: string[],
  env: Record<string, string> = {},
  onLine?: (line: string) => void,
): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, ['--import', 'tsx', serviceMain, ...args], {
    env: { ...process.env, ROLLOUT_VERSION: '', PORT: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cliChildren.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const line of chunk.toString().split('\n')) if (line !== '') onLine?.(line);
  });
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = once(child, 'exit').then(([code]) => {
    cliChildren.delete(child);
    return { code: code as number | null, stdout, stderr };
  });
  return { child, done };
}

describe('demo service CLI', () => {
  after(() => {
    for (const child of cliChildren) child.kill('SIGKILL');
  });

  test('rejects bad input with exit code 2 and a clear message', async () => {
    const run = await runCli(['--version', 'v1', '--error-rate', '1.5'], { FAULT_LATENCY_MS: 'slow' }).done;
    assert.equal(run.code, 2);
    assert.match(run.stderr, /errorRate/);
    assert.match(run.stderr, /latency/);
    assert.equal(run.stdout, '');
  });

  test('starts from env + flags, serves, and exits 0 on SIGTERM', async () => {
    let announce: (url: string) => void = () => undefined;
    const announced = new Promise<string>((resolve) => (announce = resolve));
    // PORT=1 would fail to bind, so this also checks that --port wins over the environment.
    const { child, done } = runCli(
      ['--port', '0', '--latency-ms', '0'],
      { ROLLOUT_VERSION: 'v9', FAULT_FAIL_SMOKE: '1', PORT: '1' },
      (line) => {
        const match = /^demo-service v9 listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
        if (match?.[1]) announce(match[1]);
      },
    );
    const exitedEarly = done.then((r) => Promise.reject(new Error(`exited early: ${r.stderr}`)));
    const base = await Promise.race([announced, exitedEarly]);
    assert.equal((await call(`${base}/smoke`)).status, 500, 'FAULT_FAIL_SMOKE=1 applied');
    assert.deepEqual((await call(`${base}/healthz`)).body, { status: 'ok', version: 'v9' });
    child.kill('SIGTERM');
    const result = await done;
    assert.equal(result.code, 0, result.stderr);
  });
});

describe('traffic generator', () => {
  let service: DemoServiceHandle;

  before(async () => {
    service = await startDemoService({ version: 'direct' });
  });

  after(async () => {
    await service?.close();
  });

  test('sends about rps requests per second and stops by itself', async () => {
    const traffic = startTraffic({ url: service.url, rps: 100, maxDurationMs: 500 });
    await sleep(700);
    const first = traffic.report();
    await sleep(200);
    assert.deepEqual(traffic.report(), first, 'still sending after maxDurationMs');
    assert.ok(first.sent >= 35 && first.sent <= 60, `sent ${first.sent}`);
    // The service is reached directly, so no x-rollout-version comes back.
    assert.deepEqual(Object.keys(first.byVersion), [UNKNOWN_VERSION]);
    assert.equal(first.byVersion[UNKNOWN_VERSION]?.ok, first.sent);
    assert.deepEqual(await traffic.stop(), first);
  });

  test('counts 5xx as failures and unreachable targets as transport errors', async () => {
    service.setFaults({ errorRate: 1 });
    const failing = startTraffic({ url: service.url, rps: 50, maxDurationMs: 10_000 });
    await sleep(300);
    const report = await failing.stop();
    service.setFaults({ errorRate: 0 });
    const outcome = report.byVersion[UNKNOWN_VERSION];
    assert.ok(outcome && outcome.failed === report.sent && outcome.ok === 0, JSON.stringify(report));
    assert.ok(report.sent >= 8, `sent ${report.sent}`);
    assert.equal(typeof outcome.firstFailureAt, 'number');

    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const dead = startTraffic({ url: `http://127.0.0.1:${port}`, rps: 50, maxDurationMs: 10_000 });
    await sleep(300);
    const deadReport = await dead.stop();
    assert.ok(deadReport.sent > 0);
    assert.equal(deadReport.transportErrors, deadReport.sent);
    assert.deepEqual(deadReport.byVersion, {});
  });

  test('stop() leaves no timers behind', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const baseline = timers();
    const traffic = startTraffic({ url: service.url, rps: 200, maxDurationMs: 60_000 });
    await sleep(100);
    assert.ok(timers() > baseline);
    await traffic.stop();
    assert.equal(timers(), baseline);
  });

  test('rejects nonsensical options', () => {
    assert.throws(() => startTraffic({ url: service.url, rps: 0, maxDurationMs: 1 }), /rps/);
    assert.throws(() => startTraffic({ url: service.url, rps: 1, users: 0, maxDurationMs: 1 }), /users/);
  });
});
