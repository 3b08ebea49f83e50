import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { readState, startCanary } from '../src/client/rollouts';
import { type DemoServiceHandle, startDemoService } from '../src/demo/service';
import { type DevServer, startDevServer } from '../src/devserver/dev-server';
import { type RouterHandle, startRouter } from '../src/router/server';
import { parseCanarySpec } from '../src/spec/load';
import { cpuSeconds, stopAll } from './router/processes';
import { summarizeProfile } from './router/profile-summary';
import { timeAbort, timeDirectChange } from './scale/aborts';
import { CORES, machineBusySeconds } from './scale/machine';
import { type MetricsDouble, startMetricsDouble } from './scale/metrics-double';
import { HELP, parseScaleOptions, type ScaleOptions, UsageError } from './scale/options';
import { summarizePolls } from './scale/polls';
import { Progress } from './scale/progress';
import { type Measured, printReport, type WorkerFigures } from './scale/report';
import {
  findHistogram,
  findValue,
  meanBetween,
  histogramCount,
  histogramQuantile,
  type Scrape,
  scrape,
  subtract,
  WFT_EXECUTION,
  WFT_SCHEDULE_TO_START,
} from './scale/sdk-metrics';
import { type BenchWorker, rssMbOf, startBenchWorker } from './scale/worker-process';

/**
 * bench:scale — N canary rollouts in flight on one worker process (or two on one task queue)
 * against a real dev server, polling every interval with no traffic: the capacity question of
 * issue 11. Everything but the worker runs outside the worker's process, so its RSS and CPU are
 * its own: the dev server is the Temporal CLI, and the routers, the metrics source and the two
 * target services run here, in the bench.
 *
 * Routers: the embedded router holds one split (one routing table per router, and the traffic
 * provider addresses it by its admin URL's origin), so every service gets its own real router,
 * started in this process on loopback ports (about 0.4 MB each; 2,000 fit easily).
 */

const TASK_QUEUE = 'bench-scale';
const STABLE_VERSION = 'v1';
const CANARY_VERSION = 'v2';
// Long enough that no stage ends during the bench, whatever N: with no traffic every window
// would only extend, then hold, and both change what a poll does.
const STAGE_WINDOW = '6h';
const ROUTER_START_CONCURRENCY = 20;
// Without a new rollout reaching monitoring for this long, start-up is stuck: say why.
const STALL_TIMEOUT_MS = 180_000;

const serviceName = (i: number) => `scale-${String(i).padStart(4, '0')}`;

/** Runs `task` over 0..count-1 with at most `limit` in flight; the first failure rejects. */
async function forEachLimited(
  count: number,
  limit: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, count) }, async () => {
    while (next < count) await task(next++);
  });
  await Promise.all(lanes);
}

const mb = (bytes: number) => bytes / 1024 / 1024;

class Stack {
  logDir = mkdtempSync(join(tmpdir(), 'bench-scale-'));
  server?: DevServer;
  services: DemoServiceHandle[] = [];
  double?: MetricsDouble;
  routers: RouterHandle[] = [];
  workers: BenchWorker[] = [];
  connection?: Connection;
  private closing?: Promise<void>;

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.connection?.close().catch(() => undefined);
      // Workers first: a dev server that goes away under them makes them log errors and retry.
      await Promise.allSettled(this.workers.map((w) => w.stop()));
      await stopAll();
      await Promise.allSettled([
        ...this.routers.map((r) => r.close()),
        ...this.services.map((s) => s.close()),
        this.double?.close(),
      ]);
      await this.server?.stop();
    })();
    return this.closing;
  }
}

/** RSS of each worker every second: its peak, and the peak of their sum (sampled together). */
class MemorySampler {
  peaks: number[];
  totalPeak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly workers: BenchWorker[]) {
    this.peaks = workers.map(() => 0);
    this.sample();
    this.timer = setInterval(() => this.sample(), 1000);
  }

  sample(): number[] {
    const now = this.workers.map((w) => w.rssMb() ?? 0);
    now.forEach((rss, i) => (this.peaks[i] = Math.max(this.peaks[i] ?? 0, rss)));
    this.totalPeak = Math.max(
      this.totalPeak,
      now.reduce((a, b) => a + b, 0),
    );
    return now;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

async function run(options: ScaleOptions, stack: Stack, progress: Progress): Promise<Measured> {
  const { rollouts, intervalMs, durationMs } = options;
  progress.update(
    'setup',
    `dev server, routers and ${options.workers} worker process(es); logs in ${stack.logDir}`,
  );
  stack.server = await startDevServer({
    logFile: join(stack.logDir, 'temporal.log'),
    ...(options.dbFile ? { dbFilename: join(stack.logDir, 'temporal.db') } : {}),
  });
  const v1 = await startDemoService({ version: STABLE_VERSION, port: 0 });
  stack.services.push(v1);
  const v2 = await startDemoService({ version: CANARY_VERSION, port: 0 });
  stack.services.push(v2);
  const double = await startMetricsDouble(CANARY_VERSION);
  stack.double = double;
  // One router per service, plus a spare for the direct-change baseline.
  const routers: RouterHandle[] = [];
  await forEachLimited(rollouts + 1, ROUTER_START_CONCURRENCY, async (i) => {
    const router = await startRouter({ port: 0, adminPort: 0 });
    routers[i] = router;
    stack.routers.push(router);
    if (i % 50 === 0) progress.update('routers', `${stack.routers.length}/${rollouts + 1} started`);
  });
  const spare = routers[rollouts]!;

  for (let i = 0; i < options.workers; i++) {
    progress.update('workers', `starting worker ${i + 1}/${options.workers} (bundling the workflows)`);
    stack.workers.push(
      await startBenchWorker({
        name: `worker-${i + 1}`,
        address: stack.server.address,
        taskQueue: TASK_QUEUE,
        tuning: options.tuning,
        logDir: stack.logDir,
        ...(options.cpuProfDir === undefined ? {} : { cpuProfDir: options.cpuProfDir }),
      }),
    );
  }
  const workers = stack.workers;
  // Settled after start-up (bundling allocates, then the heap shrinks): the worker with nothing to do.
  await sleep(3000);
  const idleRss = workers.map((w) => w.rssMb() ?? 0);
  const memory = new MemorySampler(workers);

  stack.connection = await Connection.connect({ address: stack.server.address });
  const client = new Client({ connection: stack.connection });
  const stable = { version: STABLE_VERSION, targets: [v1.url] };
  const canary = { version: CANARY_VERSION, targets: [v2.url] };

  const startedAt = performance.now();
  let started = 0;
  const workerStatus = () => workers.map((w) => `${w.name} ${Math.round(w.rssMb() ?? 0)} MB`).join(', ');
  await forEachLimited(rollouts, options.startConcurrency, async (i) => {
    const service = serviceName(i);
    const spec = parseCanarySpec({
      service,
      stable,
      canary,
      stages: [10, 100],
      monitoring: { window: STAGE_WINDOW, interval: intervalMs, maxWindow: STAGE_WINDOW },
      traffic: { provider: 'embedded', adminUrl: routers[i]!.adminUrl },
      metrics: double.metricsFor(service),
    });
    await startCanary(client, spec, TASK_QUEUE);
    started++;
    if (started % 10 === 0 || started === rollouts) {
      progress.update('starting', `${started}/${rollouts} rollouts started; ${workerStatus()}`);
    }
  });

  // Monitoring = polled at least once: the stage's weight is set and its first poll is done.
  let lastCount = -1;
  let lastProgressAt = performance.now();
  for (;;) {
    const polled = double.polledServices();
    if (polled >= rollouts) break;
    for (const w of workers) {
      if (!w.alive()) throw new Error(`${w.name} exited during start-up; see ${w.logPath}`);
    }
    if (polled !== lastCount) {
      lastCount = polled;
      lastProgressAt = performance.now();
    } else if (performance.now() - lastProgressAt > STALL_TIMEOUT_MS) {
      const stuck = Array.from({ length: rollouts }, (_, i) => serviceName(i)).find(
        (s) => double.polls(s).length === 0,
      )!;
      const state = await readState(client, stuck).catch((err: Error) => ({
        phase: `unknown (${err.message})`,
      }));
      throw new Error(
        `start-up stalled: ${polled}/${rollouts} rollouts monitoring for ${STALL_TIMEOUT_MS / 1000}s; ${stuck} is in phase ${state.phase}`,
      );
    }
    progress.update(
      'ramp-up',
      `${polled}/${rollouts} rollouts monitoring, ${((performance.now() - startedAt) / 1000).toFixed(0)} s; ${workerStatus()}`,
    );
    await sleep(500);
  }
  const rampUpMs = performance.now() - startedAt;
  // The stage starts come in a burst; one more interval lets its backlog drain before measuring.
  const settleUntil = performance.now() + intervalMs;
  while (performance.now() < settleUntil) {
    progress.update(
      'settling',
      `all ${rollouts} monitoring; measuring in ${Math.ceil((settleUntil - performance.now()) / 1000)} s`,
    );
    await sleep(500);
  }

  // The measured window.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const before: Scrape[] = await Promise.all(workers.map((w) => scrape(w.metricsUrl)));
  const cpuBefore = workers.map((w) => w.cpuSeconds() ?? 0);
  const threadsBefore = workers.map((w) => w.threadSeconds());
  const serverPid = stack.server.process.pid ?? -1;
  const otherBefore = {
    machine: machineBusySeconds() ?? 0,
    server: cpuSeconds(serverPid) ?? 0,
    bench: process.cpuUsage(),
  };
  const windowStart = performance.now();
  const windowEnd = windowStart + durationMs;

  // Aborted rollouts, spread over the services and through the window, are left out of the polls.
  const aborted = Array.from({ length: options.aborts }, (_, k) =>
    Math.floor(((k + 0.5) * rollouts) / options.aborts),
  );
  const abortMs: number[] = [];
  const directMs: number[] = [];
  const abortRuns = aborted.map(async (index, k) => {
    await sleep(windowStart + ((k + 0.5) * durationMs) / options.aborts - performance.now());
    abortMs.push(await timeAbort(client, serviceName(index), routers[index]!));
    directMs.push(await timeDirectChange(spare, stable, canary));
  });
  const abortsDone = Promise.all(abortRuns);
  abortsDone.catch(() => undefined); // awaited below; a failure must not be "unhandled" meanwhile

  while (performance.now() < windowEnd) {
    for (const w of workers) if (!w.alive()) throw new Error(`${w.name} exited; see ${w.logPath}`);
    const rss = memory.sample();
    const cpu = workers.reduce((sum, w, i) => sum + ((w.cpuSeconds() ?? 0) - (cpuBefore[i] ?? 0)), 0);
    const elapsed = (performance.now() - windowStart) / 1000;
    progress.update(
      'measuring',
      `${elapsed.toFixed(0)}/${durationMs / 1000} s, ${double.reads()} metric reads, aborts ${abortMs.length}/${options.aborts}, RSS ${rss.map((r) => Math.round(r)).join('+')} MB, CPU ${((100 * cpu) / Math.max(elapsed, 1)).toFixed(0)}%`,
    );
    await sleep(Math.min(1000, Math.max(0, windowEnd - performance.now())));
  }
  const windowMs = performance.now() - windowStart;
  const cpuAfter = workers.map((w) => w.cpuSeconds() ?? 0);
  const threadsAfter = workers.map((w) => w.threadSeconds());
  const machineSeconds = (machineBusySeconds() ?? 0) - otherBefore.machine;
  const serverSeconds = (cpuSeconds(serverPid) ?? 0) - otherBefore.server;
  const benchUsage = process.cpuUsage(otherBefore.bench);
  const benchSeconds = (benchUsage.user + benchUsage.system) / 1e6;
  const serverRssMb = (stack.server.process.pid && rssMbOf(stack.server.process.pid)) || 0;
  const after: Scrape[] = await Promise.all(workers.map((w) => scrape(w.metricsUrl)));
  const endRss = memory.sample();
  // The SDK's full metrics at the window's end, for a closer look (sticky cache, pollers, slots).
  after.forEach((s, i) => writeFileSync(join(stack.logDir, `${workers[i]!.name}-metrics.txt`), s.text));
  memory.stop();
  progress.update('measuring', 'waiting for the last abort');
  await abortsDone;
  loopDelay.disable();
  progress.clear();

  const abortedSet = new Set(aborted);
  const polls = summarizePolls(
    Array.from({ length: rollouts }, (_, i) => i)
      .filter((i) => !abortedSet.has(i))
      .map((i) => double.polls(serviceName(i))),
    { startMs: windowStart, endMs: windowEnd, intervalMs },
  );

  const windowHistogram = (name: string) => subtract(findHistogram(after, name), findHistogram(before, name));
  const scheduleToStart = windowHistogram(WFT_SCHEDULE_TO_START);
  const execution = windowHistogram(WFT_EXECUTION);
  const percentOf = (seconds: number) => Math.max(0, (100 * seconds) / (windowMs / 1000));
  const perWorker: WorkerFigures[] = workers.map((w, i) => {
    const cpuSeconds = (cpuAfter[i] ?? 0) - (cpuBefore[i] ?? 0);
    return {
      name: w.name,
      pid: w.pid,
      rssIdleMb: idleRss[i] ?? 0,
      rssPeakMb: memory.peaks[i] ?? 0,
      rssEndMb: endRss[i] ?? 0,
      cpuSeconds,
      cpuPercent: (100 * cpuSeconds) / (windowMs / 1000),
      // The busiest threads, in % of one core over the window.
      threads: [...(threadsAfter[i] ?? new Map<string, number>())]
        .map(([name, after]) => ({ name, percent: percentOf(after - (threadsBefore[i]?.get(name) ?? 0)) }))
        .sort((a, b) => b.percent - a.percent)
        .slice(0, 5),
    };
  });
  return {
    options,
    rampUpMs,
    windowMs,
    perWorker,
    rssPeakMb: memory.totalPeak,
    polls,
    abortMs,
    directMs,
    workflowTasks: histogramCount(execution),
    wftScheduleToStart: [histogramQuantile(scheduleToStart, 0.5), histogramQuantile(scheduleToStart, 0.99)],
    wftExecution: [histogramQuantile(execution, 0.5), histogramQuantile(execution, 0.99)],
    // The server's side of a workflow task, as the worker sees it: completing one is a write.
    respondWftMeanMs: meanBetween(
      before,
      after,
      'request_latency',
      'operation="RespondWorkflowTaskCompleted"',
    ),
    localActivityMeanMs: meanBetween(before, after, 'local_activity_succeed_endtoend_latency', ''),
    // Cached workflows at the end, and cache misses (each a full history replay) during the window.
    stickyCacheSize: findValue(after, 'sticky_cache_size'),
    stickyCacheMisses: findValue(after, 'sticky_cache_miss') - findValue(before, 'sticky_cache_miss'),
    stickyCacheEvictions:
      findValue(after, 'sticky_cache_total_forced_eviction') -
      findValue(before, 'sticky_cache_total_forced_eviction'),
    machine: {
      cores: CORES,
      busyPercent: percentOf(machineSeconds),
      devServerPercent: percentOf(serverSeconds),
      devServerRssMb: serverRssMb,
      benchPercent: percentOf(benchSeconds),
      // Whatever ran besides the bench's own processes (other jobs on a shared machine).
      otherPercent: percentOf(
        machineSeconds - serverSeconds - benchSeconds - perWorker.reduce((a, w) => a + w.cpuSeconds, 0),
      ),
    },
    benchLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    benchRssMb: mb(process.memoryUsage().rss),
    logDir: stack.logDir,
  };
}

function printProfiles(dir: string): void {
  const profiles = readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'));
  if (profiles.length === 0)
    console.log(`no .cpuprofile in ${dir} (a worker killed before it could write one?)`);
  for (const name of profiles) {
    console.log(`\nworker CPU profile ${join(dir, name)}:`);
    console.log(summarizeProfile(join(dir, name), 25));
  }
}

async function main(): Promise<void> {
  let options: ScaleOptions | 'help';
  try {
    options = parseScaleOptions(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`bench:scale: ${err.message}\n\n${HELP}`);
    process.exit(2);
  }
  if (options === 'help') {
    console.log(HELP);
    return;
  }
  if (options.cpuProfDir !== undefined) mkdirSync(options.cpuProfDir, { recursive: true });
  const stack = new Stack();
  const progress = new Progress();
  const interrupt = (signal: NodeJS.Signals) => {
    progress.log(`${signal}: stopping everything the bench started`);
    void stack.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  let measured: Measured;
  try {
    measured = await run(options, stack, progress);
  } catch (err) {
    progress.clear();
    throw err;
  } finally {
    await stack.close();
  }
  // Workers write their profiles as they exit, so only now.
  if (options.cpuProfDir !== undefined) printProfiles(options.cpuProfDir);
  printReport(measured);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
