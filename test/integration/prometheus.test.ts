import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
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

  test('an unknown version has 0 requests and no latency', async () => {
    assert.deepEqual(await provider.versionMetrics('v9', { sinceMs }), {
      version: 'v9',
      requests: 0,
      errors: 0,
      p50Ms: null,
      p99Ms: null,
    });
  });

  test('a window with no traffic has 0 requests and no latency, not NaN', async () => {
    // The last 2 s, after one more scrape: only samples taken after the traffic ended are in the
    // range. The series exist, but their increase is 0 and their quantiles are NaN.
    await prometheus!.waitForScrapesAfter(Date.now());
    const m1 = await provider.versionMetrics('v1', { sinceMs: Date.now() - 2000 });
    assert.deepEqual(m1, { version: 'v1', requests: 0, errors: 0, p50Ms: null, p99Ms: null });
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
