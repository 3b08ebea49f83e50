import { accessSync, constants } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

export type CliSource = 'TEMPORAL_CLI_PATH' | 'project' | 'PATH';

export interface ResolvedCli {
  path: string;
  source: CliSource;
}

const PROJECT_ROOT = resolve(__dirname, '..', '..');

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds the Temporal CLI: TEMPORAL_CLI_PATH, then the project-local copy that `npm ci` installs
 * from PyPI, then `temporal` on PATH. Undefined when there is none: the SDK's own download is never
 * used (its site is out of reach here), so callers refuse to start (requireTemporalCli).
 */
export function resolveTemporalCli(env: NodeJS.ProcessEnv = process.env): ResolvedCli | undefined {
  if (env.TEMPORAL_CLI_PATH) {
    if (!executable(env.TEMPORAL_CLI_PATH)) {
      throw new Error(`TEMPORAL_CLI_PATH=${env.TEMPORAL_CLI_PATH} is not an executable file`);
    }
    return { path: env.TEMPORAL_CLI_PATH, source: 'TEMPORAL_CLI_PATH' };
  }
  const local = join(PROJECT_ROOT, '.tools', 'bin', 'temporal');
  if (executable(local)) return { path: local, source: 'project' };
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, 'temporal'))) return { path: join(dir, 'temporal'), source: 'PATH' };
  }
  return undefined;
}

/** The Temporal CLI, or an error that says how to get it. */
export function requireTemporalCli(env: NodeJS.ProcessEnv = process.env): ResolvedCli {
  const cli = resolveTemporalCli(env);
  if (!cli) {
    throw new Error(
      'Temporal CLI not found: run `npm ci` (installs .tools/bin/temporal) or set TEMPORAL_CLI_PATH',
    );
  }
  return cli;
}
