import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { deployBlock, HORIZON_MS } from '../../src/schedule/deploy-block';
import type { FleetFreeze } from '../../src/schedule/fleet-freeze';
import { type ScheduleConfig, type ScheduleInput, scheduleSchema, WEEKDAYS } from '../../src/spec/schedule';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null | undefined) => (ms == null ? ms : new Date(ms).toISOString());
const schedule = (input: ScheduleInput): ScheduleConfig => scheduleSchema.parse(input);

const berlinOffice = schedule({
  timezone: 'Europe/Berlin',
  windows: [{ days: ['weekdays'], from: '09:00', to: '17:00' }],
});
const fleet = (until: string, reason = 'incident 123'): FleetFreeze => ({
  until,
  reason,
  since: '2026-12-01T00:00:00.000Z',
});

/** The block at `now`, with opensAt as ISO for readable failures. */
function blockAt(config: ScheduleConfig | undefined, now: string, freeze: FleetFreeze | null = null) {
  const block = deployBlock(config, freeze, at(now));
  return block && { reason: block.reason, opensAt: iso(block.opensAtMs), label: block.label };
}

describe('deployBlock: windows', () => {
  test('no schedule and no fleet freeze: always allowed', () => {
    assert.equal(deployBlock(undefined, null, at('2026-12-05T03:00:00Z')), null);
    assert.equal(deployBlock(schedule({ timezone: 'UTC' }), null, at('2026-12-05T03:00:00Z')), null);
  });

  test('on a Saturday an office-hours window opens on Monday 09:00 local', () => {
    assert.deepEqual(blockAt(berlinOffice, '2026-12-05T12:00:00Z'), {
      reason: 'outside-window',
      opensAt: '2026-12-07T08:00:00.000Z',
      label: 'waiting for deploy window (opens Mon 09:00 Europe/Berlin)',
    });
  });

  test('from is inside, to is outside', () => {
    assert.equal(blockAt(berlinOffice, '2026-12-07T08:00:00Z'), null);
    assert.equal(blockAt(berlinOffice, '2026-12-07T15:59:59.999Z'), null);
    assert.deepEqual(blockAt(berlinOffice, '2026-12-07T16:00:00Z')?.opensAt, '2026-12-08T08:00:00.000Z');
    assert.deepEqual(blockAt(berlinOffice, '2026-12-07T07:59:59.999Z')?.opensAt, '2026-12-07T08:00:00.000Z');
  });

  test('a window whose to is before its from runs past midnight into the next day', () => {
    const night = schedule({ timezone: 'UTC', windows: [{ days: ['fri'], from: '22:00', to: '02:00' }] });
    assert.equal(blockAt(night, '2026-12-04T23:30:00Z'), null);
    assert.equal(blockAt(night, '2026-12-05T01:59:00Z'), null);
    // Saturday 02:00 until Friday 22:00 is more than six days: the label says the date.
    assert.deepEqual(blockAt(night, '2026-12-05T02:00:00Z'), {
      reason: 'outside-window',
      opensAt: '2026-12-11T22:00:00.000Z',
      label: 'waiting for deploy window (opens Fri 2026-12-11 22:00 UTC)',
    });
    // Thursday night is not Friday's window.
    assert.equal(blockAt(night, '2026-12-04T01:00:00Z')?.opensAt, '2026-12-04T22:00:00.000Z');
  });

  test('"24:00" closes at midnight', () => {
    const evening = schedule({ timezone: 'UTC', windows: [{ days: ['sat'], from: '18:00', to: '24:00' }] });
    assert.equal(blockAt(evening, '2026-12-05T23:59:59Z'), null);
    assert.equal(blockAt(evening, '2026-12-06T00:00:00Z')?.opensAt, '2026-12-12T18:00:00.000Z');
  });

  test('times are read in the schedule zone: a New York window, asked in UTC terms', () => {
    const ny = schedule({
      timezone: 'America/New_York',
      windows: [{ days: ['mon'], from: '09:00', to: '10:00' }],
    });
    // Monday 13:30 UTC is 08:30 in New York (EST): opens at 14:00 UTC.
    assert.deepEqual(blockAt(ny, '2026-12-07T13:30:00Z'), {
      reason: 'outside-window',
      opensAt: '2026-12-07T14:00:00.000Z',
      label: 'waiting for deploy window (opens Mon 09:00 America/New_York)',
    });
  });
});

describe('deployBlock: daylight saving time (Europe/Berlin, 2026)', () => {
  const daily = (from: string, to: string) =>
    schedule({ timezone: 'Europe/Berlin', windows: [{ days: [...WEEKDAYS], from, to }] });

  test('office hours after the spring-forward weekend open at 09:00 CEST, 07:00 UTC', () => {
    assert.equal(blockAt(berlinOffice, '2026-03-28T12:00:00Z')?.opensAt, '2026-03-30T07:00:00.000Z');
    // And after the fall-back weekend at 09:00 CET, 08:00 UTC.
    assert.equal(blockAt(berlinOffice, '2026-10-24T12:00:00Z')?.opensAt, '2026-10-26T08:00:00.000Z');
  });

  test('a window from 02:30 opens at the jump to 03:00 on the spring-forward day', () => {
    // 29 March: 02:00 CET becomes 03:00 CEST at 01:00 UTC; 02:30 never shows on the clock.
    assert.deepEqual(blockAt(daily('02:30', '04:00'), '2026-03-29T00:30:00Z'), {
      reason: 'outside-window',
      opensAt: '2026-03-29T01:00:00.000Z',
      label: 'waiting for deploy window (opens Sun 03:00 Europe/Berlin)',
    });
    // The day before and after, 02:30 is there.
    assert.equal(
      blockAt(daily('02:30', '04:00'), '2026-03-28T00:30:00Z')?.opensAt,
      '2026-03-28T01:30:00.000Z',
    );
    assert.equal(
      blockAt(daily('02:30', '04:00'), '2026-03-29T02:00:00Z')?.opensAt,
      '2026-03-30T00:30:00.000Z',
    );
  });

  test('a window wholly inside the skipped hour does not open that day', () => {
    const sundays = schedule({
      timezone: 'Europe/Berlin',
      windows: [{ days: ['sun'], from: '02:10', to: '02:40' }],
    });
    assert.equal(blockAt(sundays, '2026-03-28T12:00:00Z')?.opensAt, '2026-04-05T00:10:00.000Z');
  });

  test('a window in the repeated hour opens in both of its passes on the fall-back day', () => {
    // 25 October: 03:00 CEST becomes 02:00 CET at 01:00 UTC; 02:00–02:30 happens twice.
    const early = daily('02:00', '02:30');
    assert.equal(blockAt(early, '2026-10-24T23:00:00Z')?.opensAt, '2026-10-25T00:00:00.000Z');
    assert.equal(blockAt(early, '2026-10-25T00:15:00Z'), null);
    // 02:45 CEST: the clock goes back to 02:00 at 01:00 UTC, into the window again.
    assert.equal(blockAt(early, '2026-10-25T00:45:00Z')?.opensAt, '2026-10-25T01:00:00.000Z');
    assert.equal(blockAt(early, '2026-10-25T01:15:00Z'), null);
    assert.equal(blockAt(early, '2026-10-25T01:30:00Z')?.opensAt, '2026-10-26T01:00:00.000Z');
  });
});

describe('deployBlock: freezes', () => {
  const holidays = schedule({
    timezone: 'Europe/Berlin',
    freezes: [{ from: '2026-12-20T00:00:00Z', until: '2027-01-03T23:00:00Z', reason: 'holidays' }],
  });

  test('a spec freeze holds until its end, said in the schedule zone with the date', () => {
    assert.deepEqual(blockAt(holidays, '2026-12-22T12:00:00Z'), {
      reason: 'spec-freeze',
      opensAt: '2027-01-03T23:00:00.000Z',
      label: 'waiting: freeze "holidays" until Mon 2027-01-04 00:00 Europe/Berlin',
    });
    assert.equal(blockAt(holidays, '2026-12-19T23:59:59Z'), null);
    assert.equal(blockAt(holidays, '2027-01-03T23:00:00Z'), null);
  });

  test('a freeze that ends outside a window waits for the window, and says both', () => {
    const both = schedule({ ...berlinOffice, freezes: holidays.freezes });
    assert.deepEqual(blockAt(both, '2026-12-22T12:00:00Z'), {
      reason: 'spec-freeze',
      opensAt: '2027-01-04T08:00:00.000Z',
      label:
        'waiting: freeze "holidays" until Mon 2027-01-04 00:00 Europe/Berlin; opens Mon 2027-01-04 09:00 Europe/Berlin',
    });
    // A window that opens inside the freeze is skipped too.
    assert.equal(blockAt(both, '2026-12-18T17:00:00Z')?.opensAt, '2027-01-04T08:00:00.000Z');
  });

  test('overlapping freezes wait for the last of them', () => {
    const overlapping = schedule({
      timezone: 'UTC',
      freezes: [
        { from: '2026-12-01T00:00:00Z', until: '2026-12-10T00:00:00Z', reason: 'a' },
        { from: '2026-12-09T00:00:00Z', until: '2026-12-12T00:00:00Z', reason: 'b' },
        { from: '2026-12-12T00:00:00Z', until: '2026-12-13T00:00:00Z', reason: 'c' },
      ],
    });
    assert.equal(blockAt(overlapping, '2026-12-02T00:00:00Z')?.opensAt, '2026-12-13T00:00:00.000Z');
  });

  test('a fleet freeze comes first, and is said in UTC without a schedule', () => {
    assert.deepEqual(blockAt(undefined, '2026-12-03T12:00:00Z', fleet('2026-12-03T18:00:00.000Z')), {
      reason: 'fleet-freeze',
      opensAt: '2026-12-03T18:00:00.000Z',
      label: 'waiting: fleet freeze until Thu 2026-12-03 18:00 UTC (incident 123)',
    });
    const block = blockAt(holidays, '2026-12-22T12:00:00Z', fleet('2026-12-23T00:00:00Z', 'db upgrade'));
    assert.equal(block?.reason, 'fleet-freeze');
    assert.equal(block?.opensAt, '2027-01-03T23:00:00.000Z');
    assert.equal(
      block?.label,
      'waiting: fleet freeze until Wed 2026-12-23 01:00 Europe/Berlin (db upgrade); opens Mon 2027-01-04 00:00 Europe/Berlin',
    );
  });

  test('a fleet freeze past its until is no freeze', () => {
    assert.equal(blockAt(undefined, '2026-12-03T18:00:00Z', fleet('2026-12-03T18:00:00Z')), null);
  });

  test('nothing open within the horizon: opensAt null and the label says so', () => {
    const years = schedule({
      timezone: 'UTC',
      freezes: [{ from: '2026-01-01T00:00:00Z', until: '2028-06-01T00:00:00Z', reason: 'moratorium' }],
    });
    const block = deployBlock(years, null, at('2026-12-01T00:00:00Z'));
    assert.equal(block?.opensAtMs, null);
    assert.equal(
      block?.label,
      'waiting: freeze "moratorium" until Thu 2028-06-01 00:00 UTC; no deploy window in the next year',
    );
    // Saturday, the day before a moratorium starts: every window from Monday on is frozen.
    const shut = deployBlock(
      schedule({ ...berlinOffice, freezes: [{ ...years.freezes![0]!, from: '2026-12-06T00:00:00Z' }] }),
      null,
      at('2026-12-05T00:00:00Z'),
    );
    assert.equal(shut?.opensAtMs, null);
    assert.equal(shut?.label, 'waiting for deploy window (no deploy window in the next year)');
  });
});

/*
 * Properties against an independent oracle: wall-clock parts from another Intl formatter, the
 * documented window rule, and freezes as half-open intervals.
 */
const ZONES = [
  'Europe/Berlin',
  'America/New_York',
  'Australia/Lord_Howe',
  'Asia/Kolkata',
  'UTC',
  'America/Santiago',
];
const SHORT_DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function oracleAllowed(config: ScheduleConfig, freeze: FleetFreeze | null, ms: number): boolean {
  if (freeze && ms < Date.parse(freeze.until)) return false;
  if ((config.freezes ?? []).some((f) => Date.parse(f.from) <= ms && ms < Date.parse(f.until))) return false;
  if (!config.windows) return true;
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: config.timezone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(ms);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const weekday = SHORT_DAYS.indexOf(get('weekday'));
  const minute = Number(get('hour')) * 60 + Number(get('minute'));
  const yesterday = WEEKDAYS[(weekday + 6) % 7]!;
  const today = WEEKDAYS[weekday]!;
  return config.windows.some((w) => {
    const from = Number(w.from.slice(0, 2)) * 60 + Number(w.from.slice(3));
    const to = w.to === '24:00' ? 1440 : Number(w.to.slice(0, 2)) * 60 + Number(w.to.slice(3));
    if (to > from) return w.days.includes(today) && minute >= from && minute < to;
    return (w.days.includes(today) && minute >= from) || (w.days.includes(yesterday) && minute < to);
  });
}

const hhmm = (minute: number) =>
  `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
const START = at('2026-01-01T00:00:00Z');
const SPAN = 2 * 365 * DAY;

const windowArb = fc.record({
  days: fc.subarray([...WEEKDAYS], { minLength: 1 }),
  // Quarter hours, so DST hours and midnight come up often; plus any minute now and then.
  from: fc.oneof(
    fc.integer({ min: 0, max: 95 }).map((q) => hhmm(q * 15)),
    fc.integer({ min: 0, max: 1439 }).map(hhmm),
  ),
  to: fc.oneof(
    fc.integer({ min: 0, max: 96 }).map((q) => (q === 96 ? '24:00' : hhmm(q * 15))),
    fc.integer({ min: 0, max: 1439 }).map(hhmm),
  ),
});
const intervalArb = fc
  .tuple(fc.integer({ min: START, max: START + SPAN }), fc.integer({ min: MINUTE, max: 30 * DAY }))
  .map(([from, length]) => ({ from: iso(from)!, until: iso(from + length)!, reason: 'frozen' }));

const caseArb = fc.record({
  config: fc
    .record({
      timezone: fc.constantFrom(...ZONES),
      windows: fc.option(fc.array(windowArb, { minLength: 1, maxLength: 3 }), { nil: undefined }),
      freezes: fc.array(intervalArb, { maxLength: 3 }),
    })
    .map((input) => schedule(input)),
  fleet: fc.option(
    intervalArb.map((i) => fleet(i.until, 'fleet')),
    { nil: null },
  ),
  now: fc.integer({ min: START, max: START + SPAN }),
});

/** Instants in [from, to) worth checking: every minute of a short span, else a sample and the last. */
function samples(from: number, to: number): number[] {
  const out = [from, to - 1, to - MINUTE];
  const step = Math.max(MINUTE, Math.ceil((to - from) / 300 / MINUTE) * MINUTE);
  for (let t = from; t < to; t += step) out.push(t);
  return out.filter((t) => t >= from && t < to);
}

describe('deployBlock: properties', () => {
  test('null exactly when the oracle allows now', () => {
    fc.assert(
      fc.property(caseArb, ({ config, fleet: freeze, now }) => {
        assert.equal(deployBlock(config, freeze, now) === null, oracleAllowed(config, freeze, now));
      }),
      { numRuns: 400 },
    );
  });

  test('opensAt is allowed, and every instant before it (sampled) is blocked', () => {
    fc.assert(
      fc.property(caseArb, ({ config, fleet: freeze, now }) => {
        const block = deployBlock(config, freeze, now);
        if (!block) return;
        const end = block.opensAtMs ?? now + HORIZON_MS;
        if (block.opensAtMs !== null) {
          assert.ok(block.opensAtMs > now, 'opens after now');
          assert.equal(deployBlock(config, freeze, block.opensAtMs), null, `at ${iso(block.opensAtMs)}`);
          assert.ok(oracleAllowed(config, freeze, block.opensAtMs));
        }
        for (const t of samples(now, end))
          assert.ok(!oracleAllowed(config, freeze, t), `allowed at ${iso(t)}`);
      }),
      { numRuns: 300 },
    );
  });

  test('the host time zone changes nothing', () => {
    const saved = process.env.TZ;
    try {
      fc.assert(
        fc.property(
          caseArb,
          fc.constantFrom('Pacific/Kiritimati', 'America/Los_Angeles', 'Asia/Kathmandu'),
          (c, host) => {
            process.env.TZ = 'UTC';
            const inUtc = deployBlock(c.config, c.fleet, c.now);
            process.env.TZ = host;
            // Proof the host zone really changed for this process.
            assert.notEqual(new Date(c.now).getTimezoneOffset(), 0);
            assert.deepEqual(deployBlock(c.config, c.fleet, c.now), inUtc);
          },
        ),
        { numRuns: 60 },
      );
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });
});
