import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../src/devserver/free-port';

export interface Postgres {
  /** postgres://postgres@127.0.0.1:<port>/app, trust auth: any password in a URL is accepted. */
  url: string;
  port: number;
  /** Runs SQL on the app database over a fresh connection, returning the rows. */
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
  ): Promise<R[]>;
  stop(): Promise<void>;
}

const DATABASE = 'app';

/** Debian installs each major version under /usr/lib/postgresql/<n>/bin, off PATH; the newest wins. */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((v) => join(root, v, 'bin')).find((dir) => existsSync(join(dir, 'initdb')));
  if (!found)
    throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql/*/bin (apt install postgresql)');
  return found;
}

const asRoot = process.getuid?.() === 0;

/** PostgreSQL refuses to run as root: as root, every binary runs as the postgres OS user. */
function argv(bin: string, args: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

function postgresIds(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

async function waitUntilReady(url: string, server: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`postgres exited (${server.exitCode}): ${log()}`);
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.end();
      return;
    } catch (err) {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline)
        throw new Error(`postgres did not accept connections: ${(err as Error).message}: ${log()}`, {
          cause: err,
        });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * A throwaway PostgreSQL on loopback: a fresh cluster in a temp dir, a free port, trust auth, an
 * `app` database. stop() kills it and removes the dir; so does the test process exiting.
 */
export async function startPostgres(): Promise<Postgres> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'durable-rollouts-pg-'));
  const data = join(dir, 'data');
  if (asRoot) {
    const { uid, gid } = postgresIds();
    chownSync(dir, uid, gid);
  }
  const [initdb, initArgs] = argv(join(bin, 'initdb'), [
    '-D',
    data,
    '-A',
    'trust',
    '-U',
    'postgres',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  execFileSync(initdb, initArgs, { stdio: 'pipe' });

  const port = await freePort();
  const [postgres, args] = argv(join(bin, 'postgres'), [
    '-D',
    data,
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-k',
    dir,
    // A test cluster: durability buys nothing and costs seconds.
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
  ]);
  const server = spawn(postgres, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  server.stdout?.on('data', keep);
  server.stderr?.on('data', keep);

  // runuser does not pass every signal on: the postmaster's own pid is in its pid file.
  const postmasterPid = (): number | undefined => {
    try {
      return Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    } catch {
      return undefined;
    }
  };
  const kill = (signal: NodeJS.Signals, both = false) => {
    for (const pid of both ? [postmasterPid(), server.pid] : [postmasterPid() ?? server.pid]) {
      try {
        if (pid) process.kill(pid, signal);
      } catch {
        // Already gone.
      }
    }
  };
  const onExit = () => {
    kill('SIGKILL', true);
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const url = `postgres://postgres@127.0.0.1:${port}/${DATABASE}`;
  try {
    await waitUntilReady(adminUrl, server, () => output);
    const admin = new Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${DATABASE}`);
    await admin.end();
  } catch (err) {
    onExit();
    process.removeListener('exit', onExit);
    throw err;
  }

  return {
    url,
    port,
    async query<R extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query<R>(sql, params)).rows;
      } finally {
        await client.end();
      }
    },
    async stop() {
      process.removeListener('exit', onExit);
      // SIGQUIT: immediate shutdown, no checkpoint; the cluster is thrown away anyway.
      kill('SIGQUIT');
      if (server.exitCode === null && server.signalCode === null) {
        const exited = new Promise((resolve) => server.once('exit', resolve));
        const timeout = setTimeout(() => kill('SIGKILL', true), 5000);
        await exited;
        clearTimeout(timeout);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
