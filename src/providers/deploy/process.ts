import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeployConfig } from '../../spec/providers';
import { commandEnv } from '../child-env';
import { ConfigurationError, TransientError } from '../errors';
import { processKey, stateDir } from './state-dir';
import type { Deployer, DeployRequest, DeployResult } from './types';
import { waitForPort } from './wait-for-port';

type ProcessConfig = Extract<DeployConfig, { provider: 'process' }>;

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readPid(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Runs one local process per target (the demo's way to deploy). The command is an argument array,
 * never a shell string; the version and target reach it through the environment.
 */
export class ProcessDeployer implements Deployer {
  constructor(private readonly config: ProcessConfig) {}

  async deploy(request: DeployRequest, onProgress: (message: string) => void): Promise<DeployResult> {
    const started: string[] = [];
    for (const target of request.targets) {
      const key = processKey(request.service, request.version, target);
      const pidFile = join(stateDir('pids'), `${key}.pid`);
      const existing = readPid(pidFile);
      if (existing !== undefined && isAlive(existing)) {
        started.push(`${target} (already running, pid ${existing})`);
        continue;
      }
      const pid = this.spawnFor(request, target, key);
      writeFileSync(pidFile, String(pid));
      const ready = await waitForPort(target, this.config.readyTimeout, () =>
        onProgress(`waiting for ${target}`),
      );
      if (!ready) {
        throw new TransientError(
          `${request.version} did not listen on ${target} within ${this.config.readyTimeout}ms`,
        );
      }
      started.push(`${target} (pid ${pid})`);
    }
    return { version: request.version, targets: request.targets, details: `started ${started.join(', ')}` };
  }

  async retire(request: DeployRequest): Promise<DeployResult> {
    const stopped: string[] = [];
    for (const target of request.targets) {
      const pidFile = join(stateDir('pids'), `${processKey(request.service, request.version, target)}.pid`);
      const pid = readPid(pidFile);
      if (pid !== undefined && isAlive(pid)) {
        process.kill(pid, 'SIGTERM');
        stopped.push(`${target} (pid ${pid})`);
      }
      rmSync(pidFile, { force: true });
    }
    return {
      version: request.version,
      targets: request.targets,
      details: `stopped ${stopped.join(', ') || 'nothing'}`,
    };
  }

  private spawnFor(request: DeployRequest, target: string, key: string): number {
    const url = new URL(target);
    const log = openSync(join(stateDir('logs'), `${key}.log`), 'a');
    try {
      // Detached: a deployed version must outlive a worker crash or restart.
      const child = spawn(this.config.command, this.config.args, {
        shell: false,
        detached: true,
        stdio: ['ignore', log, log],
        // The spec picks the command: it gets a minimal environment, not the worker's secrets.
        env: commandEnv(this.config.env, {
          ROLLOUT_SERVICE: request.service,
          ROLLOUT_VERSION: request.version,
          ROLLOUT_TARGET: target,
          HOST: url.hostname,
          PORT: url.port,
        }),
      });
      // A missing executable is reported through pid === undefined; the event must not crash the worker.
      child.once('error', () => undefined);
      if (child.pid === undefined) throw new ConfigurationError(`could not start ${this.config.command}`);
      child.unref();
      return child.pid;
    } finally {
      closeSync(log);
    }
  }
}
