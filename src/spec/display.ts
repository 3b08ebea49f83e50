import { MAX_QUOTED_CHARS } from './limits';

// C0 and C1 controls, DEL, and the Unicode line/paragraph separators and bidi overrides, which can
// rewrite a terminal line or reorder what a reader sees.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const UNSAFE_ONE = new RegExp(UNSAFE.source);

function escapeChar(ch: string): string {
  const code = ch.charCodeAt(0);
  if (ch === '\n') return '\\n';
  if (ch === '\r') return '\\r';
  if (ch === '\t') return '\\t';
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Text from a spec, made safe to print: control characters (ANSI escapes included) are escaped and
 * anything past `max` characters is cut, saying how much was left out. A 1 MB value must not give a
 * 1 MB error message, and an escape sequence must not reach the terminal.
 */
export function safeText(text: string, max = MAX_QUOTED_CHARS): string {
  const cut = text.length > max ? text.slice(0, max) : text;
  const escaped = cut.replace(UNSAFE, escapeChar);
  return text.length > max ? `${escaped}… (${text.length - max} more characters)` : escaped;
}

/** Whether a string holds a character that safeText would escape. */
export function hasControlChars(text: string): boolean {
  return UNSAFE_ONE.test(text);
}
