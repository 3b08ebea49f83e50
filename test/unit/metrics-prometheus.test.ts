import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { ConfigurationError, TransientError } from '../../src/providers/errors';
import { PrometheusMetricsProvider, rangeSeconds } from '../../src/providers/metrics/prometheus';
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
      minRange: 10_000,
      timeout: 5_000,
    });
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

describe('Prometheus provider against a fake /api/v1/query', () => {
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

  test('bad_data is a configuration error; execution errors, timeouts and 5xx are transient', async () => {
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
    answer = () => ({ status: 429, body: 'slow down' });
    await assert.rejects(provider().versionMetrics('v1', { sinceMs: 0 }), TransientError);
    answer = () => ({ status: 200, body: { hello: 'world' } });
    await assert.rejects(provider().versionMetrics('v1', { sinceMs: 0 }), TransientError);
  });

  test('versions that could change the query are rejected before any request', async () => {
    for (const version of ['v1"}', 'v1",code=~".*', '', 'v1 or vector(1)', 'v1{{window}}']) {
      await assert.rejects(provider().versionMetrics(version, { sinceMs: 0 }), ConfigurationError, version);
    }
    assert.deepEqual(seen, []);
  });

  test('the registry builds it from the spec section', () => {
    assert.ok(metricsProvider(prometheusConfig({ url: base })) instanceof PrometheusMetricsProvider);
  });
});
