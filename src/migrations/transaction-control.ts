import { parse } from 'libpg-query';
import { statementSpan } from './sql-position';

/**
 * Statements that end or start a transaction. The runner wraps each file, with its ledger row, in
 * one transaction; a COMMIT inside the file would commit half of it without the row, and a retry
 * would run that half again. SAVEPOINT and RELEASE stay inside the transaction and are fine.
 */
const ENDS_TRANSACTION = new Set([
  'TRANS_STMT_BEGIN',
  'TRANS_STMT_START',
  'TRANS_STMT_COMMIT',
  'TRANS_STMT_ROLLBACK',
  'TRANS_STMT_PREPARE',
  'TRANS_STMT_COMMIT_PREPARED',
  'TRANS_STMT_ROLLBACK_PREPARED',
]);

/** The message for the first transaction-control statement of a file, or null when it has none. */
export async function transactionControlIn(name: string, sql: string): Promise<string | null> {
  if (sql.trim() === '') return null;
  let stmts;
  try {
    ({ stmts = [] } = await parse(sql));
  } catch {
    // Unparseable SQL is the linter's finding, or the server's error; not this check's.
    return null;
  }
  const bytes = Buffer.from(sql, 'utf8');
  for (const raw of stmts) {
    const stmt = raw.stmt;
    if (!stmt || !('TransactionStmt' in stmt) || !ENDS_TRANSACTION.has(stmt.TransactionStmt.kind ?? '')) {
      continue;
    }
    const { line, text } = statementSpan(bytes, raw.stmt_location ?? 0, raw.stmt_len || undefined);
    return (
      `${name}:${line}: ${text.slice(0, 60)} — each SQL file runs in one transaction with its ledger ` +
      `row, so it must not begin, commit or roll back transactions itself`
    );
  }
  return null;
}
