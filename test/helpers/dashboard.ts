import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import { resolve } from 'node:path';

const CLI = resolve(__dirname, '..', '..', 'bin', 'rollout.js');

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface HttpAsk {
  method?: string;
  /** Sent as given, Host included: fetch would not let a test pick its own Host. */
  headers?: Record<string, string>;
  body?: string;
  /** Sent as written, instead of the URL's path: encoded or absolute-form request targets. */
  path?: string;
}

/** One plain HTTP request, answered in full. */
export function httpRequest(url: string, ask: HttpAsk = {}): Promise<HttpAnswer> {
  return new Promise((done, reject) => {
    const request = http.request(
      url,
      { method: ask.method ?? 'GET', headers: ask.headers, ...(ask.path ? { path: ask.path } : {}) },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => done({ status: response.statusCode ?? 0, headers: response.headers, body }));
      },
    );
    request.once('error', reject);
    request.end(ask.body);
  });
}

export interface DashboardProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** Ctrl-C, as a person would stop it; its exit code, or null if it had to be killed after 10 s. */
  interrupt(): Promise<number | null>;
}

/**
 * Runs `rollout dashboard --port 0` as a user would and waits for the URL it prints. `env` adds to
 * (or, with undefined, removes from) this process's environment.
 */
export function startDashboardCli(
  args: string[],
  env: Record<string, string | undefined>,
  timeoutMs = 30_000,
): Promise<DashboardProcess> {
  const merged: NodeJS.ProcessEnv = { ...process.env };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete merged[name];
    else merged[name] = value;
  }
  const child = spawn(process.execPath, [CLI, 'dashboard', '--port', '0', ...args], {
    env: merged,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((done, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the dashboard printed no URL in ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /^dashboard: (http:\/\/\S+?)\/? /m.exec(output)?.[1];
      if (url === undefined) return;
      clearTimeout(timer);
      done({
        url,
        child,
        output: () => output,
        interrupt: async () => {
          if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
          child.kill('SIGINT');
          const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          const code = await exited;
          clearTimeout(killer);
          return code;
        },
      });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the dashboard exited (${code}) before printing its URL:\n${output}`));
    });
  });
}
