import { spawn } from 'node:child_process';
import type { DeployConfig } from '../../spec/deploy';
import { commandEnv, withheldSecrets } from '../child-env';
import { ConfigurationError, TransientError } from '../errors';
import { OutputTail } from '../output-tail';
import { secretForms } from '../redact';
import { EXIT_PERMANENT_FAILURE } from '../run-argv';
import type { Deployer, DeployRequest, DeployResult } from './types';

type CommandConfig = Extract<DeployConfig, { provider: 'command' }>;

/** Output kept for results, errors and heartbeats: they end up in workflow history. */
const OUTPUT_KEPT = 2000;

/**
 * Runs the user's deploy tool with an argument array — never through a shell — so nothing in a
 * version, target or argument can be interpreted as shell syntax. The spec picks the command, so
 * it gets a minimal environment (commandEnv), and its output tail is redacted of every worker
 * secret it was not given: `printenv SOME_SECRET` must not put a worker secret into history.
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
    const childEnv = commandEnv(env, {
      ROLLOUT_ACTION: action,
      ROLLOUT_SERVICE: request.service,
      ROLLOUT_VERSION: request.version,
      ROLLOUT_ENVIRONMENT: request.environment ?? '',
      ROLLOUT_TARGETS: request.targets.join(','),
    });
    const output = new OutputTail(OUTPUT_KEPT, withheldSecrets(childEnv).flatMap(secretForms));
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, { shell: false, stdio: ['ignore', 'pipe', 'pipe'], env: childEnv });
      child.stdout.setEncoding('utf8');
      child.stderr.setEncoding('utf8');
      const keep = (chunk: string): void => {
        output.push(chunk);
        onProgress(`${action}: ${output.text().trim().slice(-200)}`);
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
        const tail = output.text().trim().slice(-500);
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
