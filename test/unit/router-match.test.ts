/**
 * Testers routed by header on the embedded router (issue 8, section 5): a matching request reaches
 * the canary whatever the weight, is counted apart from the analysed requests, and the rule goes
 * away with the next split that carries none. Real router, real upstreams, the real adapter.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EmbeddedTrafficRouter } from '../../src/providers/traffic/embedded';
import { type RouterHandle, startRouter } from '../../src/router/server';
import { answeringName, type Upstream } from '../helpers/upstream';

describe('embedded router: header-matched testers', () => {
  let router: RouterHandle;
  let v1: Upstream;
  let v2: Upstream;
  let adapter: EmbeddedTrafficRouter;
  const match = { headers: { 'x-canary': 'always' } };

  before(async () => {
    [v1, v2] = await Promise.all([answeringName('v1'), answeringName('v2')]);
    router = await startRouter();
    adapter = new EmbeddedTrafficRouter(router.adminUrl);
  });
  after(async () => {
    await router.close();
    await Promise.all([v1.close(), v2.close()]);
  });

  const stable = () => ({ version: 'v1', targets: [v1.url] });
  const canary = () => ({ version: 'v2', targets: [v2.url] });
  const get = async (headers: Record<string, string>) => (await fetch(router.url, { headers })).text();
  const totals = async () =>
    (await (await fetch(`${router.adminUrl}/admin/stats`)).json()) as {
      versions: Record<string, { requests: number }>;
      headerMatched: Record<string, { requests: number }>;
    };

  test('a matching tester reaches the canary at 0%; everyone else stays on stable', async () => {
    const split = await adapter.setSplit({ stable: stable(), canary: canary(), canaryWeight: 0, match });
    assert.deepEqual(split.match, match);
    await fetch(`${router.adminUrl}/admin/reset-stats`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    for (let i = 0; i < 20; i++) {
      assert.equal(await get({ 'x-canary': 'always', 'x-user-id': `tester-${i}` }), 'v2');
      assert.equal(await get({ 'x-user-id': `user-${i}` }), 'v1');
      // Every listed header must carry its exact value.
      assert.equal(await get({ 'x-canary': 'sometimes', 'x-user-id': `user-${i}` }), 'v1');
    }
    const stats = await totals();
    // Testers are counted apart, so the canary's analysed requests stay at 0.
    assert.equal(stats.headerMatched.v2?.requests, 20);
    assert.equal(stats.versions.v2?.requests ?? 0, 0);
    assert.equal(stats.versions.v1?.requests, 40);
  });

  test('a split without a match removes the rule', async () => {
    const split = await adapter.setSplit({ stable: stable(), canary: canary(), canaryWeight: 0 });
    assert.equal(split.match, null);
    assert.equal((await adapter.getSplit()).match, null);
    assert.equal(await get({ 'x-canary': 'always', 'x-user-id': 'tester-0' }), 'v1');
  });

  test('a header route without a canary is refused', async () => {
    await assert.rejects(
      adapter.setSplit({ stable: stable(), canary: null, canaryWeight: 0, match }),
      /a header route needs a canary/,
    );
  });
});
