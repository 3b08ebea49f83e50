import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../devserver/free-port';
import { type HaproxyTrafficConfig, trafficSchema } from '../../spec/traffic';

const BINARY = process.env.HAPROXY_BIN ?? '/usr/sbin/haproxy';

/** HAPROXY_BIN, else /usr/sbin/haproxy; throws with install instructions when there is none. */
export function findHaproxy(): string {
  try {
    accessSync(BINARY, constants.X_OK);
    return BINARY;
  } catch {
    throw new Error(
      `haproxy is required (haproxy tests, \`npm run demo -- --router haproxy\`) and was not found at ${BINARY}. ` +
        'Install it with `apt-get install -y haproxy` (Debian/Ubuntu), or set HAPROXY_BIN.',
    );
  }
}
const EXAMPLE = path.join(__dirname, '../../../docs/haproxy.cfg');
export const BACKEND = 'app';
export const MATCH_HEADER = 'x-canary';

export interface HaproxyHandle {
  /** The frontend's port and URL. */
  port: number;
  url: string;
  /** tcp://127.0.0.1:PORT */
  runtimeApi: string;
  /** The same Runtime API on a unix socket: unix:/tmp/.../admin.sock */
  unixRuntimeApi: string;
  versionsMap: string;
  matchMap: string;
  stateFile: string;
  /** The rendered haproxy.cfg. */
  configText: string;
  configFor(overrides?: Partial<HaproxyTrafficConfig>): HaproxyTrafficConfig;
  /** Kills HAProxy hard and starts it again with the same config and files, as a crash and restart would. */
  restart(): Promise<void>;
  /** Kills HAProxy without starting it again (restart() brings it back). */
  kill(): Promise<void>;
  /** HAProxy's last output lines, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

/**
 * A real HAProxy on loopback, configured by docs/haproxy.cfg with its machine-specific lines
 * replaced: free ports, a TCP stats socket, maps and state file in a temp dir, the given servers
 * (name → http://host:port). Testing the example keeps it working.
 */
export async function startHaproxy(servers: Record<string, string>): Promise<HaproxyHandle> {
  findHaproxy();
  const dir = mkdtempSync(path.join(tmpdir(), 'durable-rollouts-haproxy-'));
  const files = {
    versionsMap: path.join(dir, 'rollout-versions.map'),
    matchMap: path.join(dir, 'rollout-match.map'),
    stateFile: path.join(dir, 'server-state'),
    config: path.join(dir, 'haproxy.cfg'),
    unixSocket: path.join(dir, 'admin.sock'),
  };
  writeFileSync(files.versionsMap, '');
  writeFileSync(files.matchMap, '');
  const [port, apiPort] = [await freePort(), await freePort()];
  const configText = renderConfig(readFileSync(EXAMPLE, 'utf8'), { ...files, port, apiPort, servers });
  writeFileSync(files.config, configText);
  const runtimeApi = `tcp://127.0.0.1:${apiPort}`;

  const log: string[] = [];
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const started = spawn(BINARY, ['-db', '-f', files.config], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const remember = (chunk: Buffer): void => {
      log.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      if (log.length > 200) log.splice(0, log.length - 200);
    };
    started.stdout?.on('data', remember);
    started.stderr?.on('data', remember);
    child = started;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (started.exitCode !== null) break;
      if ((await runtimeCommand(runtimeApi, 'show info').catch(() => '')).includes('Pid:')) return;
      await sleep(25);
    }
    throw new Error(`haproxy did not start:\n${log.slice(-30).join('\n')}`);
  };
  const kill = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, 'exit');
    running.kill('SIGKILL');
    await exited;
  };
  const killOnExit = (): void => {
    child?.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  try {
    await launch();
  } catch (err) {
    await kill();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    runtimeApi,
    unixRuntimeApi: `unix:${files.unixSocket}`,
    versionsMap: files.versionsMap,
    matchMap: files.matchMap,
    stateFile: files.stateFile,
    configText,
    configFor(overrides = {}) {
      const config = trafficSchema.parse({
        provider: 'haproxy',
        runtimeApi,
        backend: BACKEND,
        versionsMap: files.versionsMap,
        matchMap: files.matchMap,
        matchHeader: MATCH_HEADER,
        stateFile: files.stateFile,
        timeout: 2000,
        ...overrides,
      });
      if (config.provider !== 'haproxy') throw new Error('not a haproxy config');
      return config;
    },
    async restart() {
      await kill();
      await launch();
    },
    kill,
    logs: () => log.join('\n'),
    async stop() {
      process.removeListener('exit', killOnExit);
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface RenderOptions {
  port: number;
  apiPort: number;
  unixSocket: string;
  versionsMap: string;
  matchMap: string;
  stateFile: string;
  servers: Record<string, string>;
}

/** The example with this machine's ports, files and servers; throws when a line to replace is gone. */
function renderConfig(example: string, o: RenderOptions): string {
  const replace = (text: string, from: string, to: string): string => {
    if (!text.includes(from)) throw new Error(`docs/haproxy.cfg no longer contains ${JSON.stringify(from)}`);
    return text.split(from).join(to);
  };
  let text = example;
  text = replace(
    text,
    'stats socket /run/haproxy/admin.sock mode 660 level admin',
    `stats socket ipv4@127.0.0.1:${o.apiPort} level admin\n    stats socket ${o.unixSocket} mode 600 level admin`,
  );
  text = replace(text, '/var/lib/haproxy/server-state', o.stateFile);
  text = replace(text, '/etc/haproxy/rollout-match.map', o.matchMap);
  text = replace(text, '/etc/haproxy/rollout-versions.map', o.versionsMap);
  text = replace(text, 'bind :80', `bind 127.0.0.1:${o.port}`);
  // Root in the foreground, logging to stderr: no syslog, no user switch, no daemon.
  for (const line of ['log /dev/log local0', 'user haproxy', 'group haproxy', 'daemon']) {
    text = replace(text, `    ${line}\n`, '');
  }
  // Short health-check intervals: a test sees a server come back within a fraction of a second.
  text = replace(
    text,
    'option httpchk GET /healthz',
    'option httpchk GET /healthz\n    default-server inter 200ms',
  );

  const names = Object.keys(o.servers);
  const lines = text.split('\n');
  const useServer = lines.findIndex((l) => l.trim().startsWith('use-server '));
  const server = lines.findIndex((l) => l.trim().startsWith('server '));
  if (useServer < 0 || server < 0) throw new Error('docs/haproxy.cfg has no use-server or server lines');
  const rendered = lines.map((line, i) => {
    if (i === useServer)
      return names.map((n) => `    use-server ${n} if { var(txn.rollout_match) -m str ${n} }`).join('\n');
    if (i === server)
      return names
        .map((n) => `    server ${n} ${new URL(o.servers[n] as string).host} cookie ${n} check`)
        .join('\n');
    return line;
  });
  return rendered
    .filter((line, i) => i === useServer || i === server || !/^\s*(use-server|server) /.test(line))
    .join('\n');
}

/** One Runtime API command on its own connection, independent from the adapter's client. */
export function runtimeCommand(runtimeApi: string, command: string, timeoutMs = 2000): Promise<string> {
  const url = new URL(runtimeApi);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`${command}: timed out`)));
    socket.on('connect', () => socket.write(`${command}\n`));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
  });
}

export interface ServerRow {
  /** 'maint' when any maintenance bit is set, else 'ready' or 'drain'. */
  admin: 'ready' | 'maint' | 'drain';
  weight: number;
}

/** The backend's servers as `show servers state` reports them, for invariant assertions. */
export async function readServers(runtimeApi: string, backend = BACKEND): Promise<Record<string, ServerRow>> {
  const [, header = '', ...rows] = (await runtimeCommand(runtimeApi, `show servers state ${backend}`))
    .trim()
    .split('\n');
  const names = header.replace(/^# /, '').split(' ');
  const servers: Record<string, ServerRow> = {};
  for (const row of rows) {
    const field = (name: string): string => row.split(' ')[names.indexOf(name)] ?? '';
    const admin = Number(field('srv_admin_state'));
    servers[field('srv_name')] = {
      admin: admin & 0x23 ? 'maint' : admin & 0x18 ? 'drain' : 'ready',
      weight: Number(field('srv_uweight')),
    };
  }
  return servers;
}

/** The entries of a map as HAProxy holds them: key → value. */
export async function readMap(runtimeApi: string, file: string): Promise<Record<string, string>> {
  const answer = (await runtimeCommand(runtimeApi, `show map ${file}`)).trim();
  return Object.fromEntries(
    answer
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' ').slice(1) as [string, string]),
  );
}
