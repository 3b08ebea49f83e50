import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startDevServer, type DevServer } from '../devserver/dev-server';
import { freePort } from '../devserver/free-port';
import { isAlive, ProcessDeployer } from '../providers/deploy/process';
import { trafficRouter } from '../providers/registry';
import { startRouter, type RouterHandle } from '../router/server';
import { type DemoLoadBalancer, type RouterKind, startDemoLoadBalancer } from './load-balancer';
import { temporalBackend } from '../dashboard/backend';
import { startDashboard } from '../dashboard/server';
import { startWorkerProcess, type WorkerProcess } from './worker-process';

export interface DemoStack {
  stateDir: string;
  server: DevServer;
  /** The rollout dashboard, on loopback. */
  dashboardUrl: string;
  router: RouterHandle;
  worker: WorkerProcess;
  client: Client;
  taskQueue: string;
  stableUrl: string;
  /** With a load balancer: its one green address, the new version's for every scenario. */
  greenUrl?: string;
  loadBalancer?: DemoLoadBalancer;
  /** (Re)deploys v1 if it is not running (a promotion retires it) and gives it 100% of traffic. */
  v1Live(): Promise<void>;
  close(): Promise<void>;
}

export const DEMO_SERVICE = 'checkout';

/** Kills every process the demo's deploys started, found through their pid files. */
function killDeployed(stateDir: string): number[] {
  const pids = join(stateDir, 'pids');
  let files: string[];
  try {
    files = readdirSync(pids);
  } catch {
    return [];
  }
  const killed: number[] = [];
  for (const file of files) {
    const pid = Number(readFileSync(join(pids, file), 'utf8'));
    rmSync(join(pids, file), { force: true });
    try {
      process.kill(pid, 'SIGTERM');
      killed.push(pid);
    } catch {
      // Already gone.
    }
  }
  return killed;
}

/** Waits until a request through the load balancer is answered, so users never meet a 503 at start. */
async function untilServing(url: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const status = await fetch(url, { signal: AbortSignal.timeout(1000) }).then(
      async (r) => (await r.arrayBuffer(), r.status),
      () => 0,
    );
    if (status > 0 && status < 500) return;
    if (Date.now() > deadline) throw new Error(`${url} does not serve v1 (last status ${status})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * With a load balancer every scenario deploys its new version on the same green address, so what
 * the previous scenario left running there (a promoted v2, with other faults) goes first.
 */
async function retireEverything(stateDir: string): Promise<void> {
  const killed = killDeployed(stateDir);
  const deadline = Date.now() + 15_000;
  while (killed.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

async function deployV1(stableUrl: string): Promise<void> {
  // The same idempotent deploy the worker uses: a no-op while v1's process is alive.
  await new ProcessDeployer({
    provider: 'process',
    command: process.execPath,
    args: ['--import', 'tsx', join(__dirname, 'service-main.ts')],
    env: {},
    readyTimeout: 30_000,
  }).deploy({ service: DEMO_SERVICE, version: 'v1', targets: [stableUrl] }, () => undefined);
}

async function putV1Live(routerAdminUrl: string, stableUrl: string): Promise<void> {
  await deployV1(stableUrl);
  const response = await fetch(`${routerAdminUrl}/admin/split`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ stable: { version: 'v1', targets: [stableUrl] }, canary: null, canaryWeight: 0 }),
  });
  if (!response.ok) throw new Error(`router refused the v1 split: ${response.status}`);
}

/** Starts everything the demo needs, each piece real: Temporal with its UI, router, worker, v1. */
export async function startDemoStack(
  log: (line: string) => void,
  routerKind: RouterKind = 'embedded',
): Promise<DemoStack> {
  const stateDir = mkdtempSync(join(tmpdir(), 'durable-rollouts-demo-'));
  process.env.DURABLE_ROLLOUTS_STATE_DIR = stateDir;
  const cleanups: (() => Promise<void> | void)[] = [() => void killDeployed(stateDir)];
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
  };
  try {
    log('starting the Temporal dev server with its Web UI…');
    const server = await startDevServer({ ui: true, logFile: join(stateDir, 'temporal.log') });
    cleanups.push(() => server.stop());
    log(`Temporal Web UI: ${server.uiUrl}/namespaces/default/workflows`);
    const connection = await Connection.connect({ address: server.address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection, namespace: 'default' });
    const dashboard = await startDashboard({
      backend: temporalBackend(client),
      host: '127.0.0.1',
      port: 0,
      webUiUrl: server.uiUrl ?? 'http://localhost:8233',
    });
    cleanups.push(() => dashboard.close());
    log(`rollout dashboard: ${dashboard.url}/`);

    const router = await startRouter({ port: 0, adminPort: 0 });
    cleanups.push(() => router.close());
    log(`router: ${router.url} (admin ${router.adminUrl})`);

    const taskQueue = `demo-${process.pid}`;
    const metricsAddress = `127.0.0.1:${await freePort()}`;
    const worker = await startWorkerProcess(
      {
        ...process.env,
        TEMPORAL_ADDRESS: server.address,
        TEMPORAL_NAMESPACE: 'default',
        ROLLOUT_TASK_QUEUE: taskQueue,
        ROLLOUT_METRICS_ADDRESS: metricsAddress,
        ...(server.uiUrl ? { ROLLOUT_WEB_UI_URL: server.uiUrl } : {}),
        ROLLOUT_DASHBOARD_URL: dashboard.url,
      },
      join(stateDir, 'worker.log'),
    );
    cleanups.push(() => worker.stop());
    log(`worker: pid ${worker.child.pid}, task queue ${taskQueue}, metrics http://${metricsAddress}/metrics`);

    const stableUrl = `http://127.0.0.1:${await freePort()}`;
    let v1Live = () => putV1Live(router.adminUrl, stableUrl);
    let loadBalancer: DemoLoadBalancer | undefined;
    let greenUrl: string | undefined;
    if (routerKind !== 'embedded') {
      greenUrl = `http://127.0.0.1:${await freePort()}`;
      const lb = await startDemoLoadBalancer(routerKind, stableUrl, greenUrl);
      loadBalancer = lb;
      cleanups.push(() => lb.stop());
      log(lb.description);
      v1Live = async () => {
        await retireEverything(stateDir);
        await deployV1(stableUrl);
        await trafficRouter(lb.traffic).setSplit({
          stable: { version: 'v1', targets: [stableUrl], routes: ['blue'] },
          canary: null,
          canaryWeight: 0,
        });
        // HAProxy takes a freshly started server only once its health checks pass.
        await untilServing(lb.url);
      };
    }
    await v1Live();
    log(`demo service v1: ${stableUrl} (100% of traffic)${greenUrl ? `; new versions on ${greenUrl}` : ''}`);

    return {
      stateDir,
      server,
      dashboardUrl: dashboard.url,
      router,
      worker,
      client,
      taskQueue,
      stableUrl,
      greenUrl,
      loadBalancer,
      v1Live,
      close: async () => {
        await close();
        rmSync(stateDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await close();
    throw new Error(`${(err as Error).message} (logs in ${stateDir})`, { cause: err });
  }
}
