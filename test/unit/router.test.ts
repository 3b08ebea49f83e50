import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, beforeEach, describe, test } from 'node:test';
import { type DemoServiceHandle, startDemoService } from '../../src/demo/service';
import { startTraffic } from '../../src/demo/traffic';
import { LatencyHistogram } from '../../src/router/latency-histogram';
import { type RouterHandle, startRouter } from '../../src/router/server';
import type { RouteSpec } from '../../src/router/split-schema';
import { VersionStats } from '../../src/router/version-stats';
import { untilPasses } from '../helpers/eventually';

interface VersionTotalsBody {
  requests: number;
  errors: number;
  firstRequestAt: number | null;
  firstErrorAt: number | null;
  lastRequestAt: number | null;
}
interface StatsBody {
  versions: Record<string, VersionTotalsBody>;
  splitHistory: {
    at: number;
    stableVersion: string | null;
    canaryVersion: string | null;
    canaryWeight: number;
  }[];
}
interface MetricsBody {
  version: string;
  requests: number;
  errors: number;
  errorRate: number;
  p50Ms: number | null;
  p99Ms: number | null;
  sinceMs: number;
  untilMs: number;
}
interface IssuesBody {
  error: string;
  issues: { path: string; message: string }[];
}
async function call<T>(url: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as T };
}

function putSplit(router: RouterHandle, body: unknown): Promise<{ status: number; body: unknown }> {
  return call(`${router.adminUrl}/admin/split`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function applySplit(
  router: RouterHandle,
  stable: RouteSpec,
  canary: RouteSpec | null,
  canaryWeight: number,
) {
  const res = await putSplit(router, { stable, canary, canaryWeight });
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

async function stats(router: RouterHandle): Promise<StatsBody> {
  return (await call<StatsBody>(`${router.adminUrl}/admin/stats`)).body;
}

async function resetStats(router: RouterHandle): Promise<void> {
  const res = await fetch(`${router.adminUrl}/admin/reset-stats`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
}

interface Answer {
  status: number;
  routedTo: string | null;
  servedBy: string | null;
}

/** Sends one request per user through the router, a few at a time, and records who answered. */
async function routeUsers(
  router: RouterHandle,
  users: string[],
  concurrency = 32,
): Promise<Map<string, Answer>> {
  const answers = new Map<string, Answer>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < users.length) {
      const user = users[next++] as string;
      const res = await fetch(`${router.url}/api/checkout`, { headers: { 'x-user-id': user } });
      const body = (await res.json()) as { version?: string };
      answers.set(user, {
        status: res.status,
        routedTo: res.headers.get('x-rollout-version'),
        servedBy: body.version ?? null,
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return answers;
}

function usersOn(answers: Map<string, Answer>, version: string): Set<string> {
  return new Set([...answers].filter(([, a]) => a.routedTo === version).map(([user]) => user));
}

interface EchoServer {
  url: string;
  hits: number;
  close(): Promise<void>;
}

/** A bare upstream that reflects the request, so forwarding can be checked byte for byte. */
async function startEcho(tag: string): Promise<EchoServer> {
  const echo = { hits: 0 } as EchoServer;
  const server = http.createServer((req, res) => {
    echo.hits += 1;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      res.statusCode = req.url === '/status/503' ? 503 : 200;
      res.setHeader('content-type', 'application/json');
      res.setHeader('set-cookie', 'upstream=1');
      res.setHeader('x-rollout-version', 'spoofed');
      res.end(
        JSON.stringify({
          tag,
          method: req.method,
          url: req.url,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  echo.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  echo.close = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  return echo;
}

/** A loopback URL nothing listens on: bind an ephemeral port, then release it. */
async function deadUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

const users2000 = Array.from({ length: 2000 }, (_, i) => `user-${i}`);

describe('router with demo services', () => {
  let router: RouterHandle;
  let v1: DemoServiceHandle;
  let v2: DemoServiceHandle;
  let stable: RouteSpec;
  let canary: RouteSpec;

  before(async () => {
    v1 = await startDemoService({ version: 'v1' });
    v2 = await startDemoService({ version: 'v2' });
    router = await startRouter({ port: 0, adminPort: 0 });
    stable = { version: 'v1', targets: [v1.url] };
    canary = { version: 'v2', targets: [v2.url] };
  });

  after(async () => {
    await Promise.all([router?.close(), v1?.close(), v2?.close()]);
  });

  beforeEach(async () => {
    for (const service of [v1, v2]) {
      service.setFaults({ errorRate: 0, latencyMs: 0, failHealth: false, failSmoke: false });
    }
    await resetStats(router);
  });

  test('answers 503 "no route" before any split is set, and exposes health', async () => {
    const res = await call<{ error: string }>(`${router.url}/api/checkout`);
    assert.deepEqual(res, { status: 503, body: { error: 'no route' } });
    const split = await call<{ stable: null; canary: null }>(`${router.adminUrl}/admin/split`);
    assert.equal(split.body.stable, null);
    assert.equal(split.body.canary, null);
    assert.deepEqual(await call(`${router.adminUrl}/healthz`), { status: 200, body: { ok: true } });
  });

  test('weight 0 sends nobody to the canary', async () => {
    await applySplit(router, stable, canary, 0);
    const answers = await routeUsers(router, users2000.slice(0, 500));
    for (const [user, answer] of answers) {
      assert.deepEqual(answer, { status: 200, routedTo: 'v1', servedBy: 'v1' }, user);
    }
    await untilPasses(async () => {
      const { versions } = await stats(router);
      assert.equal(versions.v1?.requests, 500);
      assert.equal(versions.v2, undefined);
    });
  });

  test('canary share follows the weight, cohorts are sticky and monotonic, and 0 returns everyone', async () => {
    await applySplit(router, stable, canary, 10);
    const at10 = await routeUsers(router, users2000);
    await applySplit(router, stable, canary, 30);
    const at30 = await routeUsers(router, users2000);
    const again30 = await routeUsers(router, users2000.slice(0, 300));

    const canary10 = usersOn(at10, 'v2');
    const canary30 = usersOn(at30, 'v2');
    assert.ok(canary10.size >= 140 && canary10.size <= 260, `weight 10 → ${canary10.size}/2000 on canary`);
    assert.ok(canary30.size >= 520 && canary30.size <= 680, `weight 30 → ${canary30.size}/2000 on canary`);
    for (const user of canary10) assert.ok(canary30.has(user), `${user} fell out of the canary at weight 30`);
    for (const [user, answer] of again30) assert.equal(answer.routedTo, at30.get(user)?.routedTo, user);
    for (const answer of at30.values()) assert.equal(answer.servedBy, answer.routedTo);

    await applySplit(router, stable, canary, 0);
    const at0 = await routeUsers(router, users2000.slice(0, 1000));
    assert.equal(usersOn(at0, 'v1').size, 1000);

    const { splitHistory } = await stats(router);
    assert.deepEqual(
      splitHistory.map((h) => [h.stableVersion, h.canaryVersion, h.canaryWeight]),
      [
        ['v1', 'v2', 10],
        ['v1', 'v2', 30],
        ['v1', 'v2', 0],
      ],
    );
  });

  test('injected errors on the canary are counted against the canary only', async () => {
    v2.setFaults({ errorRate: 1 });
    await applySplit(router, stable, canary, 50);
    const answers = await routeUsers(router, users2000.slice(0, 400));
    const onCanary = usersOn(answers, 'v2').size;
    const onStable = usersOn(answers, 'v1').size;
    assert.ok(onCanary > 100 && onStable > 100, `${onCanary}/${onStable}`);
    for (const answer of answers.values()) assert.equal(answer.status, answer.routedTo === 'v2' ? 500 : 200);

    await untilPasses(async () => {
      const { versions } = await stats(router);
      assert.equal(versions.v2?.requests, onCanary);
      assert.equal(versions.v2?.errors, onCanary);
      assert.notEqual(versions.v2?.firstErrorAt, null);
      assert.equal(versions.v1?.requests, onStable);
      assert.equal(versions.v1?.errors, 0);
      assert.equal(versions.v1?.firstErrorAt, null);
    });
    const sinceMs = Date.now() - 60_000;
    const metrics = await call<MetricsBody>(`${router.adminUrl}/admin/metrics?version=v2&sinceMs=${sinceMs}`);
    assert.equal(metrics.status, 200);
    assert.equal(metrics.body.requests, onCanary);
    assert.equal(metrics.body.errorRate, 1);
  });

  test('/admin/metrics reflects injected latency per version and window', async () => {
    const sinceMs = Date.now();
    v2.setFaults({ latencyMs: 100 });
    await applySplit(router, stable, canary, 50);
    const answers = await routeUsers(router, users2000.slice(0, 80), 40);
    assert.ok(usersOn(answers, 'v2').size > 10 && usersOn(answers, 'v1').size > 10);

    await untilPasses(async () => {
      const m2 = (await call<MetricsBody>(`${router.adminUrl}/admin/metrics?version=v2&sinceMs=${sinceMs}`))
        .body;
      assert.equal(m2.requests, usersOn(answers, 'v2').size);
      assert.ok(m2.p50Ms !== null && m2.p50Ms >= 100 && m2.p50Ms < 1000, `v2 p50 ${m2.p50Ms}`);
      assert.ok(m2.p99Ms !== null && m2.p99Ms >= 100 && m2.p99Ms < 1000, `v2 p99 ${m2.p99Ms}`);
    });
    const m1 = (await call<MetricsBody>(`${router.adminUrl}/admin/metrics?version=v1&sinceMs=${sinceMs}`))
      .body;
    assert.ok(m1.p99Ms !== null && m1.p99Ms < 100, `v1 p99 ${m1.p99Ms}`);
    assert.equal(m1.errors, 0);

    // The sequential latency test asks how many requests were slower than a bound.
    const slowUrl = (version: string) =>
      `${router.adminUrl}/admin/metrics?version=${version}&sinceMs=${sinceMs}&slowerThanMs=60`;
    const slow2 = (await call<MetricsBody & { slowRequests: number }>(slowUrl('v2'))).body;
    const slow1 = (await call<MetricsBody & { slowRequests: number }>(slowUrl('v1'))).body;
    assert.equal(slow2.slowRequests, slow2.requests, 'every 100 ms request is slower than 60 ms');
    assert.equal(slow1.slowRequests, 0);

    // Revision 2 asks for several bounds at once; slowCounts follow boundsMs.
    const boundsUrl = (version: string, bounds: string) =>
      `${router.adminUrl}/admin/metrics?version=${version}&sinceMs=${sinceMs}&boundsMs=${bounds}`;
    const multi2 = (await call<MetricsBody & { slowCounts: number[] }>(boundsUrl('v2', '60,5000'))).body;
    const multi1 = (await call<MetricsBody & { slowCounts: number[] }>(boundsUrl('v1', '60,5000'))).body;
    assert.deepEqual(multi2.slowCounts, [multi2.requests, 0]);
    assert.deepEqual(multi1.slowCounts, [0, 0]);
    const tooMany = await call(boundsUrl('v1', '1,2,3,4,5,6,7,8,9'));
    assert.equal(tooMany.status, 400);
    assert.equal((await call(boundsUrl('v1', '1,x'))).status, 400);
    // An empty slowerThanMs (a URL template's {{slowerThanMs}} with no bound) is no bound at all.
    const noBound = await call<MetricsBody & { slowRequests?: number }>(
      `${router.adminUrl}/admin/metrics?version=v1&sinceMs=${sinceMs}&slowerThanMs=`,
    );
    assert.equal(noBound.status, 200);
    assert.equal(noBound.body.slowRequests, undefined);

    const future = Date.now() + 5000;
    const empty = (await call<MetricsBody>(`${router.adminUrl}/admin/metrics?version=v2&sinceMs=${future}`))
      .body;
    assert.deepEqual([empty.requests, empty.p50Ms, empty.p99Ms, empty.errorRate], [0, null, null, 0]);
    const unknown = await call<MetricsBody>(
      `${router.adminUrl}/admin/metrics?version=nope&sinceMs=0&untilMs=${Date.now()}`,
    );
    assert.deepEqual(unknown.body, {
      version: 'nope',
      requests: 0,
      errors: 0,
      errorRate: 0,
      p50Ms: null,
      p99Ms: null,
      sinceMs: 0,
      untilMs: unknown.body.untilMs,
    });
    const bad = await call<IssuesBody>(`${router.adminUrl}/admin/metrics?version=v2&sinceMs=10&untilMs=5`);
    assert.equal(bad.status, 400);
    assert.deepEqual(
      bad.body.issues.map((i) => i.path),
      ['untilMs'],
    );
    const missing = await call<IssuesBody>(`${router.adminUrl}/admin/metrics?sinceMs=abc`);
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body.issues.map((i) => i.path).sort(), ['sinceMs', 'version']);
  });

  test('PUT /admin/split rejects bad input with 400 and leaves the split alone', async () => {
    await applySplit(router, stable, canary, 5);
    const before = await call(`${router.adminUrl}/admin/split`);

    const bad = await putSplit(router, {
      stable: { version: '-v1', targets: [] },
      canary: { version: 'v2', targets: ['ftp://127.0.0.1:1', 'not a url'] },
      canaryWeight: 12.5,
    });
    assert.equal(bad.status, 400);
    const paths = (bad.body as IssuesBody).issues.map((i) => i.path).sort();
    assert.deepEqual(paths, [
      'canary.targets[0]',
      'canary.targets[1]',
      'canaryWeight',
      'stable.targets',
      'stable.version',
    ]);

    const noCanary = await putSplit(router, { stable, canary: null, canaryWeight: 10 });
    assert.equal(noCanary.status, 400);
    assert.deepEqual(
      (noCanary.body as IssuesBody).issues.map((i) => i.path),
      ['canary'],
    );

    const sameVersion = await putSplit(router, {
      stable,
      canary: { ...canary, version: 'v1' },
      canaryWeight: 10,
    });
    assert.equal(sameVersion.status, 400);
    assert.deepEqual(
      (sameVersion.body as IssuesBody).issues.map((i) => i.path),
      ['canary.version'],
    );

    const notJson = await fetch(`${router.adminUrl}/admin/split`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"stable":',
    });
    assert.equal(notJson.status, 400);
    assert.deepEqual(((await notJson.json()) as IssuesBody).issues, []);

    assert.deepEqual(await call(`${router.adminUrl}/admin/split`), before);
    assert.equal((await stats(router)).splitHistory.length, 1);
  });

  test('GET/PUT /admin/split report weights and timestamps', async () => {
    const t0 = Date.now();
    const put = await putSplit(router, { stable, canary, canaryWeight: 25 });
    assert.equal(put.status, 200);
    const got = await call<{ updatedAt: number }>(`${router.adminUrl}/admin/split`);
    assert.deepEqual(got.body, put.body);
    assert.deepEqual(got.body, {
      stable,
      canary,
      weights: { stable: 75, canary: 25 },
      match: null,
      updatedAt: got.body.updatedAt,
    });
    assert.ok(got.body.updatedAt >= t0 && got.body.updatedAt <= Date.now());

    const stableOnly = await putSplit(router, { stable, canaryWeight: 0 });
    assert.equal(stableOnly.status, 200);
    assert.equal((stableOnly.body as { canary: unknown }).canary, null);
  });

  test('an unreachable upstream is answered 502 and counted against the version tried', async () => {
    const dead = { version: 'v3', targets: [await deadUrl()] };
    await applySplit(router, stable, dead, 100);
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${router.url}/api/checkout`, { headers: { 'x-user-id': `dead-${i}` } });
      assert.equal(res.status, 502);
      assert.equal(res.headers.get('x-rollout-version'), 'v3');
      assert.equal(((await res.json()) as { version: string }).version, 'v3');
    }
    await untilPasses(async () => {
      const { versions } = await stats(router);
      assert.equal(versions.v3?.requests, 5);
      assert.equal(versions.v3?.errors, 5);
      assert.equal(versions.v1, undefined);
    });
  });

  test("the traffic generator's report matches the router's counters", async () => {
    v2.setFaults({ errorRate: 0.3 });
    await applySplit(router, stable, canary, 50);
    const traffic = startTraffic({ url: router.url, rps: 200, users: 100, maxDurationMs: 800 });
    await sleep(1000);
    const settled = traffic.report();
    await sleep(150);
    const report = await traffic.stop();
    assert.deepEqual(report, settled, 'traffic kept going after maxDurationMs');

    assert.equal(report.transportErrors, 0);
    assert.ok(report.sent >= 100 && report.sent <= 200, `sent ${report.sent}`);
    const v1Report = report.byVersion.v1;
    const v2Report = report.byVersion.v2;
    assert.ok(v1Report && v2Report, JSON.stringify(report));
    assert.equal(v1Report.ok + v1Report.failed + v2Report.ok + v2Report.failed, report.sent);
    assert.equal(v1Report.failed, 0);
    assert.equal(v1Report.firstFailureAt, null);
    assert.ok(v2Report.failed > 0 && v2Report.ok > 0, JSON.stringify(v2Report));
    assert.equal(typeof v2Report.firstFailureAt, 'number');

    await untilPasses(async () => {
      const { versions } = await stats(router);
      assert.equal(versions.v1?.requests, v1Report.ok + v1Report.failed);
      assert.equal(versions.v1?.errors, 0);
      assert.equal(versions.v2?.requests, v2Report.ok + v2Report.failed);
      assert.equal(versions.v2?.errors, v2Report.failed);
    });
  });

  test('reset-stats clears counters and history but keeps the split', async () => {
    await applySplit(router, stable, canary, 20);
    await routeUsers(router, users2000.slice(0, 20));
    await untilPasses(async () => assert.equal(Object.keys((await stats(router)).versions).length, 2));
    const res = await fetch(`${router.adminUrl}/admin/reset-stats`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await stats(router), {
      versions: {},
      clientErrors: { total: 0, byReason: {}, byVersion: {}, lastAt: null },
      headerMatched: {},
      splitHistory: [],
    });
    const split = await call<{ weights: { canary: number } }>(`${router.adminUrl}/admin/split`);
    assert.equal(split.body.weights.canary, 20);
  });
});

describe('router forwarding', () => {
  let router: RouterHandle;
  let echoA: EchoServer;
  let echoB: EchoServer;

  before(async () => {
    echoA = await startEcho('a');
    echoB = await startEcho('b');
    router = await startRouter({});
    await applySplit(router, { version: 'blue', targets: [echoA.url, `${echoB.url}/`] }, null, 0);
  });

  after(async () => {
    await Promise.all([router?.close(), echoA?.close(), echoB?.close()]);
  });

  interface Echo {
    tag: string;
    method: string;
    url: string;
    headers: Record<string, string>;
    body: string;
  }

  test('forwards method, path, query, headers and body; stamps the version', async () => {
    const res = await fetch(`${router.url}/orders/42?expand=items&x=%20y`, {
      method: 'POST',
      headers: { 'x-user-id': 'u1', 'content-type': 'application/json', 'x-custom': 'kept' },
      body: '{"qty":3,  "raw":true}',
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-rollout-version'), 'blue');
    assert.deepEqual(res.headers.getSetCookie(), ['upstream=1']);
    const echo = (await res.json()) as Echo;
    assert.equal(echo.method, 'POST');
    assert.equal(echo.url, '/orders/42?expand=items&x=%20y');
    assert.equal(echo.headers['x-user-id'], 'u1');
    assert.equal(echo.headers['x-custom'], 'kept');
    assert.equal(echo.body, '{"qty":3,  "raw":true}', 'body must pass through unparsed');

    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      const other = await fetch(`${router.url}/x`, {
        method,
        headers: { 'x-user-id': 'u1', 'content-type': 'application/octet-stream' },
        body: 'bytes',
      });
      const otherEcho = (await other.json()) as Echo;
      assert.deepEqual([otherEcho.method, otherEcho.body], [method, 'bytes']);
    }
    const head = await fetch(`${router.url}/`, { method: 'HEAD', headers: { 'x-user-id': 'u1' } });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('x-rollout-version'), 'blue');
  });

  test('round-robins across the targets of a version', async () => {
    const tags: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${router.url}/rr`, { headers: { 'x-user-id': 'same-user' } });
      tags.push(((await res.json()) as Echo).tag);
    }
    assert.equal(tags.filter((t) => t === 'a').length, 3);
    assert.equal(tags.filter((t) => t === 'b').length, 3);
    for (let i = 1; i < tags.length; i++) assert.notEqual(tags[i], tags[i - 1]);
  });

  test('pins anonymous users with a rollout-user cookie', async () => {
    const first = await fetch(`${router.url}/anon`);
    const cookies = first.headers.getSetCookie();
    await first.arrayBuffer();
    const pinned = cookies.find((c) => c.startsWith('rollout-user='));
    assert.ok(pinned, `no rollout-user cookie in ${JSON.stringify(cookies)}`);
    const value = pinned.split(';', 1)[0] as string;

    const second = await fetch(`${router.url}/anon`, { headers: { cookie: `${value}; other=1` } });
    assert.deepEqual(second.headers.getSetCookie(), ['upstream=1']);
    const echo = (await second.json()) as Echo;
    assert.equal(echo.headers.cookie, `${value}; other=1`);
  });

  test('does not retry an upstream 503 (reply-from would by default)', async () => {
    const hitsBefore = echoA.hits + echoB.hits;
    const res = await fetch(`${router.url}/status/503`, { headers: { 'x-user-id': 'u503' } });
    assert.equal(res.status, 503);
    await res.arrayBuffer();
    assert.equal(echoA.hits + echoB.hits - hitsBefore, 1);
    await untilPasses(async () => {
      const { versions } = await stats(router);
      assert.ok((versions.blue?.errors ?? 0) >= 1);
    });
  });

  test('rejects path traversal without counting it against the version', async () => {
    const before = (await stats(router)).versions.blue?.requests ?? 0;
    // fetch and URL-string requests would normalise the dots away, so pass the path verbatim.
    const { hostname, port } = new URL(router.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        { hostname, port, path: '/a/%2e%2e/secret', headers: { 'x-user-id': 'u1' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 400);
    await sleep(20);
    assert.equal((await stats(router)).versions.blue?.requests ?? 0, before);
  });
});

describe('LatencyHistogram', () => {
  test('quantiles stay within ~5% and never understate', () => {
    const h = new LatencyHistogram();
    for (let ms = 1; ms <= 1000; ms++) h.record(ms);
    const p50 = h.quantile(0.5) as number;
    const p99 = h.quantile(0.99) as number;
    assert.ok(p50 >= 500 && p50 <= 525, `p50 ${p50}`);
    assert.ok(p99 >= 990 && p99 <= 1000, `p99 ${p99}`);
    assert.equal(h.quantile(1), 1000);
    assert.equal(h.count, 1000);
  });

  test('handles empty, single, tiny and huge samples', () => {
    const h = new LatencyHistogram();
    assert.equal(h.quantile(0.5), null);
    h.record(42.5);
    assert.equal(h.quantile(0.5), 42.5);
    assert.equal(h.quantile(0.99), 42.5);
    const edges = new LatencyHistogram();
    edges.record(0);
    edges.record(-3);
    edges.record(500_000);
    assert.equal(edges.quantile(0), 0.1, 'sub-0.1ms samples share the first bucket');
    assert.equal(edges.quantile(1), 500_000, 'samples beyond 120s are reported as the observed max');
  });

  test('countAbove counts samples in buckets wholly above the bound', () => {
    const h = new LatencyHistogram();
    for (let ms = 1; ms <= 100; ms++) h.record(ms);
    const above = h.countAbove(50);
    assert.ok(above >= 47 && above <= 50, `above 50 ms: ${above}`);
    assert.equal(h.countAbove(1000), 0);
    assert.equal(h.countAbove(0.05), 100);
  });

  test('merging equals recording everything in one histogram', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    const all = new LatencyHistogram();
    for (let i = 0; i < 200; i++) {
      const ms = (i * 37) % 250;
      (i % 2 === 0 ? a : b).record(ms);
      all.record(ms);
    }
    a.merge(b);
    for (const q of [0.1, 0.5, 0.9, 0.99]) assert.equal(a.quantile(q), all.quantile(q));
  });
});

describe('VersionStats', () => {
  test('windows are per-second and include the bucket containing sinceMs', () => {
    const stats = new VersionStats();
    stats.record('v1', { isError: false, latencyMs: 10, at: 10_100 });
    stats.record('v1', { isError: true, latencyMs: 20, at: 10_900 });
    stats.record('v1', { isError: false, latencyMs: 30, at: 12_000 });
    stats.record('v2', { isError: false, latencyMs: 40, at: 10_500 });

    const window = stats.window('v1', 10_950, 11_999);
    assert.deepEqual(window, {
      ...window,
      version: 'v1',
      requests: 2,
      errors: 1,
      errorRate: 0.5,
      sinceMs: 10_950,
    });
    assert.ok(window.p50Ms !== null && window.p50Ms >= 10 && window.p50Ms <= 10.5, `p50 ${window.p50Ms}`);
    assert.equal(window.p99Ms, 20, 'the top quantile is clamped to the largest sample');
    assert.equal(stats.window('v1', 11_000, 20_000).requests, 1);
    assert.equal(stats.window('v1', 0, 20_000).requests, 3);
    assert.equal(stats.window('v3', 0, 20_000).requests, 0);
    assert.deepEqual(stats.snapshotTotals().v1, {
      requests: 3,
      errors: 1,
      firstRequestAt: 10_100,
      firstErrorAt: 10_900,
      lastRequestAt: 12_000,
    });
  });

  test('drops buckets older than the retention period', () => {
    const stats = new VersionStats(60_000);
    stats.record('v1', { isError: false, latencyMs: 1, at: 1_000 });
    stats.record('v2', { isError: false, latencyMs: 1, at: 1_000 });
    stats.record('v1', { isError: false, latencyMs: 1, at: 30_000 });
    assert.equal(stats.window('v1', 0, 100_000).requests, 2);
    stats.record('v1', { isError: false, latencyMs: 1, at: 62_000 });
    assert.equal(stats.window('v1', 0, 100_000).requests, 2);
    assert.equal(stats.window('v2', 0, 100_000).requests, 0);
    assert.equal(stats.snapshotTotals().v1?.requests, 3, 'totals are not windowed');
  });
});
