import { z } from 'zod';
import { duration } from './duration';
import { envKey, executable } from './patterns';

/** Files of one step; each runs in its own transaction, so a long list is a long-held lock queue. */
export const MAX_SQL_FILES = 50;
export const MAX_SQL_PATH_CHARS = 1024;

// Relative, and every segment starts with a letter, digit or "_": no "/" root, no "." or ".."
// segment, no hidden files, no NUL or spaces. The file is read by the CLI next to the spec, and its
// path is the ledger key, so it must mean the same file from any checkout.
const SQL_PATH = /^[A-Za-z0-9_][A-Za-z0-9._-]*(?:\/[A-Za-z0-9_][A-Za-z0-9._-]*)*\.sql$/;

const sqlPath = z
  .string()
  .max(MAX_SQL_PATH_CHARS)
  .regex(SQL_PATH, 'a relative path ending in .sql: letters, digits, "_", "-", "." and "/", no ".." segment');

const sqlStepSchema = z
  .object({
    sql: z.array(sqlPath).min(1).max(MAX_SQL_FILES),
  })
  .strict();

// spawn refuses a NUL byte with a TypeError at run time; better a spec error up front.
const commandArg = z
  .string()
  .max(1000)
  .refine((arg) => !arg.includes('\0'), 'must not contain a NUL byte');

const commandStepSchema = z
  .object({
    // The user's own migration tool (flyway, sqitch, a script): never a shell string.
    command: executable,
    args: z.array(commandArg).max(64).default([]),
    timeout: duration.default(600_000),
  })
  .strict();

const NEITHER_OR_BOTH = 'a step is { sql: [files] } or { command: ..., args: [...] }, not both';

function stepSchemaFor(value: unknown): typeof sqlStepSchema | typeof commandStepSchema | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const sql = 'sql' in value;
  if (sql === 'command' in value) return undefined;
  return sql ? sqlStepSchema : commandStepSchema;
}

// Not a z.union: zod reports a union's failure as one "invalid input" on the step, hiding which
// field is wrong. The step's own keys pick the schema, so each issue keeps its path (sql[2]).
// Validation lives in the refinement, not the transform: a failing transform would abort the whole
// parse and hide the other bad fields of the document.
const stepSchema = z
  .custom<z.input<typeof sqlStepSchema> | z.input<typeof commandStepSchema>>(() => true)
  .superRefine((value, ctx) => {
    const schema = stepSchemaFor(value);
    if (!schema) return ctx.addIssue({ code: 'custom', message: NEITHER_OR_BOTH });
    const result = schema.safeParse(value);
    for (const issue of result.error?.issues ?? []) {
      ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    }
  })
  .transform((value): SqlStep | CommandStep => {
    const schema = stepSchemaFor(value) as typeof sqlStepSchema | typeof commandStepSchema;
    return schema.parse(value);
  });

export const migrationsSchema = z
  .object({
    // The NAME of a worker env var: the URL carries a password and must never enter history.
    database: z.object({ urlEnv: envKey }).strict(),
    expand: stepSchema,
    contract: stepSchema.optional(),
    // How long after promotion and stabilization the contract waits; a durable timer.
    contractAfter: duration.default(0),
    // Why expand may break the old version anyway; recorded as a decision.
    allowBreaking: z.string().trim().min(1).max(500).optional(),
  })
  .strict()
  .superRefine((config, ctx) => {
    // A path is the ledger key: listed twice, the second would always be "already applied".
    const seen = new Set<string>();
    for (const step of ['expand', 'contract'] as const) {
      const files = (config[step] as Partial<SqlStep> | undefined)?.sql ?? [];
      files.forEach((file, i) => {
        if (seen.has(file)) {
          ctx.addIssue({ code: 'custom', path: [step, 'sql', i], message: `${file} is listed twice` });
        }
        seen.add(file);
      });
    }
  });

export type MigrationsConfig = z.output<typeof migrationsSchema>;
export type MigrationStep = SqlStep | CommandStep;
export type SqlStep = z.output<typeof sqlStepSchema>;
export type CommandStep = z.output<typeof commandStepSchema>;
export type MigrationStepName = 'expand' | 'contract';

/** One SQL file as the CLI read it: the worker runs exactly this text, never a file of its own. */
export interface EmbeddedSqlFile {
  name: string;
  sql: string;
  sha256: string;
}

export type EmbeddedSqlStep = SqlStep & { files: EmbeddedSqlFile[] };
export type EmbeddedStep = EmbeddedSqlStep | CommandStep;

export type EmbeddedMigrationsConfig = Omit<MigrationsConfig, 'expand' | 'contract'> & {
  expand: EmbeddedStep;
  contract?: EmbeddedStep;
};

/** A spec whose SQL steps carry their files (see src/migrations/embed.ts). */
export type WithEmbeddedMigrations<S extends { migrations?: MigrationsConfig }> = Omit<S, 'migrations'> & {
  migrations?: EmbeddedMigrationsConfig;
};

export function isSqlStep(step: MigrationStep | EmbeddedStep): step is SqlStep {
  return 'sql' in step;
}
