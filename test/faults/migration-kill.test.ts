import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCanary } from '../../src/client/rollouts';
import { type PostgresDatabase, type PostgresHandle, startPostgres } from '../../src/demo/local/postgres';
import { prepareMigrations } from '../../src/migrations/guard';
import { LEDGER_TABLE } from '../../src/migrations/sql-runner';
import { loadSpecDocument, parseCanarySpec } from '../../src/spec/load';
import type { RolloutResult } from '../../src/workflows/state';
import { eventually } from '../helpers/eventually';
import { activityAttempts } from '../helpers/fault-env';
import { faultSuite } from '../helpers/fault-suite';
import { assertSetWeightDecisions } from '../helpers/invariants';
import { type KillableWorker, startKillableWorker } from '../helpers/worker-process';

const SPEC_FILE = resolve(__dirname, '..', 'fixtures', 'migrations', 'kill.yaml');
const FIRST = 'db/kill/001_count_then_sleep.sql';
const SECOND = 'db/kill/002_count_then_sleep.sql';
/** The env var kill.yaml names: set on the worker processes only. */
const URL_ENV = 'KILL_TEST_DATABASE_URL';

/**
 * Exactly once across worker crashes. The expand step has two files; each counts its run in
 * migration_runs and then sleeps 4 s inside its transaction. The worker process is SIGKILLed while
 * the first file's pg_sleep runs (seen in pg_stat_activity): the server rolls that transaction
 * back, and a new worker retries the activity after its heartbeat timeout (10 s). That worker is
 * killed in turn during the second file, after the first committed with its ledger row; the third
 * must skip the first file. Each file must count exactly one run, and the ledger hold each once.
 */
describe('worker SIGKILLed in the middle of migration files: every file applies exactly once', () => {
  const STAGES = [50, 100];
  const suite = faultSuite();
  let pg: PostgresHandle;
  before(async () => {
    pg = await startPostgres();
  });
  after(() => pg?.stop());

  /** The backend running `file`'s pg_sleep, if one is. */
  async function sleepingIn(db: PostgresDatabase, name: string, file: string): Promise<number | undefined> {
    const rows = await db.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity
        WHERE datname = $1 AND state = 'active' AND pid <> pg_backend_pid()
          AND position('pg_sleep(4)' IN query) > 0 AND position($2 IN query) > 0`,
      [name, `'${file}'`],
    );
    return rows[0]?.pid;
  }

  async function counts(db: PostgresDatabase): Promise<Record<string, number>> {
    const rows = await db.query<{ file: string; n: string }>(
      'SELECT file, count(*) AS n FROM migration_runs GROUP BY file ORDER BY file',
    );
    return Object.fromEntries(rows.map((r) => [r.file, Number(r.n)]));
  }

  it('kills during each file: promoted, each file counted once, the second retry skips the first file', async () => {
    const { stack, taskQueue, watch } = await suite.setUp('migration-kill');
    const name = 'kill_case';
    const db = await pg.createDatabase(name);
    await db.query('CREATE TABLE migration_runs (file text NOT NULL, at timestamptz NOT NULL DEFAULT now())');
    const startWorker = async (): Promise<KillableWorker> =>
      suite.cleanup.add(
        await startKillableWorker({ address: suite.env.address, taskQueue, env: { [URL_ENV]: db.url } }),
        (w) => w.kill(),
      );
    const first = await startWorker();

    const document = loadSpecDocument(SPEC_FILE) as Record<string, unknown>;
    const spec = await prepareMigrations(
      parseCanarySpec(
        {
          ...document,
          stable: { version: 'v1', targets: [stack.v1.url] },
          canary: { version: 'v2', targets: [stack.v2.url] },
          traffic: { provider: 'embedded', adminUrl: stack.router.adminUrl },
        },
        SPEC_FILE,
      ),
      SPEC_FILE,
    );
    const handle = await startCanary(suite.env.client, spec, taskQueue);

    const firstSleeper = await eventually(
      () => sleepingIn(db, name, '001_count_then_sleep'),
      60_000,
      'the first file in pg_sleep',
      20,
    );
    await first.kill();
    const firstKillAt = Date.now();
    assert.deepEqual(await counts(db), {}, 'nothing of the killed transaction is committed');
    assert.equal((await stack.split()).weights.canary, 0, 'no traffic reaches v2 before expand finished');

    const second = await startWorker();
    const secondSleeper = await eventually(
      () => sleepingIn(db, name, '002_count_then_sleep'),
      60_000,
      'the second file in pg_sleep (on the retry)',
      20,
    );
    await second.kill();
    const secondKillAt = Date.now();
    assert.deepEqual(
      await counts(db),
      { '001_count_then_sleep': 1 },
      'the first file committed on the retry',
    );

    const third = await startWorker();
    const result = (await handle.result()) as RolloutResult;
    const attempts = (await activityAttempts(handle)).filter((a) => a.type === 'runMigrationStep');
    console.log(
      `kill 1 (backend ${firstSleeper} in file 1) → worker 2 ready ${second.readyAt - firstKillAt} ms; ` +
        `kill 2 (backend ${secondSleeper} in file 2) → worker 3 ready ${third.readyAt - secondKillAt} ms, ` +
        `${result.outcome} after ${Date.now() - secondKillAt} ms; runMigrationStep: ${JSON.stringify(attempts)}`,
    );

    assert.equal(result.outcome, 'promoted');
    assert.deepEqual(
      await counts(db),
      { '001_count_then_sleep': 1, '002_count_then_sleep': 1 },
      'each file ran to commit exactly once',
    );
    const ledger = await db.query<{ name: string; step: string; n: string }>(
      `SELECT name, step, count(*) OVER (PARTITION BY name) AS n FROM ${LEDGER_TABLE} ORDER BY applied_at, name`,
    );
    assert.deepEqual(
      ledger.map((l) => ({ name: l.name, step: l.step, n: Number(l.n) })),
      [
        { name: FIRST, step: 'expand', n: 1 },
        { name: SECOND, step: 'expand', n: 1 },
      ],
    );
    // History keeps one started event per activity, of its last attempt, with the attempt number.
    assert.equal(attempts.length, 1, 'one expand activity');
    assert.equal(
      attempts[0]?.attempt,
      3,
      `two attempts lost to kills, the third done: ${JSON.stringify(attempts)}`,
    );
    assert.match(
      attempts[0]?.lastFailure ?? '',
      /heartbeat/i,
      'retried because the killed attempt stopped heartbeating',
    );
    // The last attempt found the first file in the ledger (committed by the second attempt).
    assert.deepEqual(result.state.migration?.expand, { applied: [SECOND], skipped: [FIRST] });
    assert.equal(result.state.decisions.filter((d) => d.reason.startsWith('expand:')).length, 1);
    assertSetWeightDecisions(result.state, STAGES);
    await watch.check({
      outcome: 'promoted',
      stableVersion: 'v1',
      canaryVersion: 'v2',
      stages: STAGES,
      state: result.state,
    });
  });
});
