import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorkerProcess, type WorkerProcess } from '../../src/demo/worker-process';

export interface KillableWorker extends WorkerProcess {
  pid: number;
  logFile: string;
  /** Date.now() when the process was spawned and when it printed 'worker ready'. */
  spawnedAt: number;
  readyAt: number;
  /** SIGKILL: no graceful shutdown, no sticky-queue release, in-flight activities are lost. */
  kill(): Promise<void>;
  alive(): boolean;
}

export interface WorkerProcessOptions {
  /** Temporal frontend address, e.g. 127.0.0.1:7233. */
  address: string;
  taskQueue: string;
  /** Directory for the worker's log; by default one temp directory per test process (kept, for post-mortems). */
  logDir?: string;
  env?: NodeJS.ProcessEnv;
}

let started = 0;
let defaultLogDir: string | undefined;

/**
 * `node --import tsx src/worker/main.ts` as its own process (the demo's launcher), pointed at one
 * server and task queue, which a test can SIGKILL. Resolves once the worker printed 'worker ready'.
 */
export async function startKillableWorker(opts: WorkerProcessOptions): Promise<KillableWorker> {
  const logDir = opts.logDir ?? (defaultLogDir ??= mkdtempSync(join(tmpdir(), 'rollout-worker-logs-')));
  const logFile = join(logDir, `worker-${process.pid}-${++started}.log`);
  const spawnedAt = Date.now();
  const worker = await startWorkerProcess(
    {
      ...process.env,
      ...opts.env,
      TEMPORAL_ADDRESS: opts.address,
      TEMPORAL_NAMESPACE: 'default',
      ROLLOUT_TASK_QUEUE: opts.taskQueue,
    },
    logFile,
  );
  const readyAt = Date.now();
  const { child } = worker;
  const alive = () => child.exitCode === null && child.signalCode === null;
  const exited = new Promise<void>((r) => {
    if (!alive()) r();
    else child.once('exit', () => r());
  });
  return {
    ...worker,
    pid: child.pid ?? -1,
    logFile,
    spawnedAt,
    readyAt,
    alive,
    kill: async () => {
      if (alive()) child.kill('SIGKILL');
      await exited;
    },
  };
}
