import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { NginxTrafficConfig } from '../../spec/traffic';
import { ConfigurationError, TransientError } from '../errors';
import { parseSplit, renderSplit, splitId } from '../nginx/render-split';
import { untilServed } from '../nginx/served-split';
import { CommandKilledError, runArgv } from '../run-argv';
import type { DesiredSplit, TrafficRouter, TrafficSplit } from './types';

/** One change at a time per include file: two interleaved ones could each restore the other's file. */
const inFlight = new Map<string, Promise<unknown>>();

function serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = inFlight.get(key) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const settled = run.catch(() => undefined);
  inFlight.set(key, settled);
  void settled.then(() => {
    if (inFlight.get(key) === settled) inFlight.delete(key);
  });
  return run;
}

async function readIfExists(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fileError(file, err);
  }
}

function fileError(file: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const message = `${file}: ${(err as Error).message}`;
  // Permissions and wrong paths stay wrong on a retry; a full disk or an I/O error may pass.
  return code === 'EACCES' || code === 'EPERM' || code === 'EISDIR' || code === 'ENOTDIR' || code === 'EROFS'
    ? new ConfigurationError(message)
    : new TransientError(message);
}

/**
 * nginx reads the include file on a reload (or a restart) at any moment, so it only ever sees a
 * whole file: written beside it (same file system, so the rename is atomic), then renamed over it.
 * The temporary name starts with "." and ends in ".tmp" so that an `include dir/*.conf` skips it.
 */
async function replaceFile(file: string, content: string | null): Promise<void> {
  try {
    if (content === null) {
      await rm(file, { force: true });
      return;
    }
    const temp = path.join(
      path.dirname(file),
      `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`,
    );
    try {
      await writeFile(temp, content, { mode: 0o644 });
      await rename(temp, file);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  } catch (err) {
    throw fileError(file, err);
  }
}

const restored = (lastGood: string | null): string =>
  lastGood === null ? 'the include file is removed again' : 'the previous include file is back';

/**
 * NGINX steered through an include file with split_clients (rendered by ../nginx/render-split):
 * written, checked with `nginx -t`, reloaded. nginx keeps no runtime state to query, so the
 * file nginx -t accepted is the read-back, and survives nginx restarts by itself.
 */
export class NginxTrafficRouter implements TrafficRouter {
  private readonly file: string;

  constructor(private readonly config: NginxTrafficConfig) {
    this.file = path.resolve(config.includeFile);
  }

  setSplit(split: DesiredSplit): Promise<TrafficSplit> {
    return serialized(this.file, async () => {
      // One budget for the whole change, so that it fits in the activity attempt that runs it.
      const deadline = Date.now() + this.config.timeout;
      const content = renderSplit(split, this.config);
      const lastGood = await readIfExists(this.file);
      const changed = lastGood !== content;
      const restore = () => (changed ? replaceFile(this.file, lastGood) : Promise.resolve());
      // Even an unchanged file is tested and reloaded: a retry then also repairs a reload that
      // was lost, or an nginx restarted from another config.
      if (changed) await replaceFile(this.file, content);
      try {
        await this.run(this.config.test, deadline);
      } catch (err) {
        await restore();
        throw testFailure(err, restored(lastGood));
      }
      try {
        await this.run(this.config.reload, deadline);
      } catch (err) {
        // The file passed nginx -t, so it stays: an nginx that is down (the reload's usual cause)
        // starts with it, and a rollback is not undone by the restart. The step still fails, and
        // its retry reloads again.
        const Kind = err instanceof ConfigurationError ? ConfigurationError : TransientError;
        throw new Kind(
          `nginx reload failed; the new include file passed nginx -t and stays for the next start: ${(err as Error).message}`,
        );
      }
      if (this.config.statusUrl !== undefined)
        await untilServed(this.config.statusUrl, splitId(content), deadline);
      return this.readSplit();
    });
  }

  getSplit(): Promise<TrafficSplit> {
    return this.readSplit();
  }

  private async run(argv: readonly string[], deadline: number): Promise<void> {
    await runArgv({ argv, timeoutMs: Math.max(1, deadline - Date.now()) });
  }

  private async readSplit(): Promise<TrafficSplit> {
    const content = await readIfExists(this.file);
    if (content === null) {
      throw new ConfigurationError(
        `${this.file} does not exist: no split has been applied yet. Put \`include ${this.file};\` ` +
          `inside http {} of the nginx config and \`proxy_pass http://$${this.config.variable};\` in ` +
          'the location (see docs/nginx.conf); the first setSplit writes the file',
      );
    }
    let split: DesiredSplit;
    try {
      split = parseSplit(content, this.config);
    } catch (err) {
      throw new ConfigurationError(`${this.file}: ${(err as Error).message}`);
    }
    const weight = split.canaryWeight;
    const id = splitId(content);
    let readBack = `nginx has no runtime read-back of split_clients; read from the include file nginx -t accepted: ${this.file} (split ${id})`;
    if (this.config.statusUrl !== undefined) {
      try {
        await untilServed(this.config.statusUrl, id, Date.now() + Math.min(this.config.timeout, 2000));
      } catch (err) {
        throw new TransientError(
          `${this.file} holds split ${id}, but ${(err as Error).message}: a reload is pending or was lost`,
        );
      }
      readBack = `nginx serves split ${id} (${this.config.statusUrl}), rendered in ${this.file}`;
    }
    return {
      stable: { version: split.stable.version, targets: [], routes: split.stable.routes ?? [] },
      canary: split.canary
        ? { version: split.canary.version, targets: [], routes: split.canary.routes ?? [] }
        : null,
      weights: { stable: 100 - weight, canary: weight },
      match: split.match ?? null,
      readBack,
    };
  }
}

/**
 * A config nginx -t refuses stays refused on a retry: a ConfigurationError with nginx's reason.
 * Only a test killed by the timeout (or another signal) may pass.
 */
function testFailure(err: unknown, restored: string): Error {
  const message = (err as Error).message;
  if (err instanceof CommandKilledError) {
    return new TransientError(`nginx -t did not finish, ${restored}: ${message}`);
  }
  return new ConfigurationError(`nginx -t refused the new split, ${restored}: ${message}`);
}
