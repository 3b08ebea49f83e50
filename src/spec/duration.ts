import { z } from 'zod';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Parses "500ms", "30s", "5m", "2h", "7d" into milliseconds; returns undefined when malformed. */
export function parseDuration(text: string): number | undefined {
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

/** A duration field: a string with a unit, or a number of milliseconds. Output is always ms. */
// Validation happens in the regex, not in the transform: a failing transform aborts the whole
// parse in zod 4 and would hide the other bad fields of the document.
export const duration = z
  .union([
    z.number().int().nonnegative(),
    z.string().refine((text) => parseDuration(text) !== undefined, {
      error: (issue) => `"${String(issue.input)}" is not a duration like 500ms, 30s, 5m, 2h or 7d`,
    }),
  ])
  .transform((value) => (typeof value === 'number' ? value : (parseDuration(value) as number)));
