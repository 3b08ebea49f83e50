import { dirname } from 'node:path';
import { type Command, Option } from 'commander';
import { embedMigrations } from '../../migrations/embed';
import { refuseUnrunnable } from '../../migrations/guard';
import { formatFindings, lintMigrations, type LintFinding } from '../../migrations/lint';
import { safeText } from '../../spec/display';
import {
  loadSpecDocument,
  loadSpecDocumentFromStream,
  parseBlueGreenSpec,
  parseCanarySpec,
} from '../../spec/load';
import type { MigrationsConfig } from '../../spec/migrations';
import { EXIT } from '../exit-codes';

interface LintReport {
  file: string;
  /** SQL files of the expand step that were checked. */
  files: number;
  findings: LintFinding[];
  /** The allowBreaking reason that lets the findings through, or null. */
  allowed: string | null;
  refused: boolean;
}

/** The spec's strategy decides its schema, as for `start`: a document without one is a canary. */
function parseSpec(document: unknown, source: string): { migrations?: MigrationsConfig } {
  const strategy = (document as { strategy?: unknown } | null)?.strategy;
  return strategy === 'blue-green' ? parseBlueGreenSpec(document, source) : parseCanarySpec(document, source);
}

async function lintFile(file: string): Promise<LintReport> {
  const source = file === '-' ? '(stdin)' : file;
  const document = file === '-' ? await loadSpecDocumentFromStream(process.stdin) : loadSpecDocument(file);
  const spec = embedMigrations(
    parseSpec(document, source),
    file === '-' ? process.cwd() : dirname(file),
    source,
  );
  const migrations = spec.migrations;
  if (!migrations) return { file: source, files: 0, findings: [], allowed: null, refused: false };
  await refuseUnrunnable(migrations, source);
  const findings = await lintMigrations(migrations);
  const allowed = findings.length > 0 ? (migrations.allowBreaking ?? null) : null;
  return {
    file: source,
    files: 'files' in migrations.expand ? migrations.expand.files.length : 0,
    findings,
    allowed,
    refused: findings.length > 0 && allowed === null,
  };
}

function human(report: LintReport): string {
  if (report.findings.length === 0) return `no breaking statements in ${report.files} expand file(s)`;
  const lines = formatFindings(report.findings);
  if (report.allowed !== null) return `${lines}\nallowed: ${safeText(report.allowed, 500)}`;
  return (
    `${lines}\nrefused: expand would break the old version while it still serves, and after a rollback; ` +
    `move these statements to contract, or set migrations.allowBreaking: "<reason>"`
  );
}

/** `rollout lint`: the start path's migration checks alone, with no Temporal needed. */
export function registerLintCommand(program: Command): void {
  program
    .command('lint')
    .description("check a spec's expand SQL for statements that break the old version")
    .requiredOption('-f, --file <spec>', 'rollout spec (YAML or JSON, canary or blue-green); - reads stdin')
    .addOption(new Option('--json', 'print machine-readable JSON'))
    .addHelpText(
      'after',
      '\nParses the spec, reads its migrations SQL files (relative to the spec file) and checks the\n' +
        'expand step with the PostgreSQL parser: DROP, RENAME, ALTER COLUMN TYPE, SET NOT NULL,\n' +
        'ADD COLUMN NOT NULL without DEFAULT, DROP CONSTRAINT, TRUNCATE. Exit 0: clean, or allowed by\n' +
        'migrations.allowBreaking; 2: refused, or an invalid spec.',
    )
    .action(async (opts: { file: string; json?: boolean }) => {
      const report = await lintFile(opts.file);
      console.log(opts.json ? JSON.stringify(report) : human(report));
      if (report.refused) process.exitCode = EXIT.invalidInput;
    });
}
