import { spawn } from 'node:child_process';
import { commandEnv, withheldSecrets } from './child-env';
import { ConfigurationError, TransientError } from './errors';
import { OutputTail } from './output-tail';
import { secretForms } from './redact';

/** Exit status a spec-chosen command uses to say "retrying will not help" (bad input, unknown name). */
export const EXIT_PERMANENT_FAILURE = 2;

/** The command was killed (by the timeout, or another signal): it may pass on a retry. */
export class CommandKilledError extends TransientError {
  override name = 'CommandKilledError';
}

export interface ArgvRun {
  /** [executable, ...args]: run without a shell, so nothing in an argument is shell syntax. */
  argv: readonly string[];
  /** Written to the child's stdin, which is then closed. */
  stdin?: string;
  env?: Record<string, string>;
  timeoutMs: number;
  /** Largest stdout kept whole (a JSON answer); more is an error. */
  maxStdout?: number;
}

export interface ArgvResult {
  stdout: string;
  /** Redacted tail of stdout and stderr together, for messages that reach history. */
  output: string;
}

const OUTPUT_KEPT = 2000;

/**
 * Runs a command given as an argument array, with the minimal command environment. Exit 0
 * resolves; exit 2 is a ConfigurationError (do not retry); any other exit, a signal or the timeout
 * is a TransientError. Errors quote the redacted output tail.
 */
export function runArgv({
  argv,
  stdin,
  env = {},
  timeoutMs,
  maxStdout = 1024 * 1024,
}: ArgvRun): Promise<ArgvResult> {
  const [command, ...args] = argv;
  if (command === undefined) return Promise.reject(new ConfigurationError('empty command'));
  const childEnv = commandEnv(env, {});
  const tail = new OutputTail(OUTPUT_KEPT, withheldSecrets(childEnv).flatMap(secretForms));
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { shell: false, stdio: ['pipe', 'pipe', 'pipe'], env: childEnv });
    let stdout = '';
    let overflow = false;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      tail.push(chunk);
      if (stdout.length + chunk.length > maxStdout) overflow = true;
      else stdout += chunk;
    });
    child.stderr.on('data', (chunk: string) => tail.push(chunk));
    // A command that exits without reading its input closes the pipe: not an error of ours.
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const name = command.split('/').pop() ?? command;
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new ConfigurationError(`cannot run ${name}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const output = tail.text().trim();
      const quoted = output ? `: ${output.slice(-500)}` : '';
      if (code === 0 && !overflow) resolve({ stdout, output });
      else if (code === 0) reject(new ConfigurationError(`${name} printed more than ${maxStdout} bytes`));
      else if (signal) {
        const after = signal === 'SIGKILL' ? ` after ${timeoutMs}ms` : '';
        reject(new CommandKilledError(`${name} killed by ${signal}${after}${quoted}`));
      } else if (code === EXIT_PERMANENT_FAILURE) {
        reject(new ConfigurationError(`${name} refused (exit ${code})${quoted}`));
      } else reject(new TransientError(`${name} failed (exit ${code})${quoted}`));
    });
  });
}
