import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cohortBucket, COHORT_BUCKETS, fnv1a32, isCanaryBucket } from '../../src/router/cohort';
import { readCookie, resolveCohortKey, USER_COOKIE } from '../../src/router/cohort-key';
import { RoutingTable } from '../../src/router/split';

const users = Array.from({ length: 10_000 }, (_, i) => `cohort-user-${i}`);

describe('fnv1a32', () => {
  test('matches the published FNV-1a 32-bit test vectors', () => {
    assert.equal(fnv1a32(''), 0x811c9dc5);
    assert.equal(fnv1a32('a'), 0xe40c292c);
    assert.equal(fnv1a32('foobar'), 0xbf9cf968);
  });

  test('hashes UTF-8 bytes (0xc3 0xa9), not the UTF-16 code unit 0xe9', () => {
    assert.equal(fnv1a32('\u00e9'), 0x1e9de8c1);
    assert.notEqual(fnv1a32('\u00e9'), 0x6c0b6c44);
  });
});

describe('cohortBucket', () => {
  test('is stable and within range', () => {
    for (const user of users.slice(0, 500)) {
      const bucket = cohortBucket(user);
      assert.ok(Number.isInteger(bucket) && bucket >= 0 && bucket < COHORT_BUCKETS);
      assert.equal(cohortBucket(user), bucket);
    }
  });

  test('splits users close to the requested weight', () => {
    for (const weight of [1, 10, 30, 50, 90]) {
      const inCanary = users.filter((u) => isCanaryBucket(cohortBucket(u), weight)).length;
      const share = inCanary / users.length;
      assert.ok(Math.abs(share - weight / 100) < 0.015, `weight ${weight}: got share ${share}`);
    }
  });

  test('cohorts are monotonic as the weight grows, and empty/full at 0/100', () => {
    let previous = new Set<string>();
    for (const weight of [0, 1, 5, 10, 25, 50, 75, 100]) {
      const current = new Set(users.filter((u) => isCanaryBucket(cohortBucket(u), weight)));
      for (const user of previous)
        assert.ok(current.has(user), `${user} left the canary at weight ${weight}`);
      if (weight === 0) assert.equal(current.size, 0);
      if (weight === 100) assert.equal(current.size, users.length);
      previous = current;
    }
  });
});

describe('resolveCohortKey', () => {
  test('prefers x-user-id over the cookie', () => {
    const key = resolveCohortKey({ 'x-user-id': 'alice', cookie: `${USER_COOKIE}=bob` });
    assert.deepEqual(key, { key: 'alice', setCookie: null });
  });

  test('falls back to the rollout-user cookie', () => {
    const key = resolveCohortKey({ cookie: `theme=dark; ${USER_COOKIE}=bob-123; other=1` });
    assert.deepEqual(key, { key: 'bob-123', setCookie: null });
  });

  test('generates and pins a fresh id when neither is present', () => {
    const a = resolveCohortKey({});
    const b = resolveCohortKey({ cookie: 'theme=dark', 'x-user-id': '   ' });
    assert.notEqual(a.key, b.key);
    assert.match(a.setCookie ?? '', new RegExp(`^${USER_COOKIE}=${a.key}; Path=/; Max-Age=\\d+`));
    assert.match(b.setCookie ?? '', new RegExp(`^${USER_COOKIE}=${b.key};`));
  });

  test('ignores a cookie value that could not have been issued by the router', () => {
    const key = resolveCohortKey({ cookie: `${USER_COOKIE}=has space` });
    assert.notEqual(key.key, 'has space');
    assert.notEqual(key.setCookie, null);
  });

  test('readCookie handles quoting, whitespace and missing names', () => {
    assert.equal(readCookie(' a=1 ;b="two"', 'b'), 'two');
    assert.equal(readCookie('a=1', 'b'), null);
    assert.equal(readCookie('b=', 'b'), null);
    assert.equal(readCookie(undefined, 'b'), null);
  });
});

describe('RoutingTable', () => {
  const stable = { version: 'v1', targets: ['http://127.0.0.1:1', 'http://127.0.0.1:2'] };
  const canary = { version: 'v2', targets: ['http://127.0.0.1:3'] };

  test('has no route until a split is applied', () => {
    const table = new RoutingTable(1000);
    assert.equal(table.route(0), null);
    assert.deepEqual(table.view(), {
      stable: null,
      canary: null,
      weights: { stable: 100, canary: 0 },
      match: null,
      updatedAt: 1000,
    });
  });

  test('routes by bucket and round-robins targets of the chosen version', () => {
    const table = new RoutingTable();
    table.apply({ stable, canary, canaryWeight: 20 }, 5000);
    assert.deepEqual(table.route(1999), { version: 'v2', target: 'http://127.0.0.1:3' });
    assert.deepEqual(table.route(2000), { version: 'v1', target: 'http://127.0.0.1:1' });
    assert.deepEqual(table.route(9999), { version: 'v1', target: 'http://127.0.0.1:2' });
    assert.deepEqual(table.route(2000), { version: 'v1', target: 'http://127.0.0.1:1' });
    assert.deepEqual(table.view().weights, { stable: 80, canary: 20 });
  });

  test('never routes to a version whose weight is 0', () => {
    const table = new RoutingTable();
    table.apply({ stable, canary, canaryWeight: 0 });
    for (let bucket = 0; bucket < COHORT_BUCKETS; bucket += 7)
      assert.equal(table.route(bucket)?.version, 'v1');
    table.apply({ stable, canary, canaryWeight: 100 });
    for (let bucket = 0; bucket < COHORT_BUCKETS; bucket += 7)
      assert.equal(table.route(bucket)?.version, 'v2');
  });

  test('records every change and returns copies that cannot mutate the table', () => {
    const table = new RoutingTable();
    table.apply({ stable, canary: null, canaryWeight: 0 }, 10);
    const view = table.apply({ stable, canary, canaryWeight: 5 }, 20);
    view.stable?.targets.push('http://evil');
    assert.deepEqual(table.view().stable?.targets, stable.targets);
    assert.deepEqual(table.history(), [
      { at: 10, stableVersion: 'v1', canaryVersion: null, canaryWeight: 0 },
      { at: 20, stableVersion: 'v1', canaryVersion: 'v2', canaryWeight: 5 },
    ]);
    table.clearHistory();
    assert.deepEqual(table.history(), []);
    assert.equal(table.view().canary?.version, 'v2');
  });
});
