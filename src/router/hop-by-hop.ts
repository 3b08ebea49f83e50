/**
 * Hop-by-hop header handling (RFC 9110 §7.6.1), used in both directions by the proxy.
 *
 * These headers describe one connection, not the message, so a proxy must not pass them on.
 * Forwarding them is also what turned ordinary client requests into 502s: the forwarding client
 * (undici) refuses `Keep-Alive`, `Upgrade`, `Expect` and `Transfer-Encoding` outright, and every
 * such 502 was counted against the version the client had picked with its cohort key.
 */

/** Always connection-specific, whether or not `Connection` lists them. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'te',
  'upgrade',
  // Framing is per hop: the router re-frames bodies itself (undici on the way in, Node on the way out).
  'transfer-encoding',
  // Pre-RFC 7230 spelling that some clients still send.
  'proxy-connection',
]);

/** Names the `Connection` header lists as connection-specific (case-insensitive, comma-separated). */
export function connectionOptions(value: unknown): string[] {
  if (typeof value !== 'string' && !Array.isArray(value)) return [];
  const joined = Array.isArray(value) ? value.join(',') : value;
  return joined
    .split(',')
    .map((token) => token.trim().toLowerCase())
    .filter((token) => token.length > 0);
}

export function isHopByHop(name: string): boolean {
  const lower = name.toLowerCase();
  return HOP_BY_HOP.has(lower) || lower.startsWith('proxy-');
}

/**
 * A copy of `headers` without hop-by-hop fields. `listedIn` is the `Connection` value to honour;
 * it defaults to the one in `headers`, but a caller can pass the original when another layer has
 * already removed `Connection` itself (reply-from does, before our request hook runs).
 */
export function withoutHopByHop<H extends Record<string, unknown>>(
  headers: H,
  listedIn: unknown = headers.connection,
): H {
  // Per-request work on the proxy's hot path: no Set, no entries array, for the usual short lists.
  const listed = connectionOptions(listedIn);
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase();
    if (isHopByHop(lower) || (listed.length > 0 && listed.includes(lower))) continue;
    out[name] = headers[name];
  }
  return out as H;
}
