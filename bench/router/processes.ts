import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';

/** Where Debian keeps haproxy and nginx; a non-login root shell may not have it on PATH. */
const EXTRA_PATH = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The absolute path of a program, looked up on PATH plus the sbin directories, or undefined. */
export function findProgram(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...EXTRA_PATH];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export interface Started {
  name: string;
  child: ChildProcess;
  logPath: string;
  /** Stops the process (SIGTERM, then SIGKILL after a grace period) and waits for it to exit. */
  stop(): Promise<void>;
  /** The log's last lines, for error messages. */
  tail(): string;
}

const running = new Set<Started>();

/**
 * Runs `argv`, optionally pinned to `cpus` with taskset, with stdout and stderr going to `logPath`.
 * Every process started here is stopped by stopAll, which the bench runs on exit and on Ctrl-C.
 */
export function start(
  name: string,
  argv: string[],
  opts: { cpus?: string; cwd?: string; logPath: string; env?: NodeJS.ProcessEnv },
): Started {
  const [command, ...args] = opts.cpus === undefined ? argv : ['taskset', '-c', opts.cpus, ...argv];
  const log = createWriteStream(opts.logPath);
  const child = spawn(command as string, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const handle: Started = {
    name,
    child,
    logPath: opts.logPath,
    stop: async () => {
      running.delete(handle);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      log.end();
    },
    tail: () => {
      try {
        return readFileSync(opts.logPath, 'utf8').split('\n').slice(-15).join('\n');
      } catch {
        return '';
      }
    },
  };
  running.add(handle);
  return handle;
}

export async function stopAll(): Promise<void> {
  await Promise.allSettled([...running].map((p) => p.stop()));
}

/** Resolves once 127.0.0.1:port accepts a connection; rejects if `proc` exits first or on timeout. */
export async function waitForPort(port: number, proc: Started, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`${proc.name} exited before listening on ${port}:\n${proc.tail()}`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${proc.name} did not listen on ${port}:\n${proc.tail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs a program to completion and returns its stdout; rejects on a non-zero exit. */
export function run(argv: string[], opts: { cpus?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const [command, ...args] = opts.cpus === undefined ? argv : ['taskset', '-c', opts.cpus, ...argv];
  return new Promise((resolve, reject) => {
    const child = spawn(command as string, args, {
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${argv.join(' ')} exited with ${code ?? signal}:\n${err || out}`));
    });
  });
}

/**
 * CPU seconds (user + system) used so far by `pid` and its live descendants (NGINX's workers), from
 * /proc; undefined where there is no /proc. Taken before and after a run, it gives the proxy's CPU
 * cost per request, which other load on the machine disturbs far less than its throughput.
 */
export function cpuSeconds(pid: number): number | undefined {
  const ticksPerSecond = 100; // USER_HZ, fixed at 100 on Linux whatever the kernel's HZ
  const stats = new Map<number, { ppid: number; ticks: number }>();
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  for (const name of entries) {
    let text: string;
    try {
      text = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // The command name (field 2) is in parentheses and may hold spaces; fields after it are plain.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    stats.set(Number(name), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
  }
  if (!stats.has(pid)) return undefined;
  let ticks = 0;
  const pending = [pid];
  while (pending.length > 0) {
    const current = pending.pop()!;
    ticks += stats.get(current)?.ticks ?? 0;
    for (const [child, s] of stats) if (s.ppid === current) pending.push(child);
  }
  return ticks / ticksPerSecond;
}
