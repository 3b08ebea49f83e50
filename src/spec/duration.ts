import { z } from 'zod';
import { safeText } from './display';
import { MAX_DURATION_MS } from './limits';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
// Bounded digit counts: "1" followed by 400 zeros would parse to Infinity.
const DURATION_PATTERN = /^(\d{1,12}(?:\.\d{1,6})?)(ms|s|m|h|d)$/;

/** Parses "500ms", "30s", "5m", "2h", "7d" into milliseconds; returns undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  if (text.length > 64) return undefined;
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match) return undefined;
  const [, amount, unit] = match;
  return Math.round(Number(amount) * (UNIT_MS[unit as string] as number));
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms >= 3_600_000) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 && ms >= 1000) return `${ms / 1000}s`;
  return `${ms}ms`;
}

// Every duration is at most MAX_DURATION_MS, so no sum or multiple of one can overflow a timer.
const TOO_LONG = `must be at most ${MAX_DURATION_MS / 86_400_000}d`;

/** A duration field: a string with a unit, or a number of milliseconds. Output is always ms. */
// Validation happens in the refinement, not in the transform: a failing transform aborts the whole
// parse in zod 4 and would hide the other bad fields of the document.
export const duration = z
  .union([
    z.number().int().nonnegative().max(MAX_DURATION_MS, TOO_LONG),
    z.string().superRefine((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `"${safeText(text)}" is not a duration like 500ms, 30s, 5m, 2h or 7d`,
        });
      } else if (ms > MAX_DURATION_MS) {
        ctx.addIssue({ code: 'custom', message: TOO_LONG });
      }
    }),
  ])
  .transform((value) => (typeof value === 'number' ? value : (parseDuration(value) as number)));
