import type { VersionMetrics } from '../../analysis/types';
import type { ResolvedHaproxyMetricsConfig } from '../../spec/providers';
import { parseInfo, parseMap, parseStat, type RuntimeCommand, RuntimeApi } from '../haproxy/runtime-api';
import type { MetricsProvider, MetricsWindow } from './types';

const DEFAULT_SAMPLE_INTERVAL_MS = 1000;
const HISTORY_MS = 6 * 3_600_000;
const RESPONSE_CLASSES = ['hrsp_1xx', 'hrsp_2xx', 'hrsp_3xx', 'hrsp_4xx', 'hrsp_5xx', 'hrsp_other'];

interface Counts {
  requests: number;
  errors: number;
}

interface Sample {
  /** When the read was sent: the counters include everything HAProxy had answered by then. */
  sentMs: number;
  /** When the answer came: the counters include nothing HAProxy answered later. */
  answeredMs: number;
  /** Per server, what it counted since sampling began, across HAProxy restarts. */
  totals: Map<string, Counts>;
}

export interface HaproxyMetricsOptions {
  /** How often the counters are sampled; the first provider for a runtimeApi and backend sets it. */
  sampleIntervalMs?: number;
}

/**
 * Request and 5xx counts per version from HAProxy's per-server counters (`show stat`), the servers
 * grouped by the versions map the haproxy traffic router keeps. The map is read at every call, so
 * a relabelled server counts for its new version from then on (a server in maint keeps its label,
 * so a rolled-back or switched-away version still reads its window; a server in no version, none).
 *
 * HAProxy counts from its start, so windows come from a sampler (one per runtimeApi and backend in
 * this process, started by the first read or warmUp()). A window runs from the last sample read
 * before sinceMs to the first read after untilMs (sampling now when there is none yet, or no
 * untilMs): at most one interval too wide at each end. Traffic before the first sample is never
 * counted, so a window that started earlier is undercounted, never invented. HAProxy 2.6 keeps no
 * per-server latency histogram: latencies are null and slow counts are not offered.
 */
export class HaproxyMetricsProvider implements MetricsProvider {
  private readonly sampler: CounterSampler;
  private readonly api: RuntimeApi;

  constructor(
    private readonly config: ResolvedHaproxyMetricsConfig,
    options: HaproxyMetricsOptions = {},
  ) {
    this.api = new RuntimeApi(config.runtimeApi, config.timeout);
    this.sampler = samplerFor(
      this.api,
      config.backend,
      options.sampleIntervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS,
    );
  }

  /** Starts sampling now, so that windows opening from now on are counted whole. */
  async warmUp(): Promise<void> {
    await this.sampler.start();
  }

  async versionMetrics(version: string, { sinceMs, untilMs }: MetricsWindow): Promise<VersionMetrics> {
    await this.sampler.start();
    const end =
      (untilMs === undefined ? undefined : this.sampler.firstSentAtOrAfter(untilMs)) ??
      (await this.sampler.sample());
    const start = this.sampler.lastAnsweredAtOrBefore(sinceMs) ?? this.sampler.oldest();
    const [labelsAnswer] = await this.api.run([['show', 'map', this.config.versionsMap]]);
    const servers = parseMap(this.config.versionsMap, labelsAnswer as string)
      .filter((e) => e.value === version)
      .map((e) => e.key);
    let requests = 0;
    let errors = 0;
    if (start && start.sentMs < end.sentMs) {
      for (const server of new Set(servers)) {
        const to = end.totals.get(server);
        const from = start.totals.get(server);
        requests += (to?.requests ?? 0) - (from?.requests ?? 0);
        errors += (to?.errors ?? 0) - (from?.errors ?? 0);
      }
    }
    return { version, requests, errors, p50Ms: null, p99Ms: null };
  }
}

const samplers = new Map<string, CounterSampler>();

function samplerFor(api: RuntimeApi, backend: string, intervalMs: number): CounterSampler {
  const key = `${api.address}\n${backend}`;
  let sampler = samplers.get(key);
  if (!sampler) {
    sampler = new CounterSampler(api, backend, intervalMs);
    samplers.set(key, sampler);
  }
  return sampler;
}

/** Turns HAProxy's cumulative counters into a bounded history of running totals. */
class CounterSampler {
  private readonly samples: Sample[] = [];
  private readonly maxSamples: number;
  private started: Promise<void> | undefined;
  /** Samples run one at a time, in order: each compares its counters with the previous one's. */
  private queue: Promise<unknown> = Promise.resolve();
  private queued = 0;
  /** The process and raw counters of the previous sample, to tell increments from restarts. */
  private previous: { process: ProcessIdentity; raw: Map<string, Counts> } | undefined;

  constructor(
    private readonly api: RuntimeApi,
    private readonly backend: string,
    private readonly intervalMs: number,
  ) {
    this.maxSamples = Math.ceil(HISTORY_MS / intervalMs);
  }

  start(): Promise<void> {
    this.started ??= this.sample().then(
      () => {
        // A tick is skipped while a sample is pending; one that fails (HAProxy restarting) is
        // dropped: reads sample on demand, and the next success counts what happened meanwhile.
        const timer = setInterval(() => {
          if (this.queued === 0) this.sample().catch(() => undefined);
        }, this.intervalMs);
        timer.unref();
      },
      (err: unknown) => {
        this.started = undefined;
        throw err;
      },
    );
    return this.started;
  }

  /** A sample whose read is sent after this call (never one already under way). */
  sample(): Promise<Sample> {
    this.queued++;
    const next = this.queue.then(() => this.take()).finally(() => this.queued--);
    this.queue = next.catch(() => undefined);
    return next;
  }

  oldest(): Sample | undefined {
    return this.samples[0];
  }

  lastAnsweredAtOrBefore(ms: number): Sample | undefined {
    const i = this.firstIndex((s) => s.answeredMs > ms);
    return i > 0 ? this.samples[i - 1] : undefined;
  }

  firstSentAtOrAfter(ms: number): Sample | undefined {
    return this.samples[this.firstIndex((s) => s.sentMs >= ms)];
  }

  /** Binary search for the first sample that passes a test monotonic in time. */
  private firstIndex(after: (sample: Sample) => boolean): number {
    let low = 0;
    let high = this.samples.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (after(this.samples[mid] as Sample)) high = mid;
      else low = mid + 1;
    }
    return low;
  }

  private async take(): Promise<Sample> {
    // One connection: the counters and the process they belong to are read together.
    const commands: RuntimeCommand[] = [
      ['show', 'info'],
      ['show', 'stat', this.backend, '4', '-1'],
    ];
    const last = this.samples.at(-1);
    const sentMs = Math.max(Date.now(), last?.answeredMs ?? 0);
    const [infoAnswer, statAnswer] = await this.api.run(commands);
    const answeredMs = Math.max(Date.now(), sentMs);
    const process = processIdentity(parseInfo(infoAnswer as string));
    const raw = new Map<string, Counts>();
    for (const row of parseStat(statAnswer as string)) {
      if (row.pxname !== this.backend || row.svname === 'BACKEND' || row.svname === 'FRONTEND') continue;
      raw.set(row.svname as string, serverCounts(row));
    }

    const restarted = this.previous !== undefined && isRestart(this.previous.process, process);
    const totals = new Map(last?.totals);
    for (const [server, now] of raw) {
      const before = this.previous?.raw.get(server);
      const total = totals.get(server) ?? { requests: 0, errors: 0 };
      // The first sample is the baseline; after it, a server HAProxy counts afresh (restart, reset
      // counters, a server added since) counted every request after the previous sample.
      const fresh = restarted || (before === undefined ? last !== undefined : isReset(before, now));
      const delta: Counts = fresh
        ? now
        : before === undefined
          ? { requests: 0, errors: 0 }
          : { requests: now.requests - before.requests, errors: now.errors - before.errors };
      totals.set(server, { requests: total.requests + delta.requests, errors: total.errors + delta.errors });
    }
    // A server missing from this answer keeps its last raw counts, to compare with when it returns.
    const rawKept = new Map(restarted ? [] : this.previous?.raw);
    for (const [server, counts] of raw) rawKept.set(server, counts);
    this.previous = { process, raw: rawKept };

    const sample: Sample = { sentMs, answeredMs, totals };
    this.samples.push(sample);
    if (this.samples.length > this.maxSamples) this.samples.splice(0, this.samples.length - this.maxSamples);
    return sample;
  }
}

function serverCounts(row: Record<string, string>): Counts {
  const number = (field: string): number => {
    const value = Number(row[field] || 0);
    return Number.isFinite(value) && value >= 0 ? value : 0;
  };
  // req_tot is empty for servers on some versions and modes; the response classes add up to it.
  const requests =
    row.req_tot === undefined || row.req_tot === ''
      ? RESPONSE_CLASSES.reduce((sum, field) => sum + number(field), 0)
      : number('req_tot');
  return { requests, errors: number('hrsp_5xx') };
}

interface ProcessIdentity {
  pid: string;
  startSec: string | undefined;
  uptimeSec: number;
}

function processIdentity(info: Record<string, string>): ProcessIdentity {
  return { pid: info.Pid ?? '', startSec: info.Start_time_sec, uptimeSec: Number(info.Uptime_sec ?? 0) };
}

/** A new HAProxy process counts from 0; a counter that went down was reset too. */
function isRestart(before: ProcessIdentity, now: ProcessIdentity): boolean {
  return before.pid !== now.pid || before.startSec !== now.startSec || now.uptimeSec < before.uptimeSec;
}

function isReset(before: Counts, now: Counts): boolean {
  return now.requests < before.requests || now.errors < before.errors;
}
