import type { DeployConfig } from '../../spec/deploy';
import { ConfigurationError } from '../errors';
import { requestJson } from '../http-json';
import { redact, secretForms } from '../redact';
import type { Deployer, DeployRequest, DeployResult } from './types';

type WebhookConfig = Extract<DeployConfig, { provider: 'webhook' }>;

/**
 * Bytes a header value may hold: tab, visible ASCII and Latin-1. CR/LF would split the header;
 * fetch refuses them with a message that quotes the value, so they are refused here first.
 */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

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
    const secrets: string[] = [];
    for (const [header, envName] of Object.entries(this.config.headersFromEnv)) {
      const value = process.env[envName];
      if (value === undefined)
        throw new ConfigurationError(
          `header ${header}: environment variable ${envName} is not set on the worker`,
        );
      // The message names the variable, never its value: it is a secret.
      if (!HEADER_VALUE.test(value))
        throw new ConfigurationError(
          `header ${header}: environment variable ${envName} holds a control character (CR, LF or similar) or a non-Latin-1 character; it is not sent`,
        );
      headers[header] = value;
      secrets.push(...secretForms(value));
    }
    const answer = await requestJson<unknown>(this.config.url, {
      method: 'POST',
      body: { action, ...request, environment: request.environment ?? null },
      headers,
      timeoutMs: this.config.timeout,
      secrets,
    });
    // Redacted before it is cut, so that a cut cannot leave half a token behind.
    return {
      version: request.version,
      targets: request.targets,
      details: `webhook ${action} ok: ${redact(JSON.stringify(answer) ?? 'null', secrets).slice(0, 300)}`,
    };
  }
}
