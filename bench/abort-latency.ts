import { abortRollout, readState, startCanary } from '../src/client/rollouts';
import { parseCanarySpec } from '../src/spec/load';
import { eventually } from '../test/helpers/eventually';
import { startBenchStack } from './harness';
import { describeMs, median } from './stats';

/**
 * Abort latency: from sending the `abort` signal to the router reporting 0% canary, through a real
 * dev server and worker. The baseline is the same router change made directly on its admin API,
 * the floor that no orchestration can beat.
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 10);

async function splitCanaryWeight(adminUrl: string): Promise<number> {
  const split = (await (await fetch(`${adminUrl}/admin/split`)).json()) as { weights: { canary: number } };
  return split.weights.canary;
}

/** The router is polled every 2 ms: the figures are the times until it shows the change. */
const ROUTER_POLL_MS = 2;

async function main(): Promise<void> {
  const stack = await startBenchStack('bench-abort');
  const { router, client, taskQueue, v1, v2 } = stack;
  const stable = { version: 'v1', targets: [v1.url] };
  const canary = { version: 'v2', targets: [v2.url] };
  const put = (canaryWeight: number) =>
    fetch(`${router.adminUrl}/admin/split`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ stable, canary, canaryWeight }),
    });

  try {
    const baseline: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await put(20);
      const t0 = performance.now();
      await put(0);
      await eventually(
        async () => (await splitCanaryWeight(router.adminUrl)) === 0,
        30_000,
        'canary at 0%',
        ROUTER_POLL_MS,
      );
      baseline.push(performance.now() - t0);
    }

    const measured: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const service = `bench-abort-${i}`;
      const spec = parseCanarySpec({
        service,
        stable,
        canary,
        stages: [20, 100],
        monitoring: { window: '5m', interval: '1s', minCanaryRequests: 10 },
        traffic: { adminUrl: router.adminUrl },
      });
      const handle = await startCanary(client, spec, taskQueue);
      await eventually(
        async () =>
          (await readState(client, service)).phase === 'monitoring' &&
          (await splitCanaryWeight(router.adminUrl)) === 20,
        30_000,
        `${service} monitoring at 20%`,
        ROUTER_POLL_MS,
      );
      const t0 = performance.now();
      await abortRollout(client, service, 'benchmark');
      await eventually(
        async () => (await splitCanaryWeight(router.adminUrl)) === 0,
        30_000,
        'canary at 0%',
        ROUTER_POLL_MS,
      );
      measured.push(performance.now() - t0);
      const result = await handle.result();
      const trail = result.state.decisions
        .slice(-4)
        .map((d) => `${d.at.slice(17, 23)} ${d.kind}`)
        .join(', ');
      process.stderr.write(`run ${i + 1}/${RUNS}: ${measured[i]!.toFixed(1)} ms (${trail})\n`);
    }

    console.log(`\nabort → router at 0% canary, ${RUNS} runs each`);
    console.log(`  baseline (direct router admin PUT): ${describeMs(baseline)}`);
    console.log(`  durable-rollouts (signal → workflow → activity → router): ${describeMs(measured)}`);
    console.log(
      `  overhead of durable orchestration: ${(median(measured) - median(baseline)).toFixed(1)} ms (median)`,
    );
  } finally {
    await stack.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
