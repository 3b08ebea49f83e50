import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { embedMigrations, MAX_SQL_FILE_BYTES } from '../../src/migrations/embed';
import { assertEmbedded } from '../../src/migrations/embedded';
import { refuseUnsafeMigrations } from '../../src/migrations/guard';
import { SpecError } from '../../src/spec/errors';
import { parseBlueGreenSpec, parseCanarySpec } from '../../src/spec/load';

const canary = (migrations: unknown) => ({
  service: 'shop',
  stable: { version: 'v1', targets: ['http://127.0.0.1:9001'] },
  canary: { version: 'v2', targets: ['http://127.0.0.1:9002'] },
  migrations,
});

const valid = { database: { urlEnv: 'DATABASE_URL' }, expand: { sql: ['db/001_add.sql'] } };

/** The field paths and messages a document is refused with. */
function issues(document: unknown): Record<string, string> {
  try {
    parseCanarySpec(document);
  } catch (err) {
    assert.ok(err instanceof SpecError, String(err));
    return Object.fromEntries(err.issues.map((i) => [i.path, i.message]));
  }
  assert.fail('the spec was accepted');
}

describe('migrations spec', () => {
  test('parses the issue shape with its defaults, in both strategies', () => {
    const spec = parseCanarySpec(
      canary({ ...valid, contract: { sql: ['db/002_drop.sql'] }, contractAfter: '1h', allowBreaking: 'ok' }),
    );
    assert.deepEqual(spec.migrations, {
      database: { urlEnv: 'DATABASE_URL' },
      expand: { sql: ['db/001_add.sql'] },
      contract: { sql: ['db/002_drop.sql'] },
      contractAfter: 3_600_000,
      allowBreaking: 'ok',
    });
    assert.equal(parseCanarySpec(canary(valid)).migrations?.contractAfter, 0);
    assert.equal(parseCanarySpec(canary(undefined)).migrations, undefined);
    const blueGreen = parseBlueGreenSpec({
      strategy: 'blue-green',
      service: 'shop',
      version: 'v2',
      environments: {
        blue: { targets: ['http://127.0.0.1:9001'] },
        green: { targets: ['http://127.0.0.1:9002'] },
      },
      migrations: { ...valid, expand: { command: 'flyway', args: ['migrate', '-x=1'] } },
    });
    assert.deepEqual(blueGreen.migrations?.expand, {
      command: 'flyway',
      args: ['migrate', '-x=1'],
      timeout: 600_000,
    });
  });

  test('refuses unsafe SQL paths, each at its own index', () => {
    const bad = [
      '/etc/passwd.sql',
      '../up.sql',
      'db/../../x.sql',
      'db/./x.sql',
      'x.txt',
      'a\0.sql',
      'a b.sql',
      '.hidden.sql',
    ];
    const found = issues(canary({ ...valid, expand: { sql: ['ok/fine-1.sql', ...bad] } }));
    assert.deepEqual(Object.keys(found).sort(), bad.map((_, i) => `migrations.expand.sql[${i + 1}]`).sort());
    assert.match(found['migrations.expand.sql[2]'] ?? '', /relative path ending in \.sql/);
  });

  test('bounds the file list: at least one, at most 50, none twice across the steps', () => {
    assert.ok(issues(canary({ ...valid, expand: { sql: [] } }))['migrations.expand.sql']);
    const many = Array.from({ length: 51 }, (_, i) => `db/${i}.sql`);
    assert.ok(issues(canary({ ...valid, expand: { sql: many } }))['migrations.expand.sql']);
    const twice = issues(canary({ ...valid, contract: { sql: ['db/002.sql', 'db/001_add.sql'] } }));
    assert.deepEqual(twice, { 'migrations.contract.sql[1]': 'db/001_add.sql is listed twice' });
  });

  test('a command step takes an executable and an argument array, never a shell string', () => {
    const withSpace = issues(canary({ ...valid, expand: { command: 'flyway migrate' } }));
    assert.match(withSpace['migrations.expand.command'] ?? '', /without spaces or shell syntax/);
    const shellArgs = issues(
      canary({ ...valid, expand: { command: 'flyway', args: 'migrate && rm -rf /' } }),
    );
    assert.ok(shellArgs['migrations.expand.args'], JSON.stringify(shellArgs));
    const nul = issues(canary({ ...valid, expand: { command: 'flyway', args: ['a\0b'] } }));
    assert.equal(nul['migrations.expand.args[0]'], 'must not contain a NUL byte');
    const both = issues(canary({ ...valid, expand: { sql: ['a.sql'], command: 'flyway' } }));
    assert.match(both['migrations.expand'] ?? '', /a step is \{ sql: \[files\] \} or \{ command/);
  });

  test('reports every bad field at once, with its path', () => {
    const found = issues(
      canary({
        database: { urlEnv: 'database url' },
        expand: { sql: ['db/001.sql'] },
        contractAfter: 'soon',
        allowBreaking: '   ',
        extra: true,
      }),
    );
    assert.deepEqual(Object.keys(found).sort(), [
      'migrations',
      'migrations.allowBreaking',
      'migrations.contractAfter',
      'migrations.database.urlEnv',
    ]);
    assert.match(found['migrations'] ?? '', /extra/);
    assert.match(found['migrations.database.urlEnv'] ?? '', /environment variable name/);
  });
});

describe('embedMigrations', () => {
  let dir: string;
  const write = (name: string, content: string | Buffer) => {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  };
  const specWith = (expand: string[], contract?: string[]) =>
    parseCanarySpec(
      canary({ ...valid, expand: { sql: expand }, ...(contract ? { contract: { sql: contract } } : {}) }),
    );
  const embedIssues = (expand: string[], contract?: string[]) => {
    try {
      embedMigrations(specWith(expand, contract), dir, 'spec.yaml');
    } catch (err) {
      assert.ok(err instanceof SpecError, String(err));
      assert.match(err.message, /^invalid rollout spec spec\.yaml:/);
      return Object.fromEntries(err.issues.map((i) => [i.path, i.message]));
    }
    assert.fail('embedded');
  };

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'migrations-embed-'));
    write('db/001.sql', 'ALTER TABLE users ADD COLUMN nick text;\n');
    write('db/002.sql', 'ALTER TABLE users DROP COLUMN email;\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('carries each file with its text and sha256, relative to the spec folder', () => {
    const spec = embedMigrations(specWith(['db/001.sql'], ['db/002.sql']), dir);
    const text = 'ALTER TABLE users ADD COLUMN nick text;\n';
    assert.deepEqual(spec.migrations?.expand, {
      sql: ['db/001.sql'],
      files: [{ name: 'db/001.sql', sql: text, sha256: createHash('sha256').update(text).digest('hex') }],
    });
    assert.equal((spec.migrations?.contract as { files: { name: string }[] }).files[0]?.name, 'db/002.sql');
    assert.equal(assertEmbedded(spec.migrations!).expand, spec.migrations?.expand);
  });

  test('names every missing, oversized, escaping or non-text file at its own path', () => {
    write('big.sql', Buffer.alloc(MAX_SQL_FILE_BYTES + 1, 0x20));
    write('nul.sql', 'SELECT 1;\0DROP TABLE users;');
    write('latin1.sql', Buffer.from([0x53, 0x45, 0xe9, 0x0a]));
    const outside = mkdtempSync(path.join(tmpdir(), 'migrations-outside-'));
    writeFileSync(path.join(outside, 'secret.sql'), 'SELECT 1');
    symlinkSync(path.join(outside, 'secret.sql'), path.join(dir, 'escape.sql'));
    symlinkSync(path.join(dir, 'db/001.sql'), path.join(dir, 'inside.sql'));
    try {
      const found = embedIssues(
        ['db/001.sql', 'db/missing.sql', 'big.sql', 'escape.sql'],
        ['inside.sql', 'nul.sql', 'latin1.sql'],
      );
      assert.deepEqual(found, {
        'migrations.expand.sql[1]': 'cannot read db/missing.sql: ENOENT',
        'migrations.expand.sql[2]': `big.sql is larger than ${MAX_SQL_FILE_BYTES} bytes`,
        'migrations.expand.sql[3]': "escape.sql resolves outside the spec's folder",
        'migrations.contract.sql[1]': 'nul.sql contains a NUL byte',
        'migrations.contract.sql[2]': 'latin1.sql is not UTF-8 text',
      });
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  test('bounds the total size of all files', () => {
    const files = ['a', 'b', 'c'].map((n) => {
      write(`total/${n}.sql`, `-- ${'x'.repeat(MAX_SQL_FILE_BYTES - 10)}\n`);
      return `total/${n}.sql`;
    });
    const found = embedIssues(files);
    assert.deepEqual(Object.keys(found), ['migrations.expand.sql[2]']);
    assert.match(found['migrations.expand.sql[2]'] ?? '', /together are larger than/);
  });

  test('a spec whose SQL was not embedded is refused at start, telling how to embed it', async () => {
    await assert.rejects(refuseUnsafeMigrations(specWith(['db/001.sql']), 'shop'), (err: unknown) => {
      assert.ok(err instanceof SpecError);
      assert.equal(err.issues[0]?.path, 'migrations');
      assert.match(err.issues[0]?.message ?? '', /not embedded; call embedMigrations\(spec, specDir\)/);
      return true;
    });
    assert.deepEqual(
      await refuseUnsafeMigrations(embedMigrations(specWith(['db/001.sql']), dir), 'shop'),
      [],
    );
  });

  test('a breaking expand is refused at start unless allowBreaking says why', async () => {
    const breaking = embedMigrations(specWith(['db/002.sql']), dir);
    await assert.rejects(refuseUnsafeMigrations(breaking, 'shop'), (err: unknown) => {
      assert.ok(err instanceof SpecError);
      assert.deepEqual(
        err.issues.map((i) => i.path),
        ['migrations.expand', 'migrations.allowBreaking'],
      );
      assert.match(
        err.message,
        /db\/002\.sql:1: DROP COLUMN users\.email — the old version still reads users\.email/,
      );
      return true;
    });
    const allowed = {
      ...breaking,
      migrations: { ...breaking.migrations!, allowBreaking: 'v1 is gone already' },
    };
    const findings = await refuseUnsafeMigrations(allowed, 'shop');
    assert.deepEqual(
      findings.map((f) => f.rule),
      ['DROP COLUMN'],
    );
  });
});
