import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createMigrationActivities } from '../../src/activities/migrations';
import type { EmbeddedMigrationsConfig, MigrationsConfig } from '../../src/spec/migrations';
import { type Postgres, startPostgres } from '../helpers/postgres';

const URL_ENV = 'MIGRATIONS_ACTIVITY_TEST_URL';

/** MockActivityEnvironment.run cannot infer a result type: this keeps the activity's. */
const inEnv = <R>(env: MockActivityEnvironment, fn: () => Promise<R>) => env.run(fn) as Promise<R>;

const expand = (migrations: MigrationsConfig) => ({ service: 'shop', step: 'expand' as const, migrations });

function embedded(files: Record<string, string>): EmbeddedMigrationsConfig {
  const list = Object.entries(files).map(([name, sql]) => ({
    name,
    sql,
    sha256: createHash('sha256').update(sql).digest('hex'),
  }));
  return {
    database: { urlEnv: URL_ENV },
    expand: { sql: list.map((f) => f.name), files: list },
    contractAfter: 0,
  };
}

async function failure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
    return err;
  }
  assert.fail('resolved');
}

describe('migration activities on a real PostgreSQL', () => {
  let pg: Postgres;
  const activities = createMigrationActivities();

  before(async () => {
    pg = await startPostgres();
    process.env[URL_ENV] = pg.url.replace('postgres@', 'postgres:activity-sekrit-pw@');
  });
  after(async () => {
    delete process.env[URL_ENV];
    await pg?.stop();
  });

  test('runMigrationStep applies the files and heartbeats while a file runs', async () => {
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => beats.push(details));
    const migrations = embedded({
      'db/001.sql': 'CREATE TABLE t (id int); SELECT pg_sleep(2.5);',
      'db/002.sql': 'INSERT INTO t VALUES (1);',
    });
    const result = await inEnv(env, () => activities.runMigrationStep(expand(migrations)));
    assert.deepEqual([result.applied, result.skipped], [['db/001.sql', 'db/002.sql'], []]);
    assert.ok(
      beats.some((b) => JSON.stringify(b) === JSON.stringify({ step: 'expand' })),
      JSON.stringify(beats),
    );
    assert.deepEqual(await pg.query('SELECT id FROM t'), [{ id: 1 }]);
    const again = await inEnv(env, () => activities.runMigrationStep(expand(migrations)));
    assert.deepEqual([again.applied, again.skipped], [[], ['db/001.sql', 'db/002.sql']]);
  });

  test('a missing URL variable is a non-retryable failure naming it', async () => {
    const env = new MockActivityEnvironment();
    const migrations = { ...embedded({ 'a.sql': 'SELECT 1' }), database: { urlEnv: 'NOT_SET_ANYWHERE_URL' } };
    const err = await failure(inEnv(env, () => activities.runMigrationStep(expand(migrations))));
    assert.equal(err.nonRetryable, true);
    assert.match(err.message, /NOT_SET_ANYWHERE_URL, which is not set on this worker/);
  });

  test('SQL steps without embedded files are refused, non-retryably, by both activities', async () => {
    const env = new MockActivityEnvironment();
    const bare: MigrationsConfig = {
      database: { urlEnv: URL_ENV },
      expand: { sql: ['db/001.sql'] },
      contractAfter: 0,
    };
    for (const run of [
      inEnv(env, () => activities.runMigrationStep(expand(bare))),
      inEnv(env, () => activities.checkMigrations({ migrations: bare })),
    ]) {
      const err = await failure(run);
      assert.equal(err.nonRetryable, true);
      assert.match(err.message, /not embedded; call embedMigrations/);
    }
  });

  test('a failing file is non-retryable and its message carries no URL or password', async () => {
    const env = new MockActivityEnvironment();
    const migrations = embedded({ 'db/bad.sql': 'INSERT INTO nowhere VALUES (1);' });
    const err = await failure(inEnv(env, () => activities.runMigrationStep(expand(migrations))));
    assert.equal(err.nonRetryable, true);
    assert.match(
      err.message,
      /^migration db\/bad\.sql:1 failed and was rolled back: relation "nowhere" does not exist/,
    );
    assert.ok(!err.message.includes('activity-sekrit-pw'), err.message);
  });

  test('checkMigrations re-lints the embedded expand SQL', async () => {
    const env = new MockActivityEnvironment();
    const migrations = embedded({ 'db/001.sql': 'SELECT 1;\nALTER TABLE users RENAME COLUMN a TO b;' });
    const { findings } = await inEnv(env, () => activities.checkMigrations({ migrations }));
    assert.deepEqual(
      findings.map((f) => `${f.file}:${f.line}: ${f.rule}`),
      ['db/001.sql:2: RENAME'],
    );
  });
});
