import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { abortRollout, readState, startCanary } from '../src/client/rollouts';
import { startDemoService } from '../src/demo/service';
import { startTraffic } from '../src/demo/traffic';
import { startDevServer } from '../src/devserver/dev-server';
import { startRouter } from '../src/router/server';
import { parseCanarySpec } from '../src/spec/load';
import { createRolloutWorker } from '../src/worker/create-worker';
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

async function until(fn: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const server = await startDevServer();
  const router = await startRouter({ port: 0, adminPort: 0 });
  const v1 = await startDemoService({ version: 'v1', port: 0 });
  const v2 = await startDemoService({ version: 'v2', port: 0 });
  const users = startTraffic({ url: router.url, rps: 40, users: 200, maxDurationMs: 600_000 });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const taskQueue = 'bench-abort';
  const worker = await createRolloutWorker({ connection: nativeConnection, namespace: 'default', taskQueue });
  const running = worker.run();
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
      await until(async () => (await splitCanaryWeight(router.adminUrl)) === 0);
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
      await until(
        async () =>
          (await readState(client, service)).phase === 'monitoring' &&
          (await splitCanaryWeight(router.adminUrl)) === 20,
      );
      const t0 = performance.now();
      await abortRollout(client, service, 'benchmark');
      await until(async () => (await splitCanaryWeight(router.adminUrl)) === 0);
      measured.push(performance.now() - t0);
      await handle.result();
      process.stderr.write(`run ${i + 1}/${RUNS}: ${measured[i]!.toFixed(1)} ms\n`);
    }

    console.log(`\nabort → router at 0% canary, ${RUNS} runs each`);
    console.log(`  baseline (direct router admin PUT): ${describeMs(baseline)}`);
    console.log(`  durable-rollouts (signal → workflow → activity → router): ${describeMs(measured)}`);
    console.log(
      `  overhead of durable orchestration: ${(median(measured) - median(baseline)).toFixed(1)} ms (median)`,
    );
  } finally {
    worker.shutdown();
    await running;
    await users.stop();
    await Promise.allSettled([
      router.close(),
      v1.close(),
      v2.close(),
      connection.close(),
      nativeConnection.close(),
    ]);
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
