import { startCanary } from '../src/client/rollouts';
import { planUndo, startUndo } from '../src/client/undo';
import { parseCanarySpec } from '../src/spec/load';
import { eventually } from '../test/helpers/eventually';
import { startBenchStack } from './harness';
import { describeMs, median } from './stats';

/**
 * Undo latency: from `rollout undo` (startUndo: find the last promotion in Temporal's visibility,
 * read its input, start the undo workflow) to the router carrying the previous version at 100%,
 * through a real dev server and worker, with v1 still running (the `switch` path: health check,
 * one traffic call). The baseline is the same router change made directly on its admin API.
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 8);
const ROUTER_POLL_MS = 2;

interface Split {
  stable: { version: string } | null;
  weights: { stable: number };
}

async function split(adminUrl: string): Promise<Split> {
  return (await (await fetch(`${adminUrl}/admin/split`)).json()) as Split;
}

const servesOnly = async (adminUrl: string, version: string): Promise<boolean> => {
  const s = await split(adminUrl);
  return s.stable?.version === version && s.weights.stable === 100;
};

async function main(): Promise<void> {
  const stack = await startBenchStack('bench-undo');
  const { router, client, taskQueue, v1, v2 } = stack;
  const stable = { version: 'v1', targets: [v1.url] };
  const canary = { version: 'v2', targets: [v2.url] };
  const putOnly = (target: typeof stable) =>
    fetch(`${router.adminUrl}/admin/split`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ stable: target, canary: null, canaryWeight: 0 }),
    });

  try {
    const baseline: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await putOnly(canary);
      const t0 = performance.now();
      await putOnly(stable);
      await eventually(() => servesOnly(router.adminUrl, 'v1'), 30_000, 'v1 at 100%', ROUTER_POLL_MS);
      baseline.push(performance.now() - t0);
    }

    const measured: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const service = `bench-undo-${i}`;
      await putOnly(stable);
      const promoted = await startCanary(
        client,
        parseCanarySpec({
          service,
          stable,
          canary,
          stages: [100],
          traffic: { adminUrl: router.adminUrl },
          promotion: { stabilizationDelay: '0s' },
        }),
        taskQueue,
      );
      const result = await promoted.result();
      if (result.outcome !== 'promoted') throw new Error(`${service}: ${result.outcome}`);
      // Visibility lags a completed run by a moment: undo plans from it, so wait until it can.
      await eventually(
        async () =>
          await planUndo(client, service).then(
            () => true,
            () => false,
          ),
        30_000,
        `${service} visible as promoted`,
        50,
      );
      const t0 = performance.now();
      const undo = await startUndo(client, service, { reason: 'benchmark', taskQueue });
      await eventually(() => servesOnly(router.adminUrl, 'v1'), 30_000, 'v1 at 100%', ROUTER_POLL_MS);
      measured.push(performance.now() - t0);
      const done = await client.workflow.getHandle(undo.workflowId).result();
      process.stderr.write(`run ${i + 1}/${RUNS}: ${measured[i]!.toFixed(1)} ms (${done.outcome})\n`);
    }

    console.log(`\nundo → router carrying v1 at 100%, ${RUNS} runs each`);
    console.log(`  baseline (direct router admin PUT): ${describeMs(baseline)}`);
    console.log(
      `  rollout undo (plan from visibility → workflow → health check → router): ${describeMs(measured)}`,
    );
    console.log(`  overhead of the undo: ${(median(measured) - median(baseline)).toFixed(1)} ms (median)`);
  } finally {
    await stack.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
