export interface DeployRequest {
  service: string;
  version: string;
  targets: string[];
  /** Where the version goes: "blue"/"green" for blue-green, "canary"/"stable" for canary rollouts. */
  environment?: string;
}

export interface DeployResult {
  version: string;
  targets: string[];
  details: string;
}

/** Puts a version on its targets, and takes it off again. Both must be idempotent: activities retry. */
export interface Deployer {
  deploy(request: DeployRequest, onProgress: (message: string) => void): Promise<DeployResult>;
  retire(request: DeployRequest): Promise<DeployResult>;
}
