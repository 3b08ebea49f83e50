import { closeSync, constants, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { resolve, sep } from 'node:path';

/**
 * Reads one SQL file named relative to the spec's folder, as bytes, never more than `maxBytes` + 1
 * whatever the file claims. The path pattern already refuses ".." segments; the real path is
 * checked too, so a symlink cannot pull in a file from outside the spec's folder (a key, /etc/...)
 * and ship it to the worker. Throws an Error whose message says what is wrong, for a SpecError.
 */
export function readSqlFile(baseDir: string, path: string, maxBytes: number): Buffer {
  let real: string;
  try {
    real = realpathSync(resolve(baseDir, path));
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      cause: err,
    });
  }
  const base = realpathSync(baseDir);
  if (!real.startsWith(base.endsWith(sep) ? base : `${base}${sep}`)) {
    throw new Error(`${path} resolves outside the spec's folder`);
  }
  // O_NONBLOCK keeps a FIFO with no writer from hanging the open before fstat can refuse it.
  const fd = openSync(real, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    if (!fstatSync(fd).isFile()) throw new Error(`${path} is not a regular file`);
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
      if (length > maxBytes) throw new Error(`${path} is larger than ${maxBytes} bytes`);
    }
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}
