import { ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import { ConfigurationError } from '../providers/errors';
import { redact, secretsFromEnv } from '../providers/redact';

/**
 * Runs provider code; a configuration error becomes non-retryable, everything else retries.
 *
 * Every provider error is rebuilt before it leaves the activity, because its message and stack go
 * into workflow history in plaintext: the values of the worker variables the spec names as secrets
 * (`secretEnv`) are cut out, whatever form they are in. Providers already keep secrets out of their
 * messages; this is the second line of defence. The original stack is dropped, since its first
 * line repeats the unredacted message, and so are details (they may quote anything). A
 * cancellation passes unchanged.
 */
export async function classified<T>(fn: () => Promise<T>, secretEnv: readonly string[] = []): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof CancelledFailure) throw err;
    const error = err instanceof Error ? err : new Error(String(err));
    const built = error instanceof ApplicationFailure ? error : undefined;
    throw ApplicationFailure.create({
      message: redact(error.message, secretsFromEnv(secretEnv)),
      type: error instanceof ConfigurationError ? 'ConfigurationError' : (built?.type ?? error.name),
      nonRetryable: error instanceof ConfigurationError || built?.nonRetryable === true,
    });
  }
}
