import { resolve } from 'node:path';
import { startCanary } from '../client/rollouts';
import { freePort } from '../devserver/free-port';
import { embedMigrations } from '../migrations/embed';
import { formatFindings, lintMigrations } from '../migrations/lint';
import { LEDGER_TABLE } from '../migrations/sql-runner';
import { COMMAND_ENV_ALLOW } from '../providers/child-env';
import { ProcessDeployer } from '../providers/deploy/process';
import type { CanarySpec } from '../spec/canary';
import type { DeployConfig } from '../spec/deploy';
import { SpecError } from '../spec/errors';
import { parseCanarySpec } from '../spec/load';
import type { MigrationsConfig } from '../spec/migrations';
import { ensurePostgresInstalled, type PostgresHandle, startPostgres } from './local/postgres';
import type { Scenario, ScenarioContext } from './scenarios';
import { SERVICE_VERSION_HEADER } from './service';
import { SEED_USERS, seedUsers, type UserAnswer, USERS_DATABASE_URL_ENV } from './users-service';

const USERS_MAIN = resolve(__dirname, 'users-service-main.ts');
const SERVICE = 'users';
// SQL paths are relative to this folder, as a spec file's are to the spec's.
const SPEC_DIR = __dirname;
const JSON_WRITE = { 'content-type': 'application/json' };

/** The worker deploys each users version as a real local process; the database URL is the worker's. */
function usersDeploy(env: Record<string, string>): Extract<DeployConfig, { provider: 'process' }> {
  return {
    provider: 'process',
    command: process.execPath,
    args: ['--import', 'tsx', USERS_MAIN],
    env,
    readyTimeout: 30_000,
  };
}

function usersSpec(
  ctx: ScenarioContext,
  v1Url: string,
  migrations: Record<string, unknown>,
  source: string,
): CanarySpec {
  return parseCanarySpec(
    {
      service: SERVICE,
      stable: { version: 'v1', targets: [v1Url] },
      canary: { version: 'v2', targets: [ctx.newUrl] },
      stages: [10, 25, 50, 100],
      monitoring: { window: '10s', interval: '1s', minCanaryRequests: 20, maxWindow: '20s' },
      healthCheck: { path: '/healthz', retries: 10, interval: '500ms' },
      smokeTests: [
        { name: 'users answer from the column this version reads', path: '/smoke', bodyContains: 'true' },
      ],
      traffic: { provider: 'embedded', adminUrl: ctx.routerAdminUrl },
      // v2 needs full_name, and answers 30% of requests with 500: the canary must roll back.
      deploy: usersDeploy({ FAULT_ERROR_RATE: '0.3' }),
      promotion: { stabilizationDelay: '5s' },
      migrations: { database: { urlEnv: USERS_DATABASE_URL_ENV }, ...migrations },
    },
    source,
  );
}

/** The one-way door of the seed: v2's schema change in one step, which leaves v1 nothing to read. */
const BREAKING: Partial<MigrationsConfig> = { expand: { sql: ['migrations/broken/001_replace_name.sql'] } };

/** The same change as expand (add and backfill full_name) and contract (drop name, after promotion). */
const GUARDED: Partial<MigrationsConfig> = {
  expand: { sql: ['migrations/001_add_full_name.sql'] },
  contract: { sql: ['migrations/002_drop_name.sql'] },
  contractAfter: 3_600_000,
};

async function putLive(ctx: ScenarioContext, url: string): Promise<void> {
  const response = await fetch(`${ctx.routerAdminUrl}/admin/split`, {
    method: 'PUT',
    headers: JSON_WRITE,
    body: JSON.stringify({ stable: { version: 'v1', targets: [url] }, canary: null, canaryWeight: 0 }),
  });
  if (!response.ok) throw new Error(`router refused the users v1 split: ${response.status}`);
}

/** Every seeded user, asked for through the router: who answered, and with which name. */
async function askEveryUser(routerUrl: string): Promise<{ wrong: string[]; answered: number }> {
  const wrong: string[] = [];
  for (const user of SEED_USERS) {
    const response = await fetch(`${routerUrl}/users/${user.id}`, { signal: AbortSignal.timeout(5000) });
    const version = response.headers.get(SERVICE_VERSION_HEADER);
    const body = (await response.json().catch(() => null)) as Partial<UserAnswer> | null;
    if (response.status !== 200 || version !== 'v1' || body?.name !== user.name) {
      wrong.push(`/users/${user.id}: ${response.status} from ${version ?? '?'} ${JSON.stringify(body)}`);
    }
  }
  return { wrong, answered: SEED_USERS.length - wrong.length };
}

/**
 * The seed's worst failure, "we have a rollback button but it doesn't work", made impossible. First
 * the one-way door (an expand that drops users.name) is refused by lint, before anything runs.
 * Then the same change split into expand and contract: expand adds and backfills full_name, v2 is
 * bad and rolls back, and v1 still answers every user through the router, because nothing it reads
 * is gone (the contract never runs after a rollback).
 */
export function migrationScenario(): Scenario {
  let db: PostgresHandle | undefined;
  const database = (): PostgresHandle => {
    if (!db) throw new Error('the migration scenario was not prepared (no PostgreSQL)');
    return db;
  };
  return {
    name: 'migration',
    strategy: 'canary',
    description:
      'v2 needs a new column: a destructive expand is refused by lint; the guarded expand runs, the bad canary rolls back, and v1 still serves every user',
    expected: 'rolled_back',
    embeddedOnly: true,
    trafficPath: `/users/${SEED_USERS[0]?.id ?? 1}`,
    async prepare(log) {
      ensurePostgresInstalled(log);
      db = await startPostgres();
      await seedUsers((sql, params) => database().query(sql, params));
      log(`PostgreSQL ${db.url}: users(id, name) with ${SEED_USERS.length} users`);
      const allowed = [process.env[COMMAND_ENV_ALLOW], USERS_DATABASE_URL_ENV].filter(Boolean).join(',');
      // The worker reads the URL for its migrations, and lets it through to the users processes it
      // deploys: the spec names the variable, never the URL.
      return {
        env: { [USERS_DATABASE_URL_ENV]: db.url, [COMMAND_ENV_ALLOW]: allowed },
        close: () => database().stop(),
      };
    },
    async start(ctx) {
      if (ctx.loadBalancer) throw new Error('the migration scenario runs on the embedded router only');
      const v1Url = `http://127.0.0.1:${await freePort()}`;

      ctx.log('  1. the one-way door: an expand that drops users.name, shipped with v2');
      const breaking = embedMigrations(
        usersSpec(ctx, v1Url, BREAKING, 'demo scenario migration (one step)'),
        SPEC_DIR,
        'demo scenario migration (one step)',
      );
      const findings = breaking.migrations ? await lintMigrations(breaking.migrations) : [];
      for (const line of formatFindings(findings).split('\n')) ctx.log(`     lint: ${line}`);
      try {
        await startCanary(ctx.client, breaking, ctx.taskQueue);
        throw new Error('a breaking expand without allowBreaking was started');
      } catch (err) {
        if (!(err instanceof SpecError)) throw err;
        ctx.log(`     refused before anything ran (${findings.length} finding(s)); nothing was started`);
      }

      ctx.log('  2. expand/contract: add and backfill full_name first; drop name only after promotion');
      await new ProcessDeployer(usersDeploy({})).deploy(
        { service: SERVICE, version: 'v1', targets: [v1Url] },
        () => undefined,
      );
      await putLive(ctx, v1Url);
      ctx.log(`     users v1 (reads users.name): ${v1Url}, 100% of traffic`);
      return startCanary(
        ctx.client,
        embedMigrations(usersSpec(ctx, v1Url, GUARDED, 'demo scenario migration'), SPEC_DIR),
        ctx.taskQueue,
      );
    },
    async finish(result, ctx) {
      const { wrong, answered } = await askEveryUser(ctx.routerUrl);
      const columns = await database().query<{ column_name: string }>(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'users' ORDER BY ordinal_position",
      );
      const ledger = await database().query<{ name: string; step: string }>(
        `SELECT name, step FROM ${LEDGER_TABLE} ORDER BY applied_at`,
      );
      ctx.log(
        `  after the rollout (${result.outcome}): ${answered}/${SEED_USERS.length} users answered by v1 ` +
          `through the router with the right name; users columns: ${columns.map((c) => c.column_name).join(', ')}; ` +
          `ledger: ${ledger.map((l) => `${l.name} (${l.step})`).join(', ') || 'empty'}; ` +
          `migration phase: ${result.state.migration?.phase ?? 'none'}`,
      );
      if (wrong.length > 0)
        throw new Error(`v1 does not serve every user after the rollback: ${wrong.join('; ')}`);
      if (!columns.some((c) => c.column_name === 'name')) throw new Error('users.name is gone: v1 is broken');
    },
  };
}
