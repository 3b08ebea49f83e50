import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from '../../src/spec/duration';
import type { RolloutWorkerTuning } from '../../src/worker/create-worker';

export const HELP = `usage: npm run bench:scale -- --rollouts N [options]

Puts N canary rollouts in flight against a real Temporal dev server, each polling its metrics every
--interval with no traffic, on one worker process (or two on the same task queue), and measures a
window of --duration once every rollout is monitoring: poll lateness, missed polls, workflow-task
latencies (the SDK's metrics), abort → canary at 0% on the router, worker RSS and CPU.
Progress goes to stderr; the last line of stdout is one JSON object.

options:
  --rollouts N                 rollouts in flight (required, 1 to 5000)
  --workers 1|2                worker processes on the task queue (default 1)
  --duration D                 measured window (default 90s; at least 2 intervals, at most 1h)
  --interval D                 poll interval of every rollout (default 10s; 1s to 5m)
  --aborts K                   rollouts aborted during the window, spread through it and left out
                               of the poll figures (default min(20, N/5); 0 for none)
  --start-concurrency C        workflow starts in flight at once (default 50)
  --db-file                    the dev server keeps its SQLite database in a file (in the log
                               directory) instead of in memory

worker tuning (each left out keeps the production worker's setting):
  --max-cached-workflows N                 SDK workflow cache (default: from the V8 heap limit)
  --max-concurrent-workflow-tasks N        maxConcurrentWorkflowTaskExecutions (SDK: 40)
  --max-concurrent-workflow-task-polls N   maxConcurrentWorkflowTaskPolls (SDK: min(10, executions))
  --max-concurrent-activities N            maxConcurrentActivityTaskExecutions (SDK: 100)
  --max-concurrent-local-activities N      maxConcurrentLocalActivityExecutions (SDK: 100)
  --sticky-timeout D                       stickyQueueScheduleToStartTimeout (worker: 3s)
  --workflow-threads N                     workflowThreadPoolSize (SDK: 1 with reuseV8Context)
  --no-reuse-v8-context                    one V8 context per workflow (the SDK's legacy model)

  --cpu-prof DIR                profile each worker (node --cpu-prof) into DIR and summarise it
                               after the run; profiling slows the worker, so its figures are not
                               comparable
  --help                       this text

Examples:
  npm run bench:scale -- --rollouts 100
  npm run bench:scale -- --rollouts 1000 --workers 2 --duration 120s
  npm run bench:scale -- --rollouts 1000 --max-cached-workflows 500`;

export interface ScaleOptions {
  rollouts: number;
  workers: 1 | 2;
  durationMs: number;
  intervalMs: number;
  aborts: number;
  startConcurrency: number;
  tuning: RolloutWorkerTuning;
  cpuProfDir: string | undefined;
  dbFile: boolean;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

function whole(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got "${value}")`);
  }
  return n;
}

function durationMs(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined) throw new UsageError(`--${name}: "${value}" is not a duration like 500ms, 90s or 2m`);
  if (ms < min || ms > max) {
    throw new UsageError(`--${name} must be from ${min / 1000}s to ${max / 1000}s (got ${value})`);
  }
  return ms;
}

/** Parses argv; throws UsageError for anything wrong, returns 'help' for --help. */
export function parseScaleOptions(argv: string[]): ScaleOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        rollouts: { type: 'string' },
        workers: { type: 'string' },
        duration: { type: 'string' },
        interval: { type: 'string' },
        aborts: { type: 'string' },
        'start-concurrency': { type: 'string' },
        'max-cached-workflows': { type: 'string' },
        'max-concurrent-workflow-tasks': { type: 'string' },
        'max-concurrent-workflow-task-polls': { type: 'string' },
        'max-concurrent-activities': { type: 'string' },
        'max-concurrent-local-activities': { type: 'string' },
        'sticky-timeout': { type: 'string' },
        'workflow-threads': { type: 'string' },
        'no-reuse-v8-context': { type: 'boolean' },
        'cpu-prof': { type: 'string' },
        'db-file': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const rollouts = whole('rollouts', values.rollouts, 1, 5000);
  if (rollouts === undefined) throw new UsageError('--rollouts N is required');
  const workers = whole('workers', values.workers, 1, 2) ?? 1;
  const intervalMs = durationMs('interval', values.interval, 1000, 300_000) ?? 10_000;
  const windowMs = durationMs('duration', values.duration, 1000, 3_600_000) ?? 90_000;
  if (windowMs < 2 * intervalMs) {
    throw new UsageError(`--duration must be at least two intervals (${(2 * intervalMs) / 1000}s)`);
  }
  const aborts =
    whole('aborts', values.aborts, 0, Math.floor(rollouts / 2)) ?? Math.min(20, Math.floor(rollouts / 5));

  const tuning: RolloutWorkerTuning = {};
  const set = <K extends keyof RolloutWorkerTuning>(key: K, value: RolloutWorkerTuning[K] | undefined) => {
    if (value !== undefined) tuning[key] = value;
  };
  set('maxCachedWorkflows', whole('max-cached-workflows', values['max-cached-workflows'], 0, 100_000));
  set(
    'maxConcurrentWorkflowTaskExecutions',
    whole('max-concurrent-workflow-tasks', values['max-concurrent-workflow-tasks'], 2, 10_000),
  );
  set(
    'maxConcurrentWorkflowTaskPolls',
    whole('max-concurrent-workflow-task-polls', values['max-concurrent-workflow-task-polls'], 2, 1000),
  );
  set(
    'maxConcurrentActivityTaskExecutions',
    whole('max-concurrent-activities', values['max-concurrent-activities'], 1, 10_000),
  );
  set(
    'maxConcurrentLocalActivityExecutions',
    whole('max-concurrent-local-activities', values['max-concurrent-local-activities'], 1, 10_000),
  );
  set(
    'stickyQueueScheduleToStartTimeout',
    durationMs('sticky-timeout', values['sticky-timeout'], 1000, 600_000),
  );
  set('workflowThreadPoolSize', whole('workflow-threads', values['workflow-threads'], 1, 16));
  if (values['no-reuse-v8-context']) tuning.reuseV8Context = false;
  const polls = tuning.maxConcurrentWorkflowTaskPolls;
  const executions = tuning.maxConcurrentWorkflowTaskExecutions ?? 40;
  if (polls !== undefined && polls > executions) {
    throw new UsageError(
      `--max-concurrent-workflow-task-polls (${polls}) must not exceed the workflow-task executions (${executions})`,
    );
  }

  return {
    rollouts,
    workers: workers as 1 | 2,
    durationMs: windowMs,
    intervalMs,
    aborts,
    startConcurrency: whole('start-concurrency', values['start-concurrency'], 1, 500) ?? 50,
    tuning,
    dbFile: values['db-file'] === true,
    cpuProfDir: values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']),
  };
}
