import type { RolloutAlert } from './alert';

/** The CLI lines that release a held rollout; `resume` for a hold, `promote` at a manual switch gate. */
export type HeldCommands = { resume: string; abort: string } | { promote: string; abort: string };

/** How the CLI reads its id argument (client/rollouts.ts toWorkflowId). */
const cliTarget = (id: string): string => (id.startsWith('rollout-') ? id : `rollout-${id}`);

/**
 * The id to type: the service when the CLI turns it into this workflow's id, else the workflow id
 * itself. A service named `rollout-x` is not prefixed by the CLI, so its workflow needs the full id.
 */
function cliId(service: string, workflowId: string): string {
  const id = [service, workflowId].find((candidate) => cliTarget(candidate) === workflowId) ?? service;
  // Service names are [a-z0-9-]; a workflow id started by other tooling may not be, and the line is
  // meant to be pasted into a shell.
  return /^[A-Za-z0-9._-]+$/.test(id) ? id : `'${id.replace(/'/g, `'\\''`)}'`;
}

/**
 * What a human runs to let a held rollout go on, or to roll it back. A blue-green manual gate waits
 * for promote, which resume would not release.
 */
export function heldCommands({ service, workflowId, context }: RolloutAlert): HeldCommands {
  const id = cliId(service, workflowId);
  const abort = `rollout abort ${id} --reason "..."`;
  return context?.phase === 'awaiting-promotion'
    ? { promote: `rollout promote ${id}`, abort }
    : { resume: `rollout resume ${id}`, abort };
}
