import { ConfigurationError, TransientError } from '../providers/errors';
import { CommandKilledError, runArgv } from '../providers/run-argv';
import type { CommandStep, MigrationStepName } from '../spec/migrations';
import { redactUrl } from './pg-errors';

export interface CommandRun {
  service: string;
  step: MigrationStepName;
  command: CommandStep;
  url: string;
  /** The URL reaches the tool under the same name the spec gave it, as the tool expects. */
  urlEnv: string;
}

/** The same failure, with the URL cut out: the tool was given it, so it may well print it. */
function redacted(err: unknown, url: string): unknown {
  if (!(err instanceof Error)) return err;
  const message = redactUrl(err.message, url);
  if (err instanceof CommandKilledError) return new CommandKilledError(message);
  if (err instanceof ConfigurationError) return new ConfigurationError(message);
  if (err instanceof TransientError) return new TransientError(message);
  return new Error(message);
}

/**
 * Runs the user's migration tool from its argument array, never a shell, with the minimal command
 * environment plus the database URL and which step this is. The tool keeps its own ledger: a retry
 * after a crash runs it again, and it must skip what it applied (flyway, sqitch and the like do).
 * Exit 2 means "do not retry"; the error quotes the redacted output tail.
 */
export async function runMigrationCommand(run: CommandRun): Promise<string> {
  const { command, args, timeout } = run.command;
  try {
    const { output } = await runArgv({
      argv: [command, ...args],
      env: { [run.urlEnv]: run.url, ROLLOUT_SERVICE: run.service, ROLLOUT_MIGRATION_STEP: run.step },
      timeoutMs: timeout,
    });
    return redactUrl(output, run.url);
  } catch (err) {
    throw redacted(err, run.url);
  }
}
