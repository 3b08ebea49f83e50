import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, chownSync, constants, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { freePort } from '../../devserver/free-port';

const DEBIAN_ROOT = '/usr/lib/postgresql';

const INSTALL_HINT =
  'PostgreSQL is required (migration tests, `npm run demo -- --scenario migration`) and was not found. ' +
  'Install it with `apt-get install -y postgresql` (Debian/Ubuntu; the server binaries are under ' +
  '/usr/lib/postgresql/<major>/bin, not on PATH), or set POSTGRES_BIN_DIR to a directory holding ' +
  'initdb and postgres.';

/** POSTGRES_BIN_DIR, else Debian's newest /usr/lib/postgresql/<major>/bin; throws with install instructions. */
export function findPostgresBinDir(): string {
  const candidates: string[] = [];
  if (process.env.POSTGRES_BIN_DIR) candidates.push(process.env.POSTGRES_BIN_DIR);
  else {
    let majors: string[] = [];
    try {
      majors = readdirSync(DEBIAN_ROOT).filter((name) => /^\d+$/.test(name));
    } catch {
      // not installed
    }
    majors.sort((a, b) => Number(b) - Number(a));
    candidates.push(...majors.map((major) => path.join(DEBIAN_ROOT, major, 'bin')));
  }
  for (const dir of candidates) {
    try {
      accessSync(path.join(dir, 'initdb'), constants.X_OK);
      accessSync(path.join(dir, 'postgres'), constants.X_OK);
      return dir;
    } catch {
      // keep looking
    }
  }
  throw new Error(INSTALL_HINT);
}

const INSTALL_SCRIPT = path.resolve(__dirname, '..', '..', '..', 'scripts', 'install-system-deps.sh');

/**
 * The demo sets up what it needs: as root on a Debian machine, a missing PostgreSQL is installed
 * once (only that package, through the project's install script); elsewhere the error says how.
 */
export function ensurePostgresInstalled(log: (line: string) => void): string {
  try {
    return findPostgresBinDir();
  } catch (err) {
    if (process.getuid?.() !== 0 || spawnSync('apt-get', ['--version']).status !== 0) throw err;
    log('PostgreSQL is not installed: installing it with apt (once, about a minute)');
    const run = spawnSync('bash', [INSTALL_SCRIPT, 'postgresql'], { stdio: 'inherit' });
    if (run.status !== 0) {
      throw new Error(`installing PostgreSQL failed (exit ${run.status}): ${INSTALL_HINT}`, { cause: err });
    }
    return findPostgresBinDir();
  }
}

/** Who the server runs as: PostgreSQL refuses to run as root, so as root it runs as `postgres`. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string): number => {
    const run = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
    const value = Number(run.stdout.trim());
    if (run.status !== 0 || !Number.isInteger(value)) {
      throw new Error(`running as root, PostgreSQL needs the "postgres" OS user, which was not found`);
    }
    return value;
  };
  return { uid: id('-u'), gid: id('-g') };
}

/** One statement on a fresh connection, for set-up and assertions. */
export type QueryFn = <R extends pg.QueryResultRow = Record<string, unknown>>(
  sql: string,
  params?: unknown[],
) => Promise<R[]>;

export interface PostgresDatabase {
  /** postgres://postgres@127.0.0.1:<port>/<name> (trust auth on loopback: no password). */
  url: string;
  query: QueryFn;
}

/** The server; its own url and query are those of its `app` database. */
export interface PostgresHandle extends PostgresDatabase {
  port: number;
  /** A new, empty database on this server (a test's own schema and ledger). */
  createDatabase(name: string): Promise<PostgresDatabase>;
  /** The last lines the server logged, for failure messages. */
  logs(): string;
  /** Fast shutdown (SIGINT: sessions are cut), SIGKILL after 10 s; the data directory is removed. */
  stop(): Promise<void>;
}

/**
 * A real PostgreSQL on a free loopback port, with its own cluster in a temp dir (initdb, trust auth,
 * fsync off: test data need not survive a power cut) and an empty `app` database. Nothing listens
 * beyond 127.0.0.1. stop() removes it all; so does the calling process exiting.
 */
export async function startPostgres(): Promise<PostgresHandle> {
  const bin = findPostgresBinDir();
  const user = serverUser();
  const dir = mkdtempSync(path.join(tmpdir(), 'durable-rollouts-postgres-'));
  const dataDir = path.join(dir, 'data');
  if (user) chownSync(dir, user.uid, user.gid);
  const asServer = { ...(user ?? {}), env: { PATH: process.env.PATH ?? '', LC_ALL: 'C' }, cwd: dir };

  const init = spawnSync(
    path.join(bin, 'initdb'),
    ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
    { ...asServer, encoding: 'utf8' },
  );
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status ?? init.signal}):\n${init.stderr || init.stdout}`);
  }

  const log: string[] = [];
  const remember = (chunk: Buffer): void => {
    log.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (log.length > 200) log.splice(0, log.length - 200);
  };

  let child: ChildProcess | undefined;
  let port = 0;
  // A free port can be taken between asking and binding; try a few.
  for (let attempt = 1; attempt <= 3 && !child; attempt++) {
    port = await freePort();
    const candidate = spawn(
      path.join(bin, 'postgres'),
      [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=50',
      ],
      { ...asServer, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    candidate.stdout?.on('data', remember);
    candidate.stderr?.on('data', remember);
    candidate.once('error', (err) => remember(Buffer.from(String(err))));
    if (await waitForReady(port, candidate, 30_000)) child = candidate;
    else if (!log.some((line) => line.includes('already in use'))) break;
  }
  if (!child) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL (${bin}/postgres) did not become ready:\n${log.slice(-30).join('\n')}`);
  }

  const running = child;
  const killOnExit = (): void => {
    running.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  const urlOf = (database: string): string => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const createDatabase = async (name: string): Promise<PostgresDatabase> => {
    if (!DATABASE_NAME.test(name)) throw new Error(`invalid database name ${JSON.stringify(name)}`);
    await queryOn(urlOf('postgres'))(`CREATE DATABASE ${name}`);
    return { url: urlOf(name), query: queryOn(urlOf(name)) };
  };
  let stopping: Promise<void> | undefined;
  let app: PostgresDatabase;
  try {
    app = await createDatabase(APP_DATABASE);
  } catch (err) {
    killOnExit();
    process.removeListener('exit', killOnExit);
    throw err;
  }

  return {
    ...app,
    port,
    createDatabase,
    logs: () => log.join('\n'),
    stop() {
      stopping ??= (async () => {
        process.removeListener('exit', killOnExit);
        if (running.exitCode === null && running.signalCode === null) {
          const exited = once(running, 'exit');
          running.kill('SIGINT');
          const timer = setTimeout(() => running.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        }
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

const APP_DATABASE = 'app';

/** Lower-case letters, digits and "_": a name that needs no quoting, never built from other input. */
const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function queryOn(url: string): QueryFn {
  return async (sql, params) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows;
    } finally {
      await client.end();
    }
  };
}

/** Connects until a query answers; false if the process exits or the time runs out (then it is killed). */
async function waitForReady(port: number, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    const client = new pg.Client({
      host: '127.0.0.1',
      port,
      user: 'postgres',
      database: 'postgres',
      connectionTimeoutMillis: 1000,
    });
    // A refused connection is reported through connect(); the event must not crash the caller.
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return true;
    } catch {
      await client.end().catch(() => undefined);
    }
    await sleep(100);
  }
  child.kill('SIGKILL');
  return false;
}
