import type {
  EmbeddedMigrationsConfig,
  EmbeddedStep,
  MigrationsConfig,
  MigrationStep,
} from '../spec/migrations';

/** Thrown when a spec's SQL steps carry paths but not the files' text. */
export class NotEmbeddedError extends Error {
  override name = 'NotEmbeddedError';
}

function embeddedStep(step: MigrationStep | EmbeddedStep, name: string): EmbeddedStep {
  if (!('sql' in step)) return step;
  const files = (step as Partial<EmbeddedStep & { files: unknown }>).files;
  if (!Array.isArray(files) || files.length !== step.sql.length) {
    throw new NotEmbeddedError(
      `migrations.${name}: the SQL files are not embedded; call embedMigrations(spec, specDir) ` +
        `(src/migrations/embed.ts) before starting, so the worker runs exactly the text that was linted`,
    );
  }
  return step as EmbeddedStep;
}

/**
 * The same config, typed as embedded, or a NotEmbeddedError. The worker never reads user files, so
 * a spec that reached it with bare paths (started without the CLI) has nothing it could run.
 */
export function assertEmbedded(
  config: MigrationsConfig | EmbeddedMigrationsConfig,
): EmbeddedMigrationsConfig {
  const expand = embeddedStep(config.expand, 'expand');
  const { contract, ...rest } = config;
  return { ...rest, expand, ...(contract ? { contract: embeddedStep(contract, 'contract') } : {}) };
}
