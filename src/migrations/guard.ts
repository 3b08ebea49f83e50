import { dirname } from 'node:path';
import { formatPath, SpecError, type SpecIssue } from '../spec/errors';
import type { EmbeddedMigrationsConfig, MigrationsConfig } from '../spec/migrations';
import { embedMigrations } from './embed';
import { assertEmbedded, NotEmbeddedError } from './embedded';
import { formatFindings, lintMigrations, type LintFinding } from './lint';
import { transactionControlIn } from './transaction-control';

type MigrationsOf = { migrations?: MigrationsConfig | EmbeddedMigrationsConfig };

function refusal(source: string, findings: LintFinding[]): SpecError {
  const issues: SpecIssue[] = findings.map((finding) => ({
    path: formatPath(['migrations', 'expand']),
    message: formatFindings([finding]),
  }));
  issues.push({
    path: formatPath(['migrations', 'allowBreaking']),
    message:
      'not set, so the rollout is refused: expand must leave the old version working (move the ' +
      'statements to contract), or say why not with allowBreaking: "<reason>"',
  });
  return new SpecError(source, issues);
}

/**
 * Refuses files the runner would refuse whatever allowBreaking says: a statement that ends the
 * file's transaction would break its exactly-once.
 */
export async function refuseUnrunnable(config: EmbeddedMigrationsConfig, source: string): Promise<void> {
  const issues: SpecIssue[] = [];
  for (const step of ['expand', 'contract'] as const) {
    const definition = config[step];
    if (!definition || !('files' in definition)) continue;
    for (const [i, file] of definition.files.entries()) {
      const problem = await transactionControlIn(file.name, file.sql);
      if (problem) issues.push({ path: formatPath(['migrations', step, 'sql', i]), message: problem });
    }
  }
  if (issues.length > 0) throw new SpecError(source, issues);
}

/**
 * Refuses, before anything starts, a spec whose migrations the worker could not run as linted:
 * SQL steps without their embedded text, and an expand that would break the old version without
 * an allowBreaking reason. Throws a SpecError listing `file:line: rule — why` per finding.
 */
export async function refuseUnsafeMigrations(spec: MigrationsOf, source = '(spec)'): Promise<LintFinding[]> {
  if (!spec.migrations) return [];
  let embedded: EmbeddedMigrationsConfig;
  try {
    embedded = assertEmbedded(spec.migrations);
  } catch (err) {
    if (err instanceof NotEmbeddedError) {
      throw new SpecError(source, [{ path: formatPath(['migrations']), message: err.message }]);
    }
    throw err;
  }
  await refuseUnrunnable(embedded, source);
  const findings = await lintMigrations(embedded);
  if (findings.length > 0 && embedded.allowBreaking === undefined) throw refusal(source, findings);
  return findings;
}

/**
 * The CLI's step between parsing and starting (dry run included): embeds the SQL files, named
 * relative to the spec file (the working directory for stdin, `-`), then refuses as above.
 */
export async function prepareMigrations<S>(spec: S, file: string): Promise<S> {
  const holder = spec as MigrationsOf & S;
  if (!holder.migrations) return spec;
  const source = file === '-' ? '(stdin)' : file;
  const baseDir = file === '-' ? process.cwd() : dirname(file);
  const embedded = embedMigrations(holder as { migrations?: MigrationsConfig }, baseDir, source);
  await refuseUnsafeMigrations(embedded, source);
  return embedded as S;
}
