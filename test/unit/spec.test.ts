import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_STAGES, type CanarySpecInput } from '../../src/spec/canary';
import { SpecError, type SpecIssue } from '../../src/spec/errors';
import { loadCanarySpec, parseCanarySpec } from '../../src/spec/load';

const minimal = {
  service: 'checkout',
  stable: { version: 'v1', targets: ['http://127.0.0.1:8001'] },
  canary: { version: 'v2', targets: ['http://127.0.0.1:8002'] },
} satisfies CanarySpecInput;

/** Parses a document that must be rejected and returns the SpecError it threw. */
function rejection(document: unknown, source?: string): SpecError {
  try {
    parseCanarySpec(document, source);
  } catch (err) {
    assert.ok(err instanceof SpecError, `expected a SpecError, got ${String(err)}`);
    return err;
  }
  assert.fail('the spec was accepted but should have been rejected');
}

const paths = (issues: SpecIssue[]): string[] => issues.map((i) => i.path);

/** The rejection must name exactly these paths (in any order), and nothing else. */
function assertRejectedAt(document: unknown, expected: string[]): SpecIssue[] {
  const { issues } = rejection(document);
  assert.deepEqual([...paths(issues)].sort(), [...expected].sort(), JSON.stringify(issues));
  return issues;
}

describe('parseCanarySpec defaults', () => {
  const spec = parseCanarySpec(minimal);

  test('the default stages are 1, 5, 10, 25, 50, 100, each with the default 5 minute window', () => {
    assert.deepEqual(DEFAULT_STAGES, [1, 5, 10, 25, 50, 100]);
    assert.deepEqual(
      spec.stages,
      [1, 5, 10, 25, 50, 100].map((weight) => ({ weight, windowMs: 300_000 })),
    );
  });

  test('monitoring: 5m window, 10s interval, 100 requests, maxWindow 3×window, pause on inconclusive', () => {
    assert.deepEqual(spec.monitoring, {
      window: 300_000,
      interval: 10_000,
      minCanaryRequests: 100,
      onInconclusive: 'pause',
      maxWindow: 900_000,
    });
  });

  test('metrics.adminUrl falls back to the default traffic adminUrl', () => {
    assert.deepEqual(spec.traffic, { provider: 'embedded', adminUrl: 'http://127.0.0.1:9901' });
    assert.deepEqual(spec.metrics, { provider: 'embedded', adminUrl: 'http://127.0.0.1:9901' });
  });

  test('metrics.adminUrl follows a custom traffic adminUrl, unless given itself', () => {
    const followed = parseCanarySpec({ ...minimal, traffic: { adminUrl: 'http://router.internal:7000' } });
    assert.deepEqual(followed.metrics, { provider: 'embedded', adminUrl: 'http://router.internal:7000' });

    const own = parseCanarySpec({
      ...minimal,
      traffic: { adminUrl: 'http://router.internal:7000' },
      metrics: { adminUrl: 'http://metrics.internal:9000' },
    });
    assert.deepEqual(own.metrics, { provider: 'embedded', adminUrl: 'http://metrics.internal:9000' });
    assert.deepEqual(own.traffic, { provider: 'embedded', adminUrl: 'http://router.internal:7000' });
  });

  test('the remaining sections get their defaults', () => {
    assert.equal(spec.strategy, 'canary');
    assert.deepEqual(spec.deploy, { provider: 'none' });
    assert.deepEqual(spec.smokeTests, []);
    assert.deepEqual(spec.notify, {});
    assert.equal(spec.promotion.stabilizationDelay, 30_000);
    assert.deepEqual(spec.healthCheck, {
      path: '/healthz',
      expectedStatus: 200,
      timeout: 2000,
      retries: 10,
      interval: 1000,
    });
    assert.deepEqual(spec.analysis, {
      mode: 'sequential',
      alpha: 0.01,
      latency: 'on',
      latencyBaselineWindow: 600_000,
      latencyToleranceRatio: 1.05,
      latencyToleranceMs: 1,
      maxErrorRateRatio: 1.5,
      minErrorRateDelta: 0.01,
      maxP99Ratio: 1.2,
      minP99DeltaMs: 50,
      maxCpuPercent: 90,
      maxMemoryPercent: 90,
    });
  });

  test('a custom monitoring.window becomes every default stage window and scales maxWindow', () => {
    const custom = parseCanarySpec({ ...minimal, monitoring: { window: '1m', interval: '10s' } });
    assert.deepEqual(
      custom.stages.map((s) => s.windowMs),
      [60_000, 60_000, 60_000, 60_000, 60_000, 60_000],
    );
    assert.equal(custom.monitoring.interval, 10_000);
    assert.equal(custom.monitoring.maxWindow, 180_000);
  });

  test('an explicit maxWindow is kept', () => {
    const custom = parseCanarySpec({ ...minimal, monitoring: { window: '1m', maxWindow: '2h' } });
    assert.equal(custom.monitoring.maxWindow, 7_200_000);
  });

  test('parsing twice does not share default objects between specs', () => {
    const a = parseCanarySpec(minimal);
    const b = parseCanarySpec(minimal);
    a.smokeTests.push({
      name: 'x',
      method: 'GET',
      path: '/x',
      headers: {},
      expectedStatus: 200,
      timeout: 1,
    });
    a.healthCheck.retries = 99;
    assert.deepEqual(b.smokeTests, []);
    assert.equal(b.healthCheck.retries, 10);
    assert.deepEqual(parseCanarySpec(minimal).smokeTests, []);
    assert.equal(parseCanarySpec(minimal).healthCheck.retries, 10);
  });
});

describe('parseCanarySpec custom stages', () => {
  test('plain weights and objects mix; a stage window overrides monitoring.window', () => {
    const spec = parseCanarySpec({
      ...minimal,
      monitoring: { window: '2m', interval: '15s' },
      stages: [{ weight: 10, window: '30s' }, 50, { weight: 100, window: 600_000 }],
    });
    assert.deepEqual(spec.stages, [
      { weight: 10, windowMs: 30_000 },
      { weight: 50, windowMs: 120_000 },
      { weight: 100, windowMs: 600_000 },
    ]);
  });

  test('a single stage of 100 is allowed', () => {
    assert.deepEqual(parseCanarySpec({ ...minimal, stages: [100] }).stages, [
      { weight: 100, windowMs: 300_000 },
    ]);
  });

  test('weights must rise strictly: the offending stage is named', () => {
    const [issue] = assertRejectedAt({ ...minimal, stages: [10, 5, 100] }, ['stages[1]']);
    assert.match(issue!.message, /10 then 5/);
    assertRejectedAt({ ...minimal, stages: [10, 50, 50, 100] }, ['stages[2]']);
    assertRejectedAt({ ...minimal, stages: [100, 100] }, ['stages[1]']);
  });

  test('the last stage must be 100', () => {
    const [issue] = assertRejectedAt({ ...minimal, stages: [10, 50] }, ['stages[1]']);
    assert.match(issue!.message, /last stage must be 100/);
  });

  test('weights outside 1..100, fractional weights and an empty list are rejected', () => {
    assertRejectedAt({ ...minimal, stages: [0, 50, 100] }, ['stages[0].weight']);
    assertRejectedAt({ ...minimal, stages: [50, 101] }, ['stages[1].weight']);
    assertRejectedAt({ ...minimal, stages: [1.5, 100] }, ['stages[0].weight']);
    assertRejectedAt({ ...minimal, stages: [] }, ['stages']);
  });

  test('an unknown key inside a stage object is rejected at that stage', () => {
    const [issue] = assertRejectedAt({ ...minimal, stages: [{ weight: 100, windw: '1m' }] }, ['stages[0]']);
    assert.match(issue!.message, /windw/);
  });
});

describe('parseCanarySpec rejects bad fields at their path', () => {
  test('service name: lowercase letters, digits and "-" only', () => {
    for (const service of ['Checkout', 'check_out', '-checkout', 'checkout-', 'a'.repeat(64), '']) {
      assertRejectedAt({ ...minimal, service }, ['service']);
    }
    for (const service of ['a', 'checkout-2', 'a'.repeat(63)]) {
      assert.equal(parseCanarySpec({ ...minimal, service }).service, service);
    }
  });

  test('version names: letters, digits, ".", "_", "-", not starting with punctuation', () => {
    assertRejectedAt({ ...minimal, canary: { ...minimal.canary, version: '-v2' } }, ['canary.version']);
    assertRejectedAt({ ...minimal, canary: { ...minimal.canary, version: 'v 2' } }, ['canary.version']);
    assertRejectedAt({ ...minimal, stable: { ...minimal.stable, version: 'v1/../x' } }, ['stable.version']);
    const ok = parseCanarySpec({ ...minimal, canary: { ...minimal.canary, version: 'V2.0.1-rc_1' } });
    assert.equal(ok.canary.version, 'V2.0.1-rc_1');
  });

  test('the same version for stable and canary is reported at canary.version', () => {
    const [issue] = assertRejectedAt({ ...minimal, canary: { ...minimal.canary, version: 'v1' } }, [
      'canary.version',
    ]);
    assert.match(issue!.message, /differ from stable\.version/);
  });

  test('monitoring.interval longer than monitoring.window', () => {
    const [issue] = assertRejectedAt({ ...minimal, monitoring: { window: '1m', interval: '2m' } }, [
      'monitoring.interval',
    ]);
    assert.match(issue!.message, /must not exceed monitoring\.window/);
    // Equal is fine.
    assert.equal(
      parseCanarySpec({ ...minimal, monitoring: { window: '1m', interval: '60s' } }).monitoring.interval,
      60_000,
    );
  });

  test('monitoring.maxWindow shorter than monitoring.window', () => {
    assertRejectedAt({ ...minimal, monitoring: { window: '1m', interval: '10s', maxWindow: '30s' } }, [
      'monitoring.maxWindow',
    ]);
  });

  test('unknown keys are rejected (strict), at the root and in sections', () => {
    const [root] = assertRejectedAt({ ...minimal, stagez: [1, 100] }, ['(root)']);
    assert.match(root!.message, /stagez/);
    const [nested] = assertRejectedAt({ ...minimal, monitoring: { windw: '1m' } }, ['monitoring']);
    assert.match(nested!.message, /windw/);
    assertRejectedAt({ ...minimal, canary: { ...minimal.canary, weight: 5 } }, ['canary']);
  });

  test('a malformed duration string names the field and quotes the value', () => {
    const [issue] = assertRejectedAt({ ...minimal, monitoring: { window: '5 minutes' } }, [
      'monitoring.window',
    ]);
    assert.match(issue!.message, /"5 minutes" is not a duration/);
    assertRejectedAt({ ...minimal, healthCheck: { timeout: '2' } }, ['healthCheck.timeout']);
    assertRejectedAt({ ...minimal, promotion: { stabilizationDelay: -1 } }, ['promotion.stabilizationDelay']);
  });

  test('targets must be http(s) URLs, at least one', () => {
    const [ftp] = assertRejectedAt({ ...minimal, stable: { version: 'v1', targets: ['ftp://host/x'] } }, [
      'stable.targets[0]',
    ]);
    assert.match(ftp!.message, /http:\/\/ or https:\/\//);
    assertRejectedAt(
      { ...minimal, canary: { version: 'v2', targets: ['http://ok:1', 'file:///etc/passwd'] } },
      ['canary.targets[1]'],
    );
    const [empty] = assertRejectedAt({ ...minimal, canary: { version: 'v2', targets: [] } }, [
      'canary.targets',
    ]);
    assert.match(empty!.message, /at least one target/);
    assert.deepEqual(
      parseCanarySpec({ ...minimal, canary: { version: 'v2', targets: ['https://canary.example:443/'] } })
        .canary.targets,
      ['https://canary.example:443/'],
    );
  });

  test('traffic.adminUrl must be http(s)', () => {
    assertRejectedAt({ ...minimal, traffic: { adminUrl: 'ftp://router' } }, ['traffic.adminUrl']);
  });

  test('a process deploy command must be a bare executable, never shell syntax', () => {
    for (const command of ['rm -rf /;', 'sh -c', 'node server.js', 'a|b', 'echo$HOME', 'x&&y', '`id`', '']) {
      const [issue] = assertRejectedAt({ ...minimal, deploy: { provider: 'process', command } }, [
        'deploy.command',
      ]);
      assert.match(issue!.message, /without spaces or shell syntax/, command);
    }
  });

  test('a valid process deploy is accepted with its defaults', () => {
    const spec = parseCanarySpec({
      ...minimal,
      deploy: {
        provider: 'process',
        command: './bin/server',
        args: ['--port', '8002'],
        env: { PORT: '8002' },
      },
    });
    assert.deepEqual(spec.deploy, {
      provider: 'process',
      command: './bin/server',
      args: ['--port', '8002'],
      env: { PORT: '8002' },
      readyTimeout: 20_000,
    });
  });

  test('environment variable names must be upper case', () => {
    assertRejectedAt({ ...minimal, deploy: { provider: 'process', command: 'node', env: { port: '1' } } }, [
      'deploy.env.port',
    ]);
    assertRejectedAt(
      { ...minimal, deploy: { provider: 'process', command: 'node', env: { '1PORT': '1' } } },
      ['deploy.env.1PORT'],
    );
    assertRejectedAt({ ...minimal, notify: { webhookUrlEnv: 'slack_url' } }, ['notify.webhookUrlEnv']);
  });

  test('an unknown deploy provider is rejected at deploy.provider', () => {
    assertRejectedAt({ ...minimal, deploy: { provider: 'kubernetes' } }, ['deploy.provider']);
  });

  test('a document that is not an object is rejected at (root)', () => {
    assertRejectedAt(null, ['(root)']);
    assertRejectedAt('service: checkout', ['(root)']);
  });

  test('several bad fields are all reported in one SpecError', () => {
    const err = rejection(
      {
        ...minimal,
        service: 'Bad Name',
        canary: { version: 'v1', targets: ['ftp://canary'] },
        stages: [50, 10, 100],
        monitoring: { window: '1m', interval: '10m' },
        deploy: { provider: 'process', command: 'sh -c' },
        smokeTests: [{ name: 'home', path: 'no-slash' }],
        extra: true,
      },
      'rollout.yaml',
    );
    assert.deepEqual(
      [...paths(err.issues)].sort(),
      [
        '(root)',
        'canary.targets[0]',
        'canary.version',
        'deploy.command',
        'monitoring.interval',
        'service',
        'smokeTests[0].path',
        'stages[1]',
      ].sort(),
    );
    assert.equal(err.source, 'rollout.yaml');
    assert.equal(err.name, 'SpecError');
    assert.match(err.message, /^invalid rollout spec rollout\.yaml:/);
    for (const issue of err.issues) assert.ok(err.message.includes(`  - ${issue.path}: ${issue.message}`));
  });

  test('field errors that stop zod early still leave each bad field reported', () => {
    // A bad duration, weight, env key or provider is reported on its own path...
    assertRejectedAt(
      {
        ...minimal,
        monitoring: { window: 'soon' },
        deploy: { provider: 'process', command: 'node', env: { lower: 'x' } },
      },
      ['monitoring.window', 'deploy.env.lower'],
    );
  });

  test('the stable/canary version clash is reported alongside a bad duration', () => {
    assertRejectedAt(
      { ...minimal, canary: { ...minimal.canary, version: 'v1' }, monitoring: { window: 'soon' } },
      ['canary.version', 'monitoring.window'],
    );
  });

  test('a bad per-stage window names stages[i].window and keeps the duration message', () => {
    const [issue] = assertRejectedAt({ ...minimal, stages: [{ weight: 100, window: 'soon' }] }, [
      'stages[0].window',
    ]);
    assert.match(issue!.message, /"soon" is not a duration/);
  });

  test('the default source is (inline)', () => {
    assert.equal(rejection({ ...minimal, service: 'X' }).source, '(inline)');
  });
});

describe('loadCanarySpec', () => {
  let dir: string;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rollout-spec-test-'));
  });

  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('reads a YAML file, converting durations and applying defaults', () => {
    const file = path.join(dir, 'checkout.yaml');
    writeFileSync(
      file,
      [
        'service: checkout',
        'stable:',
        '  version: v1',
        '  targets: [http://127.0.0.1:8001]',
        'canary:',
        '  version: v2',
        '  targets:',
        '    - http://127.0.0.1:8002',
        'stages:',
        '  - 10',
        '  - weight: 50',
        '    window: 90s',
        '  - 100',
        'monitoring:',
        '  window: 2m',
        '  interval: 20s',
        '  minCanaryRequests: 40',
        '',
      ].join('\n'),
    );
    const spec = loadCanarySpec(file);
    assert.equal(spec.service, 'checkout');
    assert.deepEqual(spec.canary.targets, ['http://127.0.0.1:8002']);
    assert.deepEqual(spec.stages, [
      { weight: 10, windowMs: 120_000 },
      { weight: 50, windowMs: 90_000 },
      { weight: 100, windowMs: 120_000 },
    ]);
    assert.equal(spec.monitoring.interval, 20_000);
    assert.equal(spec.monitoring.minCanaryRequests, 40);
    assert.equal(spec.monitoring.maxWindow, 360_000);
    assert.deepEqual(spec.deploy, { provider: 'none' });
  });

  test('reads JSON too (JSON is YAML)', () => {
    const file = path.join(dir, 'checkout.json');
    writeFileSync(file, JSON.stringify(minimal));
    assert.equal(loadCanarySpec(file).canary.version, 'v2');
  });

  test('a schema error in a file names the file as the source', () => {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'service: checkout\nstable: {version: v1, targets: [http://a:1]}\ncanary: {version: v1, targets: [http://b:1]}\n',
    );
    assert.throws(
      () => loadCanarySpec(file),
      (err: unknown) => {
        assert.ok(err instanceof SpecError);
        assert.equal(err.source, file);
        assert.deepEqual(paths(err.issues), ['canary.version']);
        return true;
      },
    );
  });

  test('a missing file is a SpecError at (file)', () => {
    const file = path.join(dir, 'does-not-exist.yaml');
    assert.throws(
      () => loadCanarySpec(file),
      (err: unknown) => {
        assert.ok(err instanceof SpecError);
        assert.equal(err.source, file);
        assert.equal(err.issues.length, 1);
        assert.equal(err.issues[0]!.path, '(file)');
        assert.match(err.issues[0]!.message, /ENOENT/);
        return true;
      },
    );
  });

  test('broken YAML is a SpecError at (syntax)', () => {
    const file = path.join(dir, 'broken.yaml');
    writeFileSync(file, 'service: checkout\nstable: {version: v1, targets: [http://a:1\ncanary: : :\n');
    assert.throws(
      () => loadCanarySpec(file),
      (err: unknown) => {
        assert.ok(err instanceof SpecError);
        assert.equal(err.source, file);
        assert.deepEqual(paths(err.issues), ['(syntax)']);
        assert.ok(err.issues[0]!.message.length > 0);
        return true;
      },
    );
  });
});

describe('monitoring interval defaults and limits', () => {
  test('a short window alone is valid: the interval defaults to min(10s, window)', () => {
    assert.equal(parseCanarySpec({ ...minimal, monitoring: { window: '5s' } }).monitoring.interval, 5_000);
    assert.equal(parseCanarySpec({ ...minimal, monitoring: { window: '5m' } }).monitoring.interval, 10_000);
  });

  test('an interval under 100ms is rejected', () => {
    assertRejectedAt({ ...minimal, monitoring: { window: '10s', interval: 0 } }, ['monitoring.interval']);
  });

  test('a stage window shorter than the interval is rejected at that stage', () => {
    const [issue] = assertRejectedAt(
      {
        ...minimal,
        monitoring: { window: '1m', interval: '30s' },
        stages: [{ weight: 10, window: '5s' }, 100],
      },
      ['stages[0].window'],
    );
    assert.match(issue!.message, /monitoring.interval/);
  });
});

describe('a metrics source that can never judge latency is refused up front', () => {
  const http = (fields: Record<string, string>, url = 'http://m.internal/stats?v={{version}}') => ({
    provider: 'http',
    url,
    fields: { requests: '$.requests', errors: '$.errors', ...fields },
  });

  test('sequential: an http provider without slow counts, naming the two ways out', () => {
    const [issue] = assertRejectedAt({ ...minimal, metrics: http({}) }, ['metrics.fields']);
    assert.match(
      issue!.message,
      /fields\.slowRequests or fields\.latencyHistogram, or analysis\.latency: off/,
    );
  });

  test('threshold: an http provider without p99', () => {
    assertRejectedAt({ ...minimal, analysis: { mode: 'threshold' }, metrics: http({}) }, [
      'metrics.fields.p99Ms',
    ]);
  });

  test('accepted with a histogram, with slowRequests, or with latency: off (recorded as such)', () => {
    parseCanarySpec({ ...minimal, metrics: http({ latencyHistogram: '$.buckets' }) });
    parseCanarySpec({
      ...minimal,
      metrics: http(
        { slowRequests: '$.slow' },
        'http://m.internal/stats?v={{version}}&slower={{slowerThanMs}}',
      ),
    });
    const off = parseCanarySpec({ ...minimal, analysis: { latency: 'off' }, metrics: http({}) });
    assert.equal(off.analysis.latency, 'off');
    // YAML 1.1 users write `latency: false`; it means off too.
    assert.equal(parseCanarySpec({ ...minimal, analysis: { latency: false } }).analysis.latency, 'off');
  });
});
