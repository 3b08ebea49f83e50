import { z } from 'zod';
import { duration } from './duration';
import { MAX_ENV, MAX_HEADERS } from './limits';
import { envKey, executable, httpUrl } from './patterns';

const literalArgs = z.array(z.string().max(1000)).max(64).default([]);
const extraEnv = z
  .record(envKey, z.string().max(4000))
  .refine((env) => Object.keys(env).length <= MAX_ENV, `at most ${MAX_ENV} variables`)
  .default({});

const deployNone = z
  .object({
    // The targets are already running (deployed by another system); the rollout only moves traffic.
    provider: z.literal('none'),
  })
  .strict();

const deployProcess = z
  .object({
    provider: z.literal('process'),
    command: executable,
    args: literalArgs,
    env: extraEnv,
    readyTimeout: duration.default(20_000),
  })
  .strict();

const deployCommand = z
  .object({
    // Runs once per deploy and once per retire, with ROLLOUT_ACTION, ROLLOUT_SERVICE, ROLLOUT_VERSION,
    // ROLLOUT_ENVIRONMENT and ROLLOUT_TARGETS in its environment. Arguments are passed literally.
    provider: z.literal('command'),
    command: executable,
    args: literalArgs,
    env: extraEnv,
    timeout: duration.default(300_000),
  })
  .strict();

const deployWebhook = z
  .object({
    // POSTs {action, service, version, environment, targets} as JSON; 2xx is success.
    provider: z.literal('webhook'),
    url: httpUrl,
    // Header name → NAME of a worker environment variable holding its value: tokens stay out of history.
    headersFromEnv: z
      .record(
        z.string().regex(/^[A-Za-z0-9-]{1,128}$/, 'a header name: letters, digits and -, at most 128'),
        envKey,
      )
      .refine((h) => Object.keys(h).length <= MAX_HEADERS, `at most ${MAX_HEADERS} headers`)
      .default({}),
    timeout: duration.default(60_000),
  })
  .strict();

export const deploySchema = z.discriminatedUnion('provider', [
  deployNone,
  deployProcess,
  deployCommand,
  deployWebhook,
]);

export type DeployConfig = z.output<typeof deploySchema>;
