/**
 * Requests the router refused because of what the client sent. They are counted here, apart from
 * the per-version counters, because clients choose their cohort (x-user-id): if a malformed request
 * counted as an error of the version it would have gone to, anyone could force a rollback; if it
 * counted as a request, anyone could dilute a bad canary's error rate. See proxy.ts for the rule.
 */

export type ClientErrorReason =
  /** Rejected by the HTTP parser: bad header syntax, unknown method token, oversized headers. */
  | 'malformed-request'
  /** A method the router does not forward (e.g. WebDAV's PROPFIND). */
  | 'method-not-allowed'
  /** Path traversal, backslashes, bad percent-encoding, or not a path at all. */
  | 'bad-path'
  | 'body-too-large'
  /** Well-formed HTTP that the router still cannot forward as sent (e.g. a header undici refuses). */
  | 'invalid-request';

export interface ClientErrorTotals {
  total: number;
  byReason: Partial<Record<ClientErrorReason, number>>;
  /** The version the request would have been routed to, when it got that far. */
  byVersion: Record<string, number>;
  lastAt: number | null;
}

export class ClientErrorStats {
  private total = 0;
  private byReason = new Map<ClientErrorReason, number>();
  // A Map, not an object: version names come from the split and must not reach Object.prototype.
  private byVersion = new Map<string, number>();
  private lastAt: number | null = null;

  record(reason: ClientErrorReason, version: string | null, at: number = Date.now()): void {
    this.total += 1;
    this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + 1);
    if (version !== null) this.byVersion.set(version, (this.byVersion.get(version) ?? 0) + 1);
    this.lastAt = at;
  }

  snapshot(): ClientErrorTotals {
    return {
      total: this.total,
      byReason: Object.fromEntries(this.byReason),
      byVersion: Object.fromEntries(this.byVersion),
      lastAt: this.lastAt,
    };
  }

  reset(): void {
    this.total = 0;
    this.byReason = new Map();
    this.byVersion = new Map();
    this.lastAt = null;
  }
}
