import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { ConfigurationError, TransientError } from '../../src/providers/errors';
import { HttpMetricsProvider } from '../../src/providers/metrics/http';
import { metricsProvider } from '../../src/providers/registry';
import { evaluateJsonPath, parseJsonPath } from '../../src/spec/json-path';
import { type HttpMetricsConfig, metricsSchema } from '../../src/spec/providers';

function httpConfig(input: Record<string, unknown>): HttpMetricsConfig {
  const config = metricsSchema.parse({ provider: 'http', ...input });
  assert.equal(config.provider, 'http');
  return config;
}

function rejectionPaths(input: Record<string, unknown>): string[] {
  const result = metricsSchema.safeParse({ provider: 'http', ...input });
  assert.equal(result.success, false, 'the config was accepted');
  return result.error!.issues.map((issue) => issue.path.join('.'));
}

describe('JSON path evaluator', () => {
  const document = {
    data: {
      requests: 120,
      items: [{ count: 7 }, { count: 9, nested: [[1, 2], [3]] }],
      'with-dash_and_1': 'ok',
      nothing: null,
    },
    list: [10, 20],
  };

  test('dot keys and [index], with or without a leading $', () => {
    assert.equal(evaluateJsonPath(document, '$.data.requests'), 120);
    assert.equal(evaluateJsonPath(document, 'data.requests'), 120);
    assert.equal(evaluateJsonPath(document, 'data.items[0].count'), 7);
    assert.equal(evaluateJsonPath(document, '$.data.items[1].nested[0][1]'), 2);
    assert.equal(evaluateJsonPath(document, '$.data.with-dash_and_1'), 'ok');
    assert.equal(evaluateJsonPath(document, 'list[1]'), 20);
    assert.equal(evaluateJsonPath([5, 6], '$[1]'), 6);
    assert.equal(evaluateJsonPath(document, '$.data.nothing'), null);
    assert.deepEqual(evaluateJsonPath(document, '$'), document);
  });

  test('a missing step gives undefined, never an inherited property', () => {
    for (const path of [
      '$.data.missing',
      '$.data.requests.deeper',
      '$.data.items[2].count',
      '$.data.items.count',
      '$.list.length',
      '$.data[0]',
      '$.data.nothing.x',
      '$.__proto__',
      '$.constructor',
      '$.data.toString',
      '$.list.constructor',
    ]) {
      assert.equal(evaluateJsonPath(document, path), undefined, path);
    }
  });

  test('anything beyond keys and indexes is rejected when parsed', () => {
    for (const path of [
      '',
      '.data',
      '$.',
      'data..requests',
      'data.',
      'data[',
      'data[]',
      'data[-1]',
      'data[x]',
      '$data',
      'data requests',
      "data['requests']",
      '$.data[*]',
      '$..requests',
      'data.items[0]count',
    ]) {
      assert.throws(() => parseJsonPath(path), Error, JSON.stringify(path));
    }
    assert.deepEqual(parseJsonPath('$.a[0].b'), [{ key: 'a' }, { index: 0 }, { key: 'b' }]);
    assert.deepEqual(parseJsonPath('a'), [{ key: 'a' }]);
  });
});

describe('http metrics config', () => {
  test('a minimal config gets a timeout; latencies are optional', () => {
    assert.deepEqual(
      httpConfig({
        url: 'http://127.0.0.1:9000/m?v={{version}}',
        fields: { requests: '$.r', errors: '$.e' },
      }),
      {
        provider: 'http',
        url: 'http://127.0.0.1:9000/m?v={{version}}',
        fields: { requests: '$.r', errors: '$.e' },
        timeout: 5000,
      },
    );
  });

  test('bad templates, URLs and paths are reported on their own paths', () => {
    const fields = { requests: '$.r', errors: '$.e' };
    assert.deepEqual(rejectionPaths({ url: 'http://127.0.0.1/m', fields }), ['url']);
    assert.deepEqual(rejectionPaths({ url: 'http://127.0.0.1/m?v={{version}}&x={{token}}', fields }), [
      'url',
    ]);
    assert.deepEqual(rejectionPaths({ url: 'ftp://127.0.0.1/{{version}}', fields }), ['url']);
    assert.deepEqual(
      rejectionPaths({
        url: 'http://127.0.0.1/{{version}}',
        fields: { requests: '$..r', errors: 'e[x]', p99Ms: '$.p99 ' },
      }),
      ['fields.requests', 'fields.errors', 'fields.p99Ms'],
    );
    assert.deepEqual(rejectionPaths({ url: 'http://127.0.0.1/{{version}}', fields: { requests: '$.r' } }), [
      'fields.errors',
    ]);
    assert.deepEqual(
      rejectionPaths({ url: 'http://127.0.0.1/{{version}}', fields: { ...fields, p90Ms: '$.x' } }),
      ['fields'],
    );
  });

  test('slowRequests needs {{slowerThanMs}} in the url, and only it may use that placeholder', () => {
    const fields = { requests: '$.r', errors: '$.e' };
    const withBound = 'http://127.0.0.1/m?v={{version}}&slower={{slowerThanMs}}';
    assert.deepEqual(httpConfig({ url: withBound, fields: { ...fields, slowRequests: '$.slow' } }).fields, {
      ...fields,
      slowRequests: '$.slow',
    });
    assert.deepEqual(
      httpConfig({ url: 'http://127.0.0.1/m?v={{version}}', fields: { ...fields, latencyHistogram: '$.h' } })
        .fields,
      { ...fields, latencyHistogram: '$.h' },
    );

    const issues = (input: Record<string, unknown>) => {
      const result = metricsSchema.safeParse({ provider: 'http', ...input });
      assert.equal(result.success, false, 'the config was accepted');
      return result.error!.issues.map((issue) => [issue.path.join('.'), issue.message]);
    };
    assert.deepEqual(
      issues({ url: 'http://127.0.0.1/m?v={{version}}', fields: { ...fields, slowRequests: '$.s' } }),
      [
        [
          'url',
          'must contain {{slowerThanMs}} when fields.slowRequests is set: it passes the latency bound (ms) the count is for',
        ],
      ],
    );
    assert.deepEqual(issues({ url: withBound, fields }), [
      [
        'url',
        '{{slowerThanMs}} is filled in only with fields.slowRequests; set that field or remove the placeholder',
      ],
    ]);
    assert.deepEqual(
      issues({ url: withBound, fields: { ...fields, slowRequests: '$.s', latencyHistogram: '$.h' } }),
      [['fields', 'set fields.slowRequests or fields.latencyHistogram, not both']],
    );
    assert.deepEqual(rejectionPaths({ url: withBound, fields: { ...fields, slowRequests: '$..s' } }), [
      'fields.slowRequests',
    ]);
    assert.deepEqual(
      rejectionPaths({
        url: 'http://127.0.0.1/{{version}}',
        fields: { ...fields, latencyHistogram: 'h[x]' },
      }),
      ['fields.latencyHistogram'],
    );
    assert.match(
      issues({ url: 'http://127.0.0.1/m?v={{version}}&x={{token}}', fields })[0]![1]!,
      /allowed: \{\{version\}\}, \{\{sinceMs\}\}, \{\{untilMs\}\}, \{\{slowerThanMs\}\}$/,
    );
  });
});

describe('http metrics provider against a local JSON endpoint', () => {
  let server: FastifyInstance;
  let base: string;
  let seen: { path: string; query: Record<string, string> }[] = [];
  let answer: (version: string, query: Record<string, string>) => { status: number; body: unknown } = () => ({
    status: 200,
    body: {},
  });

  before(async () => {
    server = Fastify({ logger: false });
    server.get('/stats/:version', async (request, reply) => {
      const { version } = request.params as { version: string };
      seen.push({
        path: request.url.split('?', 1)[0] as string,
        query: { ...(request.query as Record<string, string>) },
      });
      const { status, body } = answer(version, request.query as Record<string, string>);
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

  const provider = (fields: Record<string, string> = {}) =>
    new HttpMetricsProvider(
      httpConfig({
        url: `${base}/stats/{{version}}?from={{sinceMs}}&to={{untilMs}}`,
        fields: {
          requests: '$.data.requests',
          errors: 'data.errors',
          p50Ms: '$.data.latency[0].ms',
          p99Ms: '$.data.latency[1].ms',
          ...fields,
        },
      }),
    );

  test('substitutes the version and window, and reads each field by its path', async () => {
    answer = (version) => ({
      status: 200,
      body: {
        data: {
          version,
          requests: 1000,
          errors: '12',
          latency: [
            { q: 0.5, ms: 21.5 },
            { q: 0.99, ms: '180.25' },
          ],
        },
      },
    });
    const metrics = await provider().versionMetrics('v2.1_rc-1', {
      sinceMs: 1_700_000_000_000,
      untilMs: 1_700_000_060_000,
    });
    assert.deepEqual(metrics, {
      version: 'v2.1_rc-1',
      requests: 1000,
      errors: 12,
      p50Ms: 21.5,
      p99Ms: 180.25,
    });
    assert.deepEqual(seen, [
      { path: '/stats/v2.1_rc-1', query: { from: '1700000000000', to: '1700000060000' } },
    ]);
  });

  test('without untilMs the window ends now', async () => {
    answer = () => ({ status: 200, body: { data: { requests: 1, errors: 0 } } });
    const before = Date.now();
    await provider().versionMetrics('v1', { sinceMs: 5 });
    const to = Number(seen[0]?.query.to);
    assert.ok(to >= before && to <= Date.now(), `to=${to}`);
    assert.equal(seen[0]?.query.from, '5');
  });

  test('fractional counts are rounded; missing or non-numeric latencies are null', async () => {
    answer = () => ({
      status: 200,
      body: { data: { requests: 99.6, errors: 0.4, latency: [{ ms: 'fast' }] } },
    });
    assert.deepEqual(await provider().versionMetrics('v1', { sinceMs: 0 }), {
      version: 'v1',
      requests: 100,
      errors: 0,
      p50Ms: null,
      p99Ms: null,
    });
  });

  test('latency fields that are not configured are null', async () => {
    answer = () => ({ status: 200, body: { r: 3, e: 1, p99: 5 } });
    const bare = new HttpMetricsProvider(
      httpConfig({ url: `${base}/stats/{{version}}`, fields: { requests: 'r', errors: 'e' } }),
    );
    assert.deepEqual(await bare.versionMetrics('v1', { sinceMs: 0 }), {
      version: 'v1',
      requests: 3,
      errors: 1,
      p50Ms: null,
      p99Ms: null,
    });
  });

  test('a missing or non-numeric count is an error, never a silent 0', async () => {
    for (const data of [
      {},
      { requests: null, errors: 0 },
      { requests: 'many', errors: 0 },
      { requests: '', errors: 0 },
      { requests: true, errors: 0 },
      { requests: [1], errors: 0 },
      { requests: 10 },
      { requests: 10, errors: { n: 1 } },
      { requests: -1, errors: 0 },
    ]) {
      answer = () => ({ status: 200, body: { data } });
      await assert.rejects(
        provider().versionMetrics('v1', { sinceMs: 0 }),
        (err: unknown) => {
          assert.ok(err instanceof TransientError, `${JSON.stringify(data)}: ${String(err)}`);
          return true;
        },
        JSON.stringify(data),
      );
    }
    answer = () => ({ status: 200, body: { data: { errors: 0 } } });
    await assert.rejects(
      provider().versionMetrics('v1', { sinceMs: 0 }),
      /no values found for requests at \$\.data\.requests/,
    );
  });

  test('4xx is a configuration error; 408, 429, 5xx and non-JSON answers are transient', async () => {
    answer = () => ({ status: 404, body: { error: 'no such version' } });
    await assert.rejects(provider().versionMetrics('v1', { sinceMs: 0 }), ConfigurationError);
    // The server gave up waiting, or asks us to slow down: a later poll may well get an answer.
    answer = () => ({ status: 408, body: { error: 'request timeout' } });
    await assert.rejects(provider().versionMetrics('v1', { sinceMs: 0 }), TransientError);
    answer = () => ({ status: 429, body: { error: 'slow down' } });
    await assert.rejects(provider().versionMetrics('v1', { sinceMs: 0 }), TransientError);
    answer = () => ({ status: 503, body: { error: 'warming up' } });
    await assert.rejects(provider().versionMetrics('v1', { sinceMs: 0 }), TransientError);
    answer = () => ({ status: 200, body: 'not json' });
    await assert.rejects(provider().versionMetrics('v1', { sinceMs: 0 }), TransientError);
  });

  test('a version that is not a plain name is rejected before any request', async () => {
    await assert.rejects(provider().versionMetrics('../admin?x=', { sinceMs: 0 }), ConfigurationError);
    assert.deepEqual(seen, []);
  });

  const slowProvider = () =>
    new HttpMetricsProvider(
      httpConfig({
        url: `${base}/stats/{{version}}?from={{sinceMs}}&to={{untilMs}}&slower={{slowerThanMs}}`,
        fields: {
          requests: '$.data.requests',
          errors: '$.data.errors',
          p99Ms: '$.data.p99',
          slowRequests: '$.data.slow',
        },
      }),
    );

  test('slowRequests: one GET per bound, the bound in the URL, each count read from its own answer', async () => {
    const slowByBound: Record<string, unknown> = { '52.5': 40, '100': '7', '250.125': 'n/a', '0.3': -1 };
    answer = (_version, query) => ({
      status: 200,
      body: {
        data: {
          // Figures other than the slow count are read from the first bound's answer.
          requests: query.slower === '52.5' ? 1000 : 1003,
          errors: query.slower === '52.5' ? 12 : 13,
          p99: 180,
          ...(query.slower! in slowByBound ? { slow: slowByBound[query.slower!] } : {}),
        },
      },
    });
    const metrics = await slowProvider().versionMetrics('v2', {
      sinceMs: 1_700_000_000_000,
      untilMs: 1_700_000_060_000,
      latencyBoundsMs: [52.5, 100, 250.125, 300, 0.1 + 0.2],
    });
    assert.deepEqual(metrics, {
      version: 'v2',
      requests: 1000,
      errors: 12,
      p50Ms: null,
      p99Ms: 180,
      // '250.125' is not a number, 300 has no count, 0.3 a negative one: null, never 0.
      slowCounts: [40, 7, null, null, null],
    });
    const window = { from: '1700000000000', to: '1700000060000' };
    assert.deepEqual(seen.map((s) => s.query.slower).sort(), ['0.3', '100', '250.125', '300', '52.5']);
    for (const request of seen) {
      assert.deepEqual(request, { path: '/stats/v2', query: { ...window, slower: request.query.slower } });
    }
  });

  test('slowRequests without bounds: one GET with an empty {{slowerThanMs}}', async () => {
    answer = () => ({ status: 200, body: { data: { requests: 5, errors: 1, slow: 2 } } });
    const metrics = await slowProvider().versionMetrics('v1', { sinceMs: 0, untilMs: 10 });
    assert.deepEqual(metrics, { version: 'v1', requests: 5, errors: 1, p50Ms: null, p99Ms: null });
    assert.deepEqual(seen, [{ path: '/stats/v1', query: { from: '0', to: '10', slower: '' } }]);

    seen = [];
    const none = await slowProvider().versionMetrics('v1', { sinceMs: 0, untilMs: 10, latencyBoundsMs: [] });
    assert.deepEqual(none.slowCounts, []);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.query.slower, '');
  });

  test('slowRequests: one failing GET fails the read', async () => {
    answer = (_version, query) =>
      query.slower === '100'
        ? { status: 503, body: { error: 'busy' } }
        : { status: 200, body: { data: { requests: 5, errors: 1, slow: 2 } } };
    await assert.rejects(
      slowProvider().versionMetrics('v1', { sinceMs: 0, latencyBoundsMs: [50, 100] }),
      TransientError,
    );
  });

  const histogramProvider = () => provider({ latencyHistogram: '$.data.histogram' });

  test('latencyHistogram: slow counts at, between and above the bucket edges', async () => {
    const histogram = [
      { le: 50, count: 600 },
      { le: '250', count: '990' }, // any order; numbers may be decimal strings
      { le: 100, count: 900 },
      { le: '+Inf', count: 1000 },
    ];
    answer = () => ({ status: 200, body: { data: { requests: 1000, errors: 3, histogram } } });
    const metrics = await histogramProvider().versionMetrics('v1', {
      sinceMs: 0,
      untilMs: 10,
      latencyBoundsMs: [75, 50, 250, 250.5, 10],
    });
    assert.deepEqual(metrics, {
      version: 'v1',
      requests: 1000,
      errors: 3,
      p50Ms: null,
      p99Ms: null,
      // 75 is read at le=100, 50 and 250 at their own edges, 250.5 is above the last finite edge
      // (null), 10 is read at le=50.
      slowCounts: [100, 400, 10, null, 400],
    });
    assert.equal(seen.length, 1, 'one GET for all bounds');
    assert.deepEqual(seen[0]?.query, { from: '0', to: '10' });
  });

  test('latencyHistogram without a +Inf bucket counts against the requests figure', async () => {
    answer = () => ({
      status: 200,
      body: { data: { requests: 1010, errors: 0, histogram: [{ le: 100, count: 900 }] } },
    });
    const metrics = await histogramProvider().versionMetrics('v1', {
      sinceMs: 0,
      latencyBoundsMs: [60, 100, 101],
    });
    assert.deepEqual(metrics.slowCounts, [110, 110, null]);
  });

  test('latencyHistogram is read only when the window asks for bounds', async () => {
    answer = () => ({ status: 200, body: { data: { requests: 4, errors: 0, histogram: 'broken' } } });
    const metrics = await histogramProvider().versionMetrics('v1', { sinceMs: 0 });
    assert.deepEqual(metrics, { version: 'v1', requests: 4, errors: 0, p50Ms: null, p99Ms: null });
  });

  test('a malformed histogram is a transient error naming the field, without the query string', async () => {
    const cases: [unknown, RegExp][] = [
      [undefined, /expected an array .* got nothing/],
      [{ le: 100, count: 1 }, /expected an array/],
      [[{ le: 100, count: 1 }, 7], /bucket \[1\] is not an object \(got 7\)/],
      [[{ le: 'fast', count: 1 }], /bucket \[0\]: le must be milliseconds or "\+Inf" \(got "fast"\)/],
      [[{ le: 100 }], /bucket \[0\]: count must be a non-negative number \(got nothing\)/],
      [[{ le: 100, count: -2 }], /bucket \[0\]: count must be a non-negative number \(got -2\)/],
      [
        [
          { le: 100, count: 900 },
          { le: 50, count: 950 },
        ],
        /counts decrease with le \(950 at le 50, 900 at le 100\)/,
      ],
      [
        [
          { le: 100, count: 900 },
          { le: '+Inf', count: 899 },
        ],
        /counts decrease with le \(900 at le 100, 899 at le \+Inf\)/,
      ],
      [
        [
          { le: 100, count: 900 },
          { le: '100', count: 900 },
        ],
        /le 100 appears more than once/,
      ],
    ];
    for (const [histogram, message] of cases) {
      answer = () => ({ status: 200, body: { data: { requests: 1000, errors: 0, histogram } } });
      await assert.rejects(
        histogramProvider().versionMetrics('v1', { sinceMs: 0, untilMs: 10, latencyBoundsMs: [100] }),
        (err: unknown) => {
          assert.ok(err instanceof TransientError, String(err));
          assert.ok(
            err.message.startsWith(
              `${base}/stats/v1: latencyHistogram at $.data.histogram is not a cumulative histogram: `,
            ),
            err.message,
          );
          assert.match(err.message, message);
          assert.doesNotMatch(err.message, /from=|\?/);
          return true;
        },
        JSON.stringify(histogram),
      );
    }
  });

  test('without a slow-count field, slowCounts is left out even when bounds are asked for', async () => {
    answer = () => ({ status: 200, body: { data: { requests: 4, errors: 0 } } });
    const metrics = await provider().versionMetrics('v1', { sinceMs: 0, latencyBoundsMs: [50] });
    assert.ok(!('slowCounts' in metrics), JSON.stringify(metrics));
    assert.equal(seen.length, 1);
  });

  test('the registry builds it from the spec section', async () => {
    answer = () => ({ status: 200, body: { requests: 4, errors: 2 } });
    const built = metricsProvider(
      httpConfig({ url: `${base}/stats/{{version}}`, fields: { requests: 'requests', errors: 'errors' } }),
    );
    assert.ok(built instanceof HttpMetricsProvider);
    assert.equal((await built.versionMetrics('v3', { sinceMs: 0 })).errors, 2);
  });
});
