import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatFindings, type LintFinding, lintMigrations, lintSql } from '../../src/migrations/lint';
import type { EmbeddedMigrationsConfig } from '../../src/spec/migrations';

/** rule + object of each finding of one statement, the shape the rules are checked in. */
async function hits(sql: string): Promise<string[]> {
  return (await lintSql('db/001.sql', sql)).map((f) => (f.object ? `${f.rule} ${f.object}` : f.rule));
}

describe('lintSql: statements that break the old version', () => {
  const cases: [string, string[]][] = [
    ['DROP TABLE users', ['DROP TABLE users']],
    ['DROP TABLE IF EXISTS a, public.b CASCADE', ['DROP TABLE a', 'DROP TABLE public.b']],
    ['DROP VIEW active_users', ['DROP VIEW active_users']],
    ['DROP MATERIALIZED VIEW stats', ['DROP MATVIEW stats']],
    ['DROP SEQUENCE order_seq', ['DROP SEQUENCE order_seq']],
    ['DROP TYPE mood', ['DROP TYPE mood']],
    ['DROP FUNCTION total(int)', ['DROP FUNCTION total']],
    ['DROP SCHEMA legacy', ['DROP SCHEMA legacy']],
    ['ALTER TABLE users DROP COLUMN email', ['DROP COLUMN users.email']],
    ['ALTER TABLE ONLY public.users DROP COLUMN IF EXISTS email', ['DROP COLUMN public.users.email']],
    ['ALTER TABLE users RENAME TO people', ['RENAME users']],
    ['ALTER TABLE users RENAME COLUMN email TO mail', ['RENAME users.email']],
    ['ALTER TABLE users RENAME CONSTRAINT users_email_key TO email_key', ['RENAME users.users_email_key']],
    ['ALTER TABLE users ALTER COLUMN id TYPE bigint', ['ALTER COLUMN TYPE users.id']],
    ['ALTER TABLE users ALTER COLUMN id SET DATA TYPE bigint', ['ALTER COLUMN TYPE users.id']],
    ['ALTER TABLE users ALTER COLUMN email SET NOT NULL', ['SET NOT NULL users.email']],
    ['ALTER TABLE users ADD COLUMN nick text NOT NULL', ['ADD COLUMN NOT NULL users.nick']],
    [
      'ALTER TABLE users ADD COLUMN nick text CONSTRAINT nick_nn NOT NULL',
      ['ADD COLUMN NOT NULL users.nick'],
    ],
    ['ALTER TABLE users ADD COLUMN code int PRIMARY KEY', ['ADD COLUMN NOT NULL users.code']],
    ['ALTER TABLE users DROP CONSTRAINT users_email_key', ['DROP CONSTRAINT users.users_email_key']],
    ['TRUNCATE users, orders', ['TRUNCATE users', 'TRUNCATE orders']],
    ['ALTER TABLE users SET SCHEMA archive', ['SET SCHEMA users']],
    ['DO $$ BEGIN EXECUTE $q$DROP TABLE users$q$; END $$', ['DO']],
    [
      'ALTER TABLE users DROP COLUMN a, ADD COLUMN b int, ALTER COLUMN c SET NOT NULL',
      ['DROP COLUMN users.a', 'SET NOT NULL users.c'],
    ],
  ];
  for (const [sql, expected] of cases) {
    test(sql, async () => assert.deepEqual(await hits(sql), expected));
  }

  test('each finding says in one sentence why the old version breaks', async () => {
    const [finding] = await lintSql('db/001.sql', 'ALTER TABLE users DROP COLUMN old_email;');
    assert.deepEqual(finding, {
      file: 'db/001.sql',
      line: 1,
      statement: 'ALTER TABLE users DROP COLUMN old_email',
      rule: 'DROP COLUMN',
      object: 'users.old_email',
      why: 'the old version still reads users.old_email; dropping it breaks the old version on rollback',
    });
    const [notNull] = await lintSql('x.sql', 'ALTER TABLE users ADD COLUMN nick text NOT NULL');
    assert.match(
      notNull?.why ?? '',
      /old version inserts rows without users\.nick; a NOT NULL column without a DEFAULT/,
    );
  });
});

describe('lintSql: a clean expand', () => {
  test('adding, creating and validating later are all fine', async () => {
    const sql = [
      'ALTER TABLE users ADD COLUMN nick text;',
      'ALTER TABLE users ADD COLUMN score int NOT NULL DEFAULT 0;',
      'ALTER TABLE users ADD COLUMN id2 bigint GENERATED ALWAYS AS IDENTITY;',
      'ALTER TABLE users ADD COLUMN seq bigserial NOT NULL;',
      'ALTER TABLE users ALTER COLUMN email DROP NOT NULL;',
      'CREATE TABLE audit (id bigint PRIMARY KEY, body text NOT NULL);',
      'CREATE INDEX CONCURRENTLY users_nick ON users (nick);',
      'DROP INDEX IF EXISTS users_old_idx;',
      'ALTER TABLE users ADD CONSTRAINT nick_len CHECK (length(nick) < 64) NOT VALID;',
      'ALTER TABLE users ADD CONSTRAINT fk FOREIGN KEY (org) REFERENCES orgs (id) NOT VALID;',
      "INSERT INTO settings VALUES ('k', 'v');",
      'UPDATE users SET nick = email WHERE nick IS NULL;',
      'CREATE OR REPLACE VIEW user_nicks AS SELECT id, nick FROM users;',
    ].join('\n');
    assert.deepEqual(await lintSql('db/001.sql', sql), []);
  });

  test('an empty file or one of comments only has nothing to find', async () => {
    assert.deepEqual(await lintSql('a.sql', ''), []);
    assert.deepEqual(await lintSql('a.sql', '-- nothing yet\n/* later */\n'), []);
  });
});

describe('lintSql: lines', () => {
  test('the line of the first token, after comments and blank lines, in a multi-statement file', async () => {
    const sql = [
      '-- 001: add the nick column',
      'ALTER TABLE users ADD COLUMN nick text;',
      '',
      '/* the old column goes too;',
      '   a /* nested */ comment */',
      '',
      '   ALTER TABLE users',
      '     DROP COLUMN email; -- trailing',
      '-- and then',
      'DROP TABLE legacy; TRUNCATE audit;',
    ].join('\n');
    const findings = await lintSql('db/001.sql', sql);
    assert.deepEqual(
      findings.map((f) => [f.line, f.rule, f.statement]),
      [
        [7, 'DROP COLUMN', 'ALTER TABLE users\n     DROP COLUMN email'],
        [10, 'DROP TABLE', 'DROP TABLE legacy'],
        [10, 'TRUNCATE', 'TRUNCATE audit'],
      ],
    );
  });

  test('non-ASCII text before a statement does not shift its line (the parser counts bytes)', async () => {
    const sql = [
      "COMMENT ON TABLE users IS 'Bénutzer — ユーザー 🎉';",
      "INSERT INTO greetings VALUES ('grüß dich', 'こんにちは');",
      '-- 日本語のコメント',
      'ALTER TABLE users DROP COLUMN straße;',
    ].join('\n');
    const findings = await lintSql('db/001.sql', sql);
    assert.deepEqual(
      findings.map((f) => [f.line, f.object, f.statement]),
      [[4, 'users.straße', 'ALTER TABLE users DROP COLUMN straße']],
    );
  });

  test('a parse error is a finding at its line', async () => {
    const sql =
      "ALTER TABLE users ADD COLUMN nick text;\n-- é\nSELECT 'ü';\nALTER TABLE users ADD COLUM x int;\n";
    assert.deepEqual(await lintSql('db/002.sql', sql), [
      {
        file: 'db/002.sql',
        line: 4,
        statement: 'ALTER TABLE users ADD COLUM x int;',
        rule: 'parse error',
        why: 'PostgreSQL cannot parse this file (syntax error at or near "int"), so nothing in it can be shown safe for the old version',
      },
    ]);
  });
});

describe('lintMigrations', () => {
  const file = (name: string, sql: string) => ({ name, sql, sha256: 'x' });
  const config = (
    expand: EmbeddedMigrationsConfig['expand'],
    contract?: EmbeddedMigrationsConfig['expand'],
  ) => ({
    database: { urlEnv: 'DATABASE_URL' },
    expand,
    ...(contract ? { contract } : {}),
    contractAfter: 0,
  });

  test('lints every expand file in order, and never contract', async () => {
    const findings = await lintMigrations(
      config(
        {
          sql: ['db/001.sql', 'db/002.sql'],
          files: [
            file('db/001.sql', 'ALTER TABLE a ADD COLUMN b int;'),
            file('db/002.sql', '\nDROP TABLE c;'),
          ],
        },
        { sql: ['db/003.sql'], files: [file('db/003.sql', 'ALTER TABLE a DROP COLUMN old;')] },
      ),
    );
    assert.deepEqual(
      findings.map((f) => `${f.file}:${f.line}`),
      ['db/002.sql:2'],
    );
  });

  test('a command step cannot be linted: nothing found', async () => {
    assert.deepEqual(
      await lintMigrations(config({ command: 'flyway', args: ['migrate'], timeout: 1000 })),
      [],
    );
  });
});

describe('formatFindings', () => {
  test('one line a finding, file:line: rule object — why, with control characters escaped', () => {
    const findings: LintFinding[] = [
      {
        file: 'db/001.sql',
        line: 3,
        statement: '',
        rule: 'DROP COLUMN',
        object: 'users.email',
        why: 'it breaks',
      },
      { file: 'db/002.sql', line: 1, statement: '', rule: 'parse error', why: 'bad\u001b[31m' },
    ];
    assert.equal(
      formatFindings(findings),
      'db/001.sql:3: DROP COLUMN users.email — it breaks\ndb/002.sql:1: parse error — bad\\x1b[31m',
    );
  });
});
