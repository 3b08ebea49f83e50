import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../devserver/free-port';

const INSTALL_HINT =
  'Prometheus is required (integration tests, `npm run demo -- --router haproxy|nginx`) and was not found. Install it with ' +
  '`apt-get install -y prometheus` (Debian/Ubuntu; the binary is /usr/bin/prometheus), or set ' +
  'PROMETHEUS_BIN to a prometheus binary.';

/** PROMETHEUS_BIN, else `prometheus` on PATH; throws with install instructions when there is none. */
export function findPrometheus(): string {
  const candidates = process.env.PROMETHEUS_BIN
    ? [process.env.PROMETHEUS_BIN]
    : (process.env.PATH ?? '')
        .split(path.delimiter)
        .filter(Boolean)
        .map((dir) => path.join(dir, 'prometheus'));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  throw new Error(INSTALL_HINT);
}

export interface PrometheusOptions {
  /** host:port pairs to scrape at /metrics. */
  targets: string[];
  scrapeIntervalSeconds?: number;
}

interface ActiveTarget {
  scrapeUrl: string;
  health: string;
  lastScrape: string;
  lastError: string;
}

export interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PrometheusHandle {
  /** The base URL of the HTTP API, e.g. http://127.0.0.1:40123 */
  url: string;
  /** Resolves once every target has been scraped successfully by a scrape that started after `afterMs`. */
  waitForScrapesAfter(afterMs: number, timeoutMs?: number): Promise<void>;
  /** A raw instant query, for test set-up (the provider under test does its own querying). */
  query(promql: string): Promise<VectorSample[]>;
  /** The last lines Prometheus logged, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

/**
 * A real Prometheus on a free loopback port, with a generated config and its own TSDB in a temp
 * dir; nothing listens beyond 127.0.0.1 and nothing else is contacted.
 */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusHandle> {
  const binary = findPrometheus();
  const interval = options.scrapeIntervalSeconds ?? 1;
  const dir = mkdtempSync(path.join(tmpdir(), 'durable-rollouts-prometheus-'));
  const configFile = path.join(dir, 'prometheus.yml');
  // JSON is YAML.
  writeFileSync(
    configFile,
    JSON.stringify(
      {
        global: { scrape_interval: `${interval}s`, scrape_timeout: `${interval}s` },
        scrape_configs: [
          { job_name: 'demo', metrics_path: '/metrics', static_configs: [{ targets: options.targets }] },
        ],
      },
      null,
      2,
    ),
  );

  const log: string[] = [];
  const remember = (chunk: Buffer): void => {
    log.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (log.length > 200) log.splice(0, log.length - 200);
  };

  let child: ChildProcess | undefined;
  let url = '';
  // A free port can be taken between asking and binding; try a few.
  for (let attempt = 1; attempt <= 3 && !child; attempt++) {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const candidate = spawn(
      binary,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    candidate.stdout?.on('data', remember);
    candidate.stderr?.on('data', remember);
    const ready = await waitForReady(url, candidate, 30_000);
    if (ready) child = candidate;
    else if (!log.some((line) => line.includes('address already in use'))) break;
  }
  if (!child) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`Prometheus (${binary}) did not become ready:\n${log.slice(-30).join('\n')}`);
  }

  const running = child;
  const killOnExit = (): void => {
    running.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  return {
    url,
    async waitForScrapesAfter(afterMs, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      let targets: ActiveTarget[] = [];
      while (Date.now() < deadline) {
        const body = (await (await fetch(`${url}/api/v1/targets?state=active`)).json()) as {
          data: { activeTargets: ActiveTarget[] };
        };
        targets = body.data.activeTargets;
        const fresh = targets.filter((t) => t.health === 'up' && Date.parse(t.lastScrape) > afterMs);
        if (targets.length === options.targets.length && fresh.length === targets.length) return;
        await sleep(200);
      }
      throw new Error(
        `Prometheus did not scrape every target after ${new Date(afterMs).toISOString()}: ${JSON.stringify(targets)}`,
      );
    },
    async query(promql) {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await response.json()) as { status: string; data?: { result: VectorSample[] } };
      if (body.status !== 'success' || !body.data)
        throw new Error(`query ${promql} failed: ${JSON.stringify(body)}`);
      return body.data.result;
    },
    logs: () => log.join('\n'),
    async stop() {
      process.removeListener('exit', killOnExit);
      if (running.exitCode === null && running.signalCode === null) {
        const exited = once(running, 'exit');
        running.kill('SIGTERM');
        const timer = setTimeout(() => running.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls /-/ready; false if the process exits or the time runs out (then it is killed). */
async function waitForReady(url: string, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    try {
      const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      await response.text();
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  child.kill('SIGKILL');
  return false;
}
