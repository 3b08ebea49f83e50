import { type DeployWindow, minuteOfDay, WEEKDAYS } from '../spec/schedule';
import { DAY_MS, instantsAtLocal, localDateOf, localTime, weekdayOf } from './zoned-time';

/** A window in minutes after local midnight, and its days as Date.getUTCDay numbers. */
interface Span {
  days: ReadonlySet<number>;
  from: number;
  to: number;
}

function spanOf(window: DeployWindow): Span {
  return {
    days: new Set(window.days.map((d) => WEEKDAYS.indexOf(d))),
    from: minuteOfDay(window.from),
    to: window.to === '24:00' ? 24 * 60 : minuteOfDay(window.to),
  };
}

function spanContains(span: Span, weekday: number, minute: number): boolean {
  if (span.to > span.from) return span.days.has(weekday) && minute >= span.from && minute < span.to;
  // Spans midnight: the evening of a listed day, or the early hours after one.
  return (
    (span.days.has(weekday) && minute >= span.from) || (span.days.has((weekday + 6) % 7) && minute < span.to)
  );
}

/** Whether the zone's wall clock at `ms` is inside one of the windows. */
export function inWindow(windows: readonly DeployWindow[], timeZone: string, ms: number): boolean {
  const t = localTime(ms, timeZone);
  const minute = t.hour * 60 + t.minute;
  return windows.some((w) => spanContains(spanOf(w), t.weekday, minute));
}

/**
 * The first instant after `ms` inside a window, or null if none comes before `limitMs`. Being inside
 * can only begin where the wall clock reaches a window's `from` (or jumps past it when clocks spring
 * forward, which instantsAtLocal returns too), so those instants are the only candidates.
 */
export function nextWindowOpening(
  windows: readonly DeployWindow[],
  timeZone: string,
  ms: number,
  limitMs: number,
): number | null {
  const spans = windows.map(spanOf);
  const today = localDateOf(localTime(ms, timeZone));
  // From the day before: a fall-back hour can put a wall time of yesterday after `ms`.
  for (let date = today - DAY_MS; date - 2 * DAY_MS <= limitMs; date += DAY_MS) {
    const weekday = weekdayOf(date);
    const froms = [...new Set(spans.filter((s) => s.days.has(weekday)).map((s) => s.from))];
    const candidates = froms
      .flatMap((from) => instantsAtLocal(date, from, timeZone))
      .filter((c) => c > ms && c <= limitMs)
      .sort((a, b) => a - b);
    // A window wholly inside a skipped hour never opens: its jump instant is outside it.
    const opening = candidates.find((c) => inWindow(windows, timeZone, c));
    if (opening !== undefined) return opening;
  }
  return null;
}
