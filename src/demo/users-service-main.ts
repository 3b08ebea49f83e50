import { z } from 'zod';
import { issuesText } from '../spec/errors';
import { VERSION_PATTERN } from '../spec/patterns';
import { MAX_LATENCY_MS } from './faults';
import { startUsersService, USERS_DATABASE_URL_ENV } from './users-service';

/**
 * The users service as its own process, configured by the environment only, as the `process`
 * deploy provider starts it: ROLLOUT_VERSION, PORT, HOST, USERS_DATABASE_URL (the worker lets it
 * through with ROLLOUT_COMMAND_ENV_ALLOW, so it never enters a spec) and FAULT_* to make it bad.
 */
const number = (label: string) =>
  z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, `${label} must be a non-negative number`)
    .transform(Number);

const envSchema = z.object({
  ROLLOUT_VERSION: z
    .string({ error: 'ROLLOUT_VERSION is required' })
    .regex(VERSION_PATTERN, `ROLLOUT_VERSION must match ${VERSION_PATTERN.source}`),
  [USERS_DATABASE_URL_ENV]: z.string({ error: `${USERS_DATABASE_URL_ENV} is required` }).min(1),
  PORT: number('PORT').pipe(z.number().int().min(0).max(65535)).default(0),
  HOST: z.string().min(1).default('127.0.0.1'),
  USERS_NAME_COLUMN: z.enum(['name', 'full_name']).optional(),
  FAULT_ERROR_RATE: number('FAULT_ERROR_RATE').pipe(z.number().min(0).max(1)).optional(),
  FAULT_LATENCY_MS: number('FAULT_LATENCY_MS').pipe(z.number().max(MAX_LATENCY_MS)).optional(),
  FAULT_FAIL_HEALTH: z.enum(['1', '0', 'true', 'false']).optional(),
  FAULT_FAIL_SMOKE: z.enum(['1', '0', 'true', 'false']).optional(),
});

const on = (value: string | undefined): boolean | undefined =>
  value === undefined ? undefined : value === '1' || value === 'true';

async function main(): Promise<void> {
  const parsed = envSchema.safeParse(process.env);
  if (!parsed.success) {
    console.error(`users-service: ${issuesText(parsed.error)}`);
    process.exit(2);
  }
  const env = parsed.data;
  const service = await startUsersService({
    version: env.ROLLOUT_VERSION,
    databaseUrl: env[USERS_DATABASE_URL_ENV],
    port: env.PORT,
    host: env.HOST,
    ...(env.USERS_NAME_COLUMN ? { column: env.USERS_NAME_COLUMN } : {}),
    faults: {
      errorRate: env.FAULT_ERROR_RATE,
      latencyMs: env.FAULT_LATENCY_MS,
      failHealth: on(env.FAULT_FAIL_HEALTH),
      failSmoke: on(env.FAULT_FAIL_SMOKE),
    },
  });
  console.log(`users-service ${service.version} (reads ${service.column}) listening on ${service.url}`);

  const shutdown = (): void => {
    service.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('users-service: error while closing', err);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((err: unknown) => {
  console.error('users-service: failed to start:', err);
  process.exit(1);
});
