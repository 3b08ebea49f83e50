import type { DeployConfig, ResolvedMetricsConfig, TrafficConfig } from '../spec/providers';
import { HaproxyMetricsProvider } from './metrics/haproxy';
import { CommandTrafficRouter } from './traffic/command';
import { HaproxyTrafficRouter } from './traffic/haproxy';
import { NginxTrafficRouter } from './traffic/nginx';
import { CommandDeployer } from './deploy/command';
import { NoopDeployer } from './deploy/none';
import { ProcessDeployer } from './deploy/process';
import type { Deployer } from './deploy/types';
import { WebhookDeployer } from './deploy/webhook';
import { EmbeddedMetricsProvider } from './metrics/embedded';
import { HttpMetricsProvider } from './metrics/http';
import { PrometheusMetricsProvider } from './metrics/prometheus';
import type { MetricsProvider } from './metrics/types';
import { EmbeddedTrafficRouter } from './traffic/embedded';
import type { TrafficRouter } from './traffic/types';

/** Builds a provider from its spec section; a new provider is a new file plus one line here. */
export interface ProviderRegistry {
  /** `service` names the rollout's service to providers that serve several (the command provider). */
  traffic(config: TrafficConfig, service?: string): TrafficRouter;
  metrics(config: ResolvedMetricsConfig): MetricsProvider;
  deployer(config: DeployConfig): Deployer;
}

export function metricsProvider(config: ResolvedMetricsConfig): MetricsProvider {
  switch (config.provider) {
    case 'embedded':
      return new EmbeddedMetricsProvider(config.adminUrl);
    case 'prometheus':
      return new PrometheusMetricsProvider(config);
    case 'http':
      return new HttpMetricsProvider(config);
    case 'haproxy':
      return new HaproxyMetricsProvider(config);
  }
}

export function deployer(config: DeployConfig): Deployer {
  switch (config.provider) {
    case 'none':
      return new NoopDeployer();
    case 'process':
      return new ProcessDeployer(config);
    case 'command':
      return new CommandDeployer(config);
    case 'webhook':
      return new WebhookDeployer(config);
  }
}

export function trafficRouter(config: TrafficConfig, service?: string): TrafficRouter {
  switch (config.provider) {
    case 'embedded':
      return new EmbeddedTrafficRouter(config.adminUrl);
    case 'haproxy':
      return new HaproxyTrafficRouter(config);
    case 'nginx':
      return new NginxTrafficRouter(config);
    case 'command':
      return new CommandTrafficRouter(config, service);
  }
}

export const defaultProviders: ProviderRegistry = {
  traffic: trafficRouter,
  metrics: metricsProvider,
  deployer,
};
