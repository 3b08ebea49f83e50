import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import Fastify from 'fastify';
import pg from 'pg';
import { issuesFromZod } from '../spec/errors';
import { VERSION_PATTERN } from '../spec/patterns';
import { applyFaults, DEFAULT_FAULTS, type Faults, faultsPatchSchema } from './faults';
import { createServiceMetrics } from './metrics';
import { SERVICE_VERSION_HEADER, type DemoServiceHandle } from './service';

/** The worker env var (and the deployed process's) that holds the users database URL. */
export const USERS_DATABASE_URL_ENV = 'USERS_DATABASE_URL';

/**
 * The column a version reads the user's name from. v1 is the old code (`name`); v2 needs the
 * column the expand migration adds (`full_name`), and cannot serve before it exists.
 */
export type NameColumn = 'name' | 'full_name';

export function nameColumnFor(version: string): NameColumn {
  return version === 'v1' ? 'name' : 'full_name';
}

// Fixed texts, one per column: no identifier is ever built from input.
const QUERIES: Record<NameColumn, { user: string; smoke: string; probe: string }> = {
  name: {
    user: 'SELECT id, name AS value FROM users WHERE id = $1',
    smoke: 'SELECT id, name AS value FROM users ORDER BY id LIMIT 1',
    probe: 'SELECT name FROM users LIMIT 0',
  },
  full_name: {
    user: 'SELECT id, full_name AS value FROM users WHERE id = $1',
    smoke: 'SELECT id, full_name AS value FROM users ORDER BY id LIMIT 1',
    probe: 'SELECT full_name FROM users LIMIT 0',
  },
};

const USER_ID = /^[1-9]\d{0,15}$/;

/** The users both versions serve: v1 from `name`, v2 from `full_name` once expand backfilled it. */
export const SEED_USERS: readonly { id: number; name: string }[] = Object.freeze([
  { id: 1, name: 'Ada Lovelace' },
  { id: 2, name: 'Alan Turing' },
  { id: 3, name: 'Grace Hopper' },
  { id: 4, name: 'Edsger Dijkstra' },
  { id: 5, name: 'Barbara Liskov' },
  { id: 6, name: 'Donald Knuth' },
  { id: 7, name: 'Frances Allen' },
  { id: 8, name: 'Ken Thompson' },
]);

/** Creates v1's schema, users(id, name), with SEED_USERS in it (what v1 was deployed on). */
export async function seedUsers(query: (sql: string, params?: unknown[]) => Promise<unknown>): Promise<void> {
  await query('CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL)');
  await query('INSERT INTO users (id, name) SELECT * FROM unnest($1::bigint[], $2::text[])', [
    SEED_USERS.map((u) => u.id),
    SEED_USERS.map((u) => u.name),
  ]);
}

export interface UsersServiceOptions {
  version: string;
  databaseUrl: string;
  /** Which column this version's code reads; by default v1 reads `name`, later versions `full_name`. */
  column?: NameColumn;
  port?: number;
  host?: string;
  faults?: Partial<Faults>;
}

export interface UsersServiceHandle extends DemoServiceHandle {
  column: NameColumn;
}

/** What GET /users/:id answers. */
export interface UserAnswer {
  id: number;
  name: string;
  /** The column the name was read from: which schema this version's code depends on. */
  column: NameColumn;
  version: string;
}

/**
 * A small real application on PostgreSQL: GET /users/:id answers the user's name, read from the
 * column this version's code knows. Health and smoke checks prove that column exists, so a v2
 * deployed before its expand migration is unhealthy, and a v1 after a destructive migration too.
 * Faults (error rate, latency) apply to GET /users/:id, as in the demo service.
 */
export async function startUsersService(opts: UsersServiceOptions): Promise<UsersServiceHandle> {
  const { version } = opts;
  if (!VERSION_PATTERN.test(version)) {
    throw new Error(`invalid version ${JSON.stringify(version)}: must match ${VERSION_PATTERN.source}`);
  }
  const column = opts.column ?? nameColumnFor(version);
  const queries = QUERIES[column];
  let faults = applyFaults(DEFAULT_FAULTS, faultsPatchSchema.parse(opts.faults ?? {}));
  const pool = new pg.Pool({
    connectionString: opts.databaseUrl,
    max: 8,
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 10_000,
  });
  // An idle client that loses its server (a restart, a test that stops the database) must not crash.
  pool.on('error', () => undefined);
  const shutdown = new AbortController();

  const app = Fastify({ logger: false });
  const metrics = createServiceMetrics(version);
  app.addHook('onRequest', async (_request, reply) => {
    void reply.header(SERVICE_VERSION_HEADER, version);
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.observe(request.url.split('?', 1)[0] as string, reply.statusCode, reply.elapsedTime / 1000);
  });
  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
    shutdown.abort();
  });
  app.addHook('onSend', async (_request, reply) => {
    if (draining) void reply.header('connection', 'close');
  });

  const schemaError = async (sql: string): Promise<string | null> =>
    pool.query(sql).then(
      () => null,
      (err: unknown) => (err as Error).message,
    );

  app.get('/metrics', async (_request, reply) =>
    reply.header('content-type', metrics.contentType).send(await metrics.render()),
  );

  app.get('/healthz', async (_request, reply) => {
    if (faults.failHealth) return reply.code(503).send({ status: 'failing', version });
    const error = await schemaError(queries.probe);
    return error
      ? reply.code(503).send({ status: 'database', version, column, error })
      : reply.send({ status: 'ok', version, column });
  });

  app.get('/smoke', async (_request, reply) => {
    if (faults.failSmoke) return reply.code(500).send({ ok: false });
    try {
      const { rows } = await pool.query<{ id: number; value: string | null }>(queries.smoke);
      const first = rows[0];
      // A user whose name this version cannot read (a backfill that did not run) fails the smoke test.
      if (first && first.value === null) return reply.code(500).send({ ok: false, error: `no ${column}` });
      return reply.send({ ok: true, version, column });
    } catch (err) {
      return reply.code(500).send({ ok: false, error: (err as Error).message });
    }
  });

  app.get('/__faults', async () => faults);
  app.post('/__faults', async (request, reply) => {
    const parsed = faultsPatchSchema.safeParse(request.body ?? {});
    if (!parsed.success) {
      return reply.code(400).send({ error: 'invalid faults', issues: issuesFromZod(parsed.error) });
    }
    faults = applyFaults(faults, parsed.data);
    return faults;
  });

  app.get<{ Params: { id: string } }>('/users/:id', async (request, reply) => {
    const { errorRate, latencyMs } = faults;
    if (latencyMs > 0) {
      try {
        await delay(latencyMs, undefined, { signal: shutdown.signal });
      } catch {
        return reply.code(503).send({ error: 'shutting down', version });
      }
    }
    if (Math.random() < errorRate) return reply.code(500).send({ error: 'injected fault', version });
    if (!USER_ID.test(request.params.id))
      return reply.code(400).send({ error: 'id must be a positive integer' });
    let rows: { id: string | number; value: string | null }[];
    try {
      ({ rows } = await pool.query<{ id: string | number; value: string | null }>(queries.user, [
        request.params.id,
      ]));
    } catch (err) {
      // The column this code reads is gone, or the database is down: the old code is broken.
      return reply.code(500).send({ error: 'database error', detail: (err as Error).message, version });
    }
    const row = rows[0];
    if (!row) return reply.code(404).send({ error: 'no such user', version });
    if (row.value === null) return reply.code(500).send({ error: `user has no ${column}`, version });
    const answer: UserAnswer = { id: Number(row.id), name: row.value, column, version };
    return reply.send(answer);
  });

  await app.listen({ port: opts.port ?? 0, host: opts.host ?? '127.0.0.1' });
  const address = app.server.address() as AddressInfo;
  const wildcard = address.address === '0.0.0.0' || address.address === '::';
  const host = wildcard ? '127.0.0.1' : address.address;

  let closing: Promise<void> | null = null;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    version,
    column,
    setFaults(patch) {
      faults = applyFaults(faults, faultsPatchSchema.parse(patch));
    },
    close() {
      closing ??= app.close().finally(() => pool.end().catch(() => undefined));
      return closing;
    },
  };
}
