import type { Deployer, DeployRequest, DeployResult } from './types';

/** For targets that another system deploys: the rollout only moves traffic and checks them. */
export class NoopDeployer implements Deployer {
  async deploy({ version, targets }: DeployRequest): Promise<DeployResult> {
    return {
      version,
      targets,
      details: 'deploy provider "none": targets are expected to be running already',
    };
  }

  async retire({ version, targets }: DeployRequest): Promise<DeployResult> {
    return { version, targets, details: 'deploy provider "none": nothing to retire' };
  }
}
