import { versionName } from '../../spec/patterns';
import { ConfigurationError } from '../errors';

/**
 * Versions are spliced into queries and URLs, so they are checked against the strict version
 * pattern first: no quotes, braces or spaces can reach PromQL or a URL.
 */
export function assertVersion(version: string): void {
  if (!versionName.safeParse(version).success) {
    throw new ConfigurationError(`invalid version ${JSON.stringify(version)} for a metrics query`);
  }
}

const DECIMAL = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/;

/** A finite number, from a JSON number or a decimal string ("12", "0.25"); otherwise undefined. */
export function finiteNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && DECIMAL.test(value)) {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : undefined;
  }
  return undefined;
}

/** A value quoted in an error message: JSON, cut to `max` characters. */
export function describeValue(value: unknown, max = 80): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** A URL for error messages: no credentials, no query string (it may carry tokens). */
export function describeEndpoint(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
