import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { SpecError } from './errors';
import { MAX_SPEC_BYTES, TOO_LARGE_MESSAGE } from './limits';

const tooLarge = (source: string) => new SpecError(source, [{ path: '(file)', message: TOO_LARGE_MESSAGE }]);

/**
 * Reads a spec file, never more than MAX_SPEC_BYTES + 1 bytes whatever the file claims, and only a
 * regular file: /dev/zero, a FIFO or a directory would otherwise be read until memory runs out, or
 * block forever. Throws SpecError at (file).
 */
export function readSpecFile(file: string): string {
  let fd: number;
  try {
    // O_NONBLOCK keeps opening a FIFO with no writer from hanging before fstat can refuse it.
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    throw new SpecError(file, [{ path: '(file)', message: (err as Error).message }]);
  }
  try {
    if (!fstatSync(fd).isFile()) {
      throw new SpecError(file, [{ path: '(file)', message: 'not a regular file' }]);
    }
    const buffer = Buffer.alloc(MAX_SPEC_BYTES + 1);
    let length = 0;
    for (;;) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
      if (length > MAX_SPEC_BYTES) throw tooLarge(file);
    }
    return buffer.toString('utf8', 0, length);
  } catch (err) {
    if (err instanceof SpecError) throw err;
    throw new SpecError(file, [{ path: '(file)', message: (err as Error).message }]);
  } finally {
    closeSync(fd);
  }
}

/** Reads a spec from a stream (stdin for `-f -`), with the same size limit. */
export async function readSpecStream(stream: NodeJS.ReadableStream, source = '(stdin)'): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    length += buffer.length;
    if (length > MAX_SPEC_BYTES) throw tooLarge(source);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
