import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  cumulativeBucketsProblem,
  parseCumulativeBuckets,
  slowCountsFromBuckets,
} from '../../src/providers/metrics/cumulative-buckets';

// 1000 requests: 600 took ≤ 50 ms, 900 ≤ 100 ms, 990 ≤ 250 ms.
const buckets = [
  { leMs: 50, count: 600 },
  { leMs: 100, count: 900 },
  { leMs: 250, count: 990 },
  { leMs: Infinity, count: 1000 },
];

describe('slowCountsFromBuckets', () => {
  test('reads each bound at the smallest finite le at or above it, in the order asked', () => {
    assert.deepEqual(slowCountsFromBuckets(buckets, 1000, [50, 75, 100, 250, 0, 10, 99.999]), [
      400, // at the edge 50
      100, // between 50 and 100: read at 100
      100, // at the edge 100
      10, // at the last finite edge
      400, // below the first edge: read at 50
      400,
      100,
    ]);
  });

  test('above the last finite le the count is null', () => {
    assert.deepEqual(slowCountsFromBuckets(buckets, 1000, [250.001, 1000, Infinity]), [null, null, null]);
  });

  test('the +Inf bucket is the total when present, else totalRequests', () => {
    assert.deepEqual(slowCountsFromBuckets(buckets, 5000, [100]), [100]);
    const finiteOnly = buckets.filter((b) => Number.isFinite(b.leMs));
    assert.deepEqual(slowCountsFromBuckets(finiteOnly, 1010, [100, 250]), [110, 20]);
  });

  test('buckets may come in any order', () => {
    const shuffled = [buckets[3]!, buckets[1]!, buckets[0]!, buckets[2]!];
    assert.deepEqual(slowCountsFromBuckets(shuffled, 1000, [75, 250, 300]), [100, 10, null]);
  });

  test('no finite buckets, or no bounds', () => {
    assert.deepEqual(slowCountsFromBuckets([], 10, [50, 100]), [null, null]);
    assert.deepEqual(slowCountsFromBuckets([{ leMs: Infinity, count: 10 }], 10, [50]), [null]);
    assert.deepEqual(slowCountsFromBuckets(buckets, 1000, []), []);
  });

  test('fractional estimates are rounded and clamped to [0, totalRequests]', () => {
    const estimated = [
      { leMs: 100, count: 89.6 },
      { leMs: 200, count: 100.4 },
      { leMs: Infinity, count: 100.2 },
    ];
    // 100.2 − 89.6 = 10.6 → 11; 100.2 − 100.4 = −0.2 → 0 (not −0).
    const counts = slowCountsFromBuckets(estimated, 100, [100, 200]);
    assert.deepEqual(counts, [11, 0]);
    assert.ok(Object.is(counts[1], 0));
    // A total read separately that lags the buckets: never negative.
    assert.deepEqual(slowCountsFromBuckets([{ leMs: 100, count: 120 }], 100, [100]), [0]);
    // A +Inf bucket ahead of the requests figure: never more slow requests than requests.
    assert.deepEqual(
      slowCountsFromBuckets(
        [
          { leMs: 100, count: 0 },
          { leMs: Infinity, count: 130 },
        ],
        100,
        [100],
      ),
      [100],
    );
  });

  test('a NaN le or a non-finite count is a RangeError', () => {
    assert.throws(() => slowCountsFromBuckets([{ leMs: NaN, count: 1 }], 1, [1]), RangeError);
    assert.throws(() => slowCountsFromBuckets([{ leMs: 1, count: NaN }], 1, [1]), RangeError);
    assert.throws(() => slowCountsFromBuckets([{ leMs: 1, count: Infinity }], 1, [1]), RangeError);
  });
});

describe('cumulativeBucketsProblem', () => {
  test('accepts cumulative buckets in any order', () => {
    assert.equal(cumulativeBucketsProblem(buckets), undefined);
    assert.equal(cumulativeBucketsProblem([...buckets].reverse()), undefined);
    assert.equal(cumulativeBucketsProblem([]), undefined);
    assert.equal(
      cumulativeBucketsProblem([
        { leMs: 1, count: 5 },
        { leMs: 2, count: 5 },
      ]),
      undefined,
    );
  });

  test('names what is wrong', () => {
    assert.equal(
      cumulativeBucketsProblem([
        { leMs: 100, count: 900 },
        { leMs: 50, count: 950 },
      ]),
      'counts decrease with le (950 at le 50, 900 at le 100); buckets must be cumulative',
    );
    assert.equal(
      cumulativeBucketsProblem([
        { leMs: 100, count: 900 },
        { leMs: Infinity, count: 10 },
      ]),
      'counts decrease with le (900 at le 100, 10 at le +Inf); buckets must be cumulative',
    );
    assert.equal(
      cumulativeBucketsProblem([
        { leMs: 100, count: 1 },
        { leMs: 100, count: 1 },
      ]),
      'le 100 appears more than once',
    );
    assert.equal(cumulativeBucketsProblem([{ leMs: NaN, count: 1 }]), 'le NaN is not a latency bound');
    assert.equal(
      cumulativeBucketsProblem([{ leMs: 5, count: -1 }]),
      'count -1 at le 5 is not a non-negative number',
    );
  });
});

describe('parseCumulativeBuckets', () => {
  test('numbers, decimal strings and "+Inf"', () => {
    assert.deepEqual(
      parseCumulativeBuckets([
        { le: 50, count: 600 },
        { le: '100.5', count: '900' },
        { le: '+Inf', count: 1000 },
      ]),
      [
        { leMs: 50, count: 600 },
        { leMs: 100.5, count: 900 },
        { leMs: Infinity, count: 1000 },
      ],
    );
    assert.deepEqual(parseCumulativeBuckets([]), []);
  });

  test('anything else is an Error saying what is wrong', () => {
    const cases: [unknown, string][] = [
      [undefined, 'expected an array of { "le": ms | "+Inf", "count": n } buckets, got nothing'],
      [{ le: 1 }, 'expected an array of { "le": ms | "+Inf", "count": n } buckets, got {"le":1}'],
      [[null], 'bucket [0] is not an object (got null)'],
      [[{ le: 1, count: 1 }, [1, 2]], 'bucket [1] is not an object (got [1,2])'],
      [[{ le: 'Inf', count: 1 }], 'bucket [0]: le must be milliseconds or "+Inf" (got "Inf")'],
      [[{ count: 1 }], 'bucket [0]: le must be milliseconds or "+Inf" (got nothing)'],
      [[{ le: 1, count: 'NaN' }], 'bucket [0]: count must be a non-negative number (got "NaN")'],
      [[{ le: 1, count: -3 }], 'bucket [0]: count must be a non-negative number (got -3)'],
      [
        [
          { le: 1, count: 3 },
          { le: 2, count: 2 },
        ],
        'counts decrease with le (3 at le 1, 2 at le 2); buckets must be cumulative',
      ],
    ];
    for (const [value, message] of cases) {
      assert.throws(() => parseCumulativeBuckets(value), { message }, JSON.stringify(value));
    }
  });
});
