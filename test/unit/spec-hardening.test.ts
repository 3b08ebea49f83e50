import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { splitUpdateSchema } from '../../src/router/split-schema';
import type { BlueGreenSpecInput } from '../../src/spec/blue-green';
import type { CanarySpecInput } from '../../src/spec/canary';
import { SpecError, type SpecIssue } from '../../src/spec/errors';
import { MAX_SPEC_BYTES } from '../../src/spec/limits';
import { loadCanarySpec, parseBlueGreenSpec, parseCanarySpec } from '../../src/spec/load';
import { parseSpecText } from '../../src/spec/yaml-text';

// Regression tests for issue 9, section 3 ("Specs that hurt the worker"): one describe per finding.

const minimal = {
  service: 'checkout',
  stable: { version: 'v1', targets: ['http://127.0.0.1:8001'] },
  canary: { version: 'v2', targets: ['http://127.0.0.1:8002'] },
} satisfies CanarySpecInput;

const blueGreen = {
  service: 'checkout',
  version: 'v2',
  environments: {
    blue: { targets: ['http://127.0.0.1:8001'] },
    green: { targets: ['http://127.0.0.1:8002'] },
  },
} satisfies BlueGreenSpecInput;

function rejection(parse: () => unknown): SpecError {
  try {
    parse();
  } catch (err) {
    assert.ok(err instanceof SpecError, `expected a SpecError, got ${String(err)}`);
    return err;
  }
  assert.fail('the spec was accepted but should have been rejected');
}

/** The rejection must name exactly these paths (in any order). */
function rejectedAt(
  document: unknown,
  expected: string[],
  parse: (document: unknown) => unknown = parseCanarySpec,
): SpecIssue[] {
  const { issues } = rejection(() => parse(document));
  assert.deepEqual(
    [...new Set(issues.map((i) => i.path))].sort(),
    [...expected].sort(),
    JSON.stringify(issues),
  );
  return issues;
}

/** Parses spec text the way the CLI does, returning how long it took. */
function timedText(text: string): { ms: number; error?: SpecError } {
  const started = performance.now();
  try {
    parseCanarySpec(parseSpecText(text, 'text'), 'text');
    return { ms: performance.now() - started };
  } catch (err) {
    assert.ok(err instanceof SpecError, `expected a SpecError, got ${String(err)}`);
    return { ms: performance.now() - started, error: err };
  }
}

describe('hot loop: derived monitoring values pass the limits of explicit ones', () => {
  test('window: 0s is refused at monitoring.window (its derived interval would be 0)', () => {
    const [issue] = rejectedAt({ ...minimal, monitoring: { window: '0s' } }, ['monitoring.window']);
    assert.match(issue!.message, /at least 100ms.*derived monitoring\.interval is 0ms/);
  });

  test('window: 50ms is refused like an explicit interval of 50ms', () => {
    rejectedAt({ ...minimal, monitoring: { window: '50ms' } }, ['monitoring.window']);
    rejectedAt({ ...minimal, monitoring: { window: '1s', interval: '50ms' } }, ['monitoring.interval']);
  });

  test('window: 0 is refused even with an explicit interval', () => {
    rejectedAt({ ...minimal, monitoring: { window: 0, interval: '100ms' } }, ['monitoring.interval']);
  });

  test('the smallest window whose derived interval is allowed is accepted', () => {
    const spec = parseCanarySpec({ ...minimal, monitoring: { window: '100ms' } });
    assert.equal(spec.monitoring.interval, 100);
  });

  test('a derived maxWindow (3 × window) must pass the maximum duration like an explicit one', () => {
    rejectedAt({ ...minimal, monitoring: { window: '20d' } }, ['monitoring.window']);
    rejectedAt({ ...minimal, monitoring: { window: '1d', maxWindow: '31d' } }, ['monitoring.maxWindow']);
  });

  test('durations cannot overflow: huge numbers and digit strings are refused', () => {
    rejectedAt({ ...minimal, promotion: { stabilizationDelay: 1e308 } }, ['promotion.stabilizationDelay']);
    rejectedAt({ ...minimal, promotion: { stabilizationDelay: `1${'0'.repeat(400)}ms` } }, [
      'promotion.stabilizationDelay',
    ]);
  });
});

describe('cross-field checks use the resolved defaults', () => {
  test('a 1s stage window is refused with the default interval exactly as with interval: 10s written out', () => {
    const stages = [{ weight: 50, window: '1s' }, 100];
    const implicit = rejectedAt({ ...minimal, stages }, ['stages[0].window']);
    const explicit = rejectedAt({ ...minimal, stages, monitoring: { interval: '10s' } }, [
      'stages[0].window',
    ]);
    assert.deepEqual(implicit, explicit);
    assert.match(implicit[0]!.message, /10000ms/);
  });

  test('blue-green: a validation window shorter than the resolved interval is refused', () => {
    rejectedAt(
      { ...blueGreen, validation: { weight: 1, window: '1s' } },
      ['validation.window'],
      parseBlueGreenSpec,
    );
    // No slice, no polls: any window is fine.
    parseBlueGreenSpec({ ...blueGreen, validation: { weight: 0, window: '1s' } });
  });
});

describe('size limits: every input is answered in under a second with a clean error', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rollout-spec-hardening-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const base = [
    'service: checkout',
    'stable: {version: v1, targets: [http://127.0.0.1:8001]}',
    'canary: {version: v2, targets: [http://127.0.0.1:8002]}',
    '',
  ].join('\n');

  test('100k keys (about 1 MB) are refused in under a second', () => {
    const { ms, error } = timedText(Array.from({ length: 100_000 }, (_, i) => `k${i}: 1`).join('\n'));
    assert.ok(error);
    assert.ok(ms < 1000, `${ms}ms`);
  });

  test('a million-deep nesting is refused in under a second', () => {
    for (const text of ['['.repeat(1_000_000), '{a: '.repeat(250_000), '- '.repeat(20_000) + 'x']) {
      const { ms, error } = timedText(text);
      assert.match(error!.message, /nested more than 32 levels|more than 50000 YAML tokens/);
      assert.ok(ms < 1000, `${ms}ms`);
    }
    const block = Array.from({ length: 1400 }, (_, i) => `${' '.repeat(i)}a:`).join('\n');
    assert.match(timedText(block).error!.message, /nested more than 32 levels/);
  });

  test('a file over 1 MiB is refused at (file), and so is /dev/zero', () => {
    const big = path.join(dir, 'big.yaml');
    writeFileSync(big, base + `# ${'x'.repeat(MAX_SPEC_BYTES)}\n`);
    for (const file of [big, '/dev/zero']) {
      const started = performance.now();
      const error = rejection(() => loadCanarySpec(file));
      assert.deepEqual(
        error.issues.map((i) => i.path),
        ['(file)'],
      );
      assert.ok(performance.now() - started < 1000);
    }
  });

  test('non-regular files are refused without blocking: a FIFO with no writer, a directory', () => {
    const fifo = path.join(dir, 'spec.fifo');
    execFileSync('mkfifo', [fifo]);
    for (const file of [fifo, dir]) {
      assert.match(rejection(() => loadCanarySpec(file)).issues[0]!.message, /not a regular file/);
    }
  });

  test('YAML aliases are limited (billion laughs)', () => {
    const laughs = ['a: &a [x,x,x,x,x,x,x,x,x]', 'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]'];
    for (const name of ['c', 'd', 'e']) {
      const prev = String.fromCharCode(name.charCodeAt(0) - 1);
      laughs.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    assert.match(timedText(laughs.join('\n')).error!.message, /alias/i);
  });

  test('unknown YAML tags are refused, plain ones accepted', () => {
    for (const tagged of ['x: !foo bar', 'x: !!binary aGk=', 'x: !!set {a}', 'x: !!timestamp 2001-12-14']) {
      assert.deepEqual(
        timedText(base + tagged).error!.issues.map((i) => i.path),
        ['(syntax)'],
        tagged,
      );
    }
    assert.equal(timedText(base.replace('service: checkout', 'service: !!str checkout')).error, undefined);
  });

  test('duplicate keys are refused, in linear time', () => {
    assert.match(timedText(base + 'service: other').error!.message, /duplicate key "service"/);
  });

  test('array limits: 64 targets like the router, 32 smoke tests, 32 headers', () => {
    const targets = (n: number) => Array.from({ length: n }, (_, i) => `http://10.0.0.1:${1000 + i}`);
    parseCanarySpec({ ...minimal, canary: { version: 'v2', targets: targets(64) } });
    rejectedAt({ ...minimal, canary: { version: 'v2', targets: targets(65) } }, ['canary.targets']);
    const smoke = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `t${i}`, path: '/' }));
    rejectedAt({ ...minimal, smokeTests: smoke(33) }, ['smokeTests']);
    const headers = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`x-h${i}`, 'v']));
    rejectedAt({ ...minimal, smokeTests: [{ name: 't', path: '/', headers }] }, ['smokeTests[0].headers']);
  });

  test('string limits: a 1 MB target, header value or bodyContains is refused', () => {
    const huge = 'a'.repeat(1_000_000);
    rejectedAt({ ...minimal, canary: { version: 'v2', targets: [`http://h/${huge}`] } }, [
      'canary.targets[0]',
    ]);
    rejectedAt({ ...minimal, smokeTests: [{ name: 't', path: '/', headers: { a: huge } }] }, [
      'smokeTests[0].headers.a',
    ]);
    rejectedAt({ ...minimal, smokeTests: [{ name: 't', path: '/', bodyContains: huge }] }, [
      'smokeTests[0].bodyContains',
    ]);
  });

  test('a CR/LF in a smoke test header value is refused', () => {
    rejectedAt({ ...minimal, smokeTests: [{ name: 't', path: '/', headers: { a: 'x\r\nInjected: 1' } }] }, [
      'smokeTests[0].headers.a',
    ]);
  });
});

describe('the spec and the router agree on what a target is', () => {
  const bad = [
    'http://127.0.0.1:8002/?debug=1',
    'http://127.0.0.1:8002/#frag',
    'http://user:pass@127.0.0.1:8002',
    'http://user@127.0.0.1:8002',
    'ftp://127.0.0.1:8002',
  ];

  test('targets with a query, a fragment or credentials are refused at spec time', () => {
    for (const target of bad)
      rejectedAt({ ...minimal, canary: { version: 'v2', targets: [target] } }, ['canary.targets[0]']);
  });

  test('the router refuses exactly the targets the spec refuses (one schema)', () => {
    const good = ['http://127.0.0.1:8002', 'https://canary.example/prefix/'];
    for (const target of [...bad, ...good, 'http://127.0.0.1:80\n82']) {
      const router = splitUpdateSchema.safeParse({
        stable: { version: 'v1', targets: [target] },
        canaryWeight: 0,
      });
      let spec = true;
      try {
        parseCanarySpec({
          ...minimal,
          stable: { version: 'v1', targets: [target] },
          canary: { version: 'v2', targets: ['http://10.9.9.9:1'] },
        });
      } catch {
        spec = false;
      }
      assert.equal(router.success, spec, target);
    }
  });
});

describe('URLs are refused, never silently rewritten', () => {
  test('a newline, tab or control character in a URL is refused (zod used to strip it: port 80\\n82 became 8082)', () => {
    for (const target of [
      'http://127.0.0.1:80\n82',
      'http://127.0.0.1:80\t82',
      'http://127.0.0.1:8082\x00',
      ' http://h:1',
    ]) {
      rejectedAt({ ...minimal, canary: { version: 'v2', targets: [target] } }, ['canary.targets[0]']);
    }
    rejectedAt({ ...minimal, traffic: { adminUrl: 'http://127.0.0.1:99\r\n01' } }, ['traffic.adminUrl']);
    rejectedAt({ ...minimal, deploy: { provider: 'webhook', url: 'http://h:1/\u001b[2J' } }, ['deploy.url']);
  });
});

describe('checks cannot be sent to another host: a path must be a path', () => {
  test('health and smoke paths starting with "//" or containing "\\" are refused', () => {
    for (const p of [
      '//169.254.169.254/latest',
      '/\\169.254.169.254',
      '\\\\169.254.169.254',
      '/a\\b',
      '/x\x1b[0m',
    ]) {
      rejectedAt({ ...minimal, healthCheck: { path: p } }, ['healthCheck.path']);
      rejectedAt({ ...minimal, smokeTests: [{ name: 't', path: p }] }, ['smokeTests[0].path']);
    }
  });

  test('ordinary paths are still accepted', () => {
    for (const p of ['/', '/healthz', '/api/v1/ready?full=1', '/a//b']) {
      assert.equal(parseCanarySpec({ ...minimal, healthCheck: { path: p } }).healthCheck.path, p);
    }
  });
});

describe('targets that must never overlap', () => {
  const same = [
    'http://127.0.0.1:8001',
    'http://127.0.0.1:8001/',
    'http://localhost:8001',
    'HTTP://[::1]:8001/',
  ];

  test("canary targets identical to stable's are refused, however they are written", () => {
    for (const target of same) {
      const [issue] = rejectedAt(
        { ...minimal, canary: { version: 'v2', targets: ['http://127.0.0.1:9', target] } },
        ['canary.targets[1]'],
      );
      assert.match(issue!.message, /stable's targets/);
    }
    const ports = { ...minimal, stable: { version: 'v1', targets: ['http://10.0.0.5'] } };
    rejectedAt({ ...ports, canary: { version: 'v2', targets: ['http://10.0.0.5:80/'] } }, [
      'canary.targets[0]',
    ]);
  });

  test('blue and green sharing a target are refused at the green entry, counting "/" and localhost', () => {
    for (const target of same) {
      rejectedAt(
        { ...blueGreen, environments: { ...blueGreen.environments, green: { targets: [target] } } },
        ['environments.green.targets[0]'],
        parseBlueGreenSpec,
      );
    }
  });

  test("a target on the router's admin address is refused", () => {
    const admin = { ...minimal, traffic: { adminUrl: 'http://127.0.0.1:9901' } };
    rejectedAt({ ...admin, canary: { version: 'v2', targets: ['http://localhost:9901/app'] } }, [
      'canary.targets[0]',
    ]);
    rejectedAt({ ...admin, stable: { version: 'v1', targets: ['http://127.0.0.1:9901'] } }, [
      'stable.targets[0]',
    ]);
    rejectedAt(
      {
        ...blueGreen,
        environments: { ...blueGreen.environments, blue: { targets: ['http://127.0.0.1:9901/'] } },
      },
      ['environments.blue.targets[0]'],
      parseBlueGreenSpec,
    );
  });

  test('distinct hosts and ports still pass', () => {
    parseCanarySpec({
      ...minimal,
      canary: { version: 'v2', targets: ['http://127.0.0.2:8001', 'http://127.0.0.1:8003'] },
    });
  });
});

describe('error messages do not echo raw input', () => {
  test('a 1 MB value gives a short message', () => {
    const error = rejection(() =>
      parseCanarySpec({ ...minimal, monitoring: { window: 'x'.repeat(1_000_000) } }),
    );
    assert.ok(error.message.length < 2000, `${error.message.length} characters`);
    assert.match(error.message, /more characters/);
  });

  test('ANSI escapes and control characters are escaped, in keys, values and the source name', () => {
    const error = rejection(() =>
      parseCanarySpec(
        { ...minimal, monitoring: { window: '\u001b[31mred' }, ['\u001b]0;pwned\u0007']: 1 },
        'a\u001bb',
      ),
    );
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(error.message, /[\u0000-\u0008\u000b-\u001f\u007f]/);
    assert.match(error.message, /\\x1b\[31mred/);
  });

  test('ten thousand bad keys are reported as the first few and a count', () => {
    const env = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`bad${i}`, 'x']));
    const error = rejection(() =>
      parseCanarySpec({ ...minimal, deploy: { provider: 'process', command: 'node', env } }),
    );
    assert.ok(error.issues.length <= 51);
    assert.match(error.message, /more issues not shown/);
  });
});
