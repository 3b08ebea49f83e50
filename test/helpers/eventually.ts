import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The one polling helper of the tests and the benches: calls fn every `everyMs` until it returns a
 * truthy value, and returns that value. A throw counts as "not yet", so an assertion can be polled
 * (end it with `return true`). After timeoutMs it fails with what it waited for and the last value
 * or failure seen; a failure is kept as the cause, with an assertion's diff.
 */
export async function eventually<T>(
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
  what = 'condition',
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let last: unknown;
    try {
      const value = await fn();
      if (value) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const seen = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${seen}`, { cause: last });
    }
    await sleep(everyMs);
  }
}

/**
 * Polls an assertion until it passes: the router records a request once its response has finished,
 * which can trail the client by a tick.
 */
export function untilPasses(check: () => Promise<void>, timeoutMs = 2000): Promise<true> {
  return eventually(
    async () => {
      await check();
      return true;
    },
    timeoutMs,
    'the assertion to pass',
    20,
  );
}
