/**
 * The traffic section as a discriminated union (issue 8, section 1): each provider's fields, the
 * split between what a load balancer routes to (`routes`) and what the checks probe (`targets`),
 * metrics defaults that follow the traffic provider, and header routes a load balancer can apply.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { desiredSplit, splitMismatch } from '../../src/activities/split-check';
import type { BlueGreenSpecInput } from '../../src/spec/blue-green';
import type { CanarySpecInput } from '../../src/spec/canary';
import { SpecError } from '../../src/spec/errors';
import { parseBlueGreenSpec, parseCanarySpec } from '../../src/spec/load';

const haproxy = {
  provider: 'haproxy',
  runtimeApi: 'tcp://127.0.0.1:9999',
  backend: 'app',
  versionsMap: '/etc/haproxy/rollout-versions.map',
} as const;
const nginx = {
  provider: 'nginx',
  includeFile: '/etc/nginx/rollout/app.conf',
  variable: 'rollout_upstream',
} as const;
const command = {
  provider: 'command',
  command: '/usr/local/bin/steer-f5',
  args: ['--pool', 'checkout'],
} as const;

const canary = (overrides: Record<string, unknown> = {}) =>
  ({
    service: 'checkout',
    stable: { version: 'v1', targets: ['http://10.0.0.1:8080'], routes: ['blue'] },
    canary: { version: 'v2', targets: ['http://10.0.0.2:8080'], routes: ['green'] },
    analysis: { latency: 'off' },
    ...overrides,
  }) as CanarySpecInput;

function issues(parse: () => unknown): Record<string, string> {
  try {
    parse();
  } catch (err) {
    assert.ok(err instanceof SpecError, String(err));
    return Object.fromEntries(err.issues.map((i) => [i.path, i.message]));
  }
  assert.fail('expected the spec to be refused');
}

describe('traffic providers', () => {
  test('haproxy: routes are server names, metrics default to its own counters', () => {
    const spec = parseCanarySpec(canary({ traffic: haproxy }));
    assert.equal(spec.traffic.provider, 'haproxy');
    assert.deepEqual(spec.stable.routes, ['blue']);
    assert.deepEqual(spec.metrics, {
      provider: 'haproxy',
      runtimeApi: haproxy.runtimeApi,
      backend: 'app',
      versionsMap: haproxy.versionsMap,
      timeout: 2000,
    });
  });

  test('haproxy without latency off is refused: its counters have no latency', () => {
    const found = issues(() => parseCanarySpec(canary({ traffic: haproxy, analysis: {} })));
    assert.match(found['analysis.latency'] ?? '', /no per-server latency histogram/);
  });

  test('haproxy metrics without an haproxy traffic section must say where to read', () => {
    const found = issues(() => parseCanarySpec(canary({ traffic: nginx, metrics: { provider: 'haproxy' } })));
    for (const field of ['runtimeApi', 'backend', 'versionsMap']) {
      assert.match(found[`metrics.${field}`] ?? '', /required unless traffic.provider is haproxy/, field);
    }
    const spec = parseCanarySpec(
      canary({
        traffic: nginx,
        metrics: {
          provider: 'haproxy',
          runtimeApi: haproxy.runtimeApi,
          backend: 'app',
          versionsMap: haproxy.versionsMap,
        },
      }),
    );
    assert.equal(spec.metrics.provider, 'haproxy');
  });

  test('nginx and command need a metrics source of their own', () => {
    for (const traffic of [nginx, command]) {
      const found = issues(() => parseCanarySpec(canary({ traffic })));
      assert.match(found['metrics.provider'] ?? '', /reports no per-version counts/);
    }
    const spec = parseCanarySpec(
      canary({
        traffic: nginx,
        metrics: { provider: 'prometheus', url: 'http://127.0.0.1:9090' },
        analysis: {},
      }),
    );
    assert.equal(spec.traffic.provider, 'nginx');
    if (spec.traffic.provider === 'nginx') {
      assert.deepEqual(spec.traffic.test, ['nginx', '-t']);
      assert.deepEqual(spec.traffic.cohort, { cookie: 'rollout_user' });
    }
  });

  test('every non-embedded provider needs routes on each version, and embedded refuses them', () => {
    const bare = {
      stable: { version: 'v1', targets: ['http://10.0.0.1:8080'] },
      canary: { version: 'v2', targets: ['http://10.0.0.2:8080'] },
    };
    const found = issues(() => parseCanarySpec(canary({ traffic: haproxy, ...bare })));
    assert.match(
      found['stable.routes'] ?? '',
      /required with traffic.provider haproxy: HAProxy server names/,
    );
    assert.match(found['canary.routes'] ?? '', /required/);
    const embedded = issues(() => parseCanarySpec(canary({ analysis: {} })));
    assert.match(embedded['stable.routes'] ?? '', /the embedded router routes to targets/);
  });

  test('blue-green environments carry routes the same way', () => {
    const doc = {
      service: 'checkout',
      version: 'v2',
      environments: {
        blue: { targets: ['http://10.0.0.1:8080'] },
        green: { targets: ['http://10.0.0.2:8080'] },
      },
      traffic: nginx,
      metrics: { provider: 'prometheus', url: 'http://127.0.0.1:9090' },
    } as BlueGreenSpecInput;
    const found = issues(() => parseBlueGreenSpec(doc));
    assert.match(found['environments.blue.routes'] ?? '', /NGINX upstream names/);
    const spec = parseBlueGreenSpec({
      ...doc,
      environments: {
        blue: { targets: ['http://10.0.0.1:8080'], routes: ['blue'] },
        green: { targets: ['http://10.0.0.2:8080'], routes: ['green'] },
      },
    });
    assert.deepEqual(spec.environments.green.routes, ['green']);
  });

  test('hostile names and paths are refused field by field', () => {
    const found = issues(() =>
      parseCanarySpec(
        canary({
          traffic: {
            ...haproxy,
            runtimeApi: 'tcp://127.0.0.1:9999;rm -rf /',
            backend: 'app backend',
            versionsMap: '/etc/../../root/x.map',
          },
          stable: { version: 'v1', targets: ['http://10.0.0.1:8080'], routes: ['blue;shutdown sessions'] },
        }),
      ),
    );
    assert.match(found['traffic.runtimeApi'] ?? '', /tcp:\/\/HOST:PORT/);
    assert.match(found['traffic.backend'] ?? '', /load-balancer name/);
    assert.match(found['traffic.versionsMap'] ?? '', /\.\./);
    assert.match(found['stable.routes[0]'] ?? '', /load-balancer name/);
    const cmd = issues(() => parseCanarySpec(canary({ traffic: { ...command, command: 'steer; reboot' } })));
    assert.match(cmd['traffic.command'] ?? '', /without spaces or shell syntax/);
    const unknown = issues(() => parseCanarySpec(canary({ traffic: { provider: 'f5' } })));
    assert.match(unknown['traffic.provider'] ?? '', /embedded, haproxy, nginx, command/);
  });

  test('a traffic timeout must fit in one activity attempt', () => {
    const found = issues(() => parseCanarySpec(canary({ traffic: { ...command, timeout: '1m' } })));
    assert.match(found['traffic.timeout'] ?? '', /at most 10000ms/);
  });
});

describe('header-matched testers in the spec', () => {
  const match = { headers: { 'x-canary': 'always' } };
  const withMatch = (traffic: object) =>
    canary({
      traffic,
      canary: { version: 'v2', targets: ['http://10.0.0.2:8080'], routes: ['green'], match },
    });

  test('haproxy needs the config map and the one header it looks up', () => {
    const found = issues(() => parseCanarySpec(withMatch(haproxy)));
    assert.match(found['canary.match.headers'] ?? '', /traffic.matchMap and traffic.matchHeader/);
    const other = issues(() =>
      parseCanarySpec(withMatch({ ...haproxy, matchMap: '/etc/haproxy/match.map', matchHeader: 'x-tester' })),
    );
    assert.match(other['canary.match.headers'] ?? '', /looks up one header, x-tester/);
    const ok = parseCanarySpec(
      withMatch({ ...haproxy, matchMap: '/etc/haproxy/match.map', matchHeader: 'x-canary' }),
    );
    assert.deepEqual(ok.canary.match, match);
  });

  test('matchMap and matchHeader go together', () => {
    const found = issues(() =>
      parseCanarySpec(canary({ traffic: { ...haproxy, matchMap: '/etc/haproxy/m.map' } })),
    );
    assert.match(found['traffic.matchHeader'] ?? '', /go together/);
  });

  test('header names and values are strict', () => {
    const found = issues(() =>
      parseCanarySpec(
        canary({
          canary: {
            version: 'v2',
            targets: ['http://10.0.0.2:8080'],
            routes: ['green'],
            match: { headers: { 'X Canary': 'a b' } },
          },
          traffic: nginx,
          metrics: { provider: 'prometheus', url: 'http://127.0.0.1:9090' },
        }),
      ),
    );
    assert.ok(
      Object.keys(found).some((p) => p.startsWith('canary.match.headers')),
      JSON.stringify(found),
    );
  });
});

describe('read-back check', () => {
  const stable = { version: 'v1', targets: ['http://a'], routes: ['blue'] };
  const canaryTarget = { version: 'v2', targets: ['http://b'], routes: ['green'] };
  const match = { headers: { 'x-canary': 'always' } };

  test('the providers get versions without the spec-only match, and match only when asked', () => {
    const desired = desiredSplit({
      stable,
      canary: { ...canaryTarget, match } as typeof canaryTarget,
      canaryWeight: 10,
    });
    assert.deepEqual(desired, { stable, canary: canaryTarget, canaryWeight: 10 });
    assert.deepEqual(desiredSplit({ stable, canary: null, canaryWeight: 0, match }).match, match);
  });

  test('any difference between asked and applied is reported', () => {
    const desired = { stable, canary: canaryTarget, canaryWeight: 10, match };
    const applied = { stable, canary: canaryTarget, weights: { stable: 90, canary: 10 }, match };
    assert.equal(splitMismatch(desired, applied), undefined);
    assert.match(
      splitMismatch(desired, { ...applied, weights: { stable: 100, canary: 0 } }) ?? '',
      /canary 0%/,
    );
    assert.match(
      splitMismatch(desired, { ...applied, stable: { ...stable, version: 'v0' } }) ?? '',
      /stable v0/,
    );
    assert.match(splitMismatch(desired, { ...applied, canary: null }) ?? '', /canary none/);
    assert.match(splitMismatch(desired, { ...applied, match: null }) ?? '', /header route none/);
    const removed = { ...desired, match: undefined, canaryWeight: 10 };
    assert.match(splitMismatch(removed, applied) ?? '', /wanted none/);
  });
});

describe('hostile traffic sections (property test)', () => {
  // Whatever string lands in a name, path or address, the spec either refuses it at that field's
  // path or accepts a value with no whitespace, quote, brace or ";": nothing that could become
  // Runtime API, nginx or shell syntax.
  const SAFE = /^[A-Za-z0-9_.:/@+[\]-]+$/;
  const fields: [object, string][] = [
    [haproxy, 'runtimeApi'],
    [haproxy, 'backend'],
    [haproxy, 'versionsMap'],
    [{ ...haproxy, matchMap: '/etc/haproxy/m.map', matchHeader: 'x-canary' }, 'matchHeader'],
    [nginx, 'includeFile'],
    [nginx, 'variable'],
    [command, 'command'],
  ];

  test('every field refuses or holds a safe value', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...fields),
        fc.oneof(
          fc.string(),
          fc.constantFrom('a;b', 'x y', '"q"', '{x}', 'a\nb', '$(id)', '../..', 'tcp://h:1;x'),
        ),
        ([base, field], value) => {
          const doc = canary({
            traffic: { ...base, [field]: value },
            metrics: {
              provider: 'http',
              url: 'http://m/{{version}}',
              fields: { requests: '$.r', errors: '$.e' },
            },
          });
          try {
            const spec = parseCanarySpec(doc);
            const kept = (spec.traffic as unknown as Record<string, unknown>)[field];
            assert.ok(typeof kept === 'string' && SAFE.test(kept), `accepted ${JSON.stringify(kept)}`);
          } catch (err) {
            assert.ok(err instanceof SpecError, String(err));
            assert.ok(
              err.issues.some((i) => i.path === `traffic.${field}` || i.path === 'traffic.provider'),
              JSON.stringify(err.issues),
            );
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  test('route names and header routes the same way', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.constantFrom('blue;x', 'g reen', 'a}', 'é')), (value) => {
        const doc = canary({
          traffic: nginx,
          metrics: { provider: 'prometheus', url: 'http://127.0.0.1:9090' },
          canary: {
            version: 'v2',
            targets: ['http://10.0.0.2:8080'],
            routes: [value],
            match: { headers: { [value]: value } },
          },
        });
        try {
          const spec = parseCanarySpec(doc);
          assert.ok(SAFE.test(spec.canary.routes?.[0] ?? ''));
          for (const [name, v] of Object.entries(spec.canary.match?.headers ?? {})) {
            assert.ok(SAFE.test(name) && SAFE.test(v));
          }
        } catch (err) {
          assert.ok(err instanceof SpecError, String(err));
          assert.ok(
            err.issues.every((i) => i.path.startsWith('canary.')),
            JSON.stringify(err.issues),
          );
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('nginx variable names', () => {
  test("nginx's own variables are refused before nginx -t would", () => {
    for (const variable of ['host', 'request_id', 'http_x_canary', 'cookie_user', 'upstream_addr']) {
      const found = issues(() =>
        parseCanarySpec(
          canary({
            traffic: { ...nginx, variable },
            metrics: { provider: 'prometheus', url: 'http://127.0.0.1:9090' },
            analysis: {},
          }),
        ),
      );
      assert.match(found['traffic.variable'] ?? '', /nginx's own variables/, variable);
    }
  });
});
