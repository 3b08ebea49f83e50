/**
 * Regression tests for issue 9, section 2 (the router): clients must not be able to put errors into
 * a version's counts, nor reach paths outside a target's prefix. Everything runs on the real router
 * against real upstream HTTP servers; requests fetch cannot send go over raw sockets.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, beforeEach, describe, test } from 'node:test';
import { withoutHopByHop } from '../../src/router/hop-by-hop';
import { checkRequestPath, joinTarget } from '../../src/router/request-path';
import { type RouterHandle, startRouter } from '../../src/router/server';
import { untilPasses } from '../helpers/eventually';
import { putLive } from '../helpers/router-split';

interface Totals {
  requests: number;
  errors: number;
}
interface StatsBody {
  versions: Record<string, Totals>;
  clientErrors: {
    total: number;
    byReason: Record<string, number>;
    byVersion: Record<string, number>;
    lastAt: number | null;
  };
}

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  bodyBytes: number;
  bodySha256: string;
}

interface Upstream {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

async function listen(server: http.Server | net.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Records exactly what arrived, and answers with hop-by-hop headers of its own. */
async function startRecorder(): Promise<Upstream> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const hash = createHash('sha256');
    let bodyBytes = 0;
    req.on('data', (chunk: Buffer) => {
      bodyBytes += chunk.length;
      hash.update(chunk);
    });
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        bodyBytes,
        bodySha256: hash.digest('hex'),
      });
      res.setHeader('content-type', 'application/json');
      res.setHeader('connection', 'x-upstream-hop');
      res.setHeader('x-upstream-hop', 'must not reach the client');
      res.setHeader('proxy-authenticate', 'Basic realm="upstream"');
      res.setHeader('upgrade', 'h2c');
      res.setHeader('x-kept', 'yes');
      res.end(JSON.stringify({ url: req.url, bodyBytes }));
    });
  });
  const url = await listen(server);
  return {
    url,
    received,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function stats(router: RouterHandle): Promise<StatsBody> {
  return (await (await fetch(`${router.adminUrl}/admin/stats`)).json()) as StatsBody;
}

async function resetStats(router: RouterHandle): Promise<void> {
  const res = await fetch(`${router.adminUrl}/admin/reset-stats`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
}

interface RawAnswer {
  status: number;
  head: string;
  body: string;
}

/** Sends bytes exactly as written and reads until the router closes the connection. */
async function rawRequest(router: RouterHandle, request: string): Promise<RawAnswer> {
  const { port } = new URL(router.url);
  const text = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(request));
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
    socket.setTimeout(3000, () => socket.destroy(new Error(`no answer to ${JSON.stringify(request)}`)));
  });
  // Skip interim responses (100 Continue) to get to the final one.
  const final = text.replace(/^(HTTP\/1\.1 1\d\d [^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n)+/, '');
  const split = final.indexOf('\r\n\r\n');
  const head = final.slice(0, split);
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, body: final.slice(split + 4) };
}

function get(path: string, ...headers: string[]): string {
  return [`GET ${path} HTTP/1.1`, 'Host: router.test', 'X-User-Id: hardening', ...headers, '', ''].join(
    '\r\n',
  );
}

/** GET with `Connection: close` so rawRequest sees the end of the answer. */
function getAndClose(path: string, ...headers: string[]): string {
  return get(path, ...headers, 'Connection: close');
}

interface NodeAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  sawContinue: boolean;
}

/** node:http lets a test set the headers fetch refuses (Keep-Alive, Expect, Connection). */
function nodeRequest(
  router: RouterHandle,
  opts: {
    method?: string;
    path?: string;
    headers?: http.OutgoingHttpHeaders;
    body?: Buffer;
    agent?: http.Agent;
  },
): Promise<NodeAnswer> {
  const { hostname, port } = new URL(router.url);
  return new Promise((resolve, reject) => {
    let sawContinue = false;
    const req = http.request(
      {
        hostname,
        port,
        method: opts.method ?? 'GET',
        path: opts.path ?? '/',
        headers: { 'x-user-id': 'hardening', ...opts.headers },
        agent: opts.agent,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, sawContinue }),
        );
      },
    );
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('router did not answer')));
    const expectsContinue = String(opts.headers?.expect ?? '').toLowerCase() === '100-continue';
    if (expectsContinue) {
      // The body is only sent once the router says 100 Continue, as curl does for uploads over 1 MB.
      req.on('continue', () => {
        sawContinue = true;
        req.end(opts.body);
      });
    } else {
      req.end(opts.body);
    }
  });
}

describe('router hardening: hop-by-hop headers (issue 9 §2)', () => {
  let router: RouterHandle;
  let upstream: Upstream;

  before(async () => {
    upstream = await startRecorder();
    router = await startRouter({});
    await putLive(router.adminUrl, { version: 'blue', targets: [`${upstream.url}/prefix`] });
  });

  after(async () => {
    await Promise.all([router?.close(), upstream?.close()]);
  });

  beforeEach(async () => {
    upstream.received.length = 0;
    await resetStats(router);
  });

  test('Keep-Alive, Upgrade, TE, Proxy-* and Connection-listed headers are dropped; requests succeed with no version errors', async () => {
    const cases = [
      get('/ka', 'Keep-Alive: timeout=5, max=100', 'Connection: keep-alive, close'),
      getAndClose('/ka-bare', 'Keep-Alive: timeout=5'),
      getAndClose('/upgrade-bare', 'Upgrade: websocket'),
      get(
        '/upgrade-listed',
        'Upgrade: h2c',
        'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA',
        'Connection: Upgrade, HTTP2-Settings, close',
      ),
      getAndClose('/te', 'TE: trailers, deflate'),
      getAndClose('/proxy', 'Proxy-Authorization: Basic c2VjcmV0', 'Proxy-Connection: keep-alive'),
      get('/listed', 'X-Hop-Secret: 1', 'Connection: X-Hop-Secret, close'),
      getAndClose('/expect-get', 'Expect: 100-continue'),
    ];
    for (const request of cases) {
      const answer = await rawRequest(router, request);
      assert.equal(answer.status, 200, `${JSON.stringify(request)} → ${answer.head}\n${answer.body}`);
    }

    assert.equal(upstream.received.length, cases.length);
    const forbidden = [
      'keep-alive',
      'upgrade',
      'te',
      'proxy-authorization',
      'proxy-connection',
      'x-hop-secret',
    ];
    forbidden.push('http2-settings', 'expect', 'transfer-encoding');
    for (const got of upstream.received) {
      for (const name of forbidden) assert.equal(got.headers[name], undefined, `${name} reached ${got.url}`);
      // The router's own connection to the upstream is keep-alive; the client's Connection never passes.
      assert.doesNotMatch(String(got.headers.connection ?? ''), /upgrade|x-hop-secret|http2-settings/i);
      assert.equal(got.headers['x-user-id'], 'hardening', 'end-to-end headers still pass');
    }

    await untilPasses(async () => {
      const { versions, clientErrors } = await stats(router);
      assert.deepEqual([versions.blue?.requests, versions.blue?.errors], [cases.length, 0]);
      assert.equal(clientErrors.total, 0);
    });
  });

  test('Keep-Alive on a reused client connection works request after request', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 5; i++) {
        const answer = await nodeRequest(router, {
          path: `/reuse/${i}`,
          agent,
          headers: { connection: 'keep-alive', 'keep-alive': 'timeout=30' },
        });
        assert.equal(answer.status, 200, answer.body);
      }
    } finally {
      agent.destroy();
    }
    await untilPasses(async () => {
      const { versions } = await stats(router);
      assert.deepEqual([versions.blue?.requests, versions.blue?.errors], [5, 0]);
    });
  });

  test("the upstream's hop-by-hop response headers do not reach the client", async () => {
    const answer = await nodeRequest(router, { path: '/response-headers' });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['x-kept'], 'yes');
    assert.equal(answer.headers['x-upstream-hop'], undefined, 'listed in the upstream Connection header');
    assert.equal(answer.headers['proxy-authenticate'], undefined);
    assert.equal(answer.headers.upgrade, undefined);
    assert.doesNotMatch(String(answer.headers.connection ?? ''), /x-upstream-hop/);
    assert.equal(answer.headers['x-rollout-version'], 'blue');
  });

  test('Expect: 100-continue: a 2 MB upload is answered 100 Continue and reaches the version whole', async () => {
    const body = Buffer.alloc(2 * 1024 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31) % 251;
    const sha = createHash('sha256').update(body).digest('hex');

    const withExpect = await nodeRequest(router, {
      method: 'POST',
      path: '/upload',
      headers: {
        expect: '100-continue',
        'content-type': 'application/octet-stream',
        'content-length': body.length,
      },
      body,
    });
    assert.equal(withExpect.status, 200, withExpect.body);
    assert.ok(withExpect.sawContinue, 'the router must send 100 Continue');

    // The same upload without Expect: nothing in the router limits a streamed body to 1 MB.
    const plain = await nodeRequest(router, {
      method: 'PUT',
      path: '/upload',
      headers: { 'content-type': 'application/octet-stream', 'content-length': body.length },
      body,
    });
    assert.equal(plain.status, 200, plain.body);

    assert.equal(upstream.received.length, 2);
    for (const got of upstream.received) {
      assert.deepEqual([got.url, got.bodyBytes, got.bodySha256], ['/prefix/upload', body.length, sha]);
      assert.equal(got.headers.expect, undefined);
    }
    await untilPasses(async () => {
      const { versions, clientErrors } = await stats(router);
      assert.deepEqual([versions.blue?.requests, versions.blue?.errors, clientErrors.total], [2, 0, 0]);
    });
  });

  test('a forged x-rollout-version from the client is not forwarded and not echoed', async () => {
    const answer = await nodeRequest(router, { path: '/forged', headers: { 'x-rollout-version': 'green' } });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['x-rollout-version'], 'blue');
    assert.equal(upstream.received.length, 1);
    assert.equal(upstream.received[0]?.headers['x-rollout-version'], undefined);
    await untilPasses(async () => {
      const { versions } = await stats(router);
      assert.equal(versions.green, undefined);
      assert.equal(versions.blue?.requests, 1);
    });
  });
});

describe('router hardening: client errors are not version errors (issue 9 §2)', () => {
  let router: RouterHandle;
  let upstream: Upstream;

  before(async () => {
    upstream = await startRecorder();
    router = await startRouter({});
    await putLive(router.adminUrl, { version: 'blue', targets: [upstream.url] });
  });

  after(async () => {
    await Promise.all([router?.close(), upstream?.close()]);
  });

  beforeEach(async () => {
    upstream.received.length = 0;
    await resetStats(router);
  });

  test('a malformed request, a refused method, a bad path and a refused Expect count as client errors only', async () => {
    const cases: [string, number, string][] = [
      [getAndClose('/a', 'Bad Header: has a space in its name'), 400, 'malformed-request'],
      [getAndClose('/a', 'X-Ctl: a\u0001b'), 400, 'malformed-request'],
      ['FOO /a HTTP/1.1\r\nHost: router.test\r\nConnection: close\r\n\r\n', 400, 'malformed-request'],
      ['PROPFIND /a HTTP/1.1\r\nHost: router.test\r\nConnection: close\r\n\r\n', 405, 'method-not-allowed'],
      [getAndClose('/a%zz'), 400, 'bad-path'],
      [getAndClose('/\\..\\..\\escape'), 400, 'bad-path'],
      [getAndClose('*'), 400, 'bad-path'],
      [getAndClose('/a', 'Expect: something-else'), 417, 'invalid-request'],
    ];
    const expected: Record<string, number> = {};
    for (const [request, status, reason] of cases) {
      const answer = await rawRequest(router, request);
      assert.equal(answer.status, status, `${JSON.stringify(request)} → ${answer.head}`);
      expected[reason] = (expected[reason] ?? 0) + 1;
    }
    assert.equal(upstream.received.length, 0, 'none of these may reach the version');
    await untilPasses(async () => {
      const { versions, clientErrors } = await stats(router);
      assert.deepEqual(versions, {}, 'no requests or errors for any version');
      assert.equal(clientErrors.total, cases.length);
      assert.deepEqual(clientErrors.byReason, expected);
    });
  });

  test('client errors are visible in /admin/stats and cleared by reset-stats', async () => {
    await rawRequest(router, getAndClose('/%2e%2e/x'));
    await untilPasses(async () => assert.equal((await stats(router)).clientErrors.total, 1));
    const { clientErrors } = await stats(router);
    assert.equal(typeof clientErrors.lastAt, 'number');
    await resetStats(router);
    assert.deepEqual((await stats(router)).clientErrors, {
      total: 0,
      byReason: {},
      byVersion: {},
      lastAt: null,
    });
  });
});

describe('router hardening: failures on the way to the version still count (issue 9 §2)', () => {
  const UPSTREAM_TIMEOUT_MS = 300;
  let router: RouterHandle;
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  let refusingUrl: string;
  let resettingUrl: string;
  let hangingUrl: string;
  let breaksOffUrl: string;
  let stallsUrl: string;

  before(async () => {
    // Refuses connections: bind an ephemeral port, then release it.
    const probe = net.createServer();
    refusingUrl = await listen(probe);
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    // Accepts, reads the request, then resets the connection without answering.
    const resetting = net.createServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
    // Accepts and never answers.
    const hanging = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    // Answer 200, send part of the body, then reset, or stall past the router's timeout.
    const breaksOff = http.createServer((req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial', () => setTimeout(() => req.socket.resetAndDestroy(), 20));
    });
    const stalls = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial');
    });
    servers.push(resetting, hanging, breaksOff, stalls);
    resettingUrl = await listen(resetting);
    hangingUrl = await listen(hanging);
    breaksOffUrl = await listen(breaksOff);
    stallsUrl = await listen(stalls);

    router = await startRouter({ upstreamTimeoutMs: UPSTREAM_TIMEOUT_MS });
  });

  after(async () => {
    await router?.close();
    // net.Server has no closeAllConnections, and close() waits for the sockets the router left open.
    for (const socket of sockets) socket.destroy();
    for (const server of servers) if (server instanceof http.Server) server.closeAllConnections();
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  });

  beforeEach(async () => resetStats(router));

  for (const [name, target] of [
    ['refuses connections', () => refusingUrl],
    ['resets the connection', () => resettingUrl],
    ['times out', () => hangingUrl],
  ] as const) {
    test(`an upstream that ${name} is the version's error, even when the client sends hop-by-hop headers`, async () => {
      await putLive(router.adminUrl, { version: 'canary', targets: [target()] });
      const plain = await nodeRequest(router, { path: '/dies' });
      const hostile = await nodeRequest(router, {
        path: '/dies',
        headers: { connection: 'keep-alive, upgrade', 'keep-alive': 'timeout=5', upgrade: 'websocket' },
      });
      const upload = await nodeRequest(router, {
        method: 'POST',
        path: '/dies',
        headers: { expect: '100-continue', 'content-length': 4 },
        body: Buffer.from('data'),
      });
      for (const answer of [plain, hostile, upload]) {
        assert.equal(answer.status, 502, answer.body);
        assert.equal(answer.headers['x-rollout-version'], 'canary');
      }
      await untilPasses(async () => {
        const { versions, clientErrors } = await stats(router);
        assert.deepEqual([versions.canary?.requests, versions.canary?.errors], [3, 3]);
        assert.equal(clientErrors.total, 0);
      });
    });
  }

  for (const [name, target] of [
    ['resets the connection mid-response', () => breaksOffUrl],
    ['stalls mid-response past the timeout', () => stallsUrl],
  ] as const) {
    test(`an upstream that ${name} is the version's error, although the client already saw 200`, async () => {
      await putLive(router.adminUrl, { version: 'canary', targets: [target()] });
      for (let i = 0; i < 3; i++) {
        const answer = await brokenOff(router, '/breaks');
        assert.deepEqual(answer, { status: 200, completed: false });
      }
      await untilPasses(async () => {
        const { versions, clientErrors } = await stats(router);
        assert.deepEqual([versions.canary?.requests, versions.canary?.errors], [3, 3]);
        assert.equal(clientErrors.total, 0);
      });
    });
  }
});

/** A GET whose response may break off: its status, and whether the body arrived whole. */
function brokenOff(router: RouterHandle, path: string): Promise<{ status: number; completed: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${router.url}${path}`, { headers: { 'x-user-id': 'hardening' } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, completed: res.complete }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, completed: false }));
    });
    req.on('error', reject);
  });
}

describe('router hardening: a client that hangs up is not the version failing (issue 9 §2)', () => {
  let router: RouterHandle;
  let upstream: http.Server;
  let upstreamUrl: string;
  const uploads: { bytes: number; aborted: boolean }[] = [];

  before(async () => {
    // Streams a slow answer, and reports how much of each upload arrived.
    upstream = http.createServer((req, res) => {
      if (req.method === 'POST') {
        const upload = { bytes: 0, aborted: false };
        uploads.push(upload);
        req.on('data', (chunk: Buffer) => (upload.bytes += chunk.length));
        req.on('aborted', () => (upload.aborted = true));
        req.on('end', () => res.end('done'));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('tick\n'), 20);
      res.on('close', () => clearInterval(timer));
    });
    upstreamUrl = await listen(upstream);
    router = await startRouter({});
    await putLive(router.adminUrl, { version: 'blue', targets: [upstreamUrl] });
  });

  after(async () => {
    await router?.close();
    upstream.closeAllConnections();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  test('hanging up mid-upload or mid-response adds no error to the version', async () => {
    await resetStats(router);
    const { port } = new URL(router.url);

    // Mid-upload: promise 100 kB, send 10 bytes, hang up.
    await new Promise<void>((resolve) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => {
        socket.write('POST /upload HTTP/1.1\r\nHost: router.test\r\nX-User-Id: quitter\r\n');
        socket.write('Content-Length: 100000\r\n\r\n0123456789', () =>
          setTimeout(() => socket.destroy(), 100),
        );
      });
      socket.on('close', () => resolve());
    });

    // Mid-response: read the first chunk of a streamed answer, then hang up.
    await new Promise<void>((resolve, reject) => {
      const req = http.get(`${router.url}/stream`, { headers: { 'x-user-id': 'quitter' } }, (res) => {
        assert.equal(res.statusCode, 200);
        res.once('data', () => req.destroy());
        res.on('close', () => resolve());
      });
      req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? resolve() : reject(err)));
    });

    await sleep(300);
    const { versions } = await stats(router);
    assert.equal(versions.blue?.errors ?? 0, 0, JSON.stringify(versions));
    assert.equal(uploads.length, 1, 'the upload reached the version before the client left');
  });
});

describe('router hardening: path traversal cannot leave the target prefix (issue 9 §2)', () => {
  let router: RouterHandle;
  let upstream: Upstream;

  before(async () => {
    upstream = await startRecorder();
    router = await startRouter({});
    await putLive(router.adminUrl, { version: 'blue', targets: [`${upstream.url}/prefix/`] });
  });

  after(async () => {
    await Promise.all([router?.close(), upstream?.close()]);
  });

  beforeEach(async () => {
    upstream.received.length = 0;
    await resetStats(router);
  });

  const attacks = [
    '/\\..\\..\\escape',
    '/..\\escape',
    '/a/\\../../escape',
    '/%5c..%5c..%5cescape',
    '/%5C..%5Cescape',
    '/%2e%2e/escape',
    '/a/%2E%2E/%2e%2e/escape',
    '/.%2e/escape',
    '/%2e./escape',
    '/a/..%2fescape',
    '/a/..%2Fescape',
    '/a/%2e%2e%2fescape',
    '/a/%252e%252e/escape',
    '/a/%25252e%25252e/escape',
    '/a/%255c..%255cescape',
    '//escape',
    '//..//..//escape',
    '/./escape',
    '/a/%00/escape',
    '/a/..',
    'escape',
    'http://169.254.169.254/latest',
  ];

  test('backslash, encoded dot-dot, %5c, %2f, double encoding and // are refused before reaching the version', async () => {
    for (const path of attacks) {
      const answer = await rawRequest(router, getAndClose(path));
      assert.equal(answer.status, 400, `${path} → ${answer.head}\n${answer.body}`);
    }
    assert.deepEqual(
      upstream.received.map((r) => r.url),
      [],
      'the upstream must not receive any of them',
    );
    await untilPasses(async () => {
      const { versions, clientErrors } = await stats(router);
      assert.deepEqual(versions, {}, 'refused paths are not the version’s requests or errors');
      assert.equal(clientErrors.total, attacks.length, JSON.stringify(clientErrors.byReason));
    });
  });

  test('ordinary paths still arrive under the prefix byte for byte', async () => {
    const fine = [
      '/',
      '/a/b',
      '/a/%20b',
      '/files/100%25',
      '/a/.well-known/x',
      '/a//b',
      '/q?next=%2e%2e&x=\\',
    ];
    for (const path of fine) {
      const answer = await rawRequest(router, getAndClose(path));
      assert.equal(answer.status, 200, `${path} → ${answer.head}\n${answer.body}`);
    }
    assert.deepEqual(
      upstream.received.map((r) => r.url),
      fine.map((path) => `/prefix${path}`),
    );
    for (const got of upstream.received) assert.ok(got.url.startsWith('/prefix/'), got.url);
  });
});

describe('router hardening: the pieces on their own (issue 9 §2)', () => {
  test('withoutHopByHop drops RFC 9110 §7.6.1 fields and whatever Connection lists, case-insensitively', () => {
    const out = withoutHopByHop({
      connection: 'X-Listed, close',
      'keep-alive': 'timeout=5',
      te: 'trailers',
      upgrade: 'websocket',
      'transfer-encoding': 'chunked',
      'proxy-authorization': 'Basic x',
      'Proxy-Connection': 'keep-alive',
      'x-listed': '1',
      'x-kept': '2',
      'content-length': '3',
    });
    assert.deepEqual(out, { 'x-kept': '2', 'content-length': '3' });
    assert.deepEqual(withoutHopByHop({ 'x-a': '1', 'x-b': '2' }, ['x-a', ' X-B ']), {});
  });

  test('checkRequestPath accepts ordinary paths and refuses every escaping form', () => {
    for (const ok of ['/', '/a/b?c=d', '/a/.well-known', '/a/b..c', '/%20', '/files/100%25', '/q?x=/../..']) {
      assert.deepEqual(checkRequestPath(ok), { ok: true }, ok);
    }
    for (const bad of [
      'a',
      '*',
      '//h/x',
      '/a\\b',
      '/..',
      '/a/./b',
      '/%2E%2e',
      '/%5c',
      '/a%2f..',
      '/%252e%252e',
      '/%zz',
    ]) {
      assert.equal(checkRequestPath(bad).ok, false, bad);
    }
  });

  test('joinTarget keeps the prefix and refuses a result outside it', () => {
    assert.equal(joinTarget('http://h:1/p/', '/a?b'), 'http://h:1/p/a?b');
    assert.equal(joinTarget('http://h:1', '/a'), 'http://h:1/a');
    // Only reachable if checkRequestPath were bypassed: the second line of defence.
    assert.equal(joinTarget('http://h:1/p', '/../x'), null);
    assert.equal(joinTarget('http://h:1/p', '/..\\..\\x'), null);
    assert.equal(joinTarget('http://h:1/p', '/%2e%2e/x'), null);
    assert.equal(joinTarget('http://h:1/p', 'x/../../y'), null);
  });
});
