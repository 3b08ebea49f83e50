import { abortRollout, readState, startCanary } from '../src/client/rollouts';
import { parseCanarySpec } from '../src/spec/load';
import { eventually } from '../test/helpers/eventually';
import { startWebhookReceiver } from '../test/helpers/webhook-receiver';
import { startBenchStack } from './harness';
import { describeMs, median } from './stats';

/**
 * Do alerts hold up a rollback? Abort latency (the `abort` signal → the router at 0% canary) with
 * no alert sinks, against the same rollouts with both sinks (Slack and JSON) pointed at a hook that
 * answers every post only after 8 s, with a 500. The rollouts are identical otherwise, and run
 * alternately in one process against one dev server, worker and router.
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 6);
const HOOK_DELAY_MS = 8000;
const SLOW_ENV = 'BENCH_ALERTS_SLOW_HOOK';

async function canaryWeight(adminUrl: string): Promise<number> {
  const split = (await (await fetch(`${adminUrl}/admin/split`)).json()) as { weights: { canary: number } };
  return split.weights.canary;
}

async function main(): Promise<void> {
  const hook = await startWebhookReceiver({ '/slow': { status: 500, delayMs: HOOK_DELAY_MS } });
  process.env[SLOW_ENV] = `${hook.origin}/slow`;
  const stack = await startBenchStack('bench-alerts');
  const { router, client, taskQueue, v1, v2 } = stack;

  /** One rollout to 20%, aborted: ms from the signal until the router shows 0%, and until the run ends. */
  async function abortOnce(service: string, slowHooks: boolean): Promise<{ abortMs: number; endMs: number }> {
    const spec = parseCanarySpec({
      service,
      stable: { version: 'v1', targets: [v1.url] },
      canary: { version: 'v2', targets: [v2.url] },
      stages: [20, 100],
      monitoring: { window: '5m', interval: '1s', minCanaryRequests: 10 },
      traffic: { adminUrl: router.adminUrl },
      notify: slowHooks ? { slackWebhookUrlEnv: SLOW_ENV, webhookUrlEnv: SLOW_ENV } : {},
    });
    const handle = await startCanary(client, spec, taskQueue);
    await eventually(
      async () =>
        (await readState(client, service)).phase === 'monitoring' &&
        (await canaryWeight(router.adminUrl)) === 20,
      30_000,
      `${service} monitoring at 20%`,
      5,
    );
    const t0 = performance.now();
    await abortRollout(client, service, 'benchmark');
    await eventually(async () => (await canaryWeight(router.adminUrl)) === 0, 30_000, 'canary at 0%', 2);
    const abortMs = performance.now() - t0;
    await handle.result();
    return { abortMs, endMs: performance.now() - t0 };
  }

  try {
    const quiet: { abortMs: number; endMs: number }[] = [];
    const slow: { abortMs: number; endMs: number }[] = [];
    for (let i = 0; i < RUNS; i++) {
      quiet.push(await abortOnce(`bench-alerts-quiet-${i}`, false));
      slow.push(await abortOnce(`bench-alerts-slow-${i}`, true));
      process.stderr.write(
        `run ${i + 1}/${RUNS}: no sinks ${quiet[i]!.abortMs.toFixed(1)} ms, slow sinks ${slow[i]!.abortMs.toFixed(1)} ms\n`,
      );
    }
    const abort = (runs: typeof quiet) => runs.map((r) => r.abortMs);
    const end = (runs: typeof quiet) => runs.map((r) => r.endMs);
    console.log(`\nabort → router at 0% canary, ${RUNS} runs each`);
    console.log(`  baseline, no alert sinks:                 ${describeMs(abort(quiet))}`);
    console.log(
      `  two sinks, each post answered after ${HOOK_DELAY_MS / 1000} s: ${describeMs(abort(slow))}`,
    );
    console.log(`  difference (median): ${(median(abort(slow)) - median(abort(quiet))).toFixed(1)} ms`);
    console.log(`\nabort → workflow closed (the alerts are waited for only after traffic is restored)`);
    console.log(`  baseline, no alert sinks:                 ${describeMs(end(quiet))}`);
    console.log(`  two sinks, each post answered after ${HOOK_DELAY_MS / 1000} s: ${describeMs(end(slow))}`);
    console.log(`  hook posts received: ${hook.received.length}`);
  } finally {
    await stack.close();
    await hook.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
