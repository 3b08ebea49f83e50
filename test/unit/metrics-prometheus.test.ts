import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { ConfigurationError, TransientError } from '../../src/providers/errors';
import {
  bucketValues,
  PrometheusMetricsProvider,
  rangeSeconds,
} from '../../src/providers/metrics/prometheus';
import { metricsProvider } from '../../src/providers/registry';
import { parseCanarySpec } from '../../src/spec/load';
import {
  DEFAULT_PROMETHEUS_QUERIES,
  metricsSchema,
  type PrometheusMetricsConfig,
} from '../../src/spec/providers';

function prometheusConfig(input: Record<string, unknown>): PrometheusMetricsConfig {
  const config = metricsSchema.parse({ provider: 'prometheus', ...input });
  assert.equal(config.provider, 'prometheus');
  return config;
}

function rejectionPaths(input: Record<string, unknown>): string[] {
  const result = metricsSchema.safeParse(input);
  assert.equal(result.success, false, 'the config was accepted');
  return result.error!.issues.map((issue) => issue.path.join('.')).sort();
}

const vector = (...values: string[]) => ({
  status: 'success',
  data: { resultType: 'vector', result: values.map((v) => ({ metric: {}, value: [1, v] })) },
});

/** A latencyBuckets answer: one series per [le, cumulative count]. */
const bucketVector = (...entries: [le: string, count: string][]) => ({
  status: 'success',
  data: {
    resultType: 'vector',
    result: entries.map(([le, count]) => ({ metric: { le }, value: [1, count] })),
  },
});

describe('metrics config: a union on provider', () => {
  const minimal = {
    service: 'checkout',
    stable: { version: 'v1', targets: ['http://127.0.0.1:8001'] },
    canary: { version: 'v2', targets: ['http://127.0.0.1:8002'] },
  };

  test('prometheus gets the default queries, a 10s minRange and a 5s timeout; no adminUrl', () => {
    const spec = parseCanarySpec({
      ...minimal,
      traffic: { adminUrl: 'http://127.0.0.1:7000' },
      metrics: { provider: 'prometheus', url: 'http://127.0.0.1:9090' },
    });
    assert.deepEqual(spec.metrics, {
      provider: 'prometheus',
      url: 'http://127.0.0.1:9090',
      queries: DEFAULT_PROMETHEUS_QUERIES,
      bucketUnitMs: 1000,
      minRange: 10_000,
      timeout: 5_000,
    });
    assert.equal(
      DEFAULT_PROMETHEUS_QUERIES.latencyBuckets,
      'sum by (le) (increase(http_request_duration_seconds_bucket{version="{{version}}"}[{{window}}]))',
    );
  });

  test('latencyBuckets and bucketUnitMs can be set; the unit must be a positive number', () => {
    const config = prometheusConfig({
      url: 'http://127.0.0.1:9090',
      queries: { latencyBuckets: 'sum by (le) (increase(latency_ms_bucket{v="{{version}}"}[{{window}}]))' },
      bucketUnitMs: 1,
    });
    assert.equal(config.bucketUnitMs, 1);
    assert.equal(
      config.queries.latencyBuckets,
      'sum by (le) (increase(latency_ms_bucket{v="{{version}}"}[{{window}}]))',
    );
    assert.deepEqual(rejectionPaths({ provider: 'prometheus', url: 'http://p', bucketUnitMs: 0 }), [
      'bucketUnitMs',
    ]);
    assert.deepEqual(rejectionPaths({ provider: 'prometheus', url: 'http://p', bucketUnitMs: '1s' }), [
      'bucketUnitMs',
    ]);
    assert.deepEqual(
      rejectionPaths({
        provider: 'prometheus',
        url: 'http://p',
        queries: { latencyBuckets: 'sum by (le) (x_bucket)' },
      }),
      ['queries.latencyBuckets'],
    );
  });

  test('a query can be overridden alone', () => {
    const config = prometheusConfig({
      url: 'http://127.0.0.1:9090',
      queries: { errors: 'sum(increase(errors_total{v="{{version}}"}[{{window}}]))' },
      minRange: '30s',
    });
    assert.equal(config.queries.errors, 'sum(increase(errors_total{v="{{version}}"}[{{window}}]))');
    assert.equal(config.queries.requests, DEFAULT_PROMETHEUS_QUERIES.requests);
    assert.equal(config.minRange, 30_000);
  });

  test('embedded is still the default, and still follows traffic.adminUrl', () => {
    const spec = parseCanarySpec({ ...minimal, traffic: { adminUrl: 'http://127.0.0.1:7000' } });
    assert.deepEqual(spec.metrics, { provider: 'embedded', adminUrl: 'http://127.0.0.1:7000' });
  });

  test('bad provider configs are reported on their own paths', () => {
    assert.deepEqual(rejectionPaths({ provider: 'datadog' }), ['provider']);
    assert.deepEqual(rejectionPaths({ provider: 'prometheus' }), ['url']);
    assert.deepEqual(rejectionPaths({ provider: 'prometheus', url: 'http://p', adminUrl: 'http://x' }), ['']);
    assert.deepEqual(
      rejectionPaths({
        provider: 'prometheus',
        url: 'http://p',
        minRange: '500ms',
        queries: {
          requests: 'sum(up)', // no {{version}}: every version would get the same figure
          errors: 'sum(x{v="{{version}}"}[{{range}}])',
          p99: 'x',
        },
      }),
      ['minRange', 'queries', 'queries.errors', 'queries.requests'],
    );
    assert.deepEqual(rejectionPaths({ provider: 'embedded', url: 'http://p' }), ['']);
  });
});

describe('rangeSeconds', () => {
  test('the window rounded up to whole seconds, at least minRange', () => {
    assert.equal(rangeSeconds(0, 300_000, 10_000), 300);
    assert.equal(rangeSeconds(0, 300_001, 10_000), 301);
    assert.equal(rangeSeconds(0, 3_000, 10_000), 10);
    assert.equal(rangeSeconds(0, 3_000, 1_500), 3);
    assert.equal(rangeSeconds(5_000, 1_000, 10_000), 10); // clock skew: never negative
  });
});

describe('bucketValues', () => {
  test('le labels become milliseconds through bucketUnitMs; +Inf stays infinite', () => {
    const data = bucketVector(['0.005', '3'], ['0.0049', '2'], ['1', '7.5'], ['+Inf', '8']).data;
    assert.deepEqual(bucketValues(data, 1000), [
      { leMs: 5, count: 3 },
      { leMs: 4.9, count: 2 }, // 0.0049 × 1000 is 4.8999999999999995 in floating point
      { leMs: 1000, count: 7.5 },
      { leMs: Infinity, count: 8 },
    ]);
    assert.deepEqual(bucketValues(bucketVector(['250', '1'], ['+Inf', '1']).data, 1), [
      { leMs: 250, count: 1 },
      { leMs: Infinity, count: 1 },
    ]);
    assert.deepEqual(bucketValues(bucketVector().data, 1000), []);
  });

  test('a missing, malformed or repeated le, or a non-vector, is a configuration error naming the query', () => {
    const rejects = (data: unknown, pattern: RegExp) =>
      assert.throws(
        () => bucketValues(data as Parameters<typeof bucketValues>[0], 1000),
        (err: unknown) => {
          assert.ok(err instanceof ConfigurationError, String(err));
          assert.match(err.message, /metrics\.queries\.latencyBuckets/);
          assert.match(err.message, pattern);
          return true;
        },
      );
    rejects(vector('1').data, /without an le label/);
    for (const le of ['fast', '', '0.1s', 'Inf', '-Inf', 'NaN'])
      rejects(bucketVector([le, '1']).data, /not a number or \+Inf/);
    rejects(bucketVector(['0.1', '1'], ['0.10', '2']).data, /several series for le/);
    rejects({ resultType: 'scalar', result: [1, '1'] }, /instant vector/);
  });

  test('a count that is not a finite number is transient', () => {
    assert.throws(() => bucketValues(bucketVector(['0.1', 'NaN']).data, 1000), TransientError);
  });
});

describe('Prometheus provider against a fake /api/v1/query', () => {
  // A test double for Prometheus's HTTP query API: answers each query with `answer(query)`.
  let server: FastifyInstance;
  let base: string;
  let seen: { path: string; query: string; time: string }[] = [];
  let answer: (query: string) => { status: number; body: unknown } = () => ({ status: 200, body: vector() });

  before(async () => {
    server = Fastify({ logger: false });
    server.get('/*', async (request, reply) => {
      const { query, time } = request.query as { query: string; time: string };
      seen.push({ path: request.url.split('?', 1)[0] as string, query, time });
      const { status, body } = answer(query);
      return reply.code(status).send(body);
    });
    await server.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await server?.close();
  });

  beforeEach(() => {
    seen = [];
  });

  const provider = (input: Record<string, unknown> = {}) =>
    new PrometheusMetricsProvider(prometheusConfig({ url: base, ...input }));

  test('fills {{version}} and {{window}} into each query, evaluated at untilMs', async () => {
    answer = (query) => {
      if (query.startsWith('histogram_quantile(0.5')) return { status: 200, body: vector('12.5') };
      if (query.startsWith('histogram_quantile(0.99')) return { status: 200, body: vector('250') };
      if (query.includes('code=~"5.."')) return { status: 200, body: vector('3.4') };
      return { status: 200, body: vector('199.5') };
    };
    const metrics = await provider().versionMetrics('v2', {
      sinceMs: 1_700_000_000_000,
      untilMs: 1_700_000_065_250,
    });
    assert.deepEqual(metrics, { version: 'v2', requests: 200, errors: 3, p50Ms: 12.5, p99Ms: 250 });
    assert.deepEqual(seen.map((s) => s.query).sort(), [
      'histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{version="v2"}[66s]))) * 1000',
      'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{version="v2"}[66s]))) * 1000',
      'sum(increase(http_request_duration_seconds_count{version="v2",code=~"5.."}[66s]))',
      'sum(increase(http_request_duration_seconds_count{version="v2"}[66s]))',
    ]);
    assert.ok(seen.every((s) => s.path === '/api/v1/query' && s.time === '1700000065.250'));
  });

  test('a path prefix in the url is kept', async () => {
    answer = () => ({ status: 200, body: vector('1') });
    await provider({ url: `${base}/prometheus` }).versionMetrics('v1', { sinceMs: 0, untilMs: 1000 });
    assert.ok(
      seen.every((s) => s.path === '/prometheus/api/v1/query'),
      JSON.stringify(seen),
    );
  });

  test('no series: counts are 0, latencies null; NaN and infinities are null latencies', async () => {
    answer = () => ({ status: 200, body: vector() });
    assert.deepEqual(await provider().versionMetrics('v1', { sinceMs: 0 }), {
      version: 'v1',
      requests: 0,
      errors: 0,
      p50Ms: null,
      p99Ms: null,
    });
    answer = (query) => ({
      status: 200,
      body: query.startsWith('histogram_quantile(0.5')
        ? vector('NaN')
        : query.startsWith('hist')
          ? vector('+Inf')
          : vector('0'),
    });
    assert.deepEqual(await provider().versionMetrics('v1', { sinceMs: 0 }), {
      version: 'v1',
      requests: 0,
      errors: 0,
      p50Ms: null,
      p99Ms: null,
    });
  });

  const isBuckets = (query: string) => query.startsWith('sum by (le) (increase(');

  test('the latencyBuckets query is made only when the window asks for bounds', async () => {
    answer = (query) =>
      isBuckets(query)
        ? { status: 200, body: bucketVector(['0.05', '150'], ['0.1', '180'], ['1', '199'], ['+Inf', '200']) }
        : { status: 200, body: vector('200') };
    for (const window of [
      { sinceMs: 0, untilMs: 30_000 },
      { sinceMs: 0, untilMs: 30_000, latencyBoundsMs: [] },
    ]) {
      seen = [];
      const metrics = await provider().versionMetrics('v1', window);
      assert.equal(seen.length, 4);
      assert.ok(!seen.some((s) => isBuckets(s.query)), JSON.stringify(seen));
      assert.equal('slowCounts' in metrics, false);
    }

    seen = [];
    const metrics = await provider().versionMetrics('v2', {
      sinceMs: 0,
      untilMs: 30_000,
      latencyBoundsMs: [100, 50, 70, 1000, 5000],
    });
    assert.equal(seen.length, 5);
    assert.ok(
      seen.some(
        (s) => s.query === 'sum by (le) (increase(http_request_duration_seconds_bucket{version="v2"}[30s]))',
      ),
      JSON.stringify(seen),
    );
    // At edges 100 and 50 ms; 70 ms counts at the 100 ms edge; 5 s is above the last finite edge.
    assert.deepEqual(metrics.slowCounts, [20, 50, 20, 1, null]);
    assert.equal(metrics.requests, 200);
  });

  test('bucketUnitMs: a histogram in milliseconds', async () => {
    answer = (query) =>
      isBuckets(query)
        ? { status: 200, body: bucketVector(['50', '150'], ['100', '180'], ['+Inf', '200']) }
        : { status: 200, body: vector('200') };
    const metrics = await provider({ bucketUnitMs: 1 }).versionMetrics('v1', {
      sinceMs: 0,
      latencyBoundsMs: [50, 0.1],
    });
    assert.deepEqual(metrics.slowCounts, [50, 50]);
  });

  test('extrapolated bucket counts are rounded and clamped to [0, requests]', async () => {
    // increase() extrapolates each series on its own: fractions, and a bucket above +Inf.
    answer = (query) =>
      isBuckets(query)
        ? { status: 200, body: bucketVector(['0.01', '60.4'], ['0.05', '101.2'], ['+Inf', '100.6']) }
        : { status: 200, body: vector(query.includes('code=~') ? '0' : '99.6') };
    const metrics = await provider().versionMetrics('v1', { sinceMs: 0, latencyBoundsMs: [10, 50] });
    assert.equal(metrics.requests, 100);
    assert.deepEqual(metrics.slowCounts, [40, 0]);
    // A request count below the buckets' total caps the slow counts.
    answer = (query) =>
      isBuckets(query)
        ? { status: 200, body: bucketVector(['0.01', '0'], ['+Inf', '100']) }
        : { status: 200, body: vector(query.includes('code=~') ? '0' : '30') };
    assert.deepEqual(
      (await provider().versionMetrics('v1', { sinceMs: 0, latencyBoundsMs: [10] })).slowCounts,
      [30],
    );
  });

  test('buckets in any order, without +Inf: the request count is the total', async () => {
    answer = (query) =>
      isBuckets(query)
        ? { status: 200, body: bucketVector(['0.25', '99'], ['0.01', '60'], ['0.05', '90']) }
        : { status: 200, body: vector(query.includes('code=~') ? '0' : '100') };
    const metrics = await provider().versionMetrics('v1', {
      sinceMs: 0,
      latencyBoundsMs: [10, 0.5, 30, 250, 251],
    });
    // 10 and 250 ms are edges; 0.5 and 30 ms count at the next edge up; 251 ms is above the last.
    assert.deepEqual(metrics.slowCounts, [40, 40, 10, 1, null]);
  });

  test('no bucket series: nothing was served, so every bound counts 0', async () => {
    answer = () => ({ status: 200, body: vector() });
    assert.deepEqual(await provider().versionMetrics('v1', { sinceMs: 0, latencyBoundsMs: [5, 50_000] }), {
      version: 'v1',
      requests: 0,
      errors: 0,
      p50Ms: null,
      p99Ms: null,
      slowCounts: [0, 0],
    });
  });

  test('a malformed le, an unaggregated bucket query or bad_data on it is a configuration error', async () => {
    const withBuckets = (body: unknown) => (query: string) =>
      isBuckets(query) ? { status: 200, body } : { status: 200, body: vector('10') };
    const window = { sinceMs: 0, latencyBoundsMs: [50] };
    const configurationError = (err: unknown) => {
      assert.ok(err instanceof ConfigurationError, String(err));
      assert.match(err.message, /metrics\.queries\.latencyBuckets/);
      return true;
    };
    answer = withBuckets(bucketVector(['0.1', '5'], ['fast', '10']));
    await assert.rejects(provider().versionMetrics('v1', window), configurationError);
    answer = withBuckets(vector('10'));
    await assert.rejects(provider().versionMetrics('v1', window), configurationError);
    answer = withBuckets({ status: 'error', errorType: 'bad_data', error: 'parse error' });
    await assert.rejects(provider().versionMetrics('v1', window), configurationError);
    answer = (query) =>
      isBuckets(query)
        ? { status: 503, body: { status: 'error', errorType: 'timeout', error: 'query timed out' } }
        : { status: 200, body: vector('10') };
    await assert.rejects(provider().versionMetrics('v1', window), TransientError);
  });

  test('a scalar result is read too', async () => {
    answer = () => ({
      status: 200,
      body: { status: 'success', data: { resultType: 'scalar', result: [1, '42'] } },
    });
    const metrics = await provider().versionMetrics('v1', { sinceMs: 0 });
    assert.equal(metrics.requests, 42);
    assert.equal(metrics.p99Ms, 42);
  });

  test('a count that is NaN is an error, not 0', async () => {
    answer = (query) => ({
      status: 200,
      body: query.startsWith('sum(increase') ? vector('NaN') : vector('1'),
    });
    await assert.rejects(provider().versionMetrics('v1', { sinceMs: 0 }), TransientError);
  });

  test('several series or a range vector is a configuration error', async () => {
    answer = () => ({ status: 200, body: vector('1', '2') });
    await assert.rejects(provider().versionMetrics('v1', { sinceMs: 0 }), /returned 2 series/);
    answer = () => ({ status: 200, body: { status: 'success', data: { resultType: 'matrix', result: [] } } });
    await assert.rejects(provider().versionMetrics('v1', { sinceMs: 0 }), ConfigurationError);
  });

  test('bad_data and 4xx are configuration errors; execution errors, timeouts, 408, 429 and 5xx are transient', async () => {
    const error = (status: number, errorType: string) => () => ({
      status,
      body: { status: 'error', errorType, error: `${errorType} happened` },
    });
    answer = error(400, 'bad_data');
    await assert.rejects(provider().versionMetrics('v1', { sinceMs: 0 }), (err: unknown) => {
      assert.ok(err instanceof ConfigurationError, String(err));
      assert.match(err.message, /bad_data happened/);
      return true;
    });
    for (const [status, errorType] of [
      [422, 'execution'],
      [503, 'timeout'],
      [503, 'canceled'],
      [500, 'internal'],
    ] as const) {
      answer = error(status, errorType);
      await assert.rejects(provider().versionMetrics('v1', { sinceMs: 0 }), TransientError, errorType);
    }
    answer = () => ({ status: 502, body: 'bad gateway' });
    await assert.rejects(provider().versionMetrics('v1', { sinceMs: 0 }), TransientError);
    answer = () => ({ status: 404, body: 'not found' });
    await assert.rejects(provider().versionMetrics('v1', { sinceMs: 0 }), ConfigurationError);
    // 408 and 429 pass with time, as for every other HTTP API the providers call (http-json).
    answer = () => ({ status: 429, body: 'slow down' });
    await assert.rejects(provider().versionMetrics('v1', { sinceMs: 0 }), TransientError);
    answer = () => ({ status: 408, body: 'request timeout' });
    await assert.rejects(provider().versionMetrics('v1', { sinceMs: 0 }), TransientError);
    answer = () => ({ status: 200, body: { hello: 'world' } });
    await assert.rejects(provider().versionMetrics('v1', { sinceMs: 0 }), TransientError);
  });

  test('versions that could change the query are rejected before any request', async () => {
    for (const version of ['v1"}', 'v1",code=~".*', '', 'v1 or vector(1)', 'v1{{window}}']) {
      await assert.rejects(
        provider().versionMetrics(version, { sinceMs: 0, latencyBoundsMs: [50] }),
        ConfigurationError,
        version,
      );
    }
    assert.deepEqual(seen, []);
  });

  test('the registry builds it from the spec section', () => {
    assert.ok(metricsProvider(prometheusConfig({ url: base })) instanceof PrometheusMetricsProvider);
  });
});
