import { parse, type SqlError } from 'libpg-query';
import { safeText } from '../spec/display';
import type { EmbeddedMigrationsConfig, EmbeddedSqlFile } from '../spec/migrations';
import { ruleHits } from './lint-rules';
import { lineOfCharacter, statementSpan } from './sql-position';

export interface LintFinding {
  file: string;
  /** 1-based line of the statement's first token. */
  line: number;
  /** The statement, cut to a readable length: findings reach history and the terminal. */
  statement: string;
  rule: string;
  /** The object the statement breaks (`users.email`); absent for a parse error or a DO block. */
  object?: string;
  why: string;
}

export const PARSE_ERROR_RULE = 'parse error';

const MAX_STATEMENT_CHARS = 300;

function clip(text: string): string {
  return text.length > MAX_STATEMENT_CHARS ? `${text.slice(0, MAX_STATEMENT_CHARS)}…` : text;
}

function parseErrorFinding(file: string, sql: string, err: unknown): LintFinding {
  const details = (err as Partial<SqlError>).sqlDetails;
  const line = details ? lineOfCharacter(sql, details.cursorPosition) : 1;
  const message = details?.message ?? (err instanceof Error ? err.message : String(err));
  return {
    file,
    line,
    statement: clip((sql.split('\n')[line - 1] ?? '').trim()),
    rule: PARSE_ERROR_RULE,
    why: `PostgreSQL cannot parse this file (${message}), so nothing in it can be shown safe for the old version`,
  };
}

/** The findings of one SQL file, in statement order, with the real PostgreSQL parser. */
export async function lintSql(file: string, sql: string): Promise<LintFinding[]> {
  // The parser refuses an empty query; a file of blanks has no statements to judge.
  if (sql.trim() === '') return [];
  let stmts;
  try {
    ({ stmts = [] } = await parse(sql));
  } catch (err) {
    return [parseErrorFinding(file, sql, err)];
  }
  const bytes = Buffer.from(sql, 'utf8');
  return stmts.flatMap((raw) => {
    if (!raw.stmt) return [];
    const hits = ruleHits(raw.stmt);
    if (hits.length === 0) return [];
    const span = statementSpan(bytes, raw.stmt_location ?? 0, raw.stmt_len || undefined);
    return hits.map((hit) => ({ file, line: span.line, statement: clip(span.text), ...hit }));
  });
}

/**
 * Lints the expand step only: it runs while the old version still serves and stays after a
 * rollback. Contract runs after promotion, when breaking the old version is its whole point. A
 * command step's SQL is the tool's business and cannot be seen here.
 */
export async function lintMigrations(config: EmbeddedMigrationsConfig): Promise<LintFinding[]> {
  const files: EmbeddedSqlFile[] = 'files' in config.expand ? config.expand.files : [];
  const findings: LintFinding[] = [];
  for (const file of files) findings.push(...(await lintSql(file.name, file.sql)));
  return findings;
}

/** One line a finding: `db/001.sql:3: DROP COLUMN users.email — why`, safe to print. */
export function formatFindings(findings: readonly LintFinding[]): string {
  return findings
    .map((f) => {
      const what = f.object ? `${f.rule} ${f.object}` : f.rule;
      return safeText(`${f.file}:${f.line}: ${what} — ${f.why}`, 1000);
    })
    .join('\n');
}
