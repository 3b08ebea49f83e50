/** Numbers as people read them in an alert: short, no float noise, no exponent where avoidable. */

/** A rate as a percentage with at most one decimal: 0.041 → "4.1%", 0.01 → "1%". */
export const percent = (rate: number): string => `${Number((rate * 100).toFixed(1))}%`;

/** Milliseconds, whole from 10 ms up: 850.4 → "850ms", 4.25 → "4.3ms"; null → "unknown". */
export const millis = (ms: number | null): string =>
  ms === null ? 'unknown' : `${Number(ms.toFixed(ms >= 10 ? 0 : 1))}ms`;

/**
 * Three significant digits, written out below a million (540, 5430, 0.0123); above it an exponent
 * is shorter than the digits (the sequential judge caps Bayes factors near 1e304).
 */
export function significant(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const rounded = Number(x.toPrecision(3));
  return Math.abs(rounded) < 1e6 ? String(rounded) : rounded.toPrecision(3);
}

/** Errors per request; 0 with no requests, as the judges count it. */
export const errorRate = (m: { requests: number; errors: number }): number =>
  m.requests > 0 ? m.errors / m.requests : 0;
