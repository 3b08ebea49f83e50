import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { startCanary } from '../src/client/rollouts';
import { parseCanarySpec } from '../src/spec/load';
import type { RolloutResult } from '../src/workflows/state';
import { FaultEnv, firstWorkerProgressAfter, sleep } from '../test/helpers/fault-env';
import { InvariantWatch } from '../test/helpers/invariants';
import { Stack } from '../test/helpers/stack';
import { type KillableWorker, startKillableWorker } from '../test/helpers/worker-process';
import { median, percentile } from './stats';

/**
 * Chaos: N canary rollouts (alternately good and bad; bad = the canary answers half its requests
 * with 500), several at a time, each lane with its own router, v1, v2 and users, while a chaos loop
 * SIGKILLs the worker process at random moments (seeded) and starts a new one 0–3 s later.
 *
 * Reports rollouts completed, lost (not finished by the deadline), invariant violations (final
 * router split wrong for the outcome, weights not summing to 100, stages out of order, a bad canary
 * promoted), false rollbacks (a good canary rolled back), kills, and recovery: per restart and
 * rollout in progress, from the new worker being ready to the first workflow task or activity it
 * completed for that rollout (from the server's history), and per-rollout duration against a
 * no-chaos baseline run in the same process.
 *
 * env: CHAOS_N (50), CHAOS_CONCURRENCY (5), CHAOS_SEED (1), CHAOS_BASELINE (10 rollouts without
 * chaos first; 0 skips), CHAOS_DEADLINE_S (180, per rollout), CHAOS_KILL_MIN_S / CHAOS_KILL_MAX_S
 * (2 / 10: time a worker lives after it is ready), CHAOS_RESTART_MAX_S (3).
 */
const N = Number(process.env.CHAOS_N ?? 50);
const CONCURRENCY = Number(process.env.CHAOS_CONCURRENCY ?? 5);
const SEED = Number(process.env.CHAOS_SEED ?? 1);
const BASELINE = Number(process.env.CHAOS_BASELINE ?? 10);
const DEADLINE_MS = Number(process.env.CHAOS_DEADLINE_S ?? 180) * 1000;
const KILL_MIN_MS = Number(process.env.CHAOS_KILL_MIN_S ?? 2) * 1000;
const KILL_MAX_MS = Number(process.env.CHAOS_KILL_MAX_S ?? 10) * 1000;
const RESTART_MAX_MS = Number(process.env.CHAOS_RESTART_MAX_S ?? 3) * 1000;
const STAGES = [20, 50, 100];
const USERS_RPS = 40;

/** mulberry32: a small seeded PRNG, so a run's kill schedule can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Lane {
  index: number;
  stack: Stack;
  /** The workflow id of the rollout in progress on this lane. */
  running: string | null;
}

interface RolloutRecord {
  n: number;
  lane: number;
  good: boolean;
  phase: 'baseline' | 'chaos';
  startedAt: number;
  durationMs: number | null;
  outcome: string;
  /** Why it did not promote: the first rollback decision's reason. */
  reason: string | null;
  violations: string[];
}

interface Restart {
  killedAt: number;
  readyAt: number;
  /** Rollouts in progress when the new worker was ready. */
  workflowIds: string[];
}

async function runRollout(
  env: FaultEnv,
  lane: Lane,
  taskQueue: string,
  n: number,
  phase: RolloutRecord['phase'],
): Promise<RolloutRecord> {
  const good = n % 2 === 0;
  lane.stack.v2.setFaults({ errorRate: good ? 0 : 0.5 });
  const service = `chaos-${phase}-${n}`;
  // Every rollout deploys a new version name on the lane's v2 process, as a real release would. The
  // router keeps per-version stats in one-second buckets, so back-to-back rollouts reusing one name
  // would count the previous (bad) canary's last errors in the next canary's first poll.
  const canaryVersion = `v2-${phase}-${n}`;
  const spec = parseCanarySpec({
    service,
    stable: { version: 'v1', targets: [lane.stack.v1.url] },
    canary: { version: canaryVersion, targets: [lane.stack.v2.url] },
    stages: STAGES,
    monitoring: {
      window: '2s',
      interval: '500ms',
      minCanaryRequests: 10,
      maxWindow: '4s',
      onInconclusive: 'rollback',
    },
    healthCheck: { retries: 1, interval: '200ms', timeout: '1s' },
    smokeTests: [{ name: 'smoke endpoint', path: '/smoke', expectedStatus: 200 }],
    traffic: { provider: 'embedded', adminUrl: lane.stack.router.adminUrl },
    promotion: { stabilizationDelay: '500ms' },
  });
  const watch = new InvariantWatch(lane.stack, 200);
  const record: RolloutRecord = {
    n,
    lane: lane.index,
    good,
    phase,
    startedAt: Date.now(),
    durationMs: null,
    outcome: 'lost',
    reason: null,
    violations: [],
  };
  try {
    const handle = await startCanary(env.client, spec, taskQueue);
    lane.running = handle.workflowId;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'lost'>((r) => (timer = setTimeout(() => r('lost'), DEADLINE_MS)));
    const finished = await Promise.race([
      handle.result().then(
        (r) => {
          const { state } = r as RolloutResult;
          record.reason = state.decisions.find((d) => d.kind === 'rollback')?.reason ?? null;
          return state.outcome as string;
        },
        (err: unknown) => (err instanceof WorkflowFailedError ? 'workflow-failed' : `error: ${String(err)}`),
      ),
      deadline,
    ]);
    clearTimeout(timer);
    record.outcome = finished;
    if (finished === 'lost') {
      watch.stop();
      await handle.terminate('chaos bench: not finished by the deadline').catch(() => undefined);
      return record;
    }
    record.durationMs = Date.now() - record.startedAt;
    const outcome =
      finished === 'promoted' || finished === 'rolled_back' || finished === 'aborted' ? finished : 'failed';
    try {
      await watch.check({ outcome, stableVersion: 'v1', canaryVersion, stages: STAGES });
    } catch (err) {
      record.violations.push((err as Error).message.split('\n')[0] ?? String(err));
    }
    if (!good && outcome === 'promoted') record.violations.push('a bad canary was promoted');
    if (outcome === 'failed') record.violations.push(`rollout ended ${finished}`);
    return record;
  } finally {
    watch.stop();
    lane.running = null;
  }
}

function stat(values: number[]): string {
  if (values.length === 0) return 'n/a';
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return `median ${s(median(values))}, p90 ${s(percentile(values, 90))}, max ${s(Math.max(...values))} (n=${values.length})`;
}

async function main(): Promise<void> {
  const began = Date.now();
  const logDir = mkdtempSync(join(tmpdir(), 'rollout-chaos-'));
  const env = await FaultEnv.start();
  const lanes: Lane[] = [];
  let worker: KillableWorker | undefined;
  let chaosOn = false;
  let stopping = false;
  const taskQueue = `chaos-${process.pid}`;
  const startWorker = () => startKillableWorker({ address: env.address, taskQueue, logDir });

  const shutdown = async () => {
    stopping = true;
    await worker?.kill();
    for (const lane of lanes) await lane.stack.close();
    await env.close();
    if (!process.env.CHAOS_KEEP_LOGS) rmSync(logDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void shutdown().then(() => process.exit(130)));

  try {
    for (let i = 0; i < CONCURRENCY; i++) {
      const stack = await Stack.start();
      stack.startUsers(USERS_RPS, 3_600_000);
      lanes.push({ index: i, stack, running: null });
    }
    worker = await startWorker();
    console.log(
      `chaos: N=${N}, ${CONCURRENCY} lanes, seed ${SEED}, baseline ${BASELINE}, kill after ${KILL_MIN_MS / 1000}–${
        KILL_MAX_MS / 1000
      } s, restart after 0–${RESTART_MAX_MS / 1000} s; logs in ${logDir}`,
    );

    const records: RolloutRecord[] = [];
    const runBatch = async (count: number, phase: RolloutRecord['phase'], offset: number) => {
      let next = 0;
      await Promise.all(
        lanes.map(async (lane) => {
          for (;;) {
            const i = next++;
            if (i >= count) return;
            const r = await runRollout(env, lane, taskQueue, offset + i, phase);
            records.push(r);
            const dur = r.durationMs === null ? 'LOST' : `${(r.durationMs / 1000).toFixed(1)}s`;
            console.log(
              `  [${phase} ${records.filter((x) => x.phase === phase).length}/${count}] lane ${lane.index} ${
                r.good ? 'good' : 'bad '
              } → ${r.outcome} in ${dur}${r.violations.length ? `  VIOLATION: ${r.violations.join('; ')}` : ''}`,
            );
          }
        }),
      );
    };

    if (BASELINE > 0) {
      console.log(`baseline: ${BASELINE} rollouts, no chaos`);
      await runBatch(BASELINE, 'baseline', 0);
    }

    // The chaos loop: a worker lives a random while after it is ready, is SIGKILLed, and a new one
    // is started after a random pause. Seeded, so a run can be repeated.
    const random = prng(SEED);
    const restarts: Restart[] = [];
    let kills = 0;
    chaosOn = true;
    const chaos = (async () => {
      while (chaosOn && !stopping) {
        const lifetime = KILL_MIN_MS + random() * (KILL_MAX_MS - KILL_MIN_MS);
        const until = Date.now() + lifetime;
        while (chaosOn && Date.now() < until) await sleep(100);
        if (!chaosOn) return;
        await worker?.kill();
        kills++;
        const killedAt = Date.now();
        await sleep(random() * RESTART_MAX_MS);
        worker = await startWorker();
        // The rollouts in progress when this worker came up; their recovery is measured below.
        const busy = lanes.flatMap((l) => (l.running ? [l.running] : []));
        restarts.push({ killedAt, readyAt: worker.readyAt, workflowIds: busy });
      }
    })();

    console.log(`chaos: ${N} rollouts`);
    await runBatch(N, 'chaos', BASELINE);
    chaosOn = false;
    await chaos;

    // Recovery per restart and rollout in progress: from the new worker being ready to the first
    // workflow task or activity it completed for that rollout (server history), counted only if it
    // came before the next kill.
    const recoveries: number[] = [];
    let noProgress = 0;
    for (const [i, r] of restarts.entries()) {
      const nextKill = restarts[i + 1]?.killedAt ?? Infinity;
      for (const id of r.workflowIds) {
        const at = await firstWorkerProgressAfter(env.client.workflow.getHandle(id), r.readyAt).catch(
          () => undefined,
        );
        if (at !== undefined && at < nextKill) recoveries.push(at - r.readyAt);
        else noProgress++;
      }
    }
    const downtimes = restarts.map((r) => r.readyAt - r.killedAt);

    const chaosRecords = records.filter((r) => r.phase === 'chaos');
    const baseRecords = records.filter((r) => r.phase === 'baseline');
    const completed = chaosRecords.filter((r) => r.durationMs !== null);
    const lost = chaosRecords.filter((r) => r.durationMs === null);
    const violations = chaosRecords.filter((r) => r.violations.length > 0);
    const falseRollbacks = chaosRecords.filter(
      (r) => r.good && r.outcome !== 'promoted' && r.durationMs !== null,
    );
    const durations = (rs: RolloutRecord[], good: boolean) =>
      rs.filter((r) => r.good === good && r.durationMs !== null).map((r) => r.durationMs as number);

    console.log('');
    console.log(
      `chaos results (N=${N}, ${CONCURRENCY} concurrent, seed ${SEED}, ${((Date.now() - began) / 1000).toFixed(0)} s in all)`,
    );
    console.log(`  rollouts completed        ${completed.length}/${chaosRecords.length}`);
    console.log(`  lost (deadline ${DEADLINE_MS / 1000} s)     ${lost.length}`);
    console.log(`  invariant violations      ${violations.length}`);
    for (const v of violations)
      console.log(`    #${v.n} (${v.good ? 'good' : 'bad'}, ${v.outcome}): ${v.violations.join('; ')}`);
    console.log(`  false rollbacks (good canary not promoted)  ${falseRollbacks.length}`);
    for (const f of falseRollbacks) console.log(`    #${f.n} ${f.outcome}: ${f.reason ?? '?'}`);
    console.log(
      `  outcomes: good → ${JSON.stringify(tally(chaosRecords.filter((r) => r.good)))}, bad → ${JSON.stringify(
        tally(chaosRecords.filter((r) => !r.good)),
      )}`,
    );
    console.log(`  worker kills              ${kills}`);
    console.log(`  kill → new worker ready   ${stat(downtimes)}`);
    console.log(
      `  worker ready → first progress of each rollout in flight   ${stat(recoveries)}; none before the next kill: ${noProgress}`,
    );
    console.log('  rollout duration          baseline (no chaos)                  |  chaos');
    for (const good of [true, false]) {
      console.log(
        `    ${good ? 'good (promoted)   ' : 'bad (rolled back) '}  ${stat(durations(baseRecords, good)).padEnd(40)} |  ${stat(
          durations(chaosRecords, good),
        )}`,
      );
    }
    const extra = (good: boolean) => {
      const b = durations(baseRecords, good);
      const c = durations(chaosRecords, good);
      return b.length && c.length ? `${((median(c) - median(b)) / 1000).toFixed(1)} s` : 'n/a';
    };
    console.log(`  median extra duration under chaos: good ${extra(true)}, bad ${extra(false)}`);
    console.log(
      JSON.stringify({
        n: N,
        concurrency: CONCURRENCY,
        seed: SEED,
        completed: completed.length,
        lost: lost.length,
        violations: violations.length,
        falseRollbacks: falseRollbacks.length,
        kills,
        recoveryMedianMs: recoveries.length ? median(recoveries) : null,
        recoveryMaxMs: recoveries.length ? Math.max(...recoveries) : null,
        totalSeconds: Math.round((Date.now() - began) / 1000),
      }),
    );
    process.exitCode = lost.length > 0 || violations.length > 0 ? 1 : 0;
  } finally {
    chaosOn = false;
    await shutdown();
  }
}

function tally(rs: RolloutRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rs) out[r.outcome] = (out[r.outcome] ?? 0) + 1;
  return out;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
