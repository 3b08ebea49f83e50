import { createHash } from 'node:crypto';
import { formatPath, SpecError, type SpecIssue } from '../spec/errors';
import type {
  EmbeddedMigrationsConfig,
  EmbeddedSqlFile,
  EmbeddedStep,
  MigrationsConfig,
  MigrationStep,
  MigrationStepName,
  WithEmbeddedMigrations,
} from '../spec/migrations';
import { readSqlFile } from './read-sql';

export type { WithEmbeddedMigrations };

/** A migration file is DDL and perhaps a small backfill; data loads belong in a command step. */
export const MAX_SQL_FILE_BYTES = 256 * 1024;
/**
 * All files of a spec together. They travel in the workflow input and in each migration activity's
 * input: Temporal warns at 512 KiB a payload and refuses 2 MiB, and JSON escaping grows SQL text.
 */
export const MAX_SQL_TOTAL_BYTES = 512 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decode(bytes: Buffer, name: string): string {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new Error(`${name} is not UTF-8 text`);
  }
  // The parser and the server both read SQL as a C string: text after a NUL would be run unlinted.
  if (text.includes('\0')) throw new Error(`${name} contains a NUL byte`);
  return text;
}

interface Budget {
  left: number;
}

function embedStep(
  step: MigrationStep,
  name: MigrationStepName,
  baseDir: string,
  budget: Budget,
  issues: SpecIssue[],
): EmbeddedStep {
  if (!('sql' in step)) return step;
  const files: EmbeddedSqlFile[] = [];
  step.sql.forEach((path, i) => {
    try {
      const bytes = readSqlFile(baseDir, path, MAX_SQL_FILE_BYTES);
      budget.left -= bytes.length;
      if (budget.left < 0)
        throw new Error(`the SQL files together are larger than ${MAX_SQL_TOTAL_BYTES} bytes`);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      files.push({ name: path, sql: decode(bytes, path), sha256 });
    } catch (err) {
      issues.push({ path: formatPath(['migrations', name, 'sql', i]), message: (err as Error).message });
    }
  });
  return { ...step, files };
}

/**
 * Reads every SQL file of the spec's migrations (paths relative to `baseDir`, the spec file's
 * folder) into the spec, with its sha256. The workflow input then carries the text itself: the
 * worker never reads user files, and runs exactly what was linted. Every unreadable, escaping or
 * oversized file is reported at once, each at its own field path.
 */
export function embedMigrations<S extends { migrations?: MigrationsConfig }>(
  spec: S,
  baseDir: string,
  source = baseDir,
): WithEmbeddedMigrations<S> {
  const { migrations } = spec;
  if (!migrations) return spec as WithEmbeddedMigrations<S>;
  const budget = { left: MAX_SQL_TOTAL_BYTES };
  const issues: SpecIssue[] = [];
  const { contract, ...rest } = migrations;
  const embedded: EmbeddedMigrationsConfig = {
    ...rest,
    expand: embedStep(migrations.expand, 'expand', baseDir, budget, issues),
    ...(contract ? { contract: embedStep(contract, 'contract', baseDir, budget, issues) } : {}),
  };
  if (issues.length > 0) throw new SpecError(source, issues);
  return { ...spec, migrations: embedded };
}
