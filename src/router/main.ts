import { parseArgs } from 'node:util';
import { z } from 'zod';
import { issuesText } from '../spec/errors';
import { ADMIN_TOKEN_ENV } from './admin-auth';
import { ADMIN_HOSTS_ENV, parseHostList } from './admin-host';
import { startRouter } from './server';

const USAGE = 'usage: router [--port 8080] [--admin-port 9901] [--host 127.0.0.1] [--admin-host 127.0.0.1]';

const port = z
  .string()
  .regex(/^\d{1,5}$/, 'must be a port number')
  .transform(Number)
  .pipe(z.number().max(65535, 'must be <= 65535'));

const argsSchema = z.object({
  '--port': port.default(8080),
  '--admin-port': port.default(9901),
  '--host': z.string().min(1).default('127.0.0.1'),
  '--admin-host': z.string().min(1).default('127.0.0.1'),
});

function fail(message: string): never {
  console.error(`router: ${message}`);
  console.error(USAGE);
  process.exit(2);
}

function readArgs(): z.infer<typeof argsSchema> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        'admin-port': { type: 'string' },
        host: { type: 'string' },
        'admin-host': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  // Keyed by flag name so validation messages point at what the user typed.
  const parsed = argsSchema.safeParse({
    '--port': values.port,
    '--admin-port': values['admin-port'],
    '--host': values.host,
    '--admin-host': values['admin-host'],
  });
  if (!parsed.success) {
    fail(issuesText(parsed.error));
  }
  return parsed.data;
}

async function main(): Promise<void> {
  const args = readArgs();
  const router = await startRouter({
    port: args['--port'],
    adminPort: args['--admin-port'],
    host: args['--host'],
    adminHost: args['--admin-host'],
    // From the environment only, never a flag: a flag would show in `ps` and in compose files.
    // Empty is unset, as docker-compose passes an unset variable through as "".
    adminToken: process.env[ADMIN_TOKEN_ENV] || undefined,
    adminHosts: parseHostList(process.env[ADMIN_HOSTS_ENV]),
  });
  console.log(`router proxy listening on ${router.url}`);
  console.log(`router admin listening on ${router.adminUrl}`);

  const shutdown = (): void => {
    router.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('router: error while closing', err);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((err: unknown) => {
  console.error('router: failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
