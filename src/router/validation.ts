import type { z } from 'zod';

export interface IssueView {
  path: string;
  message: string;
}

/** Flattens zod issues into dotted paths, which read better in CLI output and logs than arrays. */
export function toIssueList(error: z.ZodError): IssueView[] {
  return error.issues.map((issue) => ({
    path: issue.path.map((segment) => String(segment)).join('.'),
    message: issue.message,
  }));
}
