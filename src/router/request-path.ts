/**
 * What the proxy accepts as a request path, so a client cannot step out of a target's path prefix.
 *
 * The upstream URL is the target (which may carry a prefix, e.g. `http://app:8080/v2`) plus the
 * client's path. WHATWG URL parsing, which the forwarding client uses, treats `\` as `/` and
 * `%2e%2e` as `..`, so `GET /\..\..\escape` used to reach `/escape` on the upstream host. Upstream
 * servers may decode once more (`%252e`, `%5c`, `%2f`), so we look through every decoding layer.
 *
 * The path is refused rather than rewritten: a legitimate client never sends these forms (browsers
 * and HTTP libraries normalise dot segments before sending), and forwarding the bytes unchanged
 * keeps what the upstream sees identical to what the client sent.
 */

export type PathCheck = { ok: true } | { ok: false; reason: string };

/** Enough for `%25252e`-style stacking; past that nothing decodes any more in practice. */
const MAX_DECODE_LAYERS = 4;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex
const MAYBE_UNSAFE = /[%.\\\u0000-\u001f\u007f]/;

/** `target` is an origin-form request target: path plus optional query, as on the request line. */
export function checkRequestPath(target: string): PathCheck {
  const queryAt = target.indexOf('?');
  const path = queryAt === -1 ? target : target.slice(0, queryAt);
  if (!path.startsWith('/')) return { ok: false, reason: 'request target must be a path' };
  // `//host/x` is a network-path reference; anything resolving it against a base leaves the target.
  if (path.startsWith('//')) return { ok: false, reason: 'path must not start with //' };

  // Fast path for the common case: nothing that could encode, hide or form a dot segment.
  if (!MAYBE_UNSAFE.test(path)) return { ok: true };

  let layer = path;
  for (let depth = 0; depth <= MAX_DECODE_LAYERS; depth++) {
    const problem = problemIn(layer);
    if (problem !== null) return { ok: false, reason: problem };
    let decoded: string;
    try {
      decoded = decodeURIComponent(layer);
    } catch {
      // Only the outer layer must be valid; `%25zz` is a legitimate encoding of the text `%zz`.
      if (depth === 0) return { ok: false, reason: 'malformed percent-encoding in path' };
      break;
    }
    if (decoded === layer) break;
    layer = decoded;
  }
  return { ok: true };
}

function problemIn(path: string): string | null {
  if (path.includes('\\')) return 'backslash in path';
  if (CONTROL.test(path)) return 'control character in path';
  for (const segment of path.split('/')) {
    if (segment === '.' || segment === '..') return 'dot segment in path';
    // WHATWG URL also reads these as dot segments.
    const lower = segment.toLowerCase();
    if (lower === '%2e' || lower === '.%2e' || lower === '%2e.' || lower === '%2e%2e') {
      return 'dot segment in path';
    }
  }
  return null;
}

// Shared with the health and smoke checks, so both reach a target's path prefix the same way.
export { joinTarget } from '../spec/target-join';
