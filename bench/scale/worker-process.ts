import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from '../../src/devserver/free-port';
import type { RolloutWorkerTuning } from '../../src/worker/create-worker';
import { cpuSeconds, start, type Started } from '../router/processes';

const WORKER_MAIN = resolve(__dirname, 'worker-main.ts');
const READY_TIMEOUT_MS = 90_000;

export interface BenchWorker {
  name: string;
  pid: number;
  /** The SDK's Prometheus endpoint in that process. */
  metricsUrl: string;
  logPath: string;
  /** VmRSS in MB, from /proc; undefined once the process is gone. */
  rssMb(): number | undefined;
  /** utime + stime in seconds, from /proc; undefined once the process is gone. */
  cpuSeconds(): number | undefined;
  /** CPU seconds by thread ("main", or name/tid), to see which one saturates. */
  threadSeconds(): Map<string, number>;
  alive(): boolean;
  stop(): Promise<void>;
}

/** VmRSS of one process: resident memory, all threads (Core's Rust threads included). */
export function rssMbOf(pid: number): number | undefined {
  try {
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

const USER_HZ = 100;

/**
 * CPU seconds of each thread of `pid`, by its name and id ("main" for the main thread; the
 * workflow thread and V8's helpers are all called "node"). A single thread near 100% of a core is
 * a bottleneck that the process's total CPU hides.
 */
export function threadSecondsOf(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return byName;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // The name (field 2) is in parentheses and may hold spaces; utime and stime are fields 14, 15.
      const name =
        tid === String(pid) ? 'main' : `${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))}/${tid}`;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / USER_HZ;
      byName.set(name, seconds);
    } catch {
      // the thread ended meanwhile
    }
  }
  return byName;
}

/**
 * One rollout worker as its own process (bench/scale/worker-main.ts), so that its memory and CPU
 * are its own: the dev server, the routers and the bench each run in another process.
 */
export async function startBenchWorker(opts: {
  name: string;
  address: string;
  taskQueue: string;
  tuning: RolloutWorkerTuning;
  logDir: string;
  /** node --cpu-prof into this directory; the profile is written when the worker exits. */
  cpuProfDir?: string;
}): Promise<BenchWorker> {
  const metricsPort = await freePort();
  const logPath = join(opts.logDir, `${opts.name}.log`);
  const profile = opts.cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`];
  const proc: Started = start(opts.name, [process.execPath, ...profile, '--import', 'tsx', WORKER_MAIN], {
    logPath,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: opts.address,
      TEMPORAL_NAMESPACE: 'default',
      ROLLOUT_TASK_QUEUE: opts.taskQueue,
      BENCH_SCALE_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
      BENCH_SCALE_TUNING: JSON.stringify(opts.tuning),
    },
  });
  const { child } = proc;
  const alive = () => child.exitCode === null && child.signalCode === null;
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => {
      fail(new Error(`${opts.name} not ready within ${READY_TIMEOUT_MS / 1000}s:\n${proc.tail()}`));
    }, READY_TIMEOUT_MS);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (!chunk.toString().includes('worker ready')) return;
      clearTimeout(timer);
      ready();
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      // The log stream may not have flushed the last lines yet.
      setTimeout(() => fail(new Error(`${opts.name} exited (${code ?? signal}):\n${proc.tail()}`)), 100);
    });
  });
  const pid = child.pid ?? -1;
  return {
    name: opts.name,
    pid,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    logPath,
    rssMb: () => rssMbOf(pid),
    cpuSeconds: () => cpuSeconds(pid),
    threadSeconds: () => threadSecondsOf(pid),
    alive,
    stop: () => proc.stop(),
  };
}
