/*
 * Wall-clock time in an IANA zone, from Intl alone: no Node API and no host time zone, so the same
 * answers come out in the workflow sandbox, on any worker and in any TZ.
 */

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

/** A local date and time; weekday 0 is Sunday, as in Date.getUTCDay. */
export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
}

/** A calendar date with no zone, as the UTC midnight of that date (which is easy to step). */
export type LocalDate = number;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    // h23: some locales print midnight as 24:00 with hour12 off.
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

export function localTime(ms: number, timeZone: string): LocalTime {
  const fields: Record<string, string> = {};
  for (const part of formatter(timeZone).formatToParts(ms)) fields[part.type] = part.value;
  const yearOfEra = Number(fields.year);
  // Years before 1 AD come as "BC" years; only reachable with absurd inputs, but never NaN.
  const year = fields.era === 'BC' || fields.era === 'B' ? 1 - yearOfEra : yearOfEra;
  const month = Number(fields.month);
  const day = Number(fields.day);
  return {
    year,
    month,
    day,
    hour: Number(fields.hour),
    minute: Number(fields.minute),
    second: Number(fields.second),
    weekday: new Date(Date.UTC(year, month - 1, day)).getUTCDay(),
  };
}

export function localDateOf(time: LocalTime): LocalDate {
  return Date.UTC(time.year, time.month - 1, time.day);
}

export function weekdayOf(date: LocalDate): number {
  return new Date(date).getUTCDay();
}

/** Local wall time minus UTC at an instant, to the second. */
export function offsetMs(ms: number, timeZone: string): number {
  const t = localTime(ms, timeZone);
  const wall = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
  return wall - Math.floor(ms / 1000) * 1000;
}

/**
 * The instants at which the zone's clocks show `minute` (after midnight) on `date`, earliest first:
 * one on most days, two when clocks fall back over it, and when they spring forward over it the
 * instant of the jump (the first at which the local time is later), so a window opening in a
 * skipped hour opens when the clocks reach it.
 */
export function instantsAtLocal(date: LocalDate, minute: number, timeZone: string): number[] {
  const wall = date + minute * MINUTE_MS;
  // A zone changes its offset at most once in two days, so the offsets a day either side are all
  // the offsets that can apply.
  const before = offsetMs(wall - DAY_MS, timeZone);
  const after = offsetMs(wall + DAY_MS, timeZone);
  const found = [...new Set([before, after])]
    .map((offset) => wall - offset)
    .filter((ms) => wall - offsetMs(ms, timeZone) === ms)
    .sort((a, b) => a - b);
  if (found.length > 0 || after <= before) return found;
  return [transitionBetween(wall - after, wall - before, timeZone)];
}

/** The first instant in (lo, hi] with hi's offset, given lo has another: the zone's jump. */
function transitionBetween(lo: number, hi: number, timeZone: string): number {
  const target = offsetMs(hi, timeZone);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetMs(mid, timeZone) === target) hi = mid;
    else lo = mid;
  }
  return hi;
}
