import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../src/devserver/free-port';
import { USER_COOKIE, VERSION, haproxyCfg, proxyNginxConf, upstreamNginxConf } from './router/configs';
import { cpuSeconds, findProgram, run, start, type Started, stopAll, waitForPort } from './router/processes';
import { summarizeProfile } from './router/profile-summary';

/**
 * bench:router — the same load through the embedded router (src/router), HAProxy and NGINX, each in
 * front of the same trivial upstream (NGINX `return 200`), with wrk as the load generator.
 *
 * CPU placement (2 cores here): the proxy under test gets CPU 0 to itself, and wrk and the upstream
 * share the others. Each proxy then runs on one core (HAProxy nbthread 1, NGINX one worker, the
 * router's single event loop), which is the fair comparison for a single-threaded Node process and
 * keeps the load generator from stealing the proxy's CPU. A "no proxy" row (wrk straight to the
 * upstream, on the same load CPUs) shows the harness's own ceiling: a proxy near it is not measured.
 * --no-pin lets the OS place everything and gives HAProxy and NGINX a thread/worker per core.
 */

const HELP = `usage: npm run bench:router -- [options]

Puts the same keep-alive load (wrk, one user cookie per connection) through the embedded router,
HAProxy and NGINX in front of one trivial upstream, and prints rps, p50 and p99 for each, and each
one's ratio to HAProxy. The last line of stdout is JSON: {"embedded":{rps,p50Ms,p99Ms},"haproxy":…,"nginx":…}.

options:
  --duration SECONDS     measured time per proxy (default 10)
  --warmup SECONDS       load before measuring, not counted (default 2)
  --connections N        concurrent keep-alive connections = users (default 50, at most 512)
  --only LIST            comma-separated subset of embedded,haproxy,nginx (the JSON has only those)
  --no-direct            skip the "no proxy" row (wrk straight to the upstream)
  --no-pin               do not pin: HAProxy and NGINX get a thread/worker per core
  --cpu-prof DIR         profile the embedded router (node --cpu-prof) into DIR and summarise it;
                         profiling slows it down, so its numbers are not comparable
  --help                 this text

Needs wrk, haproxy and nginx (bash scripts/install-system-deps.sh installs them).`;

type ProxyName = 'embedded' | 'haproxy' | 'nginx';
const PROXIES: ProxyName[] = ['embedded', 'haproxy', 'nginx'];

interface Options {
  durationS: number;
  warmupS: number;
  connections: number;
  only: ProxyName[];
  direct: boolean;
  pin: boolean;
  cpuProfDir: string | undefined;
}

function usageError(message: string): never {
  console.error(`bench:router: ${message}\n\n${HELP}`);
  process.exit(2);
}

function positive(name: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max)
    usageError(`--${name} must be a whole number from 1 to ${max}`);
  return n;
}

function readOptions(): Options {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        duration: { type: 'string' },
        warmup: { type: 'string' },
        connections: { type: 'string' },
        only: { type: 'string' },
        'no-direct': { type: 'boolean' },
        'no-pin': { type: 'boolean' },
        'cpu-prof': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    usageError((err as Error).message);
  }
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const only = (values.only ?? PROXIES.join(',')).split(',').map((s) => s.trim());
  for (const name of only) {
    if (!PROXIES.includes(name as ProxyName)) usageError(`--only: unknown proxy "${name}"`);
  }
  return {
    durationS: positive('duration', values.duration, 10, 600),
    warmupS: values.warmup === '0' ? 0 : positive('warmup', values.warmup, 2, 600),
    connections: positive('connections', values.connections, 50, 512),
    only: PROXIES.filter((p) => only.includes(p)),
    direct: !values['no-direct'],
    pin: !values['no-pin'],
    cpuProfDir: values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']),
  };
}

interface WrkResult {
  requests: number;
  durationUs: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latencyUs: { p50: number; p90: number; p99: number; max: number; mean: number };
}

interface Measured {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** The proxy's own CPU time (user + system, all its threads and workers) per request. */
  cpuUsPerRequest?: number;
}

interface Placement {
  /** CPUs for the proxy under test, and for wrk plus the upstream; undefined: not pinned. */
  proxyCpus?: string;
  loadCpus?: string;
  /** HAProxy threads and NGINX workers. */
  proxyThreads: number;
}

function placement(pin: boolean): Placement {
  const cores = availableParallelism();
  if (!pin || cores < 2 || findProgram('taskset') === undefined) {
    return { proxyThreads: cores };
  }
  return { proxyCpus: '0', loadCpus: cores === 2 ? '1' : `1-${cores - 1}`, proxyThreads: 1 };
}

const LUA = join(__dirname, 'router', 'wrk-users.lua');

async function runWrk(
  wrk: string,
  port: number,
  seconds: number,
  opts: Options,
  where: Placement,
): Promise<WrkResult> {
  // One thread per connection: each thread's static request carries its own user's cookie.
  const argv = [wrk, '-t', String(opts.connections), '-c', String(opts.connections), '-d', `${seconds}s`];
  argv.push('--timeout', '10s', '-s', LUA, `http://127.0.0.1:${port}/`);
  const out = await run(argv, { cpus: where.loadCpus, env: { ...process.env, BENCH_COOKIE: USER_COOKIE } });
  const line = out.split('\n').find((l) => l.startsWith('WRK_RESULT '));
  if (line === undefined) throw new Error(`wrk printed no result:\n${out}`);
  return JSON.parse(line.slice('WRK_RESULT '.length)) as WrkResult;
}

function measured(result: WrkResult): Measured {
  const e = result.errors;
  return {
    rps: result.requests / (result.durationUs / 1e6),
    p50Ms: result.latencyUs.p50 / 1000,
    p99Ms: result.latencyUs.p99 / 1000,
    errors: e.connect + e.read + e.write + e.status + e.timeout,
  };
}

/** One request as a user would send it: checks the answer is the upstream's, through the proxy. */
function checkOnce(port: number, expectVersionHeader: boolean): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/', headers: { cookie: `${USER_COOKIE}=bench-check` } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          const version = res.headers['x-rollout-version'];
          if (res.statusCode !== 200 || body !== 'ok\n') {
            reject(
              new Error(
                `expected 200 "ok" through port ${port}, got ${res.statusCode} ${JSON.stringify(body)}`,
              ),
            );
          } else if (expectVersionHeader && version !== VERSION) {
            reject(
              new Error(
                `expected x-rollout-version: ${VERSION} through port ${port}, got ${String(version)}`,
              ),
            );
          } else if (res.headers['set-cookie'] !== undefined) {
            reject(new Error(`a user with a valid cookie was given a new one through port ${port}`));
          } else {
            resolvePromise();
          }
        });
      },
    );
    req.once('error', reject);
    req.end();
  });
}

interface Running {
  port: number;
  proc: Started;
  /** Anything to say after the run (e.g. the router's own request count). */
  after?: () => Promise<string | undefined>;
}

async function startEmbedded(
  dir: string,
  upstreamPort: number,
  opts: Options,
  where: Placement,
): Promise<Running> {
  const port = await freePort();
  const adminPort = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Loopback admin API without a token; a token or extra host names from the caller's shell would get in the way.
  delete env.ROUTER_ADMIN_TOKEN;
  delete env.ROUTER_ADMIN_HOSTS;
  const nodeArgs = ['--import', 'tsx'];
  if (opts.cpuProfDir !== undefined) mkdirSync(opts.cpuProfDir, { recursive: true });
  if (opts.cpuProfDir !== undefined) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`);
  const main = join(__dirname, '..', 'src', 'router', 'main.ts');
  const argv = [
    process.execPath,
    ...nodeArgs,
    main,
    '--port',
    String(port),
    '--admin-port',
    String(adminPort),
  ];
  const proc = start('embedded router', argv, {
    cpus: where.proxyCpus,
    cwd: join(__dirname, '..'),
    logPath: join(dir, 'embedded.log'),
    env,
  });
  await waitForPort(adminPort, proc);
  await waitForPort(port, proc);
  const admin = `http://127.0.0.1:${adminPort}`;
  const put = await fetch(`${admin}/admin/split`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      stable: { version: VERSION, targets: [`http://127.0.0.1:${upstreamPort}`] },
      canary: null,
      canaryWeight: 0,
    }),
  });
  if (!put.ok) throw new Error(`PUT /admin/split answered ${put.status}: ${await put.text()}`);
  const reset = async (): Promise<void> => {
    await fetch(`${admin}/admin/reset-stats`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
  };
  return {
    port,
    proc,
    after: async () => {
      const answer = await fetch(`${admin}/admin/stats`);
      const stats = (answer.ok ? await answer.json() : {}) as {
        versions?: Record<string, { requests: number; errors: number }>;
      };
      await reset();
      if (stats.versions === undefined) return `router stats unavailable (${answer.status})`;
      const v = stats.versions[VERSION];
      return v === undefined
        ? 'router counted no requests'
        : `router counted ${v.requests} requests, ${v.errors} errors`;
    },
  };
}

async function startHaproxy(dir: string, upstreamPort: number, where: Placement): Promise<Running> {
  const haproxy = findProgram('haproxy')!;
  const port = await freePort();
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, haproxyCfg(port, upstreamPort, where.proxyThreads));
  await run([haproxy, '-c', '-q', '-f', cfg]);
  // -db: stay in the foreground, so the bench owns the process and stops it by its pid.
  const proc = start('haproxy', [haproxy, '-db', '-f', cfg], {
    cpus: where.proxyCpus,
    logPath: join(dir, 'haproxy.log'),
  });
  await waitForPort(port, proc);
  return { port, proc };
}

async function startNginx(
  dir: string,
  name: string,
  conf: (port: number) => string,
  cpus: string | undefined,
): Promise<Running> {
  const nginx = findProgram('nginx')!;
  const port = await freePort();
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, conf(port));
  // -p: every relative path (pid, logs, temp dirs) stays in the bench's temp dir; -e: so does the
  // error log nginx opens before reading the config.
  const argv = [nginx, '-p', dir, '-e', join(dir, `${name}.startup.log`), '-c', file];
  await run([...argv, '-t', '-q']);
  const proc = start(`nginx (${name})`, argv, { cpus, logPath: join(dir, `${name}.log`) });
  await waitForPort(port, proc);
  return { port, proc };
}

const fmt = (n: number, digits: number): string => n.toFixed(digits);

/** `compare: false` rows (the no-proxy ceiling) get no ratios: they are not a proxy. */
function table(rows: { name: string; m: Measured; compare: boolean }[], base: Measured | undefined): string {
  const header = [
    'proxy',
    'rps',
    'p50 ms',
    'p99 ms',
    'rps / haproxy',
    'p99 / haproxy',
    'cpu us/req',
    'errors',
  ];
  const body = rows.map(({ name, m, compare }) => [
    name,
    fmt(m.rps, 0),
    fmt(m.p50Ms, 3),
    fmt(m.p99Ms, 3),
    base === undefined || !compare ? '-' : `${fmt(m.rps / base.rps, 2)}x`,
    base === undefined || !compare ? '-' : `${fmt(m.p99Ms / base.p99Ms, 2)}x`,
    m.cpuUsPerRequest === undefined ? '-' : fmt(m.cpuUsPerRequest, 1),
    String(m.errors),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const opts = readOptions();
  const startedAt = Date.now();
  const missing = ['wrk', 'haproxy', 'nginx'].filter((p) => findProgram(p) === undefined);
  if (missing.length > 0) {
    console.error(`bench:router: missing ${missing.join(', ')}; run: bash scripts/install-system-deps.sh`);
    process.exit(1);
  }
  const wrk = findProgram('wrk')!;
  const where = placement(opts.pin);
  const dir = mkdtempSync(join(tmpdir(), 'bench-router-'));
  // NGINX workers run as nobody when started by root; they only need to traverse the directory.
  chmodSync(dir, 0o755);

  const cleanup = async (): Promise<void> => {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  process.once('SIGTERM', () => void cleanup().then(() => process.exit(143)));

  const cores = availableParallelism();
  console.log(
    `bench:router: ${opts.connections} keep-alive connections (one user cookie each), ` +
      `${opts.warmupS} s warm-up + ${opts.durationS} s measured per proxy, ${cores} cores; ` +
      (where.proxyCpus === undefined
        ? `not pinned, HAProxy/NGINX with ${where.proxyThreads} threads/workers`
        : `proxy pinned to CPU ${where.proxyCpus} (HAProxy nbthread 1, NGINX 1 worker, router 1 event loop), ` +
          `wrk (${opts.connections} threads) + upstream on CPU ${where.loadCpus}`),
  );

  const results: Partial<Record<ProxyName | 'direct', Measured>> = {};
  try {
    // The upstream gets its own worker per load CPU at most: it shares them with wrk.
    const upstream = await startNginx(dir, 'upstream', (p) => upstreamNginxConf(p, 1), where.loadCpus);
    await checkOnce(upstream.port, false);

    const measure = async (name: ProxyName | 'direct', running: Running): Promise<void> => {
      await checkOnce(running.port, name !== 'direct');
      if (opts.warmupS > 0) await runWrk(wrk, running.port, opts.warmupS, opts, where);
      await running.after?.(); // resets the router's counters after the warm-up
      const pid = running.proc.child.pid;
      const cpuBefore = pid === undefined ? undefined : cpuSeconds(pid);
      const result = await runWrk(wrk, running.port, opts.durationS, opts, where);
      const cpuAfter = pid === undefined ? undefined : cpuSeconds(pid);
      const m = measured(result);
      if (cpuBefore !== undefined && cpuAfter !== undefined && result.requests > 0) {
        m.cpuUsPerRequest = ((cpuAfter - cpuBefore) * 1e6) / result.requests;
      }
      results[name] = m;
      const note = (await running.after?.()) ?? '';
      console.log(
        `  ${name.padEnd(8)} ${fmt(m.rps, 0).padStart(7)} rps  p50 ${fmt(m.p50Ms, 3)} ms  p99 ${fmt(m.p99Ms, 3)} ms` +
          `  ${m.cpuUsPerRequest === undefined ? '' : `cpu ${fmt(m.cpuUsPerRequest, 1)} us/req  `}` +
          `errors ${m.errors}${note ? `  (${note})` : ''}`,
      );
    };

    if (opts.direct) await measure('direct', { port: upstream.port, proc: upstream.proc });
    for (const name of opts.only) {
      const running =
        name === 'embedded'
          ? await startEmbedded(dir, upstream.port, opts, where)
          : name === 'haproxy'
            ? await startHaproxy(dir, upstream.port, where)
            : await startNginx(
                dir,
                'proxy',
                (p) => proxyNginxConf(p, upstream.port, where.proxyThreads),
                where.proxyCpus,
              );
      try {
        await measure(name, running);
      } finally {
        await running.proc.stop();
      }
    }
    await upstream.proc.stop();

    const rows = [
      // Its CPU column is the upstream's, which no proxy's row includes.
      ...(results.direct ? [{ name: 'no proxy (wrk -> upstream)', m: results.direct, compare: false }] : []),
      ...opts.only.map((name) => ({ name, m: results[name]!, compare: true })),
    ];
    console.log('');
    console.log(table(rows, results.haproxy));
    const e = results.embedded;
    const h = results.haproxy;
    if (e && h) {
      const rpsRatio = e.rps / h.rps;
      const p99Ratio = e.p99Ms / h.p99Ms;
      console.log(
        `\nembedded vs haproxy: ${fmt(rpsRatio, 2)}x throughput (goal >= 0.5x: ${rpsRatio >= 0.5 ? 'met' : 'NOT met'}), ` +
          `${fmt(p99Ratio, 2)}x p99 (goal <= 2x: ${p99Ratio <= 2 ? 'met' : 'NOT met'})`,
      );
    }
    if (results.direct && h && h.rps > 0.8 * results.direct.rps) {
      console.log(
        'warning: haproxy is within 20% of the no-proxy ceiling; the harness may be what limits it',
      );
    }
    if (opts.cpuProfDir !== undefined && opts.only.includes('embedded')) {
      console.log('\n(profiled: the embedded numbers above include the profiler overhead)');
      // Node writes one profile per thread (tsx's loader runs in a worker); the main thread's, which
      // serves the requests, is the largest of those this run wrote.
      const profiles = readdirSync(opts.cpuProfDir)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(opts.cpuProfDir!, f))
        .filter((f) => statSync(f).mtimeMs >= startedAt)
        .sort((a, b) => statSync(b).size - statSync(a).size);
      if (profiles[0] === undefined) console.log(`no profile was written to ${opts.cpuProfDir}`);
      else console.log(summarizeProfile(profiles[0]));
    }
  } catch (err) {
    console.error(`bench:router: ${(err as Error).message}`);
    await cleanup();
    process.exit(1);
  }
  await cleanup();

  const json: Record<string, { rps: number; p50Ms: number; p99Ms: number }> = {};
  for (const name of opts.only) {
    const m = results[name]!;
    json[name] = { rps: Math.round(m.rps), p50Ms: round3(m.p50Ms), p99Ms: round3(m.p99Ms) };
  }
  console.log(JSON.stringify(json));
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

void main();
