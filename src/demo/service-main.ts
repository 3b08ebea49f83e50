import { parseArgs } from 'node:util';
import { z } from 'zod';
import { issuesText } from '../spec/errors';
import { VERSION_PATTERN } from '../spec/patterns';
import { MAX_LATENCY_MS } from './faults';
import { startDemoService } from './service';

const USAGE =
  'usage: service-main --version <v> --port <n> [--host <h>] [--error-rate <0..1>] [--latency-ms <n>] [--fail-health] [--fail-smoke]';

const numberText = (label: string) =>
  z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, `${label} must be a non-negative number`)
    .transform(Number);

const flag = z
  .union([z.boolean(), z.enum(['1', '0', 'true', 'false', ''])], { error: 'must be 1, 0, true or false' })
  .transform((value) => value === true || value === '1' || value === 'true');

const configSchema = z.object({
  version: z
    .string({ error: 'version is required' })
    .regex(VERSION_PATTERN, `version must match ${VERSION_PATTERN.source}`),
  port: numberText('port').pipe(z.number().int().min(0).max(65535)).default(0),
  host: z.string().min(1).default('127.0.0.1'),
  errorRate: numberText('error rate').pipe(z.number().min(0).max(1)).optional(),
  latencyMs: numberText('latency').pipe(z.number().max(MAX_LATENCY_MS)).optional(),
  failHealth: flag.optional(),
  failSmoke: flag.optional(),
});

function fail(message: string): never {
  console.error(`demo-service: ${message}`);
  console.error(USAGE);
  process.exit(2);
}

/** Flags override the environment so a wrapper script's defaults can be overridden per run. */
function readConfig(): z.infer<typeof configSchema> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        version: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'error-rate': { type: 'string' },
        'latency-ms': { type: 'string' },
        'fail-health': { type: 'boolean' },
        'fail-smoke': { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  const env = process.env;
  const parsed = configSchema.safeParse({
    version: values.version ?? env.ROLLOUT_VERSION,
    port: values.port ?? env.PORT,
    host: values.host,
    errorRate: values['error-rate'] ?? env.FAULT_ERROR_RATE,
    latencyMs: values['latency-ms'] ?? env.FAULT_LATENCY_MS,
    failHealth: values['fail-health'] ?? env.FAULT_FAIL_HEALTH,
    failSmoke: values['fail-smoke'] ?? env.FAULT_FAIL_SMOKE,
  });
  if (!parsed.success) {
    fail(issuesText(parsed.error));
  }
  return parsed.data;
}

async function main(): Promise<void> {
  const { version, port, host, ...faults } = readConfig();
  const service = await startDemoService({ version, port, host, faults });
  console.log(`demo-service ${service.version} listening on ${service.url}`);

  const shutdown = (): void => {
    service.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('demo-service: error while closing', err);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((err: unknown) => {
  console.error('demo-service: failed to start:', err);
  process.exit(1);
});
