import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { duration, formatDuration, parseDuration } from '../../src/spec/duration';

describe('parseDuration', () => {
  const good: Array<[string, number]> = [
    ['500ms', 500],
    ['0ms', 0],
    ['30s', 30_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
    ['1.5s', 1500],
    ['0.25m', 15_000],
    ['1.5ms', 2],
    [' 5m ', 300_000],
  ];
  for (const [text, ms] of good) {
    test(`${JSON.stringify(text)} is ${ms} ms`, () => {
      assert.equal(parseDuration(text), ms);
    });
  }

  const bad = [
    '5',
    's',
    '-1s',
    '5 m',
    '',
    '1.5',
    '.5s',
    '5.s',
    '5S',
    '5min',
    '1e3ms',
    '5s5',
    'five s',
    '+5s',
  ];
  for (const text of bad) {
    test(`${JSON.stringify(text)} is rejected`, () => {
      assert.equal(parseDuration(text), undefined);
    });
  }
});

describe('formatDuration', () => {
  test('uses the largest unit that divides evenly, up to hours', () => {
    assert.equal(formatDuration(0), '0ms');
    assert.equal(formatDuration(999), '999ms');
    assert.equal(formatDuration(1500), '1500ms');
    assert.equal(formatDuration(1000), '1s');
    assert.equal(formatDuration(90_000), '90s');
    assert.equal(formatDuration(300_000), '5m');
    assert.equal(formatDuration(7_200_000), '2h');
    assert.equal(formatDuration(86_400_000), '24h');
  });

  test('round-trips through parseDuration', () => {
    for (const ms of [0, 1, 999, 1000, 1500, 59_000, 60_000, 90_000, 3_600_000, 5_400_000, 604_800_000]) {
      assert.equal(parseDuration(formatDuration(ms)), ms, `${ms} → ${formatDuration(ms)}`);
    }
  });
});

describe('duration schema', () => {
  test('accepts a string with a unit or whole non-negative milliseconds, always giving ms', () => {
    assert.equal(duration.parse('2m'), 120_000);
    assert.equal(duration.parse(2500), 2500);
    assert.equal(duration.parse(0), 0);
  });

  test('rejects malformed strings with a message quoting the input', () => {
    const result = duration.safeParse('5 m');
    assert.equal(result.success, false);
    assert.match(result.error!.issues[0]!.message, /"5 m" is not a duration like 500ms, 30s, 5m, 2h or 7d/);
  });

  test('rejects negative, fractional and non-numeric values', () => {
    for (const value of [-1, 1.5, Number.NaN, null, true, {}]) {
      assert.equal(duration.safeParse(value).success, false, String(value));
    }
  });
});
