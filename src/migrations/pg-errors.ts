import { ConfigurationError, TransientError } from '../providers/errors';
import { redact, secretForms } from '../providers/redact';
import { lineOfCharacter } from './sql-position';

/**
 * SQLSTATE classes and codes worth a retry: the connection, a deadlock or serialization failure,
 * a lock or statement timeout, a server shutting down or out of resources. Anything else (a syntax
 * error, a missing table, a violated constraint) fails the same way every time.
 */
const TRANSIENT_CLASSES = ['08', '40', '53', '57'];
const TRANSIENT_CODES = new Set(['55P03']);
/** Authentication and a missing database: the URL is wrong, and a retry will not change it. */
const PERMANENT_CONNECT_CLASSES = ['28', '3D'];

interface PgErrorFields {
  code?: string;
  position?: string;
}

function sqlState(err: unknown): string | undefined {
  const code = (err as PgErrorFields | undefined)?.code;
  // Node's own errors carry codes too (ECONNREFUSED); a SQLSTATE is five characters, digits first.
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

function isTransient(code: string | undefined): boolean {
  if (code === undefined) return true;
  return TRANSIENT_CODES.has(code) || TRANSIENT_CLASSES.includes(code.slice(0, 2));
}

/** The message without the URL, its password, user, host path or query, in any form. */
export function redactUrl(text: string, url: string): string {
  return redact(text, secretForms(url));
}

/**
 * A failure outside a file's own SQL: connecting, locking, the ledger, COMMIT. `urlEnv` names where
 * the URL came from; the URL itself never appears.
 */
export function databaseError(err: unknown, doing: string, urlEnv: string, url: string): Error {
  const code = sqlState(err);
  const message = redactUrl(
    `cannot ${doing} (database in ${urlEnv}): ${(err as Error).message}${code ? ` (SQLSTATE ${code})` : ''}`,
    url,
  );
  if (code && PERMANENT_CONNECT_CLASSES.includes(code.slice(0, 2))) return new ConfigurationError(message);
  return new TransientError(message);
}

/** A statement of a file failed: the file, the line in it, PostgreSQL's message and code. */
export function fileError(err: unknown, file: { name: string; sql: string }, url: string): Error {
  const code = sqlState(err);
  const position = Number((err as PgErrorFields | undefined)?.position);
  const where =
    Number.isInteger(position) && position > 0 ? `:${lineOfCharacter(file.sql, position - 1)}` : '';
  const hint =
    code === '25001'
      ? '; each file runs in one transaction, so run statements like CREATE INDEX CONCURRENTLY from a command step'
      : '';
  const message = redactUrl(
    `migration ${file.name}${where} failed and was rolled back: ${(err as Error).message}` +
      `${code ? ` (SQLSTATE ${code})` : ''}${hint}`,
    url,
  );
  return isTransient(code) ? new TransientError(message) : new ConfigurationError(message);
}
