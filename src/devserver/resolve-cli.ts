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
 * from PyPI, then `temporal` on PATH. Undefined means: let the SDK download one (needs internet).
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
