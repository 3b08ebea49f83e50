import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import { sessionValue } from '../../src/dashboard/access';
import { type ControlAction, type RolloutBackend, RolloutEndedError } from '../../src/dashboard/backend';
import { type DashboardHandle, startDashboard } from '../../src/dashboard/server';
import type { RolloutView } from '../../src/dashboard/views';
import { parseCanarySpec } from '../../src/spec/load';
import { initialState } from '../../src/workflows/initial-state';
import type { RolloutState } from '../../src/workflows/state';
import { httpRequest } from '../helpers/dashboard';

const TOKEN = 'dashboard-test-token-0123456789';

const SPEC = parseCanarySpec({
  service: 'checkout',
  stable: { version: 'v1', targets: ['http://127.0.0.1:9001'] },
  canary: { version: 'v2', targets: ['http://127.0.0.1:9002'] },
  traffic: { provider: 'embedded', adminUrl: 'http://127.0.0.1:9901' },
});

/** A rollout at 20% with one failing poll plotted; the numbers are what the assertions look for. */
function state(): RolloutState {
  return {
    ...initialState({
      service: 'checkout',
      strategy: 'canary',
      stableVersion: 'v1',
      canaryVersion: 'v2',
      stageWeights: [20, 50, 100],
      analysis: SPEC.analysis,
    }),
    phase: 'monitoring',
    stageIndex: 0,
    weights: { stable: 80, canary: 20 },
    series: [
      {
        at: Date.parse('2030-01-01T00:00:05Z'),
        windowStartedAt: Date.parse('2030-01-01T00:00:02Z'),
        stage: 0,
        weight: 20,
        polls: 1,
        result: 'fail',
        stable: { requests: 100, errors: 1, p99Ms: 20 },
        canary: { requests: 20, errors: 10, p99Ms: 25 },
      },
    ],
    startedAt: '2030-01-01T00:00:00Z',
    updatedAt: '2030-01-01T00:00:05Z',
  };
}

class FakeBackend implements RolloutBackend {
  namespace = 'default';
  signals: { id: string; action: ControlAction; reason: string | undefined }[] = [];
  async list() {
    return [];
  }
  async rollout(id: string) {
    if (id === 'rollout-missing') throw new WorkflowNotFoundError('workflow not found', id, undefined);
    return { workflowId: id, runId: 'run-1', status: 'RUNNING', state: state() };
  }
  async signal(id: string, action: ControlAction, reason: string | undefined) {
    if (id === 'rollout-ended') throw new RolloutEndedError(`${id} has ended (COMPLETED)`);
    this.signals.push({ id, action, reason });
  }
}

async function withDashboard(
  token: string | undefined,
  run: (d: DashboardHandle, b: FakeBackend) => Promise<void>,
) {
  const backend = new FakeBackend();
  const dashboard = await startDashboard({
    backend,
    host: '127.0.0.1',
    port: 0,
    token,
    webUiUrl: 'http://127.0.0.1:8233',
  });
  try {
    await run(dashboard, backend);
  } finally {
    await dashboard.close();
  }
}

describe('dashboard server on loopback without a token', () => {
  let dashboard: DashboardHandle;
  let backend: FakeBackend;
  let host: string;
  before(async () => {
    backend = new FakeBackend();
    dashboard = await startDashboard({
      backend,
      host: '127.0.0.1',
      port: 0,
      webUiUrl: 'http://localhost:8233/',
    });
    host = new URL(dashboard.url).host;
  });
  after(() => dashboard.close());

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    httpRequest(`${dashboard.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: dashboard.url, ...headers },
      body: JSON.stringify(body),
    });

  test('the page and its scripts, under a CSP with no other origin', async () => {
    for (const path of ['/', '/rollouts/rollout-checkout']) {
      const page = await httpRequest(`${dashboard.url}${path}`);
      assert.equal(page.status, 200);
      assert.match(page.headers['content-type'] ?? '', /text\/html/);
      assert.match(page.body, /<script type="module" src="\/static\/app.js">/);
      assert.equal(page.headers['referrer-policy'], 'no-referrer');
      const csp = String(page.headers['content-security-policy']);
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.doesNotMatch(csp, /unsafe|https?:/);
    }
    const chart = await httpRequest(`${dashboard.url}/static/chart.umd.min.js`);
    assert.equal(chart.status, 200);
    assert.match(chart.body.slice(0, 300), /Chart\.js v4/);
    assert.equal(
      (await httpRequest(`${dashboard.url}/static/page.html`)).status,
      404,
      'only the listed files',
    );
    assert.equal((await httpRequest(`${dashboard.url}/static/..%2Fserver.ts`)).status, 404);
  });

  test('a rollout as JSON: plots made from the series, no internal carry, the Web UI link', async () => {
    const answer = await httpRequest(`${dashboard.url}/api/rollouts/checkout`);
    assert.equal(answer.status, 200);
    const view = JSON.parse(answer.body) as RolloutView;
    assert.equal(view.running, true);
    assert.equal(view.webUiLink, 'http://localhost:8233/namespaces/default/workflows/checkout');
    assert.deepEqual(view.plots.errorRatePct.canary, [{ x: 5, y: 50 }]);
    assert.deepEqual(view.plots.errorRatePct.stable, [{ x: 5, y: 1 }]);
    assert.ok(!('analysis' in view.state) && !('series' in view.state));
    assert.equal(answer.headers['cache-control'], 'no-store');
  });

  test("Temporal's answers become statuses: not found 404, ended 409", async () => {
    const missing = await httpRequest(`${dashboard.url}/api/rollouts/rollout-missing`);
    assert.equal(missing.status, 404);
    const ended = await post('/api/rollouts/rollout-ended/pause', {});
    assert.equal(ended.status, 409);
    assert.match(ended.body, /has ended/);
  });

  test('a signal from the page is sent; an abort needs a reason', async () => {
    backend.signals = [];
    assert.equal((await post('/api/rollouts/checkout/abort', {})).status, 400);
    assert.equal((await post('/api/rollouts/checkout/abort', { reason: '   ' })).status, 400);
    assert.equal((await post('/api/rollouts/checkout/launch', {})).status, 400, 'no such control');
    assert.equal((await post('/api/rollouts/checkout/resume', { extra: 1 })).status, 400);
    const sent = await post('/api/rollouts/checkout/abort', { reason: ' customer complaints ' });
    assert.equal(sent.status, 202);
    assert.deepEqual(JSON.parse(sent.body), { signal: 'abort', workflowId: 'rollout-checkout' });
    assert.equal((await post('/api/rollouts/rollout-checkout/pause', {})).status, 202);
    assert.deepEqual(backend.signals, [
      { id: 'checkout', action: 'abort', reason: 'customer complaints' },
      { id: 'rollout-checkout', action: 'pause', reason: undefined },
    ]);
  });

  test('CSRF: a write from another origin, without one, or not JSON is refused and sends nothing', async () => {
    backend.signals = [];
    const refused = [
      await post('/api/rollouts/checkout/abort', { reason: 'x' }, { origin: 'http://evil.example' }),
      await post('/api/rollouts/checkout/abort', { reason: 'x' }, { origin: 'http://127.0.0.1:1' }),
      await post('/api/rollouts/checkout/abort', { reason: 'x' }, { 'sec-fetch-site': 'cross-site' }),
      await httpRequest(`${dashboard.url}/api/rollouts/checkout/abort`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"reason":"x"}',
      }),
    ];
    assert.deepEqual(
      refused.map((r) => r.status),
      [403, 403, 403, 403],
    );
    const form = await post('/api/rollouts/checkout/abort', {}, { 'content-type': 'text/plain' });
    assert.equal(form.status, 415);
    assert.deepEqual(backend.signals, []);
  });

  test('DNS rebinding: a Host that is not this server is refused, reads too', async () => {
    const rebound = await httpRequest(`${dashboard.url}/api/rollouts`, {
      headers: { host: 'attacker.example' },
    });
    assert.equal(rebound.status, 421);
    assert.doesNotMatch(rebound.body, /attacker/, 'never quotes what was sent');
    assert.equal((await httpRequest(`${dashboard.url}/api/rollouts`, { headers: { host } })).status, 200);
  });
});

describe('dashboard server with a token', () => {
  test('the API needs the bearer header or the cookie; ?token= on the page sets the cookie', async () => {
    await withDashboard(TOKEN, async (dashboard) => {
      const api = `${dashboard.url}/api/rollouts`;
      const denied = await httpRequest(api);
      assert.equal(denied.status, 401);
      assert.equal(denied.headers['www-authenticate'], 'Bearer');
      assert.equal(
        (await httpRequest(api, { headers: { authorization: 'Bearer not-the-token-at-all' } })).status,
        401,
      );
      assert.equal((await httpRequest(api, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);

      const page = await httpRequest(`${dashboard.url}/`);
      assert.equal(page.status, 200, 'the page holds no data: it loads, and says to sign in');
      assert.equal(page.headers['set-cookie'], undefined);
      const wrong = await httpRequest(`${dashboard.url}/rollouts/x?token=not-the-token-at-all`);
      assert.equal(wrong.headers['set-cookie'], undefined);
      const signedIn = await httpRequest(`${dashboard.url}/rollouts/x?token=${TOKEN}`);
      const cookie = signedIn.headers['set-cookie']?.[0] ?? '';
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Strict/);
      assert.ok(!cookie.includes(TOKEN), 'the cookie is derived from the token, not the token');
      const session = cookie.split(';')[0]!;
      assert.equal(session, `rollout_dashboard=${sessionValue(TOKEN)}`);
      assert.equal((await httpRequest(api, { headers: { cookie: session } })).status, 200);
    });
  });

  test('an encoded or absolute-form path reaches no API route unguarded', async () => {
    await withDashboard(TOKEN, async (dashboard, backend) => {
      const { host } = new URL(dashboard.url);
      // The router decodes paths before matching: each of these would reach an /api route.
      for (const path of ['/%61pi/rollouts', '/%61%70%69/rollouts/checkout', `http://${host}/api/rollouts`]) {
        const answer = await httpRequest(`${dashboard.url}/`, { path, headers: { host } });
        assert.equal(answer.status, 401, `${path} answered ${answer.status}`);
      }
      const write = await httpRequest(`${dashboard.url}/`, {
        path: '/%61pi/rollouts/checkout/promote',
        method: 'POST',
        headers: { host },
      });
      assert.equal(write.status, 401);
      assert.deepEqual(backend.signals, [], 'nothing was signalled');
    });
  });

  test('behind a proxy that rewrites Host, a write from the public URL is same-origin', async () => {
    const backend = new FakeBackend();
    const dashboard = await startDashboard({
      backend,
      host: '127.0.0.1',
      port: 0,
      publicUrl: 'https://rollouts.example.com',
      webUiUrl: 'http://127.0.0.1:8233',
    });
    try {
      const write = (origin: string) =>
        httpRequest(`${dashboard.url}/api/rollouts/checkout/resume`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin },
          body: '{}',
        });
      assert.equal((await write('https://rollouts.example.com')).status, 202);
      assert.equal((await write('https://rollouts.example.com.evil.example')).status, 403);
      assert.equal((await write('http://rollouts.example.com')).status, 403, 'the scheme counts');
      assert.deepEqual(backend.signals, [{ id: 'checkout', action: 'resume', reason: undefined }]);
    } finally {
      await dashboard.close();
    }
  });

  test('a cookie write still needs the origin; a bearer write does not', async () => {
    await withDashboard(TOKEN, async (dashboard, backend) => {
      const session = `rollout_dashboard=${sessionValue(TOKEN)}`;
      const write = (headers: Record<string, string>) =>
        httpRequest(`${dashboard.url}/api/rollouts/checkout/resume`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: '{}',
        });
      assert.equal((await write({ cookie: session })).status, 403);
      assert.equal((await write({ cookie: session, origin: 'http://evil.example' })).status, 403);
      assert.equal((await write({ origin: dashboard.url })).status, 401, 'the origin alone is no credential');
      assert.equal((await write({ cookie: session, origin: dashboard.url })).status, 202);
      assert.equal((await write({ authorization: `Bearer ${TOKEN}` })).status, 202);
      assert.equal(backend.signals.length, 2);
    });
  });
});
