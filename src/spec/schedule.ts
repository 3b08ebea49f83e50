import { z } from 'zod';
import { hasControlChars, safeText } from './display';

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

// Shorthands expand at parse time, so the workflow only ever sees plain weekdays.
const DAY_GROUPS: Record<string, readonly Weekday[]> = {
  weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'],
  weekends: ['sat', 'sun'],
};

export const MAX_WINDOWS = 50;
export const MAX_FREEZES = 100;
export const MAX_FREEZE_REASON = 200;
const MAX_TIMEZONE_CHARS = 64;

/** Whether the runtime's ICU knows the zone: the same check the workflow's formatter will make. */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const timezone = z
  .string()
  .max(MAX_TIMEZONE_CHARS)
  .superRefine((name, ctx) => {
    if (!isTimeZone(name)) {
      ctx.addIssue({
        code: 'custom',
        message: `timezone "${safeText(name)}" is not an IANA time zone like Europe/Berlin or UTC`,
      });
    }
  });

const day = z.enum([...WEEKDAYS, 'weekdays', 'weekends']);

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

/** "HH:MM" (24 h) → minutes after local midnight. */
export function minuteOfDay(text: string): number {
  return Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));
}

/**
 * A window, in local wall-clock time of the schedule's zone, on each listed day. `to` may be "24:00"
 * (the end of the day). A `to` at or before `from` spans midnight: `fri 22:00 → 02:00` is open from
 * Friday 22:00 until Saturday 02:00, whatever Saturday's own windows say.
 */
const windowSchema = z
  .object({
    days: z
      .array(day)
      .min(1)
      .max(WEEKDAYS.length + 2)
      .transform((days) =>
        WEEKDAYS.filter((d) => days.includes(d) || days.some((g) => DAY_GROUPS[g]?.includes(d))),
      ),
    from: z.string().regex(HHMM, 'a local time "HH:MM" (24 h), like "09:00"'),
    to: z.string().regex(new RegExp(`${HHMM.source}|^24:00$`), 'a local time "HH:MM" (24 h) or "24:00"'),
  })
  .strict();

// ISO-8601 with an explicit offset or Z: a freeze is an instant, never a local time that a
// time-zone rule change could move.
const instant = z.iso.datetime({
  offset: true,
  message: 'an ISO-8601 time with an offset or Z, like 2026-12-20T00:00:00Z',
});

const freezeSchema = z
  .object({
    from: instant,
    until: instant,
    reason: z
      .string()
      .trim()
      .min(1, 'must say why')
      .max(MAX_FREEZE_REASON)
      .refine((text) => !hasControlChars(text), 'must not contain control characters'),
  })
  .strict()
  .superRefine((freeze, ctx) => {
    // A malformed bound has its own issue already; comparing it would only add noise.
    if (!instant.safeParse(freeze.from).success || !instant.safeParse(freeze.until).success) return;
    if (Date.parse(freeze.from) >= Date.parse(freeze.until)) {
      ctx.addIssue({ code: 'custom', path: ['until'], message: `must be after from (${freeze.from})` });
    }
  });

export const scheduleSchema = z
  .object({
    timezone,
    /** Absent: always open (freezes still apply). */
    windows: z.array(windowSchema).min(1).max(MAX_WINDOWS).optional(),
    freezes: z.array(freezeSchema).max(MAX_FREEZES).optional(),
  })
  .strict();

export type ScheduleConfig = z.output<typeof scheduleSchema>;
export type ScheduleInput = z.input<typeof scheduleSchema>;
export type DeployWindow = NonNullable<ScheduleConfig['windows']>[number];
export type SpecFreeze = NonNullable<ScheduleConfig['freezes']>[number];
