import type { EmbeddedMigrationsConfig, MigrationStepName } from '../spec/migrations';

export interface StepResult {
  applied: string[];
  skipped: string[];
  ms: number;
}

export interface RunStepInput {
  service: string;
  step: MigrationStepName;
  migrations: EmbeddedMigrationsConfig;
  url: string;
  onProgress?: (details: unknown) => void;
  signal?: AbortSignal;
}

export async function runStep(_input: RunStepInput): Promise<StepResult> {
  throw new Error('not implemented yet');
}
