import type { z } from 'zod';
import { safeText } from './display';

export interface SpecIssue {
  path: string;
  message: string;
}

/** A message may quote a value or list unknown keys: cut it, so any input gives a short report. */
const MAX_MESSAGE_CHARS = 500;
/** Ten thousand bad keys are reported as the first few and a count. */
const MAX_ISSUES = 50;

/** Thrown for a spec that must not start a rollout; carries one entry per bad field. */
export class SpecError extends Error {
  readonly issues: SpecIssue[];

  constructor(
    readonly source: string,
    issues: SpecIssue[],
  ) {
    // Every part may echo the input (a file name, a key, a value): escaped and truncated here,
    // once, so no caller can print raw input by accident.
    const shown = issues
      .slice(0, MAX_ISSUES)
      .map((i) => ({ path: safeText(i.path), message: safeText(i.message, MAX_MESSAGE_CHARS) }));
    if (issues.length > MAX_ISSUES) {
      shown.push({ path: '(more)', message: `${issues.length - MAX_ISSUES} more issues not shown` });
    }
    const safeSource = safeText(source);
    super(
      `invalid rollout spec ${safeSource}:\n${shown.map((i) => `  - ${i.path}: ${i.message}`).join('\n')}`,
    );
    this.name = 'SpecError';
    this.issues = shown;
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path.reduce<string>((acc, key) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    return acc ? `${acc}.${String(key)}` : String(key);
  }, '');
}

/**
 * The one way zod issues are shown, in specs, the router's admin API, providers and the demo: a
 * readable path (`stages[0].weight`, `(root)`) and zod's message.
 */
export function issuesFromZod(error: z.ZodError): SpecIssue[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

/** The same issues on one line, for an error message; the first `max` of them when given. */
export function issuesText(error: z.ZodError, max = Infinity): string {
  return issuesFromZod(error)
    .slice(0, max)
    .map((issue) => `${issue.path}: ${issue.message}`)
    .join('; ');
}
