import type { EmbeddedMigrationsConfig, MigrationStepName } from '../spec/migrations';
import { runMigrationCommand } from './command-runner';
import { runSqlFiles } from './sql-runner';

export interface StepResult {
  /** SQL files applied by this run, or the command, in order. */
  applied: string[];
  /** SQL files the ledger already had with the same content. */
  skipped: string[];
  ms: number;
}

export interface MigrationProgress {
  step: MigrationStepName;
  file?: string;
  index?: number;
}

export interface RunStepInput {
  service: string;
  step: MigrationStepName;
  migrations: EmbeddedMigrationsConfig;
  url: string;
  onProgress?: (details: MigrationProgress) => void;
  signal?: AbortSignal;
  connectTimeoutMs?: number;
}

/** Runs the named step (a missing contract is nothing to do); errors are classified and redacted. */
export async function runStep(input: RunStepInput): Promise<StepResult> {
  const started = Date.now();
  const { service, step, migrations, url } = input;
  const definition = step === 'expand' ? migrations.expand : migrations.contract;
  const urlEnv = migrations.database.urlEnv;
  if (!definition) return { applied: [], skipped: [], ms: 0 };
  if ('files' in definition) {
    const result = await runSqlFiles({
      service,
      step,
      files: definition.files,
      url,
      urlEnv,
      connectTimeoutMs: input.connectTimeoutMs,
      onFile: (file, index) => input.onProgress?.({ step, file, index }),
      signal: input.signal,
    });
    return { ...result, ms: Date.now() - started };
  }
  input.onProgress?.({ step, file: definition.command });
  await runMigrationCommand({ service, step, command: definition, url, urlEnv });
  return { applied: [definition.command], skipped: [], ms: Date.now() - started };
}
