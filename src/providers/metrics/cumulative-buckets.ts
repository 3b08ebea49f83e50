/**
 * Slow-request counts from a cumulative latency histogram (Prometheus-style `le` buckets), shared by
 * the metrics providers that can read one. Provider-neutral: no I/O and no error classes of its own;
 * callers wrap a thrown Error into theirs (a TransientError naming where the buckets came from).
 */

import { describeValue, finiteNumber } from './values';

/** One cumulative bucket: `count` requests took at most `leMs` milliseconds (Infinity for "+Inf"). */
export interface CumulativeBucket {
  leMs: number;
  count: number;
}

/**
 * The number of requests slower than each bound (same order as `boundsMs`), or null where the
 * histogram cannot tell.
 *
 * The rule: slow(b) = total − count(le*), where le* is the smallest finite `le` ≥ b, and total is the
 * "+Inf" bucket's count when there is one, else `totalRequests`.
 *
 * - A cumulative bucket only says how many requests took at most `le`, so the count at an arbitrary b
 *   is read at the next bucket edge up: requests between b and le* are counted as fast. A bound at
 *   a bucket edge is exact; between edges the slow count can only come out low, never invented.
 * - No finite `le` ≥ b (b above the last finite edge, or no finite buckets at all): null, since the
 *   "+Inf" bucket says nothing about how many requests were slower than b.
 * - Results are rounded to whole requests and clamped to [0, totalRequests]: windowed counters (PromQL
 *   `increase()`) are fractional estimates extrapolated per series, and a total read separately from
 *   the buckets can be a little behind them.
 *
 * `buckets` may come in any order; their `le` values must be distinct. Whether counts grow with `le`
 * is not checked here (estimates may wobble): parsers that can reject bad input use
 * cumulativeBucketsProblem. Throws a RangeError for a NaN `le` or a count that is not a finite number.
 */
export function slowCountsFromBuckets(
  buckets: CumulativeBucket[],
  totalRequests: number,
  boundsMs: number[],
): (number | null)[] {
  for (const { leMs, count } of buckets) {
    if (Number.isNaN(leMs) || !Number.isFinite(count)) {
      throw new RangeError(`invalid histogram bucket: le ${leMs}, count ${count}`);
    }
  }
  const finite = buckets.filter((b) => Number.isFinite(b.leMs)).sort((a, b) => a.leMs - b.leMs);
  const total = buckets.find((b) => b.leMs === Infinity)?.count ?? totalRequests;
  const ceiling = Math.max(0, Math.round(totalRequests));
  return boundsMs.map((boundMs) => {
    const edge = Number.isNaN(boundMs) ? undefined : finite.find((b) => b.leMs >= boundMs);
    if (edge === undefined || !Number.isFinite(total)) return null;
    const slow = Math.round(total - edge.count);
    return Math.min(ceiling, Math.max(0, slow)); // Math.max(0, -0) is 0, never -0
  });
}

/**
 * Why the buckets are not a cumulative histogram, or undefined when they are: each `le` a number
 * (finite or +Infinity) and distinct, each count finite and non-negative, and counts that never
 * decrease as `le` grows (the "+Inf" bucket included). Order in the input does not matter.
 */
export function cumulativeBucketsProblem(buckets: readonly CumulativeBucket[]): string | undefined {
  for (const { leMs, count } of buckets) {
    if (Number.isNaN(leMs) || leMs === -Infinity) return `le ${leMs} is not a latency bound`;
    if (!Number.isFinite(count) || count < 0) {
      return `count ${count} at le ${formatLe(leMs)} is not a non-negative number`;
    }
  }
  const sorted = [...buckets].sort((a, b) => a.leMs - b.leMs);
  for (let i = 1; i < sorted.length; i++) {
    const lower = sorted[i - 1] as CumulativeBucket;
    const upper = sorted[i] as CumulativeBucket;
    if (lower.leMs === upper.leMs) return `le ${formatLe(upper.leMs)} appears more than once`;
    if (upper.count < lower.count) {
      return (
        `counts decrease with le (${lower.count} at le ${formatLe(lower.leMs)}, ` +
        `${upper.count} at le ${formatLe(upper.leMs)}); buckets must be cumulative`
      );
    }
  }
  return undefined;
}

/**
 * Parses a JSON histogram: an array of `{ "le": <ms: number or decimal string, or "+Inf">, "count":
 * <number or decimal string> }`, strictly (cumulativeBucketsProblem). Throws an Error saying what is
 * wrong. An empty array is a histogram without buckets: every slow count from it is null.
 */
export function parseCumulativeBuckets(value: unknown): CumulativeBucket[] {
  if (!Array.isArray(value)) {
    throw new Error(
      `expected an array of { "le": ms | "+Inf", "count": n } buckets, got ${describeValue(value, 60)}`,
    );
  }
  const buckets = value.map((entry: unknown, i): CumulativeBucket => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw new Error(`bucket [${i}] is not an object (got ${describeValue(entry, 60)})`);
    }
    const { le, count } = entry as Record<string, unknown>;
    const leMs = le === '+Inf' ? Infinity : finiteNumber(le);
    if (leMs === undefined) {
      throw new Error(`bucket [${i}]: le must be milliseconds or "+Inf" (got ${describeValue(le, 60)})`);
    }
    const n = finiteNumber(count);
    if (n === undefined || n < 0) {
      throw new Error(`bucket [${i}]: count must be a non-negative number (got ${describeValue(count, 60)})`);
    }
    return { leMs, count: n };
  });
  const problem = cumulativeBucketsProblem(buckets);
  if (problem !== undefined) throw new Error(problem);
  return buckets;
}

function formatLe(leMs: number): string {
  return leMs === Infinity ? '+Inf' : String(leMs);
}
