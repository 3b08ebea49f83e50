import { z } from 'zod';
import { duration } from './duration';
import { hasControlChars } from './display';
import { MAX_HEADERS } from './limits';
import { httpPath } from './patterns';

const httpMethod = z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const status = z.number().int().min(100).max(599);

const noControlChars = (what: string) =>
  [(text: string) => !hasControlChars(text), `${what} must not contain control characters`] as const;

// A header name is an RFC 9110 token; a CR or LF in a value would split the request.
const headers = z
  .record(
    z
      .string()
      .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/, 'a header name: letters, digits and -, at most 128'),
    z
      .string()
      .max(8192)
      .refine(...noControlChars('a header value')),
  )
  .refine((h) => Object.keys(h).length <= MAX_HEADERS, `at most ${MAX_HEADERS} headers`);

export const healthCheckSchema = z
  .object({
    path: httpPath.default('/healthz'),
    expectedStatus: status.default(200),
    timeout: duration.default(2000),
    // A freshly started process may need a few tries before it answers.
    retries: z.number().int().min(0).max(100).default(10),
    interval: duration.default(1000),
  })
  .strict();

export const smokeTestSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(100)
      .refine(...noControlChars('a name')),
    method: httpMethod.default('GET'),
    path: httpPath,
    headers: headers.default({}),
    body: z.string().max(100_000).optional(),
    expectedStatus: status.default(200),
    bodyContains: z.string().max(100_000).optional(),
    timeout: duration.default(5000),
  })
  .strict();

export type HealthCheckConfig = z.output<typeof healthCheckSchema>;
export type SmokeTest = z.output<typeof smokeTestSchema>;
