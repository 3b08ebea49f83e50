import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SpecError, type SpecIssue } from '../../src/spec/errors';
import { parseBlueGreenSpec, parseCanarySpec } from '../../src/spec/load';
import { MAX_FREEZES, MAX_WINDOWS, type ScheduleInput } from '../../src/spec/schedule';

const canary = (schedule: unknown) => ({
  service: 'checkout',
  stable: { version: 'v1', targets: ['http://127.0.0.1:10001'] },
  canary: { version: 'v2', targets: ['http://127.0.0.1:10002'] },
  schedule,
});

/** The issues a spec with this schedule is refused with; fails the test if it is accepted. */
function issues(schedule: unknown): SpecIssue[] {
  try {
    parseCanarySpec(canary(schedule));
  } catch (err) {
    assert.ok(err instanceof SpecError, String(err));
    return err.issues;
  }
  assert.fail('the spec was accepted');
}

function assertIssue(schedule: unknown, path: string, message: RegExp): void {
  const found = issues(schedule);
  assert.ok(
    found.some((i) => i.path === path && message.test(i.message)),
    `no ${path} ~ ${message}: ${JSON.stringify(found)}`,
  );
}

const good: ScheduleInput = {
  timezone: 'Europe/Berlin',
  windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' }],
  freezes: [{ from: '2026-12-20T00:00:00Z', until: '2027-01-04T00:00:00+01:00', reason: 'holidays' }],
};

describe('the schedule section', () => {
  test('is optional, in both strategies', () => {
    assert.equal(parseCanarySpec(canary(undefined)).schedule, undefined);
    const blueGreen = parseBlueGreenSpec({
      service: 'checkout',
      version: 'v2',
      environments: { blue: { targets: ['http://127.0.0.1:1'] }, green: { targets: ['http://127.0.0.1:2'] } },
      schedule: good,
    });
    assert.equal(blueGreen.schedule?.timezone, 'Europe/Berlin');
  });

  test('a good schedule comes out as written, with days in week order', () => {
    const spec = parseCanarySpec(
      canary({ ...good, windows: [{ days: ['fri', 'mon'], from: '22:00', to: '02:00' }] }),
    );
    assert.deepEqual(spec.schedule, {
      ...good,
      windows: [{ days: ['mon', 'fri'], from: '22:00', to: '02:00' }],
    });
  });

  test('weekdays and weekends expand to the days they name', () => {
    const spec = parseCanarySpec(
      canary({
        timezone: 'UTC',
        windows: [{ days: ['weekends', 'weekdays', 'mon'], from: '00:00', to: '24:00' }],
      }),
    );
    assert.deepEqual(spec.schedule?.windows?.[0]?.days, ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']);
    const weekends = parseCanarySpec(
      canary({ timezone: 'UTC', windows: [{ days: ['weekends'], from: '10:00', to: '12:00' }] }),
    );
    assert.deepEqual(weekends.schedule?.windows?.[0]?.days, ['sun', 'sat']);
  });

  test('an unknown time zone is refused, naming the field and the value', () => {
    assertIssue(
      { timezone: 'Mars/Olympus' },
      'schedule.timezone',
      /"Mars\/Olympus" is not an IANA time zone/,
    );
    assertIssue({ timezone: '' }, 'schedule.timezone', /not an IANA time zone/);
    assertIssue({}, 'schedule.timezone', /expected string/);
  });

  test('bad days and times are refused with their paths', () => {
    const windows = [
      { days: ['monday'], from: '09:00', to: '17:00' },
      { days: [], from: '9:00', to: '25:00' },
      { days: ['mon'], from: '24:00', to: '12:60' },
    ];
    const found = issues({ timezone: 'UTC', windows }).map((i) => i.path);
    for (const path of [
      'schedule.windows[0].days[0]',
      'schedule.windows[1].days',
      'schedule.windows[1].from',
      'schedule.windows[1].to',
      'schedule.windows[2].from',
      'schedule.windows[2].to',
    ])
      assert.ok(found.includes(path), `${path} in ${JSON.stringify(found)}`);
  });

  test('"24:00" is an end, never a start', () => {
    const spec = parseCanarySpec(
      canary({ timezone: 'UTC', windows: [{ days: ['sat'], from: '18:00', to: '24:00' }] }),
    );
    assert.equal(spec.schedule?.windows?.[0]?.to, '24:00');
    assertIssue(
      { timezone: 'UTC', windows: [{ days: ['sat'], from: '24:00', to: '01:00' }] },
      'schedule.windows[0].from',
      /HH:MM/,
    );
  });

  test('unknown keys are refused (strict), in the section and in a window', () => {
    assertIssue({ ...good, timeZone: 'UTC' }, 'schedule', /timeZone/);
    assertIssue(
      { timezone: 'UTC', windows: [{ days: ['mon'], from: '09:00', to: '10:00', tz: 'x' }] },
      'schedule.windows[0]',
      /tz/,
    );
  });

  test('a freeze needs instants with an offset, an end after its start, and a short reason', () => {
    const freeze = (f: object) => ({ timezone: 'UTC', freezes: [{ ...good.freezes![0], ...f }] });
    assertIssue(freeze({ from: '2026-12-20' }), 'schedule.freezes[0].from', /ISO-8601 time with an offset/);
    assertIssue(freeze({ until: '2027-01-04T00:00:00' }), 'schedule.freezes[0].until', /with an offset or Z/);
    assertIssue(freeze({ until: '2026-12-19T00:00:00Z' }), 'schedule.freezes[0].until', /must be after from/);
    assertIssue(freeze({ until: '2026-12-20T00:00:00Z' }), 'schedule.freezes[0].until', /must be after from/);
    assertIssue(freeze({ reason: '   ' }), 'schedule.freezes[0].reason', /must say why/);
    assertIssue(freeze({ reason: 'x'.repeat(201) }), 'schedule.freezes[0].reason', /200/);
    assertIssue(freeze({ reason: 'bad\u001b[31m' }), 'schedule.freezes[0].reason', /control characters/);
    assertIssue(
      { timezone: 'UTC', freezes: [{ from: good.freezes![0]!.from }] },
      'schedule.freezes[0].until',
      /ISO-8601/,
    );
  });

  test('a malformed bound is reported once, not also as out of order', () => {
    const found = issues({ timezone: 'UTC', freezes: [{ ...good.freezes![0], from: 'soon' }] });
    assert.deepEqual(
      found.map((i) => i.path),
      ['schedule.freezes[0].from'],
    );
  });

  test('the lists are bounded', () => {
    const window = { days: ['mon'], from: '09:00', to: '10:00' };
    assertIssue({ timezone: 'UTC', windows: Array(MAX_WINDOWS + 1).fill(window) }, 'schedule.windows', /50/);
    assertIssue(
      { timezone: 'UTC', freezes: Array(MAX_FREEZES + 1).fill(good.freezes![0]) },
      'schedule.freezes',
      /100/,
    );
    assertIssue({ timezone: 'UTC', windows: [] }, 'schedule.windows', /1/);
    assertIssue({ timezone: 'x'.repeat(65) }, 'schedule.timezone', /64/);
  });
});
