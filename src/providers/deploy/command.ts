import { spawn } from 'node:child_process';
import type { DeployConfig } from '../../spec/deploy';
import { ConfigurationError, TransientError } from '../errors';
import type { Deployer, DeployRequest, DeployResult } from './types';

type CommandConfig = Extract<DeployConfig, { provider: 'command' }>;

/** Exit status a deploy command uses to say "retrying will not help" (bad input, unknown version). */
export const EXIT_PERMANENT_FAILURE = 2;
const OUTPUT_KEPT = 2000;

/**
 * Runs the user's deploy tool with an argument array — never through a shell — so nothing in a
 * version, target or argument can be interpreted as shell syntax.
 */
export class CommandDeployer implements Deployer {
  constructor(private readonly config: CommandConfig) {}

  deploy(request: DeployRequest, onProgress: (message: string) => void): Promise<DeployResult> {
    return this.run('deploy', request, onProgress);
  }

  retire(request: DeployRequest): Promise<DeployResult> {
    return this.run('retire', request, () => undefined);
  }

  private run(
    action: 'deploy' | 'retire',
    request: DeployRequest,
    onProgress: (message: string) => void,
  ): Promise<DeployResult> {
    const { command, args, env, timeout } = this.config;
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, {
        shell: false,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          ...env,
          ROLLOUT_ACTION: action,
          ROLLOUT_SERVICE: request.service,
          ROLLOUT_VERSION: request.version,
          ROLLOUT_ENVIRONMENT: request.environment ?? '',
          ROLLOUT_TARGETS: request.targets.join(','),
        },
      });
      let output = '';
      const keep = (chunk: Buffer): void => {
        output = (output + chunk.toString()).slice(-OUTPUT_KEPT);
        onProgress(`${action}: ${chunk.toString().trim().slice(-200)}`);
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new ConfigurationError(`cannot run ${command}: ${err.message}`));
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        const tail = output.trim().slice(-500);
        if (code === 0) {
          resolve({
            version: request.version,
            targets: request.targets,
            details: `${command} ${action} ok${tail ? `: ${tail}` : ''}`,
          });
        } else if (signal) {
          reject(
            new TransientError(
              `${command} ${action} killed by ${signal}${signal === 'SIGKILL' ? ` after ${timeout}ms` : ''}: ${tail}`,
            ),
          );
        } else if (code === EXIT_PERMANENT_FAILURE) {
          reject(new ConfigurationError(`${command} ${action} refused (exit ${code}): ${tail}`));
        } else {
          reject(new TransientError(`${command} ${action} failed (exit ${code}): ${tail}`));
        }
      });
    });
  }
}
