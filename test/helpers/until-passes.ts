import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Re-runs an assertion until it passes or timeoutMs is up, then throws its last failure. The
 * router records a request once its response has finished, which can trail the client by a tick.
 */
export async function untilPasses(check: () => Promise<void>, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(20);
    }
  }
}
