import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { HaproxyTrafficRouter } from '../src/providers/traffic/haproxy';
import { NginxTrafficRouter } from '../src/providers/traffic/nginx';
import { EmbeddedTrafficRouter } from '../src/providers/traffic/embedded';
import type { DesiredSplit } from '../src/providers/traffic/types';
import { startRouter } from '../src/router/server';
import { startHaproxy } from '../test/helpers/haproxy';
import { startNginx } from '../test/helpers/nginx';
import { median } from './stats';

/**
 * Rollback drain: with keep-alive users at canaryWeight 50, the rollback sets the weight to 0 at
 * time T. How long after T does the canary still get requests (as the canary itself records
 * their arrival), and how long does setSplit take? A load balancer that applies a split only to
 * new connections would keep feeding the canary through the open ones.
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 20);
/** Load at 50% before each rollback, so that every connection carries canary requests. */
const WARMUP_MS = 500;
/** How long after T to keep the load on; a canary request in the last half means "not drained". */
const WINDOW_MS = 1_500;

/** A version's server that notes when each request arrived, on this process's monotonic clock. */
interface RecordingUpstream {
  url: string;
  arrivals: number[];
  close(): Promise<void>;
}

async function startUpstream(name: string): Promise<RecordingUpstream> {
  const arrivals: number[] = [];
  const server = createServer((_req, res) => {
    arrivals.push(performance.now());
    res.setHeader('content-type', 'text/plain');
    res.end(name);
  });
  // Longer than the routers' upstream keep-alive: they close idle connections, not the app.
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrivals,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface RouterUnderTest {
  /** Where the users send their requests. */
  url: string;
  setCanaryWeight(weight: number): Promise<void>;
  stop(): Promise<void>;
}

export interface RouterEntry {
  name: string;
  /** A router in front of the two upstreams, stable first. */
  start(upstreams: { stable: string; canary: string }): Promise<RouterUnderTest>;
}

const split = (stable: string, canary: string, canaryWeight: number): DesiredSplit => ({
  stable: { version: 'v1', targets: [stable], routes: ['blue'] },
  canary: { version: 'v2', targets: [canary], routes: ['green'] },
  canaryWeight,
});

// The embedded router first: the baseline the load balancers are compared with.
const routers: RouterEntry[] = [
  {
    name: 'embedded (admin API)',
    async start({ stable, canary }) {
      const handle = await startRouter({ port: 0, adminPort: 0 });
      const router = new EmbeddedTrafficRouter(handle.adminUrl);
      return {
        url: handle.url,
        setCanaryWeight: async (w) => void (await router.setSplit(split(stable, canary, w))),
        stop: () => handle.close(),
      };
    },
  },
  {
    name: 'haproxy (runtime API)',
    async start({ stable, canary }) {
      const haproxy = await startHaproxy({ blue: stable, green: canary });
      const router = new HaproxyTrafficRouter(haproxy.configFor());
      return {
        url: haproxy.url,
        setCanaryWeight: async (w) => void (await router.setSplit(split(stable, canary, w))),
        stop: () => haproxy.stop(),
      };
    },
  },
  {
    name: 'nginx (include file + reload)',
    async start({ stable, canary }) {
      const nginx = await startNginx({ upstreams: { blue: stable, green: canary } });
      const router = new NginxTrafficRouter(nginx.configFor());
      return {
        url: nginx.url,
        setCanaryWeight: async (w) => void (await router.setSplit(split(stable, canary, w))),
        stop: () => nginx.stop(),
      };
    },
  },
];

interface Users {
  errors: number;
  requests: number;
  stop(): Promise<void>;
}

/** CLIENTS keep-alive connections, each looping requests as a new user (cookie) every time. */
function startUsers(url: string): Users {
  let running = true;
  const stats = { errors: 0, requests: 0 };
  const { hostname, port } = new URL(url);
  const loops = Array.from({ length: CLIENTS }, async (_, client) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (let n = 0; running; n++) {
      const user = `bench-${client}-${n}`;
      try {
        await new Promise<void>((resolve, reject) => {
          const req = request(
            {
              hostname,
              port,
              path: '/',
              agent,
              headers: { cookie: `rollout_user=${user}; rollout-user=${user}` },
            },
            (res) => {
              res.resume();
              res.on('end', () =>
                res.statusCode === 200 ? resolve() : reject(new Error(`${res.statusCode}`)),
              );
            },
          );
          req.on('error', reject);
          req.end();
        });
        stats.requests++;
      } catch {
        // A reload closes idle keep-alive connections; a request racing that close fails.
        stats.errors++;
        await sleep(1);
      }
    }
    agent.destroy();
  });
  return {
    get errors() {
      return stats.errors;
    },
    get requests() {
      return stats.requests;
    },
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

interface Run {
  setSplitMs: number;
  drainMs: number;
  canaryAfterT: number;
  drained: boolean;
}

async function measure(entry: RouterEntry): Promise<{ runs: Run[]; errors: number; requests: number }> {
  const stable = await startUpstream('v1');
  const canary = await startUpstream('v2');
  const router = await entry.start({ stable: stable.url, canary: canary.url });
  const users = startUsers(router.url);
  const runs: Run[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      await router.setCanaryWeight(50);
      await sleep(WARMUP_MS);
      const before = canary.arrivals.length;
      const t = performance.now();
      await router.setCanaryWeight(0);
      const setSplitMs = performance.now() - t;
      await sleep(WINDOW_MS);
      if (canary.arrivals.length === before) throw new Error(`${entry.name}: no canary traffic before T`);
      const after = canary.arrivals.filter((a) => a > t);
      const last = Math.max(t, ...after);
      runs.push({
        setSplitMs,
        drainMs: last - t,
        canaryAfterT: after.length,
        drained: last < t + WINDOW_MS / 2,
      });
      canary.arrivals.length = 0;
    }
  } finally {
    await users.stop();
    await router.stop();
    await Promise.all([stable.close(), canary.close()]);
  }
  return { runs, errors: users.errors, requests: users.requests };
}

const ms = (v: number): string => v.toFixed(1).padStart(8);

async function main(): Promise<void> {
  const results = [];
  for (const entry of routers) {
    process.stderr.write(`${entry.name}: ${RUNS} rollbacks under ${CLIENTS} keep-alive clients...\n`);
    const { runs, errors, requests } = await measure(entry);
    const pick = (key: 'setSplitMs' | 'drainMs' | 'canaryAfterT') => runs.map((r) => r[key]);
    results.push({
      name: entry.name,
      runs: runs.length,
      setSplitMs: {
        median: median(pick('setSplitMs')),
        max: Math.max(...pick('setSplitMs')),
        all: pick('setSplitMs'),
      },
      drainMs: { median: median(pick('drainMs')), max: Math.max(...pick('drainMs')), all: pick('drainMs') },
      canaryRequestsAfterT: { median: median(pick('canaryAfterT')), max: Math.max(...pick('canaryAfterT')) },
      allDrained: runs.every((r) => r.drained),
      requests,
      errors,
    });
  }

  const header = `${'router'.padEnd(32)} ${'setSplit med'.padStart(12)} ${'max'.padStart(8)} ${'drain med'.padStart(10)} ${'max'.padStart(8)}  canary reqs after T (med/max)  drained  errors/requests`;
  console.log(header);
  for (const r of results) {
    console.log(
      `${r.name.padEnd(32)} ${ms(r.setSplitMs.median).padStart(12)} ${ms(r.setSplitMs.max)} ${ms(r.drainMs.median).padStart(10)} ${ms(r.drainMs.max)}  ${`${r.canaryRequestsAfterT.median}/${r.canaryRequestsAfterT.max}`.padStart(29)}  ${String(r.allDrained).padStart(7)}  ${r.errors}/${r.requests}`,
    );
  }
  console.log('(ms; drain = last request the canary received after T, T = the rollback setSplit call)');
  console.log(JSON.stringify({ bench: 'rollback-drain', clients: CLIENTS, windowMs: WINDOW_MS, results }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
