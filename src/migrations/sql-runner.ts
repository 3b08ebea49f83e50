import { Client } from 'pg';
import { ConfigurationError, TransientError } from '../providers/errors';
import type { EmbeddedSqlFile, MigrationStepName } from '../spec/migrations';
import { databaseError, fileError } from './pg-errors';
import { transactionControlIn } from './transaction-control';

export const LEDGER_TABLE = 'durable_rollouts_migrations';

/**
 * One key for every runner on any worker: files apply one at a time per database, so two attempts
 * of the same step (a retry racing a worker that was only slow) never both see "not applied".
 * The value is arbitrary but fixed ("durroll" in ASCII); changing it would let old and new workers
 * run side by side.
 */
export const ADVISORY_LOCK_KEY = 0x6475_7272_6f6c_6cn;

const CREATE_LEDGER = `CREATE TABLE IF NOT EXISTS ${LEDGER_TABLE} (
  name text PRIMARY KEY,
  sha256 text NOT NULL,
  step text NOT NULL,
  service text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

export interface SqlRun {
  service: string;
  step: MigrationStepName;
  files: EmbeddedSqlFile[];
  url: string;
  /** The env var the URL came from, for messages that must not quote the URL. */
  urlEnv: string;
  connectTimeoutMs?: number;
  onFile?: (file: string, index: number) => void;
  signal?: AbortSignal;
}

export interface SqlRunResult {
  applied: string[];
  skipped: string[];
}

async function inTransaction<T>(client: Client, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCK_KEY.toString()]);
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    // A broken connection cannot roll back, and needs not: the server drops the transaction.
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * Applies one file exactly once: under the lock, the ledger says whether it ran; if not, its SQL
 * and its ledger row commit together. A crash anywhere before COMMIT leaves neither.
 */
async function applyFile(client: Client, run: SqlRun, file: EmbeddedSqlFile): Promise<'applied' | 'skipped'> {
  return inTransaction(client, async () => {
    const { rows } = await client.query<{ sha256: string; service: string; step: string }>(
      `SELECT sha256, service, step FROM ${LEDGER_TABLE} WHERE name = $1`,
      [file.name],
    );
    const done = rows[0];
    if (done && done.sha256 === file.sha256) return 'skipped';
    if (done) {
      throw new ConfigurationError(
        `migration ${file.name} was applied (by ${done.service}, ${done.step}) with sha256 ${done.sha256.slice(0, 12)}…, ` +
          `but its content is now ${file.sha256.slice(0, 12)}…: an applied file must never change; add a new file instead`,
      );
    }
    try {
      // No parameters: pg uses the simple query protocol, which runs every statement of the file.
      await client.query(file.sql);
    } catch (err) {
      throw fileError(err, file, run.url);
    }
    await client.query(`INSERT INTO ${LEDGER_TABLE} (name, sha256, step, service) VALUES ($1, $2, $3, $4)`, [
      file.name,
      file.sha256,
      run.step,
      run.service,
    ]);
    return 'applied';
  });
}

async function connect(run: SqlRun): Promise<Client> {
  const client = new Client({
    connectionString: run.url,
    connectionTimeoutMillis: run.connectTimeoutMs ?? 10_000,
    application_name: `durable-rollouts ${run.service} ${run.step}`,
  });
  // A connection lost between queries is reported here; the next query then fails and says so.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    throw databaseError(err, 'connect', run.urlEnv, run.url);
  }
  return client;
}

/** Runs a step's files in order, each in its own transaction; stops at the first failure. */
export async function runSqlFiles(run: SqlRun): Promise<SqlRunResult> {
  for (const file of run.files) {
    const problem = await transactionControlIn(file.name, file.sql);
    if (problem) throw new ConfigurationError(problem);
  }
  const client = await connect(run);
  // Cancelling the activity closes the connection: the server rolls the open transaction back.
  const abort = () => void client.end().catch(() => undefined);
  run.signal?.addEventListener('abort', abort, { once: true });
  const result: SqlRunResult = { applied: [], skipped: [] };
  try {
    await inTransaction(client, () => client.query(CREATE_LEDGER)).catch((err: unknown) => {
      throw databaseError(err, `create the ledger table ${LEDGER_TABLE}`, run.urlEnv, run.url);
    });
    for (const [index, file] of run.files.entries()) {
      run.onFile?.(file.name, index);
      const outcome = await applyFile(client, run, file).catch((err: unknown) => {
        // Ours are classified and redacted already; anything else failed around the file's SQL.
        if (err instanceof ConfigurationError || err instanceof TransientError) throw err;
        throw databaseError(err, `record ${file.name} in the ledger`, run.urlEnv, run.url);
      });
      result[outcome].push(file.name);
    }
    return result;
  } finally {
    run.signal?.removeEventListener('abort', abort);
    await client.end().catch(() => undefined);
  }
}
