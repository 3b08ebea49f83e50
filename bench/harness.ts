import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { type DemoServiceHandle, startDemoService } from '../src/demo/service';
import { type TrafficHandle, startTraffic } from '../src/demo/traffic';
import { type DevServer, startDevServer } from '../src/devserver/dev-server';
import { type RouterHandle, startRouter } from '../src/router/server';
import { createRolloutWorker } from '../src/worker/create-worker';

export interface BenchStack {
  server: DevServer;
  router: RouterHandle;
  v1: DemoServiceHandle;
  v2: DemoServiceHandle;
  users: TrafficHandle;
  client: Client;
  taskQueue: string;
  close(): Promise<void>;
}

/** What the latency benchmarks share: a dev server, an in-process worker, a router, v1, v2 and users. */
export async function startBenchStack(taskQueue: string, rps = 40): Promise<BenchStack> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const server = await startDevServer();
  const router = await startRouter({ port: 0, adminPort: 0 });
  const v1 = await startDemoService({ version: 'v1', port: 0 });
  const v2 = await startDemoService({ version: 'v2', port: 0 });
  const users = startTraffic({ url: router.url, rps, users: 200, maxDurationMs: 1_800_000 });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const worker = await createRolloutWorker({ connection: nativeConnection, namespace: 'default', taskQueue });
  const running = worker.run();
  return {
    server,
    router,
    v1,
    v2,
    users,
    client,
    taskQueue,
    close: async () => {
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
    },
  };
}
