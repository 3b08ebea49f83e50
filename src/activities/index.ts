import { Context, log } from '@temporalio/activity';
import type { VersionMetrics } from '../analysis/types';
import { checkHealth as probeHealth, type HealthReport } from '../providers/checks/health';
import { runSmokeTests as probeSmoke, type SmokeReport } from '../providers/checks/smoke';
import type { DeployResult } from '../providers/deploy/types';
import { postWebhook, type RolloutEventName } from '../providers/notify/notifier';
import { defaultProviders, type ProviderRegistry } from '../providers/registry';
import type { DesiredSplit, TrafficSplit, VersionTarget } from '../providers/traffic/types';
import type { HealthCheckConfig, SmokeTest } from '../spec/checks';
import type { DeployConfig, NotifyConfig, ResolvedMetricsConfig, TrafficConfig } from '../spec/providers';
import { classified } from './failures';
import { warmUpHaproxyCounters } from './haproxy-warm-up';
import { desiredSplit, splitMismatch } from './split-check';
import { secretEnvNames } from './secret-env';

export interface SetTrafficInput extends DesiredSplit {
  traffic: TrafficConfig;
  service?: string;
}

export interface DeployInput {
  service: string;
  deploy: DeployConfig;
  target: VersionTarget;
  /** blue/green for blue-green rollouts, canary/stable for canaries. */
  environment?: string;
}

export interface ReadMetricsInput {
  metrics: ResolvedMetricsConfig;
  stableVersion: string;
  canaryVersion: string;
  sinceMs: number;
  untilMs?: number;
  /** Analysis revision 1's single slow bound (replayed histories). */
  slowerThanMs?: number;
  /** The latency test's bounds: the result counts requests slower than each (VersionMetrics.slowCounts). */
  latencyBoundsMs?: number[];
}

export type { RolloutEventName };

export interface NotifyInput {
  service: string;
  event: RolloutEventName;
  message: string;
  notify: NotifyConfig;
}

function heartbeatEvery(ms: number): () => void {
  const timer = setInterval(() => Context.current().heartbeat(), ms);
  return () => clearInterval(timer);
}

/**
 * The thin edge between workflows and providers. The providers come in as one registry, so this
 * file names no adapter: a new provider is a new file and a line in the registry.
 */
export function createActivities(providers: ProviderRegistry = defaultProviders) {
  return {
    /** Sets the split, then reads it back: the router, not our memory, is the truth. */
    async setTraffic({ traffic, service, ...input }: SetTrafficInput): Promise<TrafficSplit> {
      return classified(async () => {
        const desired = desiredSplit(input);
        const router = providers.traffic(traffic, service);
        await router.setSplit(desired);
        const actual = await router.getSplit();
        const mismatch = splitMismatch(desired, actual);
        if (mismatch) throw new Error(`${traffic.provider} reports ${mismatch}`);
        // HAProxy's counters are cumulative: sampling from the first weight change on means the
        // windows that open next are counted whole (see HaproxyMetricsProvider).
        if (traffic.provider === 'haproxy') await warmUpHaproxyCounters(traffic);
        return actual;
      });
    },

    async getTraffic({
      traffic,
      service,
    }: {
      traffic: TrafficConfig;
      service?: string;
    }): Promise<TrafficSplit> {
      return classified(() => providers.traffic(traffic, service).getSplit());
    },

    async deployVersion({ service, deploy, target, environment }: DeployInput): Promise<DeployResult> {
      const stop = heartbeatEvery(2000);
      try {
        return await classified(
          () =>
            providers
              .deployer(deploy)
              .deploy({ service, environment, ...target }, (message) => Context.current().heartbeat(message)),
          secretEnvNames({ deploy }),
        );
      } finally {
        stop();
      }
    },

    async retireVersion({ service, deploy, target, environment }: DeployInput): Promise<DeployResult> {
      const stop = heartbeatEvery(2000);
      try {
        return await classified(
          () => providers.deployer(deploy).retire({ service, environment, ...target }),
          secretEnvNames({ deploy }),
        );
      } finally {
        stop();
      }
    },

    async checkHealth({
      targets,
      healthCheck,
    }: {
      targets: string[];
      healthCheck: HealthCheckConfig;
    }): Promise<HealthReport> {
      const stop = heartbeatEvery(2000);
      try {
        return await probeHealth(targets, healthCheck, (target, attempt) =>
          Context.current().heartbeat({ target, attempt }),
        );
      } finally {
        stop();
      }
    },

    async runSmokeTests({ targets, tests }: { targets: string[]; tests: SmokeTest[] }): Promise<SmokeReport> {
      const stop = heartbeatEvery(2000);
      try {
        return await probeSmoke(targets, tests);
      } finally {
        stop();
      }
    },

    /** Both versions over the same window: the stable version measured now is the baseline. */
    async readMetrics(input: ReadMetricsInput): Promise<{ stable: VersionMetrics; canary: VersionMetrics }> {
      return classified(async () => {
        const provider = providers.metrics(input.metrics);
        const window = {
          sinceMs: input.sinceMs,
          ...(input.untilMs === undefined ? {} : { untilMs: input.untilMs }),
          ...(input.slowerThanMs === undefined ? {} : { slowerThanMs: input.slowerThanMs }),
          ...(input.latencyBoundsMs === undefined ? {} : { latencyBoundsMs: input.latencyBoundsMs }),
        };
        const [stable, canary] = await Promise.all([
          provider.versionMetrics(input.stableVersion, window),
          provider.versionMetrics(input.canaryVersion, window),
        ]);
        return { stable, canary };
      });
    },

    async notify({ service, event, message, notify }: NotifyInput): Promise<void> {
      const workflowId = Context.current().info.workflowExecution?.workflowId ?? 'unknown';
      log.info(`rollout ${service}: ${event}: ${message}`, { service, event, workflowId });
      const urlEnv = notify.webhookUrlEnv;
      if (urlEnv)
        await classified(
          () => postWebhook(urlEnv, { service, event, message, workflowId }),
          secretEnvNames({ notify }),
        );
    },
  };
}

export type RolloutActivities = ReturnType<typeof createActivities>;
