import { localTime } from './zoned-time';
import { DAY_MS } from './zoned-time';

const WEEKDAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
/** Beyond this, "Mon 09:00" could mean more than one Monday: the date is shown too. */
const SAME_WEEK_MS = 6 * DAY_MS;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** "Mon 09:00 Europe/Berlin", or with the date ("Mon 2027-01-04 09:00 Europe/Berlin"). */
export function localLabel(ms: number, timeZone: string, withDate: boolean): string {
  const t = localTime(ms, timeZone);
  const date = withDate ? `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)} ` : '';
  return `${WEEKDAY_NAMES[t.weekday]} ${date}${pad(t.hour)}:${pad(t.minute)} ${timeZone}`;
}

/** When the rollout may go on, as seen from `nowMs`: the date only when it is not this week. */
export function openingLabel(opensAtMs: number | null, nowMs: number, timeZone: string): string {
  if (opensAtMs === null) return 'no deploy window in the next year';
  return `opens ${localLabel(opensAtMs, timeZone, opensAtMs - nowMs > SAME_WEEK_MS)}`;
}
