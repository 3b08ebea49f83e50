/**
 * The environment a spec-chosen command (deploy command, deployed process) runs with. A spec author
 * picks the command, so everything in its environment is readable by the spec author: it gets only
 * what it needs, and worker secrets stay in the worker.
 */

/** Comma-separated names of further worker variables an operator lets through to commands. */
export const COMMAND_ENV_ALLOW = 'ROLLOUT_COMMAND_ENV_ALLOW';

/** Always passed: a command cannot find its tools or its config without them. */
const BASE = ['PATH', 'HOME'] as const;

/** Shorter values are not treated as secrets: they would redact ordinary words from output. */
const MIN_SECRET_LENGTH = 8;

function allowedNames(env: NodeJS.ProcessEnv): string[] {
  const listed = (env[COMMAND_ENV_ALLOW] ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
  return [...BASE, ...listed];
}

/**
 * PATH, HOME and the operator's allowed variables from the worker, then the spec's env, then what
 * the provider sets itself (ROLLOUT_*, HOST, PORT): later ones win. The worker's own ROLLOUT_*
 * variables are not passed: they configure the worker, and may name or hold its tokens.
 */
export function commandEnv(
  specEnv: Record<string, string>,
  own: Record<string, string>,
  workerEnv: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of allowedNames(workerEnv)) {
    const value = workerEnv[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...specEnv, ...own };
}

/**
 * Worker values the command was not given and that look like secrets (8 characters or more): if
 * they show up in its output anyway (read from /proc, a file, another process), they are redacted.
 */
export function withheldSecrets(
  childEnv: Record<string, string>,
  workerEnv: NodeJS.ProcessEnv = process.env,
): string[] {
  const given = new Set(Object.values(childEnv));
  const withheld = new Set<string>();
  for (const [name, value] of Object.entries(workerEnv)) {
    // The allow list holds names, not secrets; redacting it would hide allowed names in output.
    if (name === COMMAND_ENV_ALLOW || value === undefined) continue;
    if (value.length >= MIN_SECRET_LENGTH && !given.has(value)) withheld.add(value);
  }
  return [...withheld];
}
