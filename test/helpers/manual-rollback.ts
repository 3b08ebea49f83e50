import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The by-hand rollback commands of docs/runbook.md, as argument arrays. The runbook prints them
 * with its example names (backend app, servers blue/green, versions v1/v2); the tests run them
 * with the same names against real programs, and check that the runbook still prints each
 * snippet verbatim, so the two cannot drift apart.
 */

export const ROOT = path.resolve(__dirname, '..', '..');
export const RUNBOOK = path.join(ROOT, 'docs', 'runbook.md');

export function runbookText(): string {
  return readFileSync(RUNBOOK, 'utf8');
}

/** The jq filter that turns `GET /admin/split` into the rollback body (stable alone, at 100%). */
export const JQ_STABLE_ONLY = '{stable: .stable, canary: null, canaryWeight: 0}';

/** After a blue-green switch the environment that was live sits in the canary slot at 0%: put it back. */
export const JQ_SWITCH_BACK = '{stable: .canary, canary: null, canaryWeight: 0}';

/** `hapi` in the runbook: one Runtime API line over HAProxy's unix socket, with perl-base only. */
export const HAPI_PERL =
  '$s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "$ARGV[0]: $!\\n"; print $s "$ARGV[1]\\n"; print while <$s>';

/** The runbook's HAProxy rollback line: stable up at full weight first, then the canary to maint. */
export const HAPROXY_ROLLBACK_LINE =
  'set weight app/blue 256; set server app/blue state ready; set server app/green state maint';

/** The runbook's check line. */
export const HAPROXY_SHOW_LINE = 'show servers state app';

/** The runbook's fallback include file for nginx, written by hand when the repo is not at hand. */
export const NGINX_HAND_FILE = [
  '# Rolled back by hand: every request to blue. The next rollout step rewrites this file.',
  'map $host $rollout_upstream_split_id { default "rolledback00"; }',
  'map $host $rollout_upstream { default blue; }',
  '',
].join('\n');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one program from an argument array (never a shell), optionally feeding stdin. */
export function run(
  argv: readonly string[],
  options: { stdin?: string; cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Run> {
  const [command, ...args] = argv;
  if (command === undefined) throw new Error('empty argv');
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? ROOT,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? '');
  });
}

/** `a | b | …` as the shell would run it: each program's stdout is the next one's stdin. */
export async function pipeline(argvs: readonly (readonly string[])[]): Promise<Run> {
  let input = '';
  let last: Run = { code: 0, stdout: '', stderr: '' };
  for (const argv of argvs) {
    last = await run(argv, { stdin: input });
    if (last.code !== 0) return last;
    input = last.stdout;
  }
  return last;
}

/**
 * The runbook's one-liner: `curl GET /admin/split | jq -c FILTER | curl PUT --data @-`.
 * `auth` is `['-H', 'authorization: Bearer …']` for a router with ROUTER_ADMIN_TOKEN, else empty.
 */
export function jqRollback(adminUrl: string, filter: string, auth: string[] = []): Promise<Run> {
  const url = `${adminUrl}/admin/split`;
  return pipeline([
    ['curl', '-sS', '--fail-with-body', ...auth, url],
    ['jq', '-c', filter],
    [
      'curl',
      '-sS',
      '--fail-with-body',
      '-X',
      'PUT',
      url,
      '-H',
      'content-type: application/json',
      ...auth,
      '--data',
      '@-',
    ],
  ]);
}

/** Runs and insists on exit 0, with the output in the failure message. */
export async function runOk(
  argv: readonly string[],
  options: Parameters<typeof run>[1] = {},
): Promise<string> {
  const result = await run(argv, options);
  if (result.code !== 0) {
    throw new Error(`${argv[0]} exited ${result.code}:\n${result.stderr}\n${result.stdout}`);
  }
  return result.stdout;
}

/** The runbook's `hapi '<line>'`: perl is in perl-base, which every Debian system has. */
export const hapiArgv = (socket: string, line: string): string[] => [
  'perl',
  '-MIO::Socket::UNIX',
  '-e',
  HAPI_PERL,
  socket,
  line,
];

/** Counts which body answered each request. */
export function tally(bodies: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const body of bodies) counts[body] = (counts[body] ?? 0) + 1;
  return counts;
}
