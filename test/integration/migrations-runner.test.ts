import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { freePort } from '../../src/devserver/free-port';
import { LEDGER_TABLE } from '../../src/migrations/sql-runner';
import { runStep, type RunStepInput } from '../../src/migrations/runner';
import { ConfigurationError, TransientError } from '../../src/providers/errors';
import type { EmbeddedMigrationsConfig, EmbeddedStep } from '../../src/spec/migrations';
import { eventually } from '../helpers/eventually';
import { type Postgres, startPostgres } from '../helpers/postgres';

const RUNNER = path.join(__dirname, '../../src/migrations/runner.ts');
const PASSWORD = 'hunter2-sekrit-pw';
const URL_ENV = 'MIGRATIONS_TEST_URL';

function sqlStep(files: Record<string, string>): EmbeddedStep {
  const entries = Object.entries(files).map(([name, sql]) => ({
    name,
    sql,
    sha256: createHash('sha256').update(sql).digest('hex'),
  }));
  return { sql: entries.map((f) => f.name), files: entries };
}

function config(expand: EmbeddedStep, contract?: EmbeddedStep): EmbeddedMigrationsConfig {
  return { database: { urlEnv: URL_ENV }, expand, ...(contract ? { contract } : {}), contractAfter: 0 };
}

/** The error a promise rejects with, asserting its class. */
async function rejection<E extends Error>(promise: Promise<unknown>, type: abstract new () => E): Promise<E> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof type, `expected a ${type.name}, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected a ${type.name}, but it resolved`);
}

function assertNoSecret(message: string, url: string): void {
  assert.ok(!message.includes(PASSWORD), `password in: ${message}`);
  assert.ok(!message.includes(url), `URL in: ${message}`);
}

describe('migration runner on a real PostgreSQL', () => {
  let pg: Postgres;
  /** The test database's URL with a password in it (trust auth ignores it): it must never leak. */
  let url: string;
  const run = (migrations: EmbeddedMigrationsConfig, extra: Partial<RunStepInput> = {}) =>
    runStep({ service: 'shop', step: 'expand', migrations, url, ...extra });
  const ledger = () =>
    pg.query<{ name: string; step: string; service: string }>(
      `SELECT name, step, service FROM ${LEDGER_TABLE} ORDER BY name`,
    );

  before(async () => {
    pg = await startPostgres();
    url = pg.url.replace('postgres@', `postgres:${PASSWORD}@`);
  });
  after(async () => {
    await pg?.stop();
  });
  beforeEach(async () => {
    await pg.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
  });

  test('applies files in order, each in its own transaction: a failing second file leaves the first applied and none of its own statements', async () => {
    const migrations = config(
      sqlStep({
        'db/001_users.sql':
          'CREATE TABLE users (id int PRIMARY KEY, email text);\nINSERT INTO users VALUES (1, $$a@x$$);',
        'db/002_broken.sql':
          '-- half of this must not stay\nCREATE TABLE half (id int);\nINSERT INTO missing VALUES (1);',
        'db/003_never.sql': 'CREATE TABLE never (id int);',
      }),
    );
    const err = await rejection(run(migrations), ConfigurationError);
    assert.match(
      err.message,
      /^migration db\/002_broken\.sql:3 failed and was rolled back: relation "missing" does not exist \(SQLSTATE 42P01\)/,
    );
    assertNoSecret(err.message, url);
    assert.deepEqual(await pg.query('SELECT id, email FROM users'), [{ id: 1, email: 'a@x' }]);
    const tables = await pg.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    );
    assert.deepEqual(
      tables.map((t) => t.table_name),
      [LEDGER_TABLE, 'users'],
    );
    assert.deepEqual(await ledger(), [{ name: 'db/001_users.sql', step: 'expand', service: 'shop' }]);
  });

  test('a rerun skips what the ledger has and applies the rest', async () => {
    const first = sqlStep({ 'db/001.sql': 'CREATE TABLE counter (n int); INSERT INTO counter VALUES (1);' });
    const firstRun = await run(config(first));
    assert.deepEqual([firstRun.applied, firstRun.skipped], [['db/001.sql'], []]);
    const both = sqlStep({
      'db/001.sql': 'CREATE TABLE counter (n int); INSERT INTO counter VALUES (1);',
      'db/002.sql': 'INSERT INTO counter VALUES (2);',
    });
    const rerun = await run(config(both));
    assert.deepEqual([rerun.applied, rerun.skipped], [['db/002.sql'], ['db/001.sql']]);
    const again = await run(config(both));
    assert.deepEqual([again.applied, again.skipped], [[], ['db/001.sql', 'db/002.sql']]);
    assert.deepEqual(await pg.query('SELECT n FROM counter ORDER BY n'), [{ n: 1 }, { n: 2 }]);
    assert.equal((await ledger()).length, 2);
  });

  test('an applied file whose content changed is refused, and nothing of the new content runs', async () => {
    await run(config(sqlStep({ 'db/001.sql': 'CREATE TABLE a (id int);' })));
    const err = await rejection(
      run(config(sqlStep({ 'db/001.sql': 'CREATE TABLE a (id int); CREATE TABLE b (id int);' }))),
      ConfigurationError,
    );
    assert.match(
      err.message,
      /db\/001\.sql was applied \(by shop, expand\) with sha256 .* an applied file must never change/,
    );
    assert.deepEqual(await pg.query(`SELECT to_regclass('b') AS b`), [{ b: null }]);
  });

  test('concurrent runs of the same step apply each file once (advisory lock)', async () => {
    const step = sqlStep({
      'db/001.sql':
        'CREATE TABLE IF NOT EXISTS hits (file text); SELECT pg_sleep(0.3); INSERT INTO hits VALUES ($$001$$);',
      'db/002.sql': 'SELECT pg_sleep(0.3); INSERT INTO hits VALUES ($$002$$);',
    });
    const results = await Promise.all([run(config(step)), run(config(step)), run(config(step))]);
    const applied = results.flatMap((r) => r.applied).sort();
    const skipped = results.flatMap((r) => r.skipped).sort();
    assert.deepEqual(applied, ['db/001.sql', 'db/002.sql']);
    assert.equal(skipped.length, 4);
    assert.deepEqual(
      await pg.query('SELECT file, count(*)::int AS n FROM hits GROUP BY file ORDER BY file'),
      [
        { file: '001', n: 1 },
        { file: '002', n: 1 },
      ],
    );
    assert.equal((await ledger()).length, 2);
  });

  test('a command step runs from its argument array with the URL under the same env var, and a minimal env', async () => {
    // Arguments are passed literally: the shell syntax in them stays text.
    const literal = 'it works; echo $HOME `id` && false';
    const script = [
      "const { Client } = require('pg');",
      `const c = new Client({ connectionString: process.env.${URL_ENV} });`,
      'c.connect()',
      "  .then(() => c.query('CREATE TABLE ran (arg text, step text, env text)'))",
      "  .then(() => c.query('INSERT INTO ran VALUES ($1, $2, $3)', [process.argv[1], process.env.ROLLOUT_MIGRATION_STEP, Object.keys(process.env).sort().join(',')]))",
      '  .then(() => c.end(), (e) => { console.error(e.message); process.exit(1); });',
    ].join('\n');
    process.env.SOME_WORKER_SECRET = 'worker-only-value-123';
    try {
      const command = { command: process.execPath, args: ['-e', script, literal], timeout: 30_000 };
      const result = await run(config(sqlStep({ 'db/001.sql': 'SELECT 1' }), command), { step: 'contract' });
      assert.deepEqual(result.applied, [process.execPath]);
    } finally {
      delete process.env.SOME_WORKER_SECRET;
    }
    const [row] = await pg.query<{ arg: string; step: string; env: string }>(
      'SELECT arg, step, env FROM ran',
    );
    assert.equal(row?.arg, literal);
    assert.equal(row?.step, 'contract');
    const names = row?.env.split(',') ?? [];
    assert.ok(names.includes(URL_ENV), names.join(','));
    assert.ok(!names.includes('SOME_WORKER_SECRET'), names.join(','));
  });

  test('a failing command reports its exit and output tail, with the URL it printed redacted', async () => {
    const script = `console.log('connecting to ' + process.env.${URL_ENV}); console.error('boom: bad migration'); process.exit(3);`;
    const err = await rejection(
      run(config({ command: process.execPath, args: ['-e', script], timeout: 30_000 })),
      TransientError,
    );
    assert.match(err.message, /failed \(exit 3\).*boom: bad migration/s);
    assert.match(err.message, /\[redacted\]/);
    assertNoSecret(err.message, url);
  });

  test('connection failures name the env var, never the URL or its password', async () => {
    const deadUrl = `postgres://postgres:${PASSWORD}@127.0.0.1:${await freePort()}/app`;
    const err = await rejection(
      run(config(sqlStep({ 'a.sql': 'SELECT 1' })), { url: deadUrl }),
      TransientError,
    );
    assert.match(err.message, new RegExp(`^cannot connect \\(database in ${URL_ENV}\\): .*ECONNREFUSED`));
    assertNoSecret(err.message, deadUrl);
    const missingDb = url.replace(/\/app$/, '/nosuchdb');
    const permanent = await rejection(
      run(config(sqlStep({ 'a.sql': 'SELECT 1' })), { url: missingDb }),
      ConfigurationError,
    );
    assert.match(permanent.message, /does not exist \(SQLSTATE 3D000\)/);
    assertNoSecret(permanent.message, missingDb);
  });

  test('a file that commits by itself is refused before anything runs', async () => {
    const err = await rejection(
      run(config(sqlStep({ 'db/001.sql': 'CREATE TABLE a (id int);\nCOMMIT;\nCREATE TABLE b (id int);' }))),
      ConfigurationError,
    );
    assert.match(err.message, /^db\/001\.sql:2: COMMIT — each SQL file runs in one transaction/);
    assert.deepEqual(await pg.query(`SELECT to_regclass('a') AS a`), [{ a: null }]);
  });

  test('exactly once across a killed runner: the file it was in re-runs whole, the committed one never', async () => {
    const migrations = config(
      sqlStep({
        'db/001.sql': 'CREATE TABLE counter (file text); INSERT INTO counter VALUES ($$001$$);',
        'db/002.sql': 'SELECT pg_sleep(3); INSERT INTO counter VALUES ($$002$$);',
      }),
    );
    const input = JSON.stringify({ service: 'shop', step: 'expand', migrations, url });
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        'require(process.argv[1]).runStep(JSON.parse(process.env.RUN_INPUT)).then(() => process.exit(0), () => process.exit(1))',
        RUNNER,
      ],
      { env: { ...process.env, RUN_INPUT: input }, stdio: 'ignore' },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    );
    // Killed while the second file's transaction is open: the first has committed with its row.
    await eventually(
      async () => {
        const rows = await pg.query(`SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(3)%'`);
        return rows.length === 1;
      },
      20_000,
      'the runner to be inside db/002.sql',
    );
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    assert.deepEqual(await pg.query('SELECT file FROM counter'), [{ file: '001' }]);

    // The rerun waits for the dead session's lock to go, then applies only what did not commit.
    const rerun = await run(migrations);
    assert.deepEqual([rerun.applied, rerun.skipped], [['db/002.sql'], ['db/001.sql']]);
    assert.deepEqual(
      await pg.query('SELECT file, count(*)::int AS n FROM counter GROUP BY file ORDER BY file'),
      [
        { file: '001', n: 1 },
        { file: '002', n: 1 },
      ],
    );
    assert.deepEqual(
      (await ledger()).map((r) => r.name),
      ['db/001.sql', 'db/002.sql'],
    );
  });
});
