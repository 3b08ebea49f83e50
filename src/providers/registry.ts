import type { DeployConfig, MetricsConfig, TrafficConfig } from '../spec/providers';
import { NoopDeployer } from './deploy/none';
import { ProcessDeployer } from './deploy/process';
import type { Deployer } from './deploy/types';
import { EmbeddedMetricsProvider } from './metrics/embedded';
import type { MetricsProvider } from './metrics/types';
import { EmbeddedTrafficRouter } from './traffic/embedded';
import type { TrafficRouter } from './traffic/types';

/** Builds a provider from its spec section; a new provider is a new file plus one line here. */
export interface ProviderRegistry {
  traffic(config: TrafficConfig): TrafficRouter;
  metrics(config: MetricsConfig & { adminUrl: string }): MetricsProvider;
  deployer(config: DeployConfig): Deployer;
}

export const defaultProviders: ProviderRegistry = {
  traffic: (config) => new EmbeddedTrafficRouter(config.adminUrl),
  metrics: (config) => new EmbeddedMetricsProvider(config.adminUrl),
  deployer: (config) => (config.provider === 'process' ? new ProcessDeployer(config) : new NoopDeployer()),
};
