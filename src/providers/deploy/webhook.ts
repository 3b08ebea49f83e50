import type { DeployConfig } from '../../spec/deploy';
import { ConfigurationError } from '../errors';
import { requestJson } from '../http-json';
import type { Deployer, DeployRequest, DeployResult } from './types';

type WebhookConfig = Extract<DeployConfig, { provider: 'webhook' }>;

/** Asks a deployment service over HTTP; header values come from the worker's environment. */
export class WebhookDeployer implements Deployer {
  constructor(private readonly config: WebhookConfig) {}

  deploy(request: DeployRequest): Promise<DeployResult> {
    return this.call('deploy', request);
  }

  retire(request: DeployRequest): Promise<DeployResult> {
    return this.call('retire', request);
  }

  private async call(action: 'deploy' | 'retire', request: DeployRequest): Promise<DeployResult> {
    const headers: Record<string, string> = {};
    for (const [header, envName] of Object.entries(this.config.headersFromEnv)) {
      const value = process.env[envName];
      if (value === undefined)
        throw new ConfigurationError(
          `header ${header}: environment variable ${envName} is not set on the worker`,
        );
      headers[header] = value;
    }
    const answer = await requestJson<unknown>(this.config.url, {
      method: 'POST',
      body: { action, ...request, environment: request.environment ?? null },
      headers,
      timeoutMs: this.config.timeout,
    });
    return {
      version: request.version,
      targets: request.targets,
      details: `webhook ${action} ok: ${JSON.stringify(answer).slice(0, 300)}`,
    };
  }
}
