import { CancelledFailure, Context, log } from '@temporalio/activity';
import type { Verdict, VersionMetrics } from '../analysis/types';
import type { Phase } from '../workflows/state';
import { checkHealth as probeHealth, type HealthReport } from '../providers/checks/health';
import { runSmokeTests as probeSmoke, type SmokeReport } from '../providers/checks/smoke';
import type { DeployResult } from '../providers/deploy/types';
import { alertLinks } from '../providers/notify/links';
import type { RolloutEventName } from '../providers/notify/notifier';
import { sendAlert } from '../providers/notify/send';
import { defaultProviders, type ProviderRegistry } from '../providers/registry';
import type { DesiredSplit, TrafficSplit, VersionTarget } from '../providers/traffic/types';
import type { HealthCheckConfig, SmokeTest } from '../spec/checks';
import type { DeployConfig, NotifyConfig, ResolvedMetricsConfig, TrafficConfig } from '../spec/providers';
import { type NotifySink, sinkUrlEnv } from '../spec/notify-sinks';
import { classified } from './failures';
import { createFleetFreezeActivities } from './fleet-freeze';
import { createMigrationActivities } from './migrations';
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

export type { NotifySink };

/** What the rollout looked like when it notified; the alert's evidence and links are built from it. */
export interface NotifyContext {
  strategy: 'canary' | 'blue-green';
  stableVersion: string | null;
  canaryVersion: string;
  phase: Phase;
  /** Index of the stage in progress (-1 before the first), and how many there are. */
  stageIndex: number;
  stages: number;
  /** The new version's traffic share. */
  weight: number;
  /** The verdict behind a rollback, a hold or a passed stage; null when none was involved. */
  verdict: Verdict | null;
}

export interface NotifyInput {
  service: string;
  event: RolloutEventName;
  message: string;
  notify: NotifyConfig;
  /** Absent in histories from before the notify-without-waiting gate: then the JSON webhook only. */
  sink?: NotifySink;
  context?: NotifyContext;
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
    ...createMigrationActivities(),
    ...createFleetFreezeActivities(),
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

    /**
     * Posts one alert to one sink. A failed attempt is counted and rethrown, so Temporal retries it
     * under the workflow's bounded policy; the activity never retries by itself.
     */
    async notify({ service, event, message, notify, sink = 'json', context }: NotifyInput): Promise<void> {
      const { info, metricMeter } = Context.current();
      const workflowId = info.workflowExecution?.workflowId ?? 'unknown';
      const namespace = info.namespace;
      log.info(`rollout ${service}: ${event}: ${message}`, { service, event, workflowId, sink });
      const urlEnv = sinkUrlEnv(notify, sink);
      if (!urlEnv) return;
      const alert = {
        service,
        event,
        message,
        workflowId,
        namespace,
        context: context ?? null,
        links: alertLinks(workflowId, namespace, process.env),
        // When the workflow scheduled the alert, not this attempt: receivers can dedupe retries.
        at: new Date(info.scheduledTimestampMs).toISOString(),
      };
      try {
        const sent = await classified(() => sendAlert(sink, urlEnv, alert), secretEnvNames({ notify }));
        if (!sent)
          log.warn(`notify: ${urlEnv} is not set on this worker; the ${sink} alert was not sent`, { sink });
      } catch (err) {
        if (!(err instanceof CancelledFailure)) {
          metricMeter
            .createCounter('rollout_notification_failures', '1', 'Notification posts that failed')
            .add(1, { service, event, sink });
        }
        throw err;
      }
    },
  };
}

export type RolloutActivities = ReturnType<typeof createActivities>;
