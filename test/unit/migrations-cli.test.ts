import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli';

const ADD = '-- 001: the new column\nALTER TABLE users ADD COLUMN nick text;\n';
const DROP =
  'ALTER TABLE users ADD COLUMN nick text;\n\n-- too early: v1 still reads it\nALTER TABLE users DROP COLUMN email;\n';

describe('rollout lint and the start path, through the real CLI', () => {
  let dir: string;

  /** Writes a spec next to its db/ folder and returns its path. */
  function spec(name: string, migrations: Record<string, unknown>, blueGreen = false): string {
    const base = blueGreen
      ? {
          strategy: 'blue-green',
          service: 'shop',
          version: 'v2',
          environments: {
            blue: { targets: ['http://127.0.0.1:9001'] },
            green: { targets: ['http://127.0.0.1:9002'] },
          },
        }
      : {
          service: 'shop',
          stable: { version: 'v1', targets: ['http://127.0.0.1:9001'] },
          canary: { version: 'v2', targets: ['http://127.0.0.1:9002'] },
        };
    const file = path.join(dir, name);
    writeFileSync(
      file,
      JSON.stringify({ ...base, migrations: { database: { urlEnv: 'DATABASE_URL' }, ...migrations } }),
    );
    return file;
  }

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'migrations-cli-'));
    mkdirSync(path.join(dir, 'db'));
    writeFileSync(path.join(dir, 'db/001_add.sql'), ADD);
    writeFileSync(path.join(dir, 'db/002_drop.sql'), DROP);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a clean expand passes with exit 0', async () => {
    const file = spec('clean.json', {
      expand: { sql: ['db/001_add.sql'] },
      contract: { sql: ['db/002_drop.sql'] },
    });
    const run = await runCli(['lint', '-f', file], {});
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'no breaking statements in 1 expand file(s)');
  });

  test('a breaking expand is refused with exit 2, naming file, line and why', async () => {
    const file = spec('breaking.json', { expand: { sql: ['db/001_add.sql', 'db/002_drop.sql'] } });
    const run = await runCli(['lint', '-f', file], {});
    assert.equal(run.code, 2, run.stderr);
    const lines = run.stdout.trim().split('\n');
    assert.equal(
      lines[0],
      'db/002_drop.sql:4: DROP COLUMN users.email — the old version still reads users.email; dropping it breaks the old version on rollback',
    );
    assert.match(lines[1] ?? '', /^refused: .*set migrations\.allowBreaking/);
  });

  test('allowBreaking prints the findings and the reason, and passes', async () => {
    const file = spec('allowed.json', {
      expand: { sql: ['db/002_drop.sql'] },
      allowBreaking: 'v1 never reads email',
    });
    const run = await runCli(['lint', '-f', file], {});
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^db\/002_drop\.sql:4: DROP COLUMN users\.email — /);
    assert.match(run.stdout, /\nallowed: v1 never reads email\n$/);
  });

  test('--json gives the findings as data; a blue-green spec is read by its own schema', async () => {
    const file = spec('bg.json', { expand: { sql: ['db/002_drop.sql'] } }, true);
    const run = await runCli(['lint', '-f', file, '--json'], {});
    assert.equal(run.code, 2, run.stderr);
    const report = JSON.parse(run.stdout) as {
      files: number;
      refused: boolean;
      allowed: string | null;
      findings: { file: string; line: number; rule: string; object: string }[];
    };
    assert.deepEqual(
      { files: report.files, refused: report.refused, allowed: report.allowed },
      { files: 1, refused: true, allowed: null },
    );
    assert.deepEqual(
      report.findings.map((f) => [f.file, f.line, f.rule, f.object]),
      [['db/002_drop.sql', 4, 'DROP COLUMN', 'users.email']],
    );
  });

  test('an invalid spec or a missing file exits 2 naming the field', async () => {
    const badPath = await runCli(
      ['lint', '-f', spec('bad.json', { expand: { sql: ['../db/001_add.sql'] } })],
      {},
    );
    assert.equal(badPath.code, 2);
    assert.match(badPath.stderr, /migrations\.expand\.sql\[0\]: a relative path ending in \.sql/);
    const missing = await runCli(
      ['lint', '-f', spec('missing.json', { expand: { sql: ['db/nope.sql'] } })],
      {},
    );
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /migrations\.expand\.sql\[0\]: cannot read db\/nope\.sql: ENOENT/);
  });

  test('--help explains the checks and the exit codes', async () => {
    const run = await runCli(['lint', '--help'], {});
    assert.equal(run.code, 0);
    assert.match(run.stdout, /check a spec's expand SQL/);
    assert.match(run.stdout, /Exit 0: clean, or allowed by\s+migrations\.allowBreaking; 2: refused/);
  });

  test('start --dry-run refuses a breaking expand before Temporal, and embeds a clean one', async () => {
    const refused = await runCli(['start', 'canary', '--dry-run', '-f', path.join(dir, 'breaking.json')], {});
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /migrations\.expand: db\/002_drop\.sql:4: DROP COLUMN users\.email — /);
    assert.match(refused.stderr, /migrations\.allowBreaking: not set, so the rollout is refused/);

    const clean = await runCli(
      ['start', 'canary', '--dry-run', '--json', '-f', path.join(dir, 'clean.json')],
      {},
    );
    assert.equal(clean.code, 0, clean.stderr);
    const printed = JSON.parse(clean.stdout) as { migrations: { expand: { files: unknown[] } } };
    assert.deepEqual(printed.migrations.expand.files, [
      { name: 'db/001_add.sql', sql: ADD, sha256: createHash('sha256').update(ADD).digest('hex') },
    ]);
  });
});
