export interface VersionOutcome {
  ok: number;
  failed: number;
  firstFailureAt: number | null;
  firstAnswerAt: number | null;
}

export interface TrafficReport {
  sent: number;
  byVersion: Record<string, VersionOutcome>;
  transportErrors: number;
}

export interface TrafficHandle {
  report(): TrafficReport;
  stop(): Promise<TrafficReport>;
}

export interface TrafficOptions {
  url: string;
  rps: number;
  /** Size of the simulated user pool (user-0 .. user-(users-1)); default 200. */
  users?: number;
  maxDurationMs: number;
  path?: string;
  /** The response header naming the version that answered (a load balancer's, or the service's own). */
  versionHeader?: string;
}

/** Responses without x-rollout-version (e.g. the router's own 503 "no route") are filed under this key. */
export const UNKNOWN_VERSION = 'unknown';

const REQUEST_TIMEOUT_MS = 5000;
const MAX_IN_FLIGHT = 64;
const MIN_TICK_MS = 10;
const MAX_TICK_MS = 100;

/** Generates steady, sticky-user load against the router and tallies what each version answered. */
export function startTraffic(opts: TrafficOptions): TrafficHandle {
  const users = opts.users ?? 200;
  if (!(opts.rps > 0) || !Number.isFinite(opts.rps)) throw new RangeError('rps must be a positive number');
  if (!Number.isInteger(users) || users < 1) throw new RangeError('users must be a positive integer');
  if (!(opts.maxDurationMs >= 0)) throw new RangeError('maxDurationMs must be >= 0');
  const path = opts.path ?? '/api/checkout';
  // Plain concatenation keeps any path prefix in url, which URL resolution would discard.
  const target = opts.url.replace(/\/+$/, '') + (path.startsWith('/') ? path : `/${path}`);
  new URL(target); // fail fast on a malformed url rather than once per request

  const byVersion = new Map<string, VersionOutcome>();
  let sent = 0;
  let transportErrors = 0;
  // Slots are consumed even when the concurrency cap forces a skip, so a slow upstream
  // causes fewer requests rather than a burst once it recovers.
  let slotsUsed = 0;
  const inFlight = new Set<Promise<void>>();
  const startedAt = performance.now();

  const outcomeFor = (version: string): VersionOutcome => {
    let outcome = byVersion.get(version);
    if (outcome === undefined) {
      outcome = { ok: 0, failed: 0, firstFailureAt: null, firstAnswerAt: null };
      byVersion.set(version, outcome);
    }
    return outcome;
  };

  const sendOne = async (): Promise<void> => {
    const user = `user-${Math.floor(Math.random() * users)}`;
    const abort = new AbortController();
    // A private timer (rather than AbortSignal.timeout) so stop() leaves nothing scheduled behind.
    const timer = setTimeout(() => abort.abort(new Error('request timed out')), REQUEST_TIMEOUT_MS);
    try {
      const res = await fetch(target, { headers: { 'x-user-id': user }, signal: abort.signal });
      await res.arrayBuffer();
      const outcome = outcomeFor(
        res.headers.get(opts.versionHeader ?? 'x-rollout-version') ?? UNKNOWN_VERSION,
      );
      outcome.firstAnswerAt ??= Date.now();
      if (res.status >= 500) {
        outcome.failed += 1;
        outcome.firstFailureAt ??= Date.now();
      } else {
        outcome.ok += 1;
      }
    } catch {
      transportErrors += 1;
    } finally {
      clearTimeout(timer);
    }
  };

  const tick = (): void => {
    const due = Math.floor(((performance.now() - startedAt) * opts.rps) / 1000);
    while (slotsUsed < due) {
      slotsUsed += 1;
      if (inFlight.size >= MAX_IN_FLIGHT) continue;
      sent += 1;
      const request = sendOne().finally(() => inFlight.delete(request));
      inFlight.add(request);
    }
  };

  const tickMs = Math.min(MAX_TICK_MS, Math.max(MIN_TICK_MS, 1000 / opts.rps));
  const ticker = setInterval(tick, tickMs);
  let stopping: Promise<TrafficReport> | null = null;

  const report = (): TrafficReport => {
    // fromEntries defines own properties, so even a version named "__proto__" is reported safely.
    const copy = Object.fromEntries([...byVersion].map(([version, outcome]) => [version, { ...outcome }]));
    return { sent, byVersion: copy, transportErrors };
  };

  const stop = (): Promise<TrafficReport> => {
    if (stopping === null) {
      clearInterval(ticker);
      clearTimeout(deadline);
      // Waiting for in-flight requests keeps the report consistent with what the router counted.
      stopping = Promise.allSettled([...inFlight]).then(report);
    }
    return stopping;
  };

  const deadline = setTimeout(() => void stop(), opts.maxDurationMs);

  return { report, stop };
}
