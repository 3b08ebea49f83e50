import { ApplicationFailure } from '@temporalio/activity';
import { ConfigurationError } from '../providers/errors';

/** Runs provider code; a configuration error becomes non-retryable, everything else retries. */
export async function classified<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ConfigurationError) {
      throw ApplicationFailure.nonRetryable(err.message, 'ConfigurationError');
    }
    throw err;
  }
}
