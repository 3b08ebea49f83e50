import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../src/devserver/free-port';
import { TransientError } from '../../src/providers/errors';
import { HaproxyMetricsProvider } from '../../src/providers/metrics/haproxy';
import { HaproxyTrafficRouter } from '../../src/providers/traffic/haproxy';
import type { ResolvedHaproxyMetricsConfig } from '../../src/spec/providers';
import { BACKEND, type HaproxyHandle, startHaproxy } from '../helpers/haproxy';
import { startUpstream } from '../helpers/upstream';

const SAMPLE_MS = 50;
/** Long enough for the sampler to take at least one sample in between. */
const PAST_A_SAMPLE_MS = 4 * SAMPLE_MS;

/** An upstream answering 500 on /fail and 200 otherwise (health checks included). */
const failingOnFail = () =>
  startUpstream((req, res) => {
    res.statusCode = req.url === '/fail' ? 500 : 200;
    res.end();
  });

describe('HAProxy metrics provider against a real HAProxy', () => {
  const upstreams: Server[] = [];
  let haproxy: HaproxyHandle;
  let provider: HaproxyMetricsProvider;

  /** `count` requests pinned to one server by its affinity cookie, the first `failures` failing. */
  async function drive(server: string, count: number, failures: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const response = await fetch(`${haproxy.url}${i < failures ? '/fail' : '/ok'}`, {
        headers: { cookie: `ROLLOUT_SERVER=${server}` },
      });
      await response.arrayBuffer();
      assert.equal(response.status, i < failures ? 500 : 200);
    }
  }

  const counts = async (version: string, sinceMs: number, untilMs?: number) => {
    const m = await provider.versionMetrics(version, { sinceMs, untilMs, latencyBoundsMs: [100] });
    return { requests: m.requests, errors: m.errors };
  };

  before(async () => {
    const servers: Record<string, string> = {};
    for (const name of ['blue', 'green']) {
      const upstream = await failingOnFail();
      upstreams.push(upstream.server);
      servers[name] = upstream.url;
    }
    haproxy = await startHaproxy(servers);
    // The traffic router labels the servers; at 50% both are live.
    await new HaproxyTrafficRouter(haproxy.configFor()).setSplit({
      stable: { version: 'v1', targets: [], routes: ['blue'] },
      canary: { version: 'v2', targets: [], routes: ['green'] },
      canaryWeight: 50,
    });
    // Served before sampling starts: HAProxy counts them, the provider must not.
    await drive('blue', 10, 1);
    const config: ResolvedHaproxyMetricsConfig = {
      provider: 'haproxy',
      runtimeApi: haproxy.runtimeApi,
      backend: BACKEND,
      versionsMap: haproxy.versionsMap,
      timeout: 2000,
    };
    provider = new HaproxyMetricsProvider(config, { sampleIntervalMs: SAMPLE_MS });
  });

  after(async () => {
    await haproxy?.stop();
    for (const server of upstreams) {
      server.closeAllConnections();
      server.close();
    }
  });

  test('counts requests and 5xx per version over a window, exactly; a quiet window reads 0', async () => {
    await provider.warmUp();
    const quietSince = Date.now();
    await sleep(PAST_A_SAMPLE_MS);
    const quietUntil = Date.now();
    await sleep(PAST_A_SAMPLE_MS);
    const since = Date.now();
    await sleep(PAST_A_SAMPLE_MS);

    await drive('blue', 60, 6);
    await drive('green', 40, 10);

    assert.deepEqual(await counts('v1', since), { requests: 60, errors: 6 });
    assert.deepEqual(await counts('v2', since), { requests: 40, errors: 10 });
    assert.deepEqual(await counts('v2', since, Date.now()), { requests: 40, errors: 10 });
    assert.deepEqual(await counts('v1', quietSince, quietUntil), { requests: 0, errors: 0 });
    assert.deepEqual(await counts('v3', since), { requests: 0, errors: 0 }, 'a version no server has');

    const full = await provider.versionMetrics('v2', { sinceMs: since, slowerThanMs: 100 });
    assert.deepEqual(full, { version: 'v2', requests: 40, errors: 10, p50Ms: null, p99Ms: null });
  });

  test('a window that started before sampling did counts from the first sample, never more', async () => {
    assert.deepEqual(await counts('v1', Date.now() - 3_600_000), { requests: 60, errors: 6 });
  });

  test('a restart resets HAProxy counters: counting goes on from 0, never negative', async () => {
    const since = Date.now();
    await sleep(PAST_A_SAMPLE_MS);
    await drive('blue', 30, 3);
    await sleep(PAST_A_SAMPLE_MS);
    const beforeRestart = Date.now();
    await sleep(PAST_A_SAMPLE_MS);

    await haproxy.restart();
    await drive('blue', 70, 7);
    await drive('green', 5, 0);

    assert.deepEqual(await counts('v1', since), { requests: 100, errors: 10 });
    assert.deepEqual(await counts('v1', beforeRestart), { requests: 70, errors: 7 });
    assert.deepEqual(await counts('v1', since, beforeRestart), { requests: 30, errors: 3 });
    assert.deepEqual(await counts('v2', since), { requests: 5, errors: 0 });
    await sleep(PAST_A_SAMPLE_MS);
    assert.deepEqual(await counts('v1', since), { requests: 100, errors: 10 }, 'background samples agree');
  });

  test('HAProxy unreachable is a TransientError', async () => {
    const nowhere = new HaproxyMetricsProvider(
      {
        provider: 'haproxy',
        runtimeApi: `tcp://127.0.0.1:${await freePort()}`,
        backend: BACKEND,
        versionsMap: haproxy.versionsMap,
        timeout: 1000,
      },
      { sampleIntervalMs: SAMPLE_MS },
    );
    await assert.rejects(nowhere.versionMetrics('v1', { sinceMs: Date.now() }), TransientError);
  });
});

describe('HAProxy metrics provider across a restart between two samples', () => {
  test('a new HAProxy process is noticed even when its counters have passed the old ones', async () => {
    const upstream = await failingOnFail();
    const haproxy = await startHaproxy({ blue: upstream.url });
    try {
      await new HaproxyTrafficRouter(haproxy.configFor()).setSplit({
        stable: { version: 'v1', targets: [], routes: ['blue'] },
        canary: null,
        canaryWeight: 0,
      });
      // No background samples within the test: only the reads sample.
      const provider = new HaproxyMetricsProvider(
        {
          provider: 'haproxy',
          runtimeApi: haproxy.runtimeApi,
          backend: BACKEND,
          versionsMap: haproxy.versionsMap,
          timeout: 2000,
        },
        { sampleIntervalMs: 600_000 },
      );
      const since = Date.now();
      await provider.warmUp();
      const send = async (count: number): Promise<void> => {
        for (let i = 0; i < count; i++) await (await fetch(haproxy.url)).arrayBuffer();
      };
      await send(10);
      assert.equal((await provider.versionMetrics('v1', { sinceMs: since })).requests, 10);
      await haproxy.restart();
      await send(25);
      assert.equal((await provider.versionMetrics('v1', { sinceMs: since })).requests, 35);
    } finally {
      await haproxy.stop();
      upstream.server.closeAllConnections();
      upstream.server.close();
    }
  });
});
