import { median, percentile } from '../stats';
import type { ScaleOptions } from './options';
import type { PollSummary } from './polls';

export interface WorkerFigures {
  name: string;
  pid: number;
  rssIdleMb: number;
  rssPeakMb: number;
  rssEndMb: number;
  /** Over the measured window. */
  cpuSeconds: number;
  /** Of one core, over the measured window. */
  cpuPercent: number;
  threads: { name: string; percent: number }[];
}

type Quantile = { ms: number; open: boolean } | null;

export interface Measured {
  options: ScaleOptions;
  rampUpMs: number;
  windowMs: number;
  perWorker: WorkerFigures[];
  /** Peak of the workers' summed RSS, from start-up on. */
  rssPeakMb: number;
  polls: PollSummary;
  abortMs: number[];
  directMs: number[];
  workflowTasks: number;
  wftScheduleToStart: [Quantile, Quantile];
  wftExecution: [Quantile, Quantile];
  machine: {
    cores: number;
    busyPercent: number;
    devServerPercent: number;
    devServerRssMb: number;
    benchPercent: number;
    otherPercent: number;
  };
  respondWftMeanMs: number | null;
  localActivityMeanMs: number | null;
  stickyCacheSize: number;
  stickyCacheMisses: number;
  stickyCacheEvictions: number;
  benchLoopDelayP99Ms: number;
  benchRssMb: number;
  logDir: string;
}

/** Issue 11's goals, set for N = 1,000 on one worker. */
const GOALS = { rssMb: 1024, pollLatenessP99Ms: 1000, abortP99Ms: 1000, missedPolls: 0 };

/** What issue 11 measured before this work (one embedded router per service, one worker). */
const BEFORE: Record<number, string> = {
  100: 'RSS 485 MB, 9 of 9 polls in 90 s (sampled rollouts), abort → outcome 48–115 ms',
  500: 'RSS 639 MB, 9 of 9 polls in 90 s (sampled rollouts), abort → outcome 138–227 ms',
  1000: 'RSS 1.2 GB, 4 to 9 of 9 polls in 90 s (sampled rollouts), abort → outcome 148–276 ms',
};

const round = (n: number, digits = 0) => Number(n.toFixed(digits));
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const p = (values: number[], q: number) => (values.length === 0 ? null : percentile(values, q));
const ms = (value: number | null) => (value === null ? 'n/a' : `${Math.round(value)}`);
const quantileText = (q: Quantile) => (q === null ? 'n/a' : `${q.open ? '> ' : ''}${Math.round(q.ms)}`);
const quantileMs = (q: Quantile) => (q === null ? null : round(q.ms, 1));

/** The figures as JSON: issue 11's required keys first. */
export function summaryJson(m: Measured) {
  const { options, polls } = m;
  const cpuSeconds = sum(m.perWorker.map((w) => w.cpuSeconds));
  const rssEndMb = sum(m.perWorker.map((w) => w.rssEndMb));
  const rssIdleMb = sum(m.perWorker.map((w) => w.rssIdleMb));
  const lateP99 = p(polls.latenessMs, 99);
  const abortP99 = p(m.abortMs, 99);
  return {
    rollouts: options.rollouts,
    rssMb: round(m.rssPeakMb),
    pollLatenessP50Ms: p(polls.latenessMs, 50),
    pollLatenessP99Ms: lateP99,
    abortP50Ms: m.abortMs.length === 0 ? null : median(m.abortMs),
    abortP99Ms: abortP99,
    missedPolls: polls.missed,
    workers: options.workers,
    durationS: round(m.windowMs / 1000, 1),
    intervalS: options.intervalMs / 1000,
    rampUpS: round(m.rampUpMs / 1000, 1),
    rssEndMb: round(rssEndMb),
    rssIdleMb: round(rssIdleMb),
    rssPerRolloutMb: round((rssEndMb - rssIdleMb) / options.rollouts, 3),
    cpuSeconds: round(cpuSeconds, 2),
    cpuPercent: round((100 * cpuSeconds) / (m.windowMs / 1000), 1),
    perWorker: m.perWorker.map((w) => ({
      ...w,
      rssIdleMb: round(w.rssIdleMb),
      rssPeakMb: round(w.rssPeakMb),
      rssEndMb: round(w.rssEndMb),
      cpuSeconds: round(w.cpuSeconds, 2),
      cpuPercent: round(w.cpuPercent, 1),
      threads: w.threads.map((t) => ({ name: t.name, percent: round(t.percent, 1) })),
    })),
    pollLatenessMaxMs: polls.latenessMs.length === 0 ? null : Math.max(...polls.latenessMs),
    pollsObserved: polls.observed,
    pollsExpected: polls.expected,
    rolloutsMeasured: polls.services,
    rolloutsMissingPolls: polls.servicesMissing,
    wftScheduleToStartP50Ms: quantileMs(m.wftScheduleToStart[0]),
    wftScheduleToStartP99Ms: quantileMs(m.wftScheduleToStart[1]),
    wftExecutionP50Ms: quantileMs(m.wftExecution[0]),
    wftExecutionP99Ms: quantileMs(m.wftExecution[1]),
    workflowTasks: m.workflowTasks,
    respondWorkflowTaskCompletedMeanMs: m.respondWftMeanMs === null ? null : round(m.respondWftMeanMs, 1),
    localActivityEndToEndMeanMs: m.localActivityMeanMs === null ? null : round(m.localActivityMeanMs, 1),
    stickyCacheSize: m.stickyCacheSize,
    stickyCacheMisses: m.stickyCacheMisses,
    stickyCacheEvictions: m.stickyCacheEvictions,
    aborts: m.abortMs.length,
    abortMaxMs: m.abortMs.length === 0 ? null : Math.max(...m.abortMs),
    abortBaselineP50Ms: m.directMs.length === 0 ? null : median(m.directMs),
    abortBaselineP99Ms: p(m.directMs, 99),
    benchLoopDelayP99Ms: round(m.benchLoopDelayP99Ms, 1),
    machine: {
      cores: m.machine.cores,
      busyPercent: round(m.machine.busyPercent),
      devServerPercent: round(m.machine.devServerPercent),
      devServerRssMb: round(m.machine.devServerRssMb),
      benchPercent: round(m.machine.benchPercent),
      otherPercent: round(m.machine.otherPercent),
    },
    tuning: options.tuning,
    devServerDb: options.dbFile ? 'file' : 'memory',
    goalsMet: {
      rss: m.rssPeakMb <= GOALS.rssMb,
      pollLateness: lateP99 !== null && lateP99 <= GOALS.pollLatenessP99Ms,
      abort: abortP99 === null || abortP99 <= GOALS.abortP99Ms,
      missedPolls: polls.missed <= GOALS.missedPolls,
    },
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('   ')
        .trimEnd(),
    )
    .join('\n');
}

export function printReport(m: Measured): void {
  const s = summaryJson(m);
  const { options, polls } = m;
  const tuning =
    Object.keys(options.tuning).length === 0 ? 'production defaults' : JSON.stringify(options.tuning);
  const workerRows =
    m.perWorker.length > 1
      ? m.perWorker.map((w) => [
          `  ${w.name} (pid ${w.pid})`,
          `${Math.round(w.rssPeakMb)} / ${Math.round(w.rssEndMb)} MB, CPU ${w.cpuPercent.toFixed(0)}%`,
          `idle ${Math.round(w.rssIdleMb)} MB`,
          '',
        ])
      : [];
  const rows = [
    ['', 'measured', 'baseline', `goal at N=1,000`],
    [
      m.perWorker.length > 1 ? 'RSS of the workers (sum), peak / end' : 'worker RSS, peak / end',
      `${s.rssMb} / ${s.rssEndMb} MB`,
      `idle worker${m.perWorker.length > 1 ? 's' : ''} ${s.rssIdleMb} MB`,
      `≤ ${GOALS.rssMb} MB`,
    ],
    ['  per rollout (end − idle)', `${s.rssPerRolloutMb.toFixed(2)} MB`, '', ''],
    ...workerRows,
    [
      m.perWorker.length > 1 ? 'CPU of the workers (sum)' : 'worker CPU',
      `${s.cpuPercent}% of a core (${s.cpuSeconds} s)`,
      '',
      '',
    ],
    ...m.perWorker.map((w) => [
      `  busiest threads${m.perWorker.length > 1 ? ` (${w.name})` : ''}`,
      w.threads
        .slice(0, 3)
        .map((t) => `${t.name} ${Math.round(t.percent)}%`)
        .join(', '),
      '',
      '',
    ]),
    [
      'poll lateness p50 / p99 / max',
      `${ms(s.pollLatenessP50Ms)} / ${ms(s.pollLatenessP99Ms)} / ${ms(s.pollLatenessMaxMs)} ms`,
      `bench loop delay p99 ${s.benchLoopDelayP99Ms} ms`,
      `p99 ≤ ${GOALS.pollLatenessP99Ms} ms`,
    ],
    [
      'polls observed / expected',
      `${polls.observed} / ${polls.expected} (${polls.services} rollouts)`,
      '',
      '',
    ],
    ['missed polls', `${polls.missed} (${polls.servicesMissing} rollouts)`, '', `${GOALS.missedPolls}`],
    [
      'workflow task schedule-to-start',
      `p50 ${quantileText(m.wftScheduleToStart[0])} / p99 ${quantileText(m.wftScheduleToStart[1])} ms`,
      '',
      '',
    ],
    [
      'workflow task execution',
      `p50 ${quantileText(m.wftExecution[0])} / p99 ${quantileText(m.wftExecution[1])} ms`,
      `${m.workflowTasks} tasks`,
      '',
    ],
    [
      '  server: complete a task (mean)',
      `${ms(m.respondWftMeanMs)} ms`,
      m.localActivityMeanMs === null ? '' : `local activity end to end ${ms(m.localActivityMeanMs)} ms`,
      '',
    ],
    [
      'workflow cache at end',
      `${m.stickyCacheSize} workflows`,
      `window: ${m.stickyCacheMisses} misses, ${m.stickyCacheEvictions} forced evictions`,
      '',
    ],
    [
      'abort → canary 0%, p50 / p99',
      m.abortMs.length === 0
        ? 'none'
        : `${ms(s.abortP50Ms)} / ${ms(s.abortP99Ms)} ms (n=${m.abortMs.length})`,
      m.directMs.length === 0
        ? ''
        : `direct router PUT ${ms(s.abortBaselineP50Ms)} / ${ms(s.abortBaselineP99Ms)} ms`,
      `p99 ≤ ${GOALS.abortP99Ms} ms`,
    ],
  ];
  console.log(
    `\nbench:scale: ${options.rollouts} rollouts, ${options.workers} worker process${options.workers > 1 ? 'es' : ''}, ` +
      `${options.intervalMs / 1000} s polls, ${(m.windowMs / 1000).toFixed(0)} s window ` +
      `(ramp-up ${(m.rampUpMs / 1000).toFixed(0)} s), dev server SQLite ${options.dbFile ? 'in a file' : 'in memory'}, worker: ${tuning}\n`,
  );
  console.log(table(rows));
  const { machine } = m;
  console.log(
    `\nmachine (${machine.cores} cores, % of one core): ${Math.round(machine.busyPercent)}% busy = worker ` +
      `${s.cpuPercent}% + dev server ${Math.round(machine.devServerPercent)}% (RSS ${Math.round(machine.devServerRssMb)} MB) ` +
      `+ bench ${Math.round(machine.benchPercent)}% + other processes ${Math.round(machine.otherPercent)}%`,
  );
  // Other jobs on the machine take CPU from the worker and the server: the latencies are then upper bounds.
  if (machine.otherPercent > 20) {
    console.log(
      `WARNING: other processes used ${Math.round(machine.otherPercent)}% of a core during the window; latencies are inflated`,
    );
  }
  const before = BEFORE[options.rollouts];
  if (before && options.workers === 1) console.log(`\nissue 11, before: ${before}`);
  console.log(
    `\np99 of ${m.abortMs.length} aborts is their maximum. Percentiles of workflow tasks are read from ` +
      `the SDK's histograms (linear within a bucket). Bench process: ${Math.round(m.benchRssMb)} MB. Logs: ${m.logDir}`,
  );
  console.log(JSON.stringify(s));
}
