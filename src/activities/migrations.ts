import { ApplicationFailure, Context } from '@temporalio/activity';
import { assertEmbedded } from '../migrations/embedded';
import { lintMigrations, type LintFinding } from '../migrations/lint';
import { runStep, type StepResult } from '../migrations/runner';
import type { MigrationsConfig, MigrationStepName } from '../spec/migrations';
import { classified } from './failures';

export interface CheckMigrationsInput {
  migrations: MigrationsConfig;
}

export interface RunMigrationStepInput {
  service: string;
  step: MigrationStepName;
  migrations: MigrationsConfig;
}

export type { LintFinding, StepResult };

const HEARTBEAT_MS = 2000;

/** A spec that skipped embedMigrations cannot be fixed by a retry: the worker never reads user files. */
function embedded(migrations: MigrationsConfig) {
  try {
    return assertEmbedded(migrations);
  } catch (err) {
    throw ApplicationFailure.nonRetryable((err as Error).message, 'MigrationsNotEmbedded');
  }
}

/** The database URL, from the worker's environment only: the spec names the variable, never the value. */
function databaseUrl(migrations: MigrationsConfig): string {
  const name = migrations.database.urlEnv;
  const url = process.env[name];
  if (!url) {
    throw ApplicationFailure.nonRetryable(
      `migrations.database.urlEnv names ${name}, which is not set on this worker`,
      'ConfigurationError',
    );
  }
  return url;
}

export function createMigrationActivities() {
  return {
    /** Re-lints the embedded expand SQL, so the decision in history is the worker's own reading. */
    async checkMigrations({ migrations }: CheckMigrationsInput): Promise<{ findings: LintFinding[] }> {
      return { findings: await lintMigrations(embedded(migrations)) };
    },

    /**
     * Runs one step. Retrying is safe: each SQL file commits with its ledger row, so a file whose
     * transaction committed before a worker died is skipped on the next attempt.
     */
    async runMigrationStep({ service, step, migrations }: RunMigrationStepInput): Promise<StepResult> {
      const config = embedded(migrations);
      const url = databaseUrl(migrations);
      const timer = setInterval(() => Context.current().heartbeat({ step }), HEARTBEAT_MS);
      try {
        return await classified(
          () =>
            runStep({
              service,
              step,
              migrations: config,
              url,
              onProgress: (details) => Context.current().heartbeat(details),
              signal: Context.current().cancellationSignal,
            }),
          [migrations.database.urlEnv],
        );
      } finally {
        clearInterval(timer);
      }
    },
  };
}

export type MigrationActivities = ReturnType<typeof createMigrationActivities>;
