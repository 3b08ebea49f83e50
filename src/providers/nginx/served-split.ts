import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { TransientError } from '../errors';

const ID = /^[0-9a-f]{12}$/;

/**
 * The split id nginx's running workers serve at `statusUrl`, each time on a new connection: a
 * kept-alive one could still reach an old worker that is finishing its requests after a reload.
 */
export function servedSplitId(statusUrl: string, timeoutMs: number): Promise<string> {
  const url = new URL(statusUrl);
  const get = url.protocol === 'https:' ? https.get : http.get;
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, timeout: timeoutMs, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 256) body += chunk;
      });
      res.on('end', () => {
        const id = body.trim();
        if (res.statusCode === 200 && ID.test(id)) resolve(id);
        else
          reject(
            new TransientError(
              `${statusUrl} answered ${res.statusCode} ${JSON.stringify(id.slice(0, 40))}, not a split id`,
            ),
          );
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new TransientError(`${statusUrl} did not answer in ${timeoutMs}ms`)));
    req.on('error', (err) =>
      reject(err instanceof TransientError ? err : new TransientError(`${statusUrl}: ${err.message}`)),
    );
  });
}

/** Answers in a row that must all be the new split: an old worker may accept a little longer. */
const IN_A_ROW = 5;

/**
 * After `nginx -s reload` the master starts new workers in the background: the signal returns at
 * once, and for a moment old workers still accept connections beside the new ones. Waits until
 * the workers serve `wanted` on several new connections in a row, so a step that returns has
 * really moved users.
 */
export async function untilServed(statusUrl: string, wanted: string, deadline: number): Promise<void> {
  let last = 'no answer';
  let inARow = 0;
  while (Date.now() < deadline) {
    try {
      last = await servedSplitId(statusUrl, Math.max(100, Math.min(1000, deadline - Date.now())));
      inARow = last === wanted ? inARow + 1 : 0;
      if (inARow >= IN_A_ROW) return;
    } catch (err) {
      last = (err as Error).message;
      inARow = 0;
    }
    await sleep(inARow > 0 ? 2 : 10);
  }
  throw new TransientError(`nginx does not serve split ${wanted} (last answer: ${last})`);
}
