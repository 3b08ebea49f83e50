/**
 * Where a parsed statement starts in its file. The parser reports UTF-8 byte offsets, which may
 * point at whitespace or comments after the previous semicolon; people want the line of the
 * statement's first word, so those are skipped here, on the bytes (every byte of a multi-byte
 * character is >= 0x80, so none of them can be mistaken for "-", "/", "*" or whitespace).
 */

const SPACE = new Set([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]);
const DASH = 0x2d;
const SLASH = 0x2f;
const STAR = 0x2a;
const NEWLINE = 0x0a;

/** The offset of the first byte at or after `from` that is neither whitespace nor inside a comment. */
function skipBlanks(bytes: Uint8Array, from: number, end: number): number {
  let i = from;
  while (i < end) {
    const byte = bytes[i] as number;
    if (SPACE.has(byte)) i += 1;
    else if (byte === DASH && bytes[i + 1] === DASH) {
      while (i < end && bytes[i] !== NEWLINE) i += 1;
    } else if (byte === SLASH && bytes[i + 1] === STAR) {
      i = skipBlockComment(bytes, i, end);
    } else break;
  }
  return i;
}

// PostgreSQL block comments nest: /* a /* b */ still a comment */.
function skipBlockComment(bytes: Uint8Array, from: number, end: number): number {
  let depth = 0;
  let i = from;
  while (i < end) {
    if (bytes[i] === SLASH && bytes[i + 1] === STAR) {
      depth += 1;
      i += 2;
    } else if (bytes[i] === STAR && bytes[i + 1] === SLASH) {
      depth -= 1;
      i += 2;
      if (depth === 0) return i;
    } else i += 1;
  }
  return end;
}

function lineAt(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i += 1) if (bytes[i] === NEWLINE) line += 1;
  return line;
}

export interface StatementSpan {
  /** 1-based line of the statement's first token. */
  line: number;
  /** The statement's text, without the blanks before it or the semicolon after it. */
  text: string;
}

/** The span of a statement the parser placed at `location` (bytes) with `length` bytes, or to the end. */
export function statementSpan(
  bytes: Uint8Array,
  location: number,
  length: number | undefined,
): StatementSpan {
  const end = length === undefined ? bytes.length : Math.min(bytes.length, location + length);
  const start = skipBlanks(bytes, location, end);
  return {
    line: lineAt(bytes, start),
    text: Buffer.from(bytes.subarray(start, end)).toString('utf8').trim(),
  };
}

/** The 1-based line of a parse error's position, which the parser gives in characters (code points). */
export function lineOfCharacter(text: string, position: number): number {
  let line = 1;
  let index = 0;
  for (const char of text) {
    if (index >= position) break;
    if (char === '\n') line += 1;
    index += 1;
  }
  return line;
}
