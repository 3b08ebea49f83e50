import { z } from 'zod';
import { duration } from './duration';
import { httpPath } from './patterns';

const httpMethod = z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const status = z.number().int().min(100).max(599);

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
    name: z.string().min(1).max(100),
    method: httpMethod.default('GET'),
    path: httpPath,
    headers: z.record(z.string(), z.string()).default({}),
    body: z.string().max(100_000).optional(),
    expectedStatus: status.default(200),
    bodyContains: z.string().optional(),
    timeout: duration.default(5000),
  })
  .strict();

export type HealthCheckConfig = z.output<typeof healthCheckSchema>;
export type SmokeTest = z.output<typeof smokeTestSchema>;
