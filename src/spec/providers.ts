import { z } from 'zod';
import { duration } from './duration';
import { httpUrl } from './patterns';

const envKey = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name like MY_VAR');

export const trafficSchema = z
  .object({
    provider: z.literal('embedded').default('embedded'),
    adminUrl: httpUrl.default('http://127.0.0.1:9901'),
  })
  .strict();

export const metricsSchema = z
  .object({
    provider: z.literal('embedded').default('embedded'),
    // Defaults to the traffic router's admin API, which already measures both versions.
    adminUrl: httpUrl.optional(),
  })
  .strict();

const deployNone = z
  .object({
    // The targets are already running (deployed by another system); the rollout only moves traffic.
    provider: z.literal('none'),
  })
  .strict();

const deployProcess = z
  .object({
    provider: z.literal('process'),
    // An executable and literal arguments: never a shell string.
    command: z
      .string()
      .regex(/^[A-Za-z0-9_./-]+$/, 'an executable name or path, without spaces or shell syntax'),
    args: z.array(z.string().max(1000)).max(64).default([]),
    env: z.record(envKey, z.string().max(4000)).default({}),
    readyTimeout: duration.default(20_000),
  })
  .strict();

export const deploySchema = z.discriminatedUnion('provider', [deployNone, deployProcess]);

export const notifySchema = z
  .object({
    // A reference, not the secret: webhook URLs embed tokens, and workflow inputs are stored in plaintext.
    webhookUrlEnv: envKey.optional(),
  })
  .strict();

export type TrafficConfig = z.output<typeof trafficSchema>;
export type MetricsConfig = z.output<typeof metricsSchema>;
export type DeployConfig = z.output<typeof deploySchema>;
export type NotifyConfig = z.output<typeof notifySchema>;
