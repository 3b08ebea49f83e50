/**
 * Regression tests for issue 9, section 2 (the router's admin API): a bearer token from the env,
 * required beyond loopback; a Host check against DNS rebinding; JSON-only writes, so a web page
 * cannot wipe the counters; and no target that is the router itself. All against the real router.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { ConfigurationError } from '../../src/providers/errors';
import { EmbeddedMetricsProvider } from '../../src/providers/metrics/embedded';
import { EmbeddedTrafficRouter } from '../../src/providers/traffic/embedded';
import { type RouterHandle, startRouter } from '../../src/router/server';
import { untilPasses } from '../helpers/eventually';
import { answeringName } from '../helpers/upstream';

const TOKEN = 'test-admin-token-0123456789abcdef';
const ROOT = join(__dirname, '..', '..');

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface Totals {
  requests: number;
  errors: number;
}

/** node:http rather than fetch: fetch cannot send a Host header of its own choosing. */
function adminRequest(
  router: RouterHandle,
  path: string,
  {
    method = 'GET',
    headers = {},
    body,
  }: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string } = {},
): Promise<Answer> {
  const url = new URL(path, router.adminUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const startUpstream = () => answeringName('ok');

const auth = { authorization: `Bearer ${TOKEN}` };
const json = { 'content-type': 'application/json' };

function splitBody(targets: string[], canaryTargets?: string[]): string {
  return JSON.stringify({
    stable: { version: 'v1', targets },
    canary: canaryTargets ? { version: 'v2', targets: canaryTargets } : null,
    canaryWeight: canaryTargets ? 10 : 0,
  });
}

async function totals(
  router: RouterHandle,
  headers: http.OutgoingHttpHeaders = {},
): Promise<Record<string, Totals>> {
  const answer = await adminRequest(router, '/admin/stats', { headers });
  assert.equal(answer.status, 200, answer.body);
  return (JSON.parse(answer.body) as { versions: Record<string, Totals> }).versions;
}

describe('admin API bearer token (ROUTER_ADMIN_TOKEN)', () => {
  let router: RouterHandle;

  before(async () => {
    router = await startRouter({ adminToken: TOKEN });
  });
  after(() => router?.close());

  test('token required: every admin request without it is refused with 401, echoing nothing', async () => {
    for (const [method, path, headers] of [
      ['GET', '/admin/split', {}],
      ['GET', '/admin/stats', {}],
      ['GET', '/admin/metrics?version=v1&sinceMs=0', {}],
      ['PUT', '/admin/split', json],
      ['POST', '/admin/reset-stats', json],
      ['GET', '/admin/nonexistent', {}],
    ] as const) {
      const answer = await adminRequest(router, path, {
        method,
        headers,
        body: method === 'PUT' ? '{}' : undefined,
      });
      assert.equal(answer.status, 401, `${method} ${path}: ${answer.body}`);
      assert.equal(answer.headers['www-authenticate'], 'Bearer');
      assert.deepEqual(JSON.parse(answer.body), { error: 'unauthorized', issues: [] });
    }
  });

  test('token refused: a wrong token, another scheme or the token with junk gets 401 and is not echoed', async () => {
    for (const authorization of [
      'Bearer wrong-token-wrong-token-wrong',
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}`,
      TOKEN,
      'Bearer',
    ]) {
      const answer = await adminRequest(router, '/admin/split', { headers: { authorization } });
      assert.equal(answer.status, 401, authorization);
      assert.ok(!answer.body.includes(authorization), 'the presented credentials must not be echoed');
      assert.ok(!answer.body.includes(TOKEN));
    }
  });

  test('token accepted: reads and writes work with Authorization: Bearer <token>', async () => {
    const upstream = await startUpstream();
    try {
      const put = await adminRequest(router, '/admin/split', {
        method: 'PUT',
        headers: { ...auth, ...json },
        body: splitBody([upstream.url]),
      });
      assert.equal(put.status, 200, put.body);
      const split = await adminRequest(router, '/admin/split', {
        headers: { authorization: `bearer ${TOKEN}` },
      });
      assert.equal(split.status, 200, 'the scheme is case-insensitive');
      assert.equal((JSON.parse(split.body) as { stable: { version: string } }).stable.version, 'v1');
      const reset = await adminRequest(router, '/admin/reset-stats', {
        method: 'POST',
        headers: { ...auth, ...json },
      });
      assert.equal(reset.status, 200, reset.body);
    } finally {
      await upstream.close();
    }
  });

  test('token not required for GET /healthz (container health checks)', async () => {
    const answer = await adminRequest(router, '/healthz');
    assert.equal(answer.status, 200, answer.body);
    assert.deepEqual(JSON.parse(answer.body), { ok: true });
  });

  test('a loopback admin API without a token stays open, as before', async () => {
    const open = await startRouter({});
    try {
      assert.equal((await adminRequest(open, '/admin/split')).status, 200);
    } finally {
      await open.close();
    }
  });
});

describe('admin API beyond loopback', () => {
  test('refusing to start beyond loopback without a token', async () => {
    for (const adminHost of ['0.0.0.0', '::']) {
      await assert.rejects(
        startRouter({ adminHost }),
        /beyond loopback, without a token: set ROUTER_ADMIN_TOKEN/,
      );
    }
  });

  test('refusing a token too short to resist guessing, without quoting it', async () => {
    await assert.rejects(startRouter({ adminHost: '0.0.0.0', adminToken: 'short' }), (err: Error) => {
      assert.match(err.message, /ROUTER_ADMIN_TOKEN must be at least 16 characters/);
      assert.ok(!err.message.includes('short'));
      return true;
    });
  });

  test('starts beyond loopback with a token, and still requires it', async () => {
    const router = await startRouter({ adminHost: '0.0.0.0', adminToken: TOKEN });
    try {
      assert.equal((await adminRequest(router, '/admin/split')).status, 401);
      assert.equal((await adminRequest(router, '/admin/split', { headers: auth })).status, 200);
    } finally {
      await router.close();
    }
  });

  test('router main refuses to start beyond loopback without ROUTER_ADMIN_TOKEN (exit 1, a clear message)', async () => {
    const env = { ...process.env };
    delete env.ROUTER_ADMIN_TOKEN;
    const run = promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/router/main.ts',
        '--port',
        '0',
        '--admin-port',
        '0',
        '--admin-host',
        '0.0.0.0',
      ],
      { cwd: ROOT, env, timeout: 20_000 },
    );
    await assert.rejects(run, (err: Error & { code?: number; stderr?: string }) => {
      assert.equal(err.code, 1, err.stderr);
      assert.match(err.stderr ?? '', /router: failed to start: .*beyond loopback.*ROUTER_ADMIN_TOKEN/);
      return true;
    });
  });
});

describe('admin API Host check (DNS rebinding)', () => {
  let router: RouterHandle;
  let port: string;

  before(async () => {
    router = await startRouter({ adminHosts: ['router'] });
    port = new URL(router.adminUrl).port;
  });
  after(() => router?.close());

  test('a rebinding Host is refused with 421, on reads and writes', async () => {
    for (const host of [
      `attacker.example:${port}`,
      'attacker.example',
      `localhost.attacker.example:${port}`,
      `127.0.0.1.nip.io:${port}`,
    ]) {
      for (const [method, path] of [
        ['GET', '/admin/split'],
        ['POST', '/admin/reset-stats'],
      ] as const) {
        const answer = await adminRequest(router, path, { method, headers: { host, ...json } });
        assert.equal(answer.status, 421, `${host} ${method} ${path}: ${answer.body}`);
        assert.ok(!answer.body.includes('attacker'), 'the Host must not be echoed');
      }
    }
  });

  test('loopback Host names and addresses are accepted, and the names in ROUTER_ADMIN_HOSTS', async () => {
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `LOCALHOST:${port}`,
      `[::1]:${port}`,
      '127.0.0.1',
      `router:${port}`,
    ]) {
      const answer = await adminRequest(router, '/admin/split', { headers: { host } });
      assert.equal(answer.status, 200, `${host}: ${answer.body}`);
    }
  });

  test('a request without a usable Host is refused', async () => {
    for (const host of [`[::1:${port}`, 'a:b:c', `127.0.0.1:${port}, attacker.example`]) {
      const answer = await adminRequest(router, '/admin/split', { headers: { host } });
      assert.ok(answer.status === 421 || answer.status === 400, `${JSON.stringify(host)}: ${answer.status}`);
    }
    // HTTP/1.0 may leave Host out, which Node's server lets through: the check must not.
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.end('GET /admin/split HTTP/1.0\r\n\r\n');
    let raw = '';
    for await (const chunk of socket) raw += String(chunk);
    assert.match(raw, /^HTTP\/1\.[01] 421 /);
  });
});

describe('admin API writes must be application/json', () => {
  let router: RouterHandle;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;

  before(async () => {
    upstream = await startUpstream();
    router = await startRouter({});
    const put = await adminRequest(router, '/admin/split', {
      method: 'PUT',
      headers: json,
      body: splitBody([upstream.url]),
    });
    assert.equal(put.status, 200, put.body);
  });
  after(() => Promise.all([router?.close(), upstream?.close()]));

  test('text/plain reset-stats is refused with 415 and the counters stay intact', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${router.url}/x`)).status, 200);
    await untilPasses(async () => assert.equal((await totals(router)).v1?.requests, 3));

    // What any web page can send cross-origin without a CORS preflight, and a missing type.
    for (const headers of [
      { 'content-type': 'text/plain' },
      { 'content-type': 'text/plain;charset=UTF-8' },
      { 'content-type': 'application/x-www-form-urlencoded' },
      { 'content-type': 'multipart/form-data; boundary=x' },
      {},
    ]) {
      const answer = await adminRequest(router, '/admin/reset-stats', {
        method: 'POST',
        headers,
        body: '{}',
      });
      assert.equal(answer.status, 415, `${JSON.stringify(headers)}: ${answer.body}`);
    }
    assert.equal((await totals(router)).v1?.requests, 3, 'the counters must be intact');

    // The header alone (an empty JSON body) and {} both work.
    for (const body of [undefined, '{}']) {
      const reset = await adminRequest(router, '/admin/reset-stats', { method: 'POST', headers: json, body });
      assert.equal(reset.status, 200, reset.body);
    }
    assert.deepEqual(await totals(router), {});
  });

  test('text/plain PUT /admin/split is refused with 415 and the split is unchanged', async () => {
    const answer = await adminRequest(router, '/admin/split', {
      method: 'PUT',
      headers: { 'content-type': 'text/plain' },
      body: splitBody(['http://127.0.0.1:1']),
    });
    assert.equal(answer.status, 415, answer.body);
    const split = JSON.parse((await adminRequest(router, '/admin/split')).body) as {
      stable: { targets: string[] };
    };
    assert.deepEqual(split.stable.targets, [upstream.url]);
  });
});

describe("admin API refuses a target that is the router's own address", () => {
  let router: RouterHandle;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;

  before(async () => {
    upstream = await startUpstream();
    router = await startRouter({ host: '0.0.0.0', adminHosts: ['router'] });
    const put = await adminRequest(router, '/admin/split', {
      method: 'PUT',
      headers: json,
      body: splitBody([upstream.url]),
    });
    assert.equal(put.status, 200, put.body);
  });
  after(() => Promise.all([router?.close(), upstream?.close()]));

  test('own-address target refused: proxy or admin address under any loopback alias, as stable or canary', async () => {
    const proxyPort = new URL(router.url).port;
    const adminPort = new URL(router.adminUrl).port;
    const own = [
      router.url,
      router.adminUrl,
      `${router.adminUrl}/admin`,
      `http://localhost:${adminPort}`,
      `http://[::1]:${adminPort}/`,
      `http://0.0.0.0:${proxyPort}`,
      // The proxy binds 0.0.0.0: all of 127.0.0.0/8 reaches it.
      `http://127.0.0.2:${proxyPort}`,
      `https://127.0.0.1:${adminPort}`,
      `http://router:${proxyPort}`,
    ];
    for (const target of own) {
      for (const [body, path] of [
        [splitBody([target]), 'stable.targets[0]'],
        [splitBody([upstream.url], [upstream.url, target]), 'canary.targets[1]'],
      ] as const) {
        const answer = await adminRequest(router, '/admin/split', { method: 'PUT', headers: json, body });
        assert.equal(answer.status, 400, `${target}: ${answer.body}`);
        const { error, issues } = JSON.parse(answer.body) as {
          error: string;
          issues: { path: string; message: string }[];
        };
        assert.match(error, /router's own address/);
        assert.deepEqual(issues, [{ path, message: `${target} is the router's own proxy or admin address` }]);
      }
    }
    const split = JSON.parse((await adminRequest(router, '/admin/split')).body) as {
      stable: { targets: string[] };
    };
    assert.deepEqual(split.stable.targets, [upstream.url], 'the live split must be unchanged');
  });

  test('a proxied PUT /admin/split cannot change the live split', async () => {
    // Without the check, a split pointing at the admin API let any client rewrite the split
    // through the proxy; now such a split never gets in, so the proxy forwards to the upstream.
    const answer = await fetch(`${router.url}/admin/split`, {
      method: 'PUT',
      headers: json,
      body: splitBody(['http://127.0.0.1:1']),
    });
    assert.equal(await answer.text(), 'ok');
    const split = JSON.parse((await adminRequest(router, '/admin/split')).body) as {
      stable: { targets: string[] };
    };
    assert.deepEqual(split.stable.targets, [upstream.url]);
  });

  test('other ports on loopback are still fine targets', async () => {
    const answer = await adminRequest(router, '/admin/split', {
      method: 'PUT',
      headers: json,
      body: splitBody([upstream.url]),
    });
    assert.equal(answer.status, 200, answer.body);
  });
});

describe('embedded providers send ROUTER_ADMIN_TOKEN from the env', () => {
  let router: RouterHandle;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  const saved = process.env.ROUTER_ADMIN_TOKEN;

  before(async () => {
    upstream = await startUpstream();
    router = await startRouter({ adminToken: TOKEN });
  });
  after(async () => {
    if (saved === undefined) delete process.env.ROUTER_ADMIN_TOKEN;
    else process.env.ROUTER_ADMIN_TOKEN = saved;
    await Promise.all([router?.close(), upstream?.close()]);
  });

  test('with the token in the env, setSplit, getSplit and versionMetrics work', async () => {
    process.env.ROUTER_ADMIN_TOKEN = TOKEN;
    const traffic = new EmbeddedTrafficRouter(router.adminUrl);
    const metrics = new EmbeddedMetricsProvider(router.adminUrl);
    const sinceMs = Date.now();
    const set = await traffic.setSplit({
      stable: { version: 'v1', targets: [upstream.url] },
      canary: null,
      canaryWeight: 0,
    });
    assert.equal(set.stable?.version, 'v1');
    assert.deepEqual((await traffic.getSplit()).weights, { stable: 100, canary: 0 });
    for (let i = 0; i < 2; i++) assert.equal((await fetch(`${router.url}/m`)).status, 200);
    await untilPasses(async () => {
      const m = await metrics.versionMetrics('v1', { sinceMs });
      assert.deepEqual([m.requests, m.errors], [2, 0]);
    });
  });

  test('the token is read at call time: without it, or with a wrong one, calls fail and never quote it', async () => {
    const traffic = new EmbeddedTrafficRouter(router.adminUrl);
    const metrics = new EmbeddedMetricsProvider(router.adminUrl);
    const wrong = 'wrong-token-but-long-enough-0000';
    for (const value of [undefined, wrong]) {
      if (value === undefined) delete process.env.ROUTER_ADMIN_TOKEN;
      else process.env.ROUTER_ADMIN_TOKEN = value;
      for (const call of [() => traffic.getSplit(), () => metrics.versionMetrics('v1', { sinceMs: 0 })]) {
        await assert.rejects(call(), (err: Error) => {
          assert.ok(err instanceof ConfigurationError, err.message);
          assert.match(err.message, /answered 401/);
          assert.ok(!err.message.includes(wrong) && !err.message.includes(TOKEN));
          return true;
        });
      }
    }
  });

  test('a token that cannot be a header value is refused without quoting it', async () => {
    process.env.ROUTER_ADMIN_TOKEN = 'secret-with\r\nnewline-0123456789';
    await assert.rejects(new EmbeddedTrafficRouter(router.adminUrl).getSplit(), (err: Error) => {
      assert.ok(err instanceof ConfigurationError);
      assert.match(err.message, /ROUTER_ADMIN_TOKEN must be visible ASCII/);
      assert.ok(!err.message.includes('secret-with'));
      return true;
    });
  });
});
