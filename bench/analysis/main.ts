import {
  CHUNK_SECONDS,
  intervalCountingMethod,
  sequentialMethod,
  thresholdAtWindowEnd,
  type Method,
} from './methods';
import { Rng } from './random';
import {
  binProbabilities,
  sampleArm,
  STABLE_P99_MS,
  tailBinProbabilities,
  type VersionProfile,
} from './traffic-model';

/**
 * Seeded simulation of canary rollouts: every method judges exactly the same traffic.
 * Stages 1, 5, 10, 25, 50 % (then promotion at 100), each held for one window; all methods share
 * that schedule, so they differ only in when they would roll back.
 */
const STAGES = [1, 5, 10, 25, 50];
const WINDOW_SECONDS = Number(process.env.BENCH_WINDOW_SECONDS ?? 300);
const BAD_RUNS = Number(process.env.BENCH_BAD_RUNS ?? 200);
const AA_RUNS = Number(process.env.BENCH_AA_RUNS ?? 10_000);
const SEED = Number(process.env.BENCH_SEED ?? 20261126);
const LOW_TRAFFIC_RUNS = Number(process.env.BENCH_LOW_TRAFFIC_RUNS ?? 100);
/** The stable version's traffic the workflow reads before the first window (analysis.latencyBaselineWindow). */
const BEFORE_SECONDS = 600;

const stable: VersionProfile = { errorRate: 0.001, binProbabilities: binProbabilities(1) };

function methods(): Method[] {
  const p99Limit = 1.2 * STABLE_P99_MS;
  return [
    sequentialMethod(10),
    sequentialMethod(30),
    sequentialMethod(10, 1),
    thresholdAtWindowEnd(),
    intervalCountingMethod('Flagger-style (1m × 5)', 60, 5, p99Limit),
    intervalCountingMethod('Argo-style (5m, 4 failures)', 300, 4, p99Limit),
  ];
}

interface RunResult {
  rolledBackAt: number | null;
  canaryErrorsBeforeRollback: number;
  canaryRequestsBeforeRollback: number;
}

/** One rollout; returns per method when it rolled back and what the canary had served by then. */
function simulate(rng: Rng, rps: number, canary: VersionProfile, active: Method[]): RunResult[] {
  const results: RunResult[] = active.map(() => ({
    rolledBackAt: null,
    canaryErrorsBeforeRollback: 0,
    canaryRequestsBeforeRollback: 0,
  }));
  const pending = new Set(active.keys());
  let t = 0;
  let canaryErrors = 0;
  let canaryRequests = 0;
  const before = sampleArm(rng, rps * BEFORE_SECONDS, stable);
  for (let stageIndex = 0; stageIndex < STAGES.length && pending.size > 0; stageIndex++) {
    const share = (STAGES[stageIndex] as number) / 100;
    for (
      let elapsed = CHUNK_SECONDS;
      elapsed <= WINDOW_SECONDS && pending.size > 0;
      elapsed += CHUNK_SECONDS
    ) {
      t += CHUNK_SECONDS;
      const chunk = {
        t,
        stageIndex,
        stageElapsed: elapsed,
        stageSeconds: WINDOW_SECONDS,
        canary: sampleArm(rng, rps * share * CHUNK_SECONDS, canary),
        baseline: sampleArm(rng, rps * (1 - share) * CHUNK_SECONDS, stable),
        before,
      };
      canaryErrors += chunk.canary.errors;
      canaryRequests += chunk.canary.requests;
      for (const i of [...pending]) {
        if (active[i]!.onChunk(chunk)) {
          results[i] = {
            rolledBackAt: t,
            canaryErrorsBeforeRollback: canaryErrors,
            canaryRequestsBeforeRollback: canaryRequests,
          };
          pending.delete(i);
        }
      }
    }
  }
  // Not rolled back: promoted, and from then on every request meets the canary.
  for (const i of pending)
    results[i] = {
      rolledBackAt: null,
      canaryErrorsBeforeRollback: canaryErrors,
      canaryRequestsBeforeRollback: canaryRequests,
    };
  return results;
}

const pad = (s: string | number, n: number): string => String(s).padStart(n);
const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.floor((s.length - 1) / 2)] as number) : NaN;
};

function blastRadius(): Map<string, Map<string, number>> {
  const scenarios: { name: string; profile: VersionProfile }[] = [
    { name: 'errors 2%', profile: { errorRate: 0.02, binProbabilities: stable.binProbabilities } },
    { name: 'errors 5%', profile: { errorRate: 0.05, binProbabilities: stable.binProbabilities } },
    { name: 'errors 20%', profile: { errorRate: 0.2, binProbabilities: stable.binProbabilities } },
    { name: 'errors 50%', profile: { errorRate: 0.5, binProbabilities: stable.binProbabilities } },
    { name: 'p99 +50%', profile: { errorRate: 0.001, binProbabilities: binProbabilities(1.5) } },
    { name: 'p99 +50% tail', profile: { errorRate: 0.001, binProbabilities: tailBinProbabilities(1.5) } },
  ];
  const medians = new Map<string, Map<string, number>>();
  console.log(
    `\n## Blast radius: stable 0.1% errors, 100 rps, stages ${STAGES.join('/')}% × ${WINDOW_SECONDS}s, ${BAD_RUNS} seeded runs per scenario`,
  );
  console.log(
    `${'scenario'.padEnd(12)} ${'method'.padEnd(30)} ${pad('failed req (median)', 20)} ${pad('(mean)', 8)} ${pad('canary req (median)', 20)} ${pad('s to rollback (median)', 23)} ${pad('missed', 7)}`,
  );
  scenarios.forEach((scenario, s) => {
    const names = methods().map((m) => m.name);
    const perMethod = names.map(() => [] as RunResult[]);
    for (let run = 0; run < BAD_RUNS; run++) {
      const rng = new Rng(SEED + 1000 * s + run);
      simulate(rng, 100, scenario.profile, methods()).forEach((r, i) => perMethod[i]!.push(r));
    }
    const row = new Map<string, number>();
    names.forEach((name, i) => {
      const runs = perMethod[i]!;
      const caught = runs.filter((r) => r.rolledBackAt !== null);
      const failed = runs.map((r) => r.canaryErrorsBeforeRollback);
      const requests = runs.map((r) => r.canaryRequestsBeforeRollback);
      row.set(name, median(scenario.name.startsWith('p99') ? requests : failed));
      console.log(
        `${scenario.name.padEnd(12)} ${name.padEnd(30)} ${pad(median(failed), 20)} ${pad(mean(failed).toFixed(1), 8)} ${pad(median(requests), 20)} ${pad(caught.length ? median(caught.map((r) => r.rolledBackAt as number)) : '-', 23)} ${pad(runs.length - caught.length, 7)}`,
      );
    });
    medians.set(scenario.name, row);
  });
  return medians;
}

const LATENCY_SCENARIOS: { name: string; profile: VersionProfile }[] = [
  { name: 'everyone ×1.5', profile: { errorRate: 0.001, binProbabilities: binProbabilities(1.5) } },
  { name: 'tail p99 ×1.5', profile: { errorRate: 0.001, binProbabilities: tailBinProbabilities(1.5) } },
  { name: 'everyone ×2', profile: { errorRate: 0.001, binProbabilities: binProbabilities(2) } },
];
const LATENCY_RPS = [1, 10, 100];

/** Latency-only regressions (no extra errors) at low traffic: canary requests served before the rollback. */
function latencyAtLowTraffic(): Map<string, Map<string, number>> {
  console.log(
    `\n## Latency only, low traffic: canary requests before rollback (median; a miss counts every canary request of the rollout), ${LOW_TRAFFIC_RUNS} runs each`,
  );
  const names = methods().map((m) => m.name);
  console.log(
    `${'scenario'.padEnd(14)} ${pad('rps', 4)} ${names.map((n) => pad(n.replace('sequential', 'seq'), 24)).join(' ')}`,
  );
  const table = new Map<string, Map<string, number>>();
  LATENCY_SCENARIOS.forEach((scenario, s) => {
    for (const rps of LATENCY_RPS) {
      const perMethod = names.map(() => [] as RunResult[]);
      for (let run = 0; run < LOW_TRAFFIC_RUNS; run++) {
        const rng = new Rng(SEED + 3_000_000 + 100_000 * s + 1000 * rps + run);
        simulate(rng, rps, scenario.profile, methods()).forEach((r, i) => perMethod[i]!.push(r));
      }
      const row = new Map<string, number>();
      const cells = names.map((name, i) => {
        const runs = perMethod[i]!;
        const requests = median(runs.map((r) => r.canaryRequestsBeforeRollback));
        const missed = runs.filter((r) => r.rolledBackAt === null).length;
        row.set(name, requests);
        return pad(`${requests} (${missed} missed)`, 24);
      });
      table.set(`${scenario.name} @ ${rps} rps`, row);
      console.log(`${scenario.name.padEnd(14)} ${pad(rps, 4)} ${cells.join(' ')}`);
    }
  });
  return table;
}

function falseRollbacks(): Map<string, number> {
  const levels = [1, 10, 100, 1000];
  const perLevel = Math.ceil(AA_RUNS / levels.length);
  console.log(
    `\n## False rollbacks: ${perLevel * levels.length} A/A rollouts (canary identical to stable), ${perLevel} per traffic level`,
  );
  const names = methods().map((m) => m.name);
  console.log(
    `${'method'.padEnd(30)} ${levels.map((l) => pad(`${l} rps`, 10)).join(' ')} ${pad('overall', 10)}`,
  );
  const counts = names.map(() => levels.map(() => 0));
  levels.forEach((rps, l) => {
    for (let run = 0; run < perLevel; run++) {
      const rng = new Rng(SEED + 7_000_000 + 100_000 * l + run);
      simulate(rng, rps, stable, methods()).forEach((r, i) => {
        if (r.rolledBackAt !== null) counts[i]![l]!++;
      });
    }
  });
  const overall = new Map<string, number>();
  names.forEach((name, i) => {
    const total = counts[i]!.reduce((a, b) => a + b, 0) / (perLevel * levels.length);
    overall.set(name, total);
    console.log(
      `${name.padEnd(30)} ${counts[i]!.map((c) => pad(`${((100 * c) / perLevel).toFixed(2)}%`, 10)).join(' ')} ${pad(`${(100 * total).toFixed(2)}%`, 10)}`,
    );
  });
  return overall;
}

function main(): void {
  const started = Date.now();
  console.log(
    `# bench:analysis — seed ${SEED}; latency lognormal, stable p99 ≈ ${STABLE_P99_MS.toFixed(0)} ms`,
  );
  const blast = blastRadius();
  const latency = latencyAtLowTraffic();
  const falseRates = falseRollbacks();
  const seq = 'sequential (poll 10s)';
  const flagger = 'Flagger-style (1m × 5)';
  console.log(
    '\n## Target: sequential blast radius ≤ 1/10 of Flagger-style at 20% and 50%, false rollbacks ≤ 1%',
  );
  for (const scenario of ['errors 20%', 'errors 50%']) {
    const ratio = (blast.get(scenario)!.get(seq) as number) / (blast.get(scenario)!.get(flagger) as number);
    console.log(
      `  ${scenario}: sequential / Flagger-style = ${ratio.toFixed(3)} ${ratio <= 0.1 ? 'OK' : 'MISSED'}`,
    );
  }
  const latencyRatios: Record<string, number> = {};
  console.log(
    '  latency (canary requests before rollback, sequential / Flagger-style; goal ≤ 0.2 for p99 +50%):',
  );
  const rows: [string, Map<string, number>][] = [
    ['p99 +50% @ 100 rps (blast radius)', blast.get('p99 +50%')!],
    ['p99 +50% tail @ 100 rps (blast radius)', blast.get('p99 +50% tail')!],
    ...[...latency.entries()],
  ];
  for (const [name, row] of rows) {
    const ratio = (row.get(seq) as number) / (row.get(flagger) as number);
    const before = (row.get(`${seq} rev 1`) as number) / (row.get(flagger) as number);
    latencyRatios[name] = Number(ratio.toFixed(3));
    const goal = name.startsWith('p99 +50% @') ? (ratio <= 0.2 ? ' OK' : ' MISSED') : '';
    console.log(`    ${name.padEnd(40)} ${ratio.toFixed(3)} (rev 1: ${before.toFixed(3)})${goal}`);
  }
  const rate = falseRates.get(seq) as number;
  console.log(
    `  false rollbacks (sequential): ${(100 * rate).toFixed(2)}% ${rate <= 0.01 ? 'OK' : 'MISSED'}`,
  );
  console.log(
    JSON.stringify({
      latencyRatioVsFlagger: latencyRatios,
      falseRollbackRate: rate,
      falseRollbackRateRev1: falseRates.get(`${seq} rev 1`),
    }),
  );
  console.log(`\n(${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

main();
