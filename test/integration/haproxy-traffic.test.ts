import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../src/devserver/free-port';
import { ConfigurationError, TransientError } from '../../src/providers/errors';
import { RuntimeApi } from '../../src/providers/haproxy/runtime-api';
import { HaproxyTrafficRouter, MAX_WEIGHT, versionWeights } from '../../src/providers/traffic/haproxy';
import type { DesiredSplit } from '../../src/providers/traffic/types';
import { type HaproxyHandle, readMap, readServers, runtimeCommand, startHaproxy } from '../helpers/haproxy';
import { answeringName } from '../helpers/upstream';

const COOKIE = 'ROLLOUT_SERVER';

const v1 = (routes = ['blue']) => ({ version: 'v1', targets: [], routes });
const v2 = (routes = ['green']) => ({ version: 'v2', targets: [], routes });
const canaryAt = (canaryWeight: number, extra: Partial<DesiredSplit> = {}): DesiredSplit => ({
  stable: v1(),
  canary: v2(),
  canaryWeight,
  ...extra,
});
const TESTERS = { headers: { 'x-canary': 'always' } };

interface Answer {
  server: string;
  version: string | null;
  cookie: string | undefined;
}

test('per-server weights read back as exactly the canary weight, for 1 to 3 servers per version', () => {
  for (let weight = 0; weight <= 100; weight++) {
    for (let stableServers = 1; stableServers <= 3; stableServers++) {
      for (let canaryServers = 1; canaryServers <= 3; canaryServers++) {
        const w = versionWeights(weight, stableServers, canaryServers);
        const where = `${weight}% over ${stableServers}+${canaryServers}: ${JSON.stringify(w)}`;
        for (const [share, each] of [
          [100 - weight, w.stable],
          [weight, w.canary],
        ] as const) {
          assert.ok(Number.isInteger(each) && each >= 0 && each <= MAX_WEIGHT, where);
          assert.equal(each > 0, share > 0, where);
        }
        const canary = canaryServers * w.canary;
        const total = canary + stableServers * w.stable;
        assert.equal(Math.round((100 * canary) / total), weight, where);
      }
    }
  }
});

describe('HAProxy traffic router against a real HAProxy', () => {
  const upstreams: Server[] = [];
  let haproxy: HaproxyHandle;
  let router: HaproxyTrafficRouter;

  before(async () => {
    const servers: Record<string, string> = {};
    for (const name of ['blue', 'green', 'spare']) {
      const upstream = await answeringName(name);
      upstreams.push(upstream.server);
      servers[name] = upstream.url;
    }
    haproxy = await startHaproxy(servers);
    router = new HaproxyTrafficRouter(haproxy.configFor());
  });

  after(async () => {
    await haproxy?.stop();
    for (const server of upstreams) {
      server.closeAllConnections();
      server.close();
    }
  });

  /** One request through the frontend, with the given affinity cookie and headers. */
  async function request(
    options: { server?: string; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.server) headers.cookie = `${COOKIE}=${options.server}`;
    const response = await fetch(haproxy.url, { headers });
    const server = await response.text();
    assert.equal(response.status, 200, server);
    const cookie = /ROLLOUT_SERVER=([^;]+)/.exec(response.headers.get('set-cookie') ?? '')?.[1];
    return { server, version: response.headers.get('x-rollout-version'), cookie };
  }

  async function countServers(
    requests: number,
    headers?: Record<string, string>,
  ): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (let i = 0; i < requests; i++) {
      const { server } = await request({ headers });
      counts.set(server, (counts.get(server) ?? 0) + 1);
    }
    return counts;
  }

  test('weights at 0, 10, 50 and 100% are what HAProxy reports, and idle servers are in maint', async () => {
    for (const weight of [0, 10, 50, 100]) {
      const applied = await router.setSplit(canaryAt(weight));
      const read = await router.getSplit();
      assert.deepEqual(applied, read);
      assert.deepEqual(read.weights, { stable: 100 - weight, canary: weight });
      assert.equal(read.readBack, 'haproxy runtime API (show servers state, show map)');

      const servers = await readServers(haproxy.runtimeApi);
      assert.equal(servers.spare?.admin, 'maint', 'a server in no version is in maint');
      assert.equal(servers.blue?.admin, weight === 100 ? 'maint' : 'ready', `blue at ${weight}%`);
      assert.equal(servers.green?.admin, weight === 0 ? 'maint' : 'ready', `green at ${weight}%`);
      if (weight > 0 && weight < 100) {
        const { blue, green } = servers as Record<string, { weight: number }>;
        assert.equal(Math.round((100 * green!.weight) / (green!.weight + blue!.weight)), weight);
      }
      // Every server of either version keeps its label in maint too (metrics count by label); the
      // spare server has none.
      const labels = await readMap(haproxy.runtimeApi, haproxy.versionsMap);
      assert.deepEqual(labels, { '@stable': 'v1', '@canary': 'v2', blue: 'v1', green: 'v2' });
      assert.deepEqual(read.stable, weight < 100 ? { ...v1(), routes: ['blue'] } : { ...v1(), routes: [] });
      assert.deepEqual(read.canary, weight > 0 ? v2() : null, 'a canary with no live server reads as none');
    }
  });

  test('real requests follow the weights and carry the answering version', async () => {
    await router.setSplit(canaryAt(25));
    let green = 0;
    const requests = 400;
    for (let i = 0; i < requests; i++) {
      const answer = await request();
      assert.equal(answer.version, answer.server === 'green' ? 'v2' : 'v1');
      assert.equal(answer.cookie, answer.server, 'a new user is pinned to the server that answered');
      if (answer.server === 'green') green++;
    }
    assert.ok(
      green >= 0.15 * requests && green <= 0.35 * requests,
      `${green} of ${requests} on the canary at 25%`,
    );
  });

  test('a pinned user keeps their server while weights change, and is on stable at once after a rollback', async () => {
    await router.setSplit(canaryAt(10));
    for (const weight of [10, 50, 90, 1]) {
      await router.setSplit(canaryAt(weight));
      for (const server of ['blue', 'green']) {
        const answer = await request({ server });
        assert.equal(answer.server, server, `a user pinned to ${server} at ${weight}%`);
        assert.equal(answer.cookie, undefined, 'a valid cookie is not re-issued');
      }
    }
    await router.setSplit(canaryAt(0));
    assert.equal((await readServers(haproxy.runtimeApi)).green?.admin, 'maint');
    for (let i = 0; i < 5; i++) {
      const answer = await request({ server: 'green' });
      assert.equal(answer.server, 'blue', 'a canary user after the rollback');
      assert.equal(answer.cookie, 'blue', 'and pinned to stable from now on');
    }
  });

  test('promotion: the canary becomes stable and the old servers go to maint', async () => {
    await router.setSplit(canaryAt(100));
    const split = await router.setSplit({ stable: v2(), canary: null, canaryWeight: 0 });
    assert.deepEqual(split, {
      stable: v2(),
      canary: null,
      weights: { stable: 100, canary: 0 },
      match: null,
      readBack: 'haproxy runtime API (show servers state, show map)',
    });
    const servers = await readServers(haproxy.runtimeApi);
    assert.equal(servers.blue?.admin, 'maint');
    assert.equal(servers.green?.admin, 'ready');
    assert.deepEqual(await readMap(haproxy.runtimeApi, haproxy.versionsMap), {
      green: 'v2',
      '@stable': 'v2',
    });
    const answer = await request({ server: 'blue' });
    assert.deepEqual(answer, { server: 'green', version: 'v2', cookie: 'green' });
  });

  test('several servers per version share its weight evenly', async () => {
    const split = await router.setSplit({ stable: v1(['blue', 'spare']), canary: v2(), canaryWeight: 25 });
    assert.deepEqual(split.weights, { stable: 75, canary: 25 });
    assert.deepEqual(split.stable?.routes, ['blue', 'spare']);
    const servers = await readServers(haproxy.runtimeApi);
    assert.equal(servers.blue?.weight, servers.spare?.weight);
    assert.equal(servers.spare?.admin, 'ready');
    const counts = await countServers(200);
    assert.ok(
      (counts.get('green') ?? 0) >= 30 && (counts.get('green') ?? 0) <= 70,
      JSON.stringify([...counts]),
    );
  });

  test('a header route reaches the canary even at 0%, and goes away when the match is absent', async () => {
    const split = await router.setSplit(canaryAt(0, { match: TESTERS }));
    assert.deepEqual(split.match, TESTERS);
    assert.deepEqual(split.weights, { stable: 100, canary: 0 });
    assert.deepEqual(split.canary, v2(), 'at 0% the canary stays live for the testers');
    const servers = await readServers(haproxy.runtimeApi);
    assert.deepEqual(servers.green, { admin: 'ready', weight: 0 });
    assert.deepEqual(await readMap(haproxy.runtimeApi, haproxy.matchMap), { always: 'green' });
    assert.deepEqual([...(await countServers(20, { 'x-canary': 'always' }))], [['green', 20]]);
    assert.deepEqual([...(await countServers(20, { 'x-canary': 'other' }))], [['blue', 20]]);
    assert.deepEqual([...(await countServers(20))], [['blue', 20]]);

    const without = await router.setSplit(canaryAt(0));
    assert.equal(without.match, null);
    assert.deepEqual(await readMap(haproxy.runtimeApi, haproxy.matchMap), {});
    assert.equal((await readServers(haproxy.runtimeApi)).green?.admin, 'maint');
    assert.deepEqual([...(await countServers(10, { 'x-canary': 'always' }))], [['blue', 10]]);
  });

  test('a header route must use the configured header, and needs a configured match map', async () => {
    await assert.rejects(
      router.setSplit(canaryAt(10, { match: { headers: { 'x-tester': 'yes' } } })),
      (err: Error) => err instanceof ConfigurationError && /x-canary/.test(err.message),
    );
    await assert.rejects(
      router.setSplit(canaryAt(10, { match: { headers: { 'x-canary': 'always', 'x-tester': 'yes' } } })),
      ConfigurationError,
    );
    const bare = new HaproxyTrafficRouter({
      ...haproxy.configFor(),
      matchMap: undefined,
      matchHeader: undefined,
    });
    await assert.rejects(
      bare.setSplit(canaryAt(10, { match: TESTERS })),
      (err: Error) => err instanceof ConfigurationError && /matchMap/.test(err.message),
    );
  });

  test('setSplit is idempotent: applying the same split again changes nothing', async () => {
    const first = await router.setSplit(canaryAt(30, { match: TESTERS }));
    const servers = await readServers(haproxy.runtimeApi);
    const maps = [
      await readMap(haproxy.runtimeApi, haproxy.versionsMap),
      await readMap(haproxy.runtimeApi, haproxy.matchMap),
    ];
    const files = [haproxy.versionsMap, haproxy.matchMap].map((file) => readFileSync(file, 'utf8'));
    const second = await router.setSplit(canaryAt(30, { match: TESTERS }));
    assert.deepEqual(second, first);
    assert.deepEqual(await readServers(haproxy.runtimeApi), servers);
    assert.deepEqual(
      [
        await readMap(haproxy.runtimeApi, haproxy.versionsMap),
        await readMap(haproxy.runtimeApi, haproxy.matchMap),
      ],
      maps,
    );
    assert.deepEqual(
      [haproxy.versionsMap, haproxy.matchMap].map((file) => readFileSync(file, 'utf8')),
      files,
    );
  });

  test('a crash and restart keeps the split: state file and maps are reloaded', async () => {
    const applied = await router.setSplit(canaryAt(30, { match: TESTERS }));
    const servers = await readServers(haproxy.runtimeApi);
    assert.match(readFileSync(haproxy.stateFile, 'utf8'), /^1\n# be_id /);
    await haproxy.restart();
    assert.deepEqual(await router.getSplit(), applied);
    assert.deepEqual(await readServers(haproxy.runtimeApi), servers);
    assert.equal((await request({ headers: { 'x-canary': 'always' } })).version, 'v2');
    assert.equal((await request({ server: 'green' })).version, 'v2', 'labels survive the restart');
  });

  test('an unknown server or a version without routes is a ConfigurationError, and changes nothing', async () => {
    await router.setSplit(canaryAt(20));
    const servers = await readServers(haproxy.runtimeApi);
    const labels = await readMap(haproxy.runtimeApi, haproxy.versionsMap);
    await assert.rejects(
      router.setSplit({ stable: v1(), canary: v2(['purple']), canaryWeight: 20 }),
      (err: Error) => err instanceof ConfigurationError && /purple/.test(err.message),
    );
    await assert.rejects(
      router.setSplit({
        stable: v1(),
        canary: { version: 'v2', targets: ['http://127.0.0.1:1'] },
        canaryWeight: 20,
      }),
      (err: Error) => err instanceof ConfigurationError && /version v2 has no routes/.test(err.message),
    );
    await assert.rejects(
      router.setSplit({ stable: v1(), canary: v2(['blue']), canaryWeight: 20 }),
      ConfigurationError,
    );
    assert.deepEqual(await readServers(haproxy.runtimeApi), servers);
    assert.deepEqual(await readMap(haproxy.runtimeApi, haproxy.versionsMap), labels);
  });

  test('a server taking traffic without a version label makes the split unknowable', async () => {
    await router.setSplit(canaryAt(20));
    await runtimeCommand(haproxy.runtimeApi, `del map ${haproxy.versionsMap} green`);
    await assert.rejects(
      router.getSplit(),
      (err: Error) => err instanceof ConfigurationError && /app\/green/.test(err.message),
    );
    assert.deepEqual(
      (await router.setSplit(canaryAt(20))).weights,
      { stable: 80, canary: 20 },
      'setSplit repairs it',
    );
  });

  test('HAProxy down is a TransientError; a refusing answer is a ConfigurationError with its text', async () => {
    await haproxy.kill();
    try {
      await assert.rejects(router.getSplit(), TransientError);
      await assert.rejects(router.setSplit(canaryAt(20)), TransientError);
    } finally {
      await haproxy.restart();
    }
    const api = new RuntimeApi(haproxy.runtimeApi, 2000);
    await assert.rejects(
      api.change([['set', 'weight', 'app/purple', '1']]),
      (err: Error) => err instanceof ConfigurationError && err.message.includes('No such server.'),
    );
    await assert.rejects(
      api.change([['frobnicate']]),
      (err: Error) => err instanceof ConfigurationError && err.message.includes('Unknown command'),
    );
    for (const word of ['app/blue 1; shutdown', 'a b', 'x\\;', 'v\n1', '']) {
      await assert.rejects(
        api.change([['set', 'weight', word, '1']]),
        ConfigurationError,
        JSON.stringify(word),
      );
    }
    const nowhere = new RuntimeApi(`tcp://127.0.0.1:${await freePort()}`, 2000);
    await assert.rejects(nowhere.run([['show', 'info']]), TransientError);
  });

  test('the Runtime API client speaks unix sockets too, and gives up on a silent peer', async () => {
    const unix = new HaproxyTrafficRouter(haproxy.configFor({ runtimeApi: haproxy.unixRuntimeApi }));
    assert.deepEqual(await unix.getSplit(), await router.getSplit());

    const silent = createNetServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const api = new RuntimeApi(`tcp://127.0.0.1:${(silent.address() as AddressInfo).port}`, 200);
      const started = Date.now();
      await assert.rejects(
        api.run([['show', 'info']]),
        (err: Error) => err instanceof TransientError && /200ms/.test(err.message),
      );
      assert.ok(Date.now() - started < 2000);
    } finally {
      silent.close();
    }
  });
});
