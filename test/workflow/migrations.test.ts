import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { abortRollout, readState, startBlueGreen, startCanary } from '../../src/client/rollouts';
import { type PostgresDatabase, type PostgresHandle, startPostgres } from '../../src/demo/local/postgres';
import { SERVICE_VERSION_HEADER } from '../../src/demo/service';
import { startTraffic, type TrafficHandle, type TrafficReport } from '../../src/demo/traffic';
import {
  SEED_USERS,
  seedUsers,
  startUsersService,
  type UserAnswer,
  type UsersServiceHandle,
  USERS_DATABASE_URL_ENV,
} from '../../src/demo/users-service';
import type { Faults } from '../../src/demo/faults';
import { prepareMigrations } from '../../src/migrations/guard';
import { LEDGER_TABLE } from '../../src/migrations/sql-runner';
import { startRouter, type RouterHandle } from '../../src/router/server';
import type { BlueGreenSpec } from '../../src/spec/blue-green';
import type { CanarySpec } from '../../src/spec/canary';
import { loadSpecDocument, parseBlueGreenSpec, parseCanarySpec } from '../../src/spec/load';
import { workflowIdForService } from '../../src/spec/workflow-id';
import type { Decision, RolloutResult, RolloutState } from '../../src/workflows/state';
import { runCli } from '../helpers/cli';
import { eventually } from '../helpers/eventually';
import { Cleanup } from '../helpers/fault-env';
import { putLive } from '../helpers/router-split';
import { createTemporalEnv } from '../helpers/temporal';
import { createWorker, uniqueTaskQueue } from '../helpers/worker';

/*
 * Expand/contract on a real PostgreSQL, a real dev server, the embedded router and a real users
 * service (v1 reads users.name, v2 users.full_name). Each test has its own database, so its schema
 * and ledger start from the seed: users(id, name) with SEED_USERS.
 *
 * The specs are files under test/fixtures/migrations with their SQL files beside them; the test
 * adds only what exists just while it runs (targets, the router) and then takes the CLI's path:
 * parse, embed the SQL relative to the spec file, refuse unsafe migrations.
 */
const FIXTURES = resolve(__dirname, '..', 'fixtures', 'migrations');
const EXPAND_FILE = 'db/001_add_full_name.sql';
const CONTRACT_FILE = 'db/002_drop_name.sql';
const BREAKING_FILE = 'db/breaking/001_replace_name.sql';

interface Case {
  db: PostgresDatabase;
  v1: UsersServiceHandle;
  v2: UsersServiceHandle;
  users: TrafficHandle;
  taskQueue: string;
}

describe('expand/contract migrations on a real PostgreSQL', () => {
  let env: TestWorkflowEnvironment;
  let pg: PostgresHandle;
  let router: RouterHandle;
  const cleanup = new Cleanup();
  let databases = 0;

  before(async () => {
    [env, pg, router] = await Promise.all([
      createTemporalEnv(),
      startPostgres(),
      startRouter({ port: 0, adminPort: 0 }),
    ]);
  });
  afterEach(() => cleanup.run());
  after(async () => {
    await cleanup.run();
    await Promise.allSettled([router?.close(), pg?.stop(), env?.teardown()]);
  });

  /** A fresh database with the seed, v1 and v2 of the users service on it, v1 live, users asking. */
  async function setUp(v2Faults: Partial<Faults> = {}): Promise<Case> {
    const db = await pg.createDatabase(`case_${++databases}`);
    const { url } = db;
    await seedUsers(db.query);
    // The in-process worker reads the URL from its own environment, as a deployed worker would.
    process.env[USERS_DATABASE_URL_ENV] = url;
    const v1 = cleanup.add(await startUsersService({ version: 'v1', databaseUrl: url }), (s) => s.close());
    const v2 = cleanup.add(
      await startUsersService({ version: 'v2', databaseUrl: url, faults: v2Faults }),
      (s) => s.close(),
    );
    await putLive(router.adminUrl, { version: 'v1', targets: [v1.url] });
    await fetch(`${router.adminUrl}/admin/reset-stats`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    const users = cleanup.add(
      startTraffic({
        url: router.url,
        path: `/users/${SEED_USERS[0]!.id}`,
        rps: 50,
        users: 300,
        maxDurationMs: 180_000,
      }),
      (t) => t.stop(),
    );
    return { db, v1, v2, users, taskQueue: uniqueTaskQueue('migrations') };
  }

  const routing = (c: Case, service: string) => ({
    service,
    stable: { version: 'v1', targets: [c.v1.url] },
    canary: { version: 'v2', targets: [c.v2.url] },
    traffic: { provider: 'embedded', adminUrl: router.adminUrl },
  });

  /** The CLI's way from a spec file to what starts: parse, embed relative to the file, refuse. */
  async function canaryFixture(file: string, extra: Record<string, unknown>): Promise<CanarySpec> {
    const path = join(FIXTURES, file);
    const document = loadSpecDocument(path) as Record<string, unknown>;
    return prepareMigrations(parseCanarySpec({ ...document, ...extra }, path), path);
  }

  async function blueGreenFixture(file: string, extra: Record<string, unknown>): Promise<BlueGreenSpec> {
    const path = join(FIXTURES, file);
    const document = loadSpecDocument(path) as Record<string, unknown>;
    return prepareMigrations(parseBlueGreenSpec({ ...document, ...extra }, path), path);
  }

  async function columns(c: Case): Promise<string[]> {
    const rows = await c.db.query<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'users' ORDER BY ordinal_position",
    );
    return rows.map((r) => r.column_name);
  }

  async function ledger(c: Case): Promise<{ name: string; step: string; service: string }[]> {
    return c.db.query(`SELECT name, step, service FROM ${LEDGER_TABLE} ORDER BY applied_at, name`);
  }

  /** Every seeded user through the router: status, which version answered, the name it gave. */
  async function askEveryUser(): Promise<
    { status: number; version: string | null; body: Partial<UserAnswer> }[]
  > {
    const answers = [];
    for (const user of SEED_USERS) {
      const response = await fetch(`${router.url}/users/${user.id}`, {
        headers: { 'x-user-id': `check-${user.id}` },
      });
      answers.push({
        status: response.status,
        version: response.headers.get(SERVICE_VERSION_HEADER),
        body: (await response.json()) as Partial<UserAnswer>,
      });
    }
    return answers;
  }

  function expectServedBy(
    answers: Awaited<ReturnType<typeof askEveryUser>>,
    version: string,
    column: string,
  ): void {
    assert.deepEqual(
      answers,
      SEED_USERS.map((u) => ({ status: 200, version, body: { id: u.id, name: u.name, column, version } })),
      `every user answered by ${version} from ${column}, with the right name`,
    );
  }

  const explain = (state: RolloutState): string =>
    state.decisions.map((d) => `${d.kind} [${d.weight}%] ${d.reason}`).join('\n');

  function indexOf(state: RolloutState, what: string, match: (d: Decision) => boolean): number {
    const i = state.decisions.findIndex(match);
    assert.ok(i >= 0, `no ${what} decision in:\n${explain(state)}`);
    return i;
  }

  /** The deploy itself: the deploy decision right before the health check (blue-green first records which side is live). */
  function deployIndex(state: RolloutState): number {
    const health = indexOf(state, 'health', kind('health'));
    assert.equal(state.decisions[health - 1]?.kind, 'deploy', explain(state));
    return health - 1;
  }

  const isMigration = (prefix: string) => (d: Decision) =>
    d.kind === 'migration' && d.reason.startsWith(prefix);
  const kind = (k: Decision['kind']) => (d: Decision) => d.kind === k;

  function usersOf(report: TrafficReport, version: string) {
    return report.byVersion[version] ?? { ok: 0, failed: 0 };
  }

  it("(a) the seed's scenario: expand adds full_name, the bad canary rolls back, v1 still serves everyone", async () => {
    const c = await setUp({ errorRate: 0.6 });
    const worker = await createWorker(env, c.taskQueue);
    const spec = await canaryFixture('canary.yaml', routing(c, 'users-seed'));
    const handle = await startCanary(env.client, spec, c.taskQueue);
    const result = (await worker.runUntil(handle.result())) as RolloutResult;
    const report = await c.users.stop();
    const { state } = result;

    assert.equal(result.outcome, 'rolled_back', explain(state));
    // Through the router, after the rollback: v1 answers every user, from the column it reads.
    expectServedBy(await askEveryUser(), 'v1', 'name');
    assert.equal(usersOf(report, 'v1').failed, 0, 'v1 never failed a user, not even while v2 was live');
    assert.ok(usersOf(report, 'v2').failed > 0, 'the bad canary did reach users before the rollback');
    assert.ok(usersOf(report, 'v1').ok > 100);

    assert.deepEqual(await columns(c), ['id', 'name', 'full_name'], 'expand added full_name; name is intact');
    const backfilled = await c.db.query<{ n: string }>(
      'SELECT count(*) AS n FROM users WHERE full_name = name',
    );
    assert.equal(Number(backfilled[0]?.n), SEED_USERS.length, 'expand backfilled every user');
    assert.deepEqual(await ledger(c), [{ name: EXPAND_FILE, step: 'expand', service: 'users-seed' }]);

    assert.equal(state.migration?.phase, 'contract-cancelled');
    assert.deepEqual(state.migration?.expand, { applied: [EXPAND_FILE], skipped: [] });
    assert.equal(state.migration?.contract, null);
    assert.ok(!state.decisions.some(isMigration('contract:')), 'contract never ran');
    const expand = indexOf(state, 'expand', isMigration('expand:'));
    assert.ok(expand < indexOf(state, 'deploy', kind('deploy')), 'expand before the (first) deploy');
    assert.ok(expand < deployIndex(state));
    assert.ok(expand < indexOf(state, 'set-weight', kind('set-weight')), 'expand before any traffic');
    indexOf(state, 'rollback', kind('rollback'));
    indexOf(state, 'contract cancelled', isMigration('contract will not run'));
  });

  it('(b) an expand that drops the old column refuses to start (CLI and lint, exit 2); allowBreaking lets it through and says why', async () => {
    const c = await setUp({ failHealth: true });
    const cliEnv = {
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: 'default',
      ROLLOUT_TASK_QUEUE: c.taskQueue,
    };
    const breaking = join(FIXTURES, 'breaking.yaml');
    const where = new RegExp(
      `${BREAKING_FILE.replace(/[./]/g, '\\$&')}:7\\b[^\\n]*DROP COLUMN[^\\n]*users\\.name`,
    );

    const start = await runCli(['start', 'canary', '-f', breaking], cliEnv);
    assert.equal(start.code, 2, `start: ${start.stdout}\n${start.stderr}`);
    assert.match(start.stderr, where, 'names the file, the line and the statement');
    assert.match(start.stderr, /old version/i, 'and says why: the old version breaks');
    assert.match(start.stderr, /allowBreaking/);
    await assert.rejects(
      env.client.workflow.getHandle(workflowIdForService('users-breaking')).describe(),
      WorkflowNotFoundError,
      'no workflow was started',
    );

    const lint = await runCli(['lint', '-f', breaking], cliEnv);
    assert.equal(lint.code, 2, `lint: ${lint.stdout}\n${lint.stderr}`);
    assert.match(`${lint.stdout}\n${lint.stderr}`, where);
    assert.deepEqual(await columns(c), ['id', 'name'], 'nothing ran');

    const allowedFile = join(FIXTURES, 'breaking-allowed.yaml');
    const allowedLint = await runCli(['lint', '-f', allowedFile], cliEnv);
    assert.equal(
      allowedLint.code,
      0,
      `lint with allowBreaking: ${allowedLint.stdout}\n${allowedLint.stderr}`,
    );
    assert.match(`${allowedLint.stdout}\n${allowedLint.stderr}`, where, 'the finding is still shown');

    // With the reason, the rollout starts; v2 fails its health check, so it ends before traffic.
    const worker = await createWorker(env, c.taskQueue);
    const spec = await canaryFixture('breaking-allowed.yaml', routing(c, 'users-breaking'));
    const handle = await startCanary(env.client, spec, c.taskQueue);
    const { state, outcome } = (await worker.runUntil(handle.result())) as RolloutResult;
    assert.equal(outcome, 'failed', explain(state));
    const allowed = state.decisions[indexOf(state, 'allowBreaking', isMigration('allowBreaking'))]!;
    assert.match(allowed.reason, /no v1 instance is left that reads users\.name \(test\)/);
    assert.match(allowed.reason, /DROP COLUMN/);
    assert.equal(
      (allowed.evidence as { allowBreaking?: string }).allowBreaking,
      spec.migrations?.allowBreaking,
    );
    assert.ok(
      state.decisions.indexOf(allowed) < indexOf(state, 'expand', isMigration('expand:')),
      'recorded before expand ran',
    );
    assert.deepEqual(
      await columns(c),
      ['id', 'full_name'],
      'the escape hatch really ran the breaking expand',
    );
    assert.deepEqual(await ledger(c), [{ name: BREAKING_FILE, step: 'expand', service: 'users-breaking' }]);
  });

  it('(c) the good path: expand, stages, promotion, stabilization, then after contractAfter contract drops name', async () => {
    const c = await setUp();
    const worker = await createWorker(env, c.taskQueue);
    const spec = await canaryFixture('canary.yaml', routing(c, 'users-good'));
    assert.equal(spec.migrations?.contractAfter, 3000);
    const handle = await startCanary(env.client, spec, c.taskQueue);
    let waiting: RolloutState | undefined;
    let columnsWhileWaiting: string[] = [];
    const result = (await worker.runUntil(async () => {
      waiting = await eventually(
        async () => {
          const s = await readState(env.client, 'users-good');
          return s.phase === 'awaiting-contract' && s;
        },
        90_000,
        'the contractAfter wait',
        50,
      );
      columnsWhileWaiting = await columns(c);
      return handle.result();
    })) as RolloutResult;
    const { state } = result;

    assert.equal(result.outcome, 'promoted', explain(state));
    assert.equal(waiting?.migration?.phase, 'awaiting-contract');
    const contractAt = Date.parse(waiting?.migration?.contractAt ?? '');
    assert.ok(Number.isFinite(contractAt), `contractAt is set: ${waiting?.migration?.contractAt}`);
    assert.deepEqual(columnsWhileWaiting, ['id', 'name', 'full_name'], 'name stays until contract runs');

    assert.deepEqual(await columns(c), ['id', 'full_name'], 'contract dropped name');
    assert.deepEqual(await ledger(c), [
      { name: EXPAND_FILE, step: 'expand', service: 'users-good' },
      { name: CONTRACT_FILE, step: 'contract', service: 'users-good' },
    ]);
    assert.equal(state.migration?.phase, 'contracted');
    assert.deepEqual(state.migration?.contract, { applied: [CONTRACT_FILE], skipped: [] });
    // v2 serves everyone from full_name, which expand backfilled.
    expectServedBy(await askEveryUser(), 'v2', 'full_name');

    const order = [
      indexOf(state, 'expand', isMigration('expand:')),
      deployIndex(state),
      indexOf(state, 'first traffic', (d) => d.kind === 'set-weight' && d.weight > 0),
      indexOf(state, 'promote', kind('promote')),
      indexOf(state, 'retire', kind('retire')),
      indexOf(state, 'contract', isMigration('contract:')),
    ];
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
      `expand < deploy < traffic < promote < retire < contract:\n${explain(state)}`,
    );
    const retired = state.decisions[order[4]!]!;
    const contracted = state.decisions[order[5]!]!;
    assert.ok(
      Date.parse(contracted.at) - Date.parse(retired.at) >= 2900,
      `contract waited contractAfter (3 s) after the retire: ${retired.at} → ${contracted.at}`,
    );
    assert.ok(Date.parse(contracted.at) >= contractAt - 100, 'and not before contractAt');
  });

  it('(d) an abort while waiting for the contract cancels it: the promotion stands, name stays', async () => {
    const c = await setUp();
    const worker = await createWorker(env, c.taskQueue);
    const spec = await canaryFixture('canary-slow-contract.yaml', routing(c, 'users-abort'));
    const handle = await startCanary(env.client, spec, c.taskQueue);
    let abortedAt = 0;
    const result = (await worker.runUntil(async () => {
      await eventually(
        async () => (await readState(env.client, 'users-abort')).phase === 'awaiting-contract',
        90_000,
        'the contractAfter wait',
        50,
      );
      await abortRollout(env.client, 'users-abort', 'keep name for the reporting job');
      abortedAt = Date.now();
      return handle.result();
    })) as RolloutResult;
    const { state } = result;

    assert.ok(Date.now() - abortedAt < 15_000, 'the 10 minute wait ended at the abort');
    assert.equal(result.outcome, 'promoted', `the promotion stands:\n${explain(state)}`);
    assert.equal(state.migration?.phase, 'contract-cancelled');
    assert.equal(state.migration?.contract, null);
    assert.match(
      state.decisions[indexOf(state, 'cancel', isMigration('contract cancelled'))]!.reason,
      /reporting job/,
    );
    assert.ok(!state.decisions.some(isMigration('contract:')), 'contract never ran');
    assert.deepEqual(await columns(c), ['id', 'name', 'full_name'], 'name is still there');
    assert.deepEqual(await ledger(c), [{ name: EXPAND_FILE, step: 'expand', service: 'users-abort' }]);
    expectServedBy(await askEveryUser(), 'v2', 'full_name');
  });

  it('(e) blue-green: expand runs before the switch, the good path promotes and contracts', async () => {
    const c = await setUp();
    const worker = await createWorker(env, c.taskQueue);
    const spec = await blueGreenFixture('blue-green.yaml', {
      environments: { blue: { targets: [c.v1.url] }, green: { targets: [c.v2.url] } },
      traffic: { provider: 'embedded', adminUrl: router.adminUrl },
    });
    const handle = await startBlueGreen(env.client, spec, c.taskQueue);
    const { state, outcome } = (await worker.runUntil(handle.result())) as RolloutResult;
    await c.users.stop();

    assert.equal(outcome, 'promoted', explain(state));
    const order = [
      indexOf(state, 'expand', isMigration('expand:')),
      deployIndex(state),
      indexOf(state, 'validation traffic', (d) => d.kind === 'set-weight' && d.weight > 0),
      indexOf(state, 'switch', (d) => d.kind === 'promote' && d.weight === 100),
      indexOf(state, 'retire', kind('retire')),
      indexOf(state, 'contract', isMigration('contract:')),
    ];
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
      `expand < deploy < validation < switch < retire < contract:\n${explain(state)}`,
    );
    assert.equal(state.migration?.phase, 'contracted');
    assert.deepEqual(await columns(c), ['id', 'full_name']);
    assert.deepEqual(
      (await ledger(c)).map((l) => l.name),
      [EXPAND_FILE, CONTRACT_FILE],
    );
    expectServedBy(await askEveryUser(), 'v2', 'full_name');
  });

  it('(f) a contract that fails leaves the promotion standing, and says so', async () => {
    const c = await setUp();
    const worker = await createWorker(env, c.taskQueue);
    const spec = await canaryFixture('canary-failing-contract.yaml', routing(c, 'users-bad-contract'));
    const handle = await startCanary(env.client, spec, c.taskQueue);
    const { state, outcome } = (await worker.runUntil(handle.result())) as RolloutResult;
    await c.users.stop();

    assert.equal(outcome, 'promoted', explain(state));
    assert.equal(state.migration?.phase, 'failed');
    const failed = state.decisions.find(isMigration('contract failed (the promotion stands)'));
    assert.ok(failed, explain(state));
    assert.match(failed.reason, /nickname/);
    assert.ok(indexOf(state, 'retire', kind('retire')) < state.decisions.indexOf(failed), explain(state));
    // The schema stays expanded, which both versions read; v2 serves everyone.
    assert.deepEqual(await columns(c), ['id', 'name', 'full_name']);
    assert.deepEqual(
      (await ledger(c)).map((l) => l.name),
      [EXPAND_FILE],
    );
    expectServedBy(await askEveryUser(), 'v2', 'full_name');
  });
});
