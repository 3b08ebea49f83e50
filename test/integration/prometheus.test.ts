import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LATENCY_BUCKETS_SECONDS } from '../../src/demo/metrics';
import { type DemoServiceHandle, startDemoService } from '../../src/demo/service';
import { freePort } from '../../src/devserver/free-port';
import { ConfigurationError, TransientError } from '../../src/providers/errors';
import { PrometheusMetricsProvider } from '../../src/providers/metrics/prometheus';
import { metricsSchema, type PrometheusMetricsConfig } from '../../src/spec/providers';
import { findPrometheus, type PrometheusHandle, startPrometheus } from '../helpers/prometheus';

const REQUESTS = 200;

function prometheusConfig(input: Record<string, unknown>): PrometheusMetricsConfig {
  const config = metricsSchema.parse({ provider: 'prometheus', ...input });
  assert.equal(config.provider, 'prometheus');
  return config;
}

const hostPort = (service: DemoServiceHandle): string => new URL(service.url).host;

/**
 * Latency bounds for the slow counts: 50 ms and 1 s are edges of the demo histogram, 20 s is above
 * its last finite edge (10 s), so it cannot be counted.
 */
const BOUNDS_MS = [50, 1000, 20_000];

/** Sends `count` user requests straight to a service, `concurrency` at a time; returns status counts. */
async function sendTraffic(service: DemoServiceHandle, count: number, concurrency = 20) {
  const statuses = new Map<number, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        const response = await fetch(`${service.url}/api/checkout`);
        await response.arrayBuffer();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      }
    }),
  );
  return statuses;
}

// A test of its own, so that a missing binary is a plain failure with install instructions (never a skip).
test('Prometheus is installed', () => {
  findPrometheus();
});

describe('Prometheus metrics provider against a real Prometheus', () => {
  let v1: DemoServiceHandle | undefined;
  let v2: DemoServiceHandle | undefined;
  let prometheus: PrometheusHandle | undefined;
  let provider: PrometheusMetricsProvider;
  let sinceMs: number;
  let served: { v1: Map<number, number>; v2: Map<number, number> };

  /** The timestamp of the newest scrape of a service: evaluating there leaves nothing to extrapolate. */
  async function lastScrapeMs(service: DemoServiceHandle): Promise<number> {
    const [sample] = await prometheus!.query(`timestamp(up{instance="${hostPort(service)}"})`);
    assert.ok(sample, `no up series for ${hostPort(service)}`);
    return Math.round(Number(sample.value[1]) * 1000);
  }

  before(
    async () => {
      findPrometheus();
      sinceMs = Date.now();
      v1 = await startDemoService({ version: 'v1' });
      v2 = await startDemoService({ version: 'v2', faults: { errorRate: 0.5, latencyMs: 100 } });
      prometheus = await startPrometheus({ targets: [hostPort(v1), hostPort(v2)], scrapeIntervalSeconds: 1 });
      // One scrape before any traffic, so the series start at 0 inside the window.
      await prometheus.waitForScrapesAfter(Date.now());
      const [s1, s2] = await Promise.all([sendTraffic(v1, REQUESTS), sendTraffic(v2, REQUESTS)]);
      served = { v1: s1, v2: s2 };
      // Two complete scrapes after the last request.
      await prometheus.waitForScrapesAfter(Date.now());
      await prometheus.waitForScrapesAfter(Date.now());
      provider = new PrometheusMetricsProvider(prometheusConfig({ url: prometheus.url, minRange: '2s' }));
    },
    { timeout: 120_000 },
  );

  after(async () => {
    await prometheus?.stop();
    await v1?.close();
    await v2?.close();
  });

  test('the services served what the test expects', () => {
    assert.deepEqual([...served.v1], [[200, REQUESTS]]);
    const v2Errors = served.v2.get(500) ?? 0;
    assert.equal((served.v2.get(200) ?? 0) + v2Errors, REQUESTS);
    // Binomial(200, 0.5): 60..140 is more than five standard deviations either side.
    assert.ok(v2Errors > 60 && v2Errors < 140, `v2 answered ${v2Errors} errors`);
  });

  test('evaluated at the last scrape: counts match what was served, latencies tell v1 from v2', async () => {
    const m1 = await provider.versionMetrics('v1', { sinceMs, untilMs: await lastScrapeMs(v1!) });
    const m2 = await provider.versionMetrics('v2', { sinceMs, untilMs: await lastScrapeMs(v2!) });
    const diagnostics = JSON.stringify({ m1, m2, served: { v1: [...served.v1], v2: [...served.v2] } });

    assert.equal(m1.version, 'v1');
    assert.ok(Math.abs(m1.requests - REQUESTS) <= 5, diagnostics);
    assert.equal(m1.errors, 0, diagnostics);
    assert.ok(m1.p50Ms !== null && m1.p50Ms < 100, diagnostics);
    assert.ok(m1.p99Ms !== null && m1.p99Ms < 100, diagnostics);

    assert.equal(m2.version, 'v2');
    assert.ok(Math.abs(m2.requests - REQUESTS) <= 5, diagnostics);
    assert.ok(Math.abs(m2.errors - (served.v2.get(500) ?? 0)) <= 5, diagnostics);
    const errorRate = m2.errors / m2.requests;
    assert.ok(errorRate > 0.3 && errorRate < 0.7, diagnostics);
    assert.ok(m2.p50Ms !== null && m2.p50Ms >= 100, diagnostics);
    assert.ok(m2.p99Ms !== null && m2.p99Ms >= 100, diagnostics);
  });

  test('evaluated now: increase() extrapolates to the end of the range, so counts may run a little high', async () => {
    const m1 = await provider.versionMetrics('v1', { sinceMs });
    // The start is not extrapolated (the series begin at 0), but the end is: by up to 1.1 scrape
    // intervals past the last sample, in proportion to the sampled span, which here may be as short
    // as two intervals (the zero sample, then two scrapes after the traffic). So up to 1.55 × 200.
    assert.ok(m1.requests >= REQUESTS - 5 && m1.requests <= REQUESTS * 1.55 + 5, JSON.stringify(m1));
    assert.equal(m1.errors, 0);
    assert.ok(m1.p99Ms !== null && m1.p99Ms < 100, JSON.stringify(m1));
  });

  test('slow counts from the histogram buckets: v2 (100 ms added) is slow at 50 ms, v1 is not', async () => {
    // What the assertions below follow from: the demo histogram's edges, in seconds.
    assert.ok(LATENCY_BUCKETS_SECONDS.includes(0.05) && LATENCY_BUCKETS_SECONDS.includes(1));
    assert.equal(Math.max(...LATENCY_BUCKETS_SECONDS), 10);

    const m1 = await provider.versionMetrics('v1', {
      sinceMs,
      untilMs: await lastScrapeMs(v1!),
      latencyBoundsMs: BOUNDS_MS,
    });
    const m2 = await provider.versionMetrics('v2', {
      sinceMs,
      untilMs: await lastScrapeMs(v2!),
      latencyBoundsMs: BOUNDS_MS,
    });
    const diagnostics = JSON.stringify({ m1, m2 });
    assert.ok(m1.slowCounts?.length === 3 && m2.slowCounts?.length === 3, diagnostics);
    const [v1At50, v1At1000, v1At20000] = m1.slowCounts;
    const [v2At50, v2At1000, v2At20000] = m2.slowCounts;

    // 50 ms is the le=0.05 edge: every v2 request waited 100 ms first, so all of them are slower
    // (the +Inf bucket and the request count are the same series), and v1 answers in a few ms.
    assert.ok(Math.abs(m2.requests - REQUESTS) <= 5, diagnostics);
    assert.equal(v2At50, m2.requests, diagnostics);
    // Room for a few v1 requests delayed by a busy machine.
    assert.ok(typeof v1At50 === 'number' && v1At50 <= 10, diagnostics);
    // 1 s is the le=1 edge: counted (not null), and nothing here takes a second.
    assert.ok(typeof v1At1000 === 'number' && v1At1000 <= 5, diagnostics);
    assert.ok(typeof v2At1000 === 'number' && v2At1000 <= 5, diagnostics);
    // 20 s is above the last finite edge (10 s): the source cannot count there.
    assert.equal(v1At20000, null, diagnostics);
    assert.equal(v2At20000, null, diagnostics);
  });

  test('an unknown version has 0 requests and no latency', async () => {
    assert.deepEqual(await provider.versionMetrics('v9', { sinceMs }), {
      version: 'v9',
      requests: 0,
      errors: 0,
      p50Ms: null,
      p99Ms: null,
    });
    // No bucket series at all: nothing was served, so nothing was slow, at any bound.
    assert.deepEqual(
      (await provider.versionMetrics('v9', { sinceMs, latencyBoundsMs: BOUNDS_MS })).slowCounts,
      [0, 0, 0],
    );
  });

  test('a window with no traffic has 0 requests and no latency, not NaN', async () => {
    // The last 2 s, after one more scrape: only samples taken after the traffic ended are in the
    // range. The series exist, but their increase is 0 and their quantiles are NaN.
    await prometheus!.waitForScrapesAfter(Date.now());
    const m1 = await provider.versionMetrics('v1', {
      sinceMs: Date.now() - 2000,
      latencyBoundsMs: BOUNDS_MS,
    });
    // The bucket series exist too: 0 slow requests where there is an edge, null above the last one.
    assert.deepEqual(m1, {
      version: 'v1',
      requests: 0,
      errors: 0,
      p50Ms: null,
      p99Ms: null,
      slowCounts: [0, 0, null],
    });
  });

  test('a version that is not a plain name never reaches PromQL', async () => {
    await assert.rejects(
      provider.versionMetrics('v1"} or vector(1) #', { sinceMs }),
      (err: unknown) => err instanceof ConfigurationError,
    );
  });

  test('invalid PromQL is a configuration error (Prometheus answers bad_data)', async () => {
    const broken = new PrometheusMetricsProvider(
      prometheusConfig({
        url: prometheus!.url,
        queries: {
          requests: 'sum(increase(http_request_duration_seconds_count{version="{{version}}"}[{{window}}])',
        },
      }),
    );
    await assert.rejects(broken.versionMetrics('v1', { sinceMs }), (err: unknown) => {
      assert.ok(err instanceof ConfigurationError, String(err));
      assert.match(err.message, /bad_data/);
      assert.match(err.message, /metrics\.queries\.requests/);
      return true;
    });
  });

  test('a query that returns several series is a configuration error', async () => {
    const unaggregated = new PrometheusMetricsProvider(
      prometheusConfig({
        url: prometheus!.url,
        // One series per status code: v2 has 200 and 500.
        queries: {
          errors: 'increase(http_request_duration_seconds_count{version="{{version}}"}[{{window}}])',
        },
      }),
    );
    await assert.rejects(unaggregated.versionMetrics('v2', { sinceMs }), (err: unknown) => {
      assert.ok(err instanceof ConfigurationError, String(err));
      assert.match(err.message, /returned 2 series/);
      return true;
    });
  });

  test('a latencyBuckets query not aggregated by le is a configuration error', async () => {
    const withBuckets = (latencyBuckets: string) =>
      new PrometheusMetricsProvider(prometheusConfig({ url: prometheus!.url, queries: { latencyBuckets } }));
    const rejected = (pattern: RegExp) => (err: unknown) => {
      assert.ok(err instanceof ConfigurationError, String(err));
      assert.match(err.message, /metrics\.queries\.latencyBuckets/);
      assert.match(err.message, pattern);
      return true;
    };
    // One series per le and code: v2 has 200 and 500, so every le comes twice.
    await assert.rejects(
      withBuckets(
        'increase(http_request_duration_seconds_bucket{version="{{version}}"}[{{window}}])',
      ).versionMetrics('v2', { sinceMs, latencyBoundsMs: [50] }),
      rejected(/several series for le/),
    );
    // Summed over le: one series, but without the label.
    await assert.rejects(
      withBuckets(
        'sum(increase(http_request_duration_seconds_bucket{version="{{version}}"}[{{window}}]))',
      ).versionMetrics('v2', { sinceMs, latencyBoundsMs: [50] }),
      rejected(/without an le label/),
    );
  });

  test('an unreachable Prometheus is a transient error', async () => {
    const nowhere = new PrometheusMetricsProvider(
      prometheusConfig({ url: `http://127.0.0.1:${await freePort()}`, timeout: '2s' }),
    );
    await assert.rejects(
      nowhere.versionMetrics('v1', { sinceMs }),
      (err: unknown) => err instanceof TransientError,
    );
  });
});
