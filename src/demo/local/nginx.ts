import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  accessSync,
  constants,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../devserver/free-port';
import { renderSplit } from '../../providers/nginx/render-split';
import type { DesiredSplit } from '../../providers/traffic/types';
import { type NginxTrafficConfig, routeName, trafficSchema } from '../../spec/traffic';

const INSTALL_HINT =
  'nginx is required (nginx tests, `npm run demo -- --router nginx`) and was not found. Install it with ' +
  '`apt-get install -y nginx` (Debian/Ubuntu; the binary is /usr/sbin/nginx), or set NGINX_BIN.';

/** NGINX_BIN, else /usr/sbin/nginx; throws with install instructions when there is none. */
export function findNginx(): string {
  const binary = process.env.NGINX_BIN ?? '/usr/sbin/nginx';
  try {
    accessSync(binary, constants.X_OK);
    return binary;
  } catch {
    throw new Error(INSTALL_HINT);
  }
}

export const VARIABLE = 'rollout_upstream';

export interface NginxOptions {
  /** Upstream name → base URL, e.g. { blue: 'http://127.0.0.1:4001' }. */
  upstreams: Record<string, string>;
  /** The include file nginx starts with; stable-only on the first upstream by default. */
  initial?: DesiredSplit;
}

export interface NginxHandle {
  port: number;
  url: string;
  prefix: string;
  includeFile: string;
  /** The provider config for this nginx; test and reload use its own prefix and config. */
  configFor(overrides?: Record<string, unknown>): NginxTrafficConfig;
  /** Runs `change` (a setSplit) and resolves once only workers started after it serve requests. */
  reloaded<T>(change: () => Promise<T>): Promise<T>;
  /** Kills nginx hard (master and workers) and starts it again from the files on disk. */
  restart(): Promise<void>;
  /** Kills nginx hard without starting it again (restart() brings it back). */
  kill(): Promise<void>;
  stop(): Promise<void>;
  logs(): string;
}

function nginxConf(
  dir: string,
  port: number,
  upstreams: Record<string, string>,
  includeFile: string,
): string {
  const blocks = Object.entries(upstreams).map(([name, url]) => {
    routeName.parse(name);
    const { host } = new URL(url);
    return `    upstream ${name} {\n        server ${host};\n        keepalive 16;\n        keepalive_timeout 4s;\n    }`;
  });
  const inDir = (name: string) => path.join(dir, name);
  return [
    // Workers run as nobody otherwise, who cannot write the temp dirs of a root-owned mkdtemp.
    ...(process.getuid?.() === 0 ? ['user root;'] : []),
    'daemon off;',
    'worker_processes 1;',
    `pid ${inDir('nginx.pid')};`,
    `error_log ${inDir('error.log')} warn;`,
    'events { worker_connections 512; }',
    'http {',
    `    access_log off;`,
    `    client_body_temp_path ${inDir('client_body')};`,
    `    proxy_temp_path ${inDir('proxy')};`,
    `    fastcgi_temp_path ${inDir('fastcgi')};`,
    `    uwsgi_temp_path ${inDir('uwsgi')};`,
    `    scgi_temp_path ${inDir('scgi')};`,
    ...blocks,
    `    include ${includeFile};`,
    '    server {',
    `        listen 127.0.0.1:${port};`,
    // Which split the running workers apply (the nginx provider's statusUrl).
    '        location = /__rollout/split {',
    `            return 200 $${VARIABLE}_split_id;`,
    '        }',
    '        location / {',
    `            proxy_pass http://$${VARIABLE};`,
    '            proxy_http_version 1.1;',
    '            proxy_set_header Connection "";',
    `            add_header x-rollout-upstream $${VARIABLE} always;`,
    '        }',
    '    }',
    '}',
    '',
  ].join('\n');
}

interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
  pgrp: number;
}

/** Every process in /proc: pid, state, parent and process group. */
function processes(): ProcStat[] {
  const list: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
      const [state = '', ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      list.push({ pid: Number(entry), state, ppid: Number(ppid), pgrp: Number(pgrp) });
    } catch {
      // gone meanwhile
    }
  }
  return list;
}

const childrenOf = (parent: number): number[] =>
  processes()
    .filter((p) => p.ppid === parent && p.state !== 'Z')
    .map((p) => p.pid);

/** A killed worker is a zombie until something reaps it, but it holds no socket any more. */
const groupAlive = (pgrp: number): boolean => processes().some((p) => p.pgrp === pgrp && p.state !== 'Z');

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A real nginx on a free loopback port, with its own prefix, pid, logs and temp dirs in a temp
 * dir; /etc/nginx and /var/log/nginx are never read or written.
 */
export async function startNginx(options: NginxOptions): Promise<NginxHandle> {
  const binary = findNginx();
  const names = Object.keys(options.upstreams);
  const first = names[0];
  if (first === undefined) throw new Error('startNginx needs at least one upstream');
  const dir = mkdtempSync(path.join(tmpdir(), 'durable-rollouts-nginx-'));
  const includeFile = path.join(dir, 'rollout', 'split.conf');
  const confFile = path.join(dir, 'nginx.conf');
  const errorLog = path.join(dir, 'error.log');
  const base = ['-p', `${dir}/`, '-c', confFile, '-e', errorLog];
  const initial = options.initial ?? {
    stable: { version: first, targets: [], routes: [first] },
    canary: null,
    canaryWeight: 0,
  };
  mkdirSync(path.dirname(includeFile));
  writeFileSync(
    includeFile,
    renderSplit(initial, { variable: VARIABLE, cohort: { cookie: 'rollout_user' } }),
  );

  const log: string[] = [];
  const remember = (chunk: Buffer): void => {
    log.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (log.length > 200) log.splice(0, log.length - 200);
  };
  let child: ChildProcess | undefined;
  let port = 0;

  const launch = async (): Promise<boolean> => {
    // Its own process group, so that a hard kill takes the workers with the master.
    const candidate = spawn(binary, base, { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    candidate.stdout?.on('data', remember);
    candidate.stderr?.on('data', remember);
    let exited = false;
    candidate.once('exit', () => (exited = true));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !exited) {
      if (await accepts(port)) {
        child = candidate;
        return true;
      }
      await sleep(20);
    }
    if (!exited) killGroup(candidate, 'SIGKILL');
    return false;
  };

  // A free port can be taken between asking and binding; try a few.
  for (let attempt = 1; attempt <= 3 && !child; attempt++) {
    port = await freePort();
    writeFileSync(confFile, nginxConf(dir, port, options.upstreams, includeFile));
    if (!(await launch()) && !log.some((line) => line.includes('Address already in use'))) break;
  }
  if (!child) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`nginx (${binary}) did not start:\n${log.slice(-30).join('\n')}`);
  }

  // nginx runs in its own process group: a crash of this process must not leave it serving.
  process.once('exit', () => {
    if (child) killGroup(child, 'SIGKILL');
  });
  const kill = async (signal: NodeJS.Signals): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, 'exit');
    killGroup(running, signal);
    await exited;
    // Orphaned workers of a killed master would hold the port; wait until the group is gone.
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && groupAlive(running.pid ?? -1)) await sleep(10);
  };

  const logs = (): string => {
    let errors = '';
    try {
      errors = readFileSync(errorLog, 'utf8').split('\n').slice(-30).join('\n');
    } catch {
      // not written yet
    }
    return [...log.slice(-30), errors].join('\n');
  };

  const url = `http://127.0.0.1:${port}`;
  return {
    port,
    url,
    prefix: dir,
    includeFile,
    configFor: (overrides = {}) => {
      const config = trafficSchema.parse({
        provider: 'nginx',
        includeFile,
        variable: VARIABLE,
        statusUrl: `${url}/__rollout/split`,
        test: [binary, '-t', '-q', ...base],
        reload: [binary, ...base, '-s', 'reload'],
        ...overrides,
      });
      if (config.provider !== 'nginx') throw new Error('not an nginx config');
      return config;
    },
    async reloaded(change) {
      const master = child?.pid;
      if (master === undefined) throw new Error('nginx is not running');
      const before = new Set(childrenOf(master));
      const result = await change();
      const deadline = Date.now() + 10_000;
      for (;;) {
        const now = childrenOf(master);
        if (now.length > 0 && now.every((pid) => !before.has(pid))) return result;
        if (Date.now() > deadline) throw new Error(`nginx did not replace its workers:\n${logs()}`);
        await sleep(5);
      }
    },
    async restart() {
      await kill('SIGKILL');
      if (!(await launch())) throw new Error(`nginx did not start again:\n${log.slice(-30).join('\n')}`);
    },
    kill: () => kill('SIGKILL'),
    async stop() {
      await kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    logs,
  };
}

function killGroup(process_: ChildProcess, signal: NodeJS.Signals): void {
  if (process_.pid === undefined) return;
  try {
    process.kill(-process_.pid, signal);
  } catch {
    // already gone
  }
}
