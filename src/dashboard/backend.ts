import type { Client } from '@temporalio/client';
import {
  abortRollout,
  listRollouts,
  pauseRollout,
  promoteRollout,
  readState,
  resumeRollout,
  type RolloutSummary,
  toWorkflowId,
} from '../client/rollouts';
import type { RolloutState } from '../workflows/state';
import { listRow, type ListRow, type RolloutDetail } from './views';

export type ControlAction = 'pause' | 'resume' | 'promote' | 'abort';

/** What the dashboard asks of Temporal; the server knows nothing else of it. */
export interface RolloutBackend {
  namespace: string;
  list(): Promise<ListRow[]>;
  rollout(idOrService: string): Promise<RolloutDetail>;
  signal(idOrService: string, action: ControlAction, reason: string | undefined): Promise<void>;
}

/** A signal to a run that has ended: Temporal would refuse it anyway, but not with a type of its own. */
export class RolloutEndedError extends Error {
  override name = 'RolloutEndedError';
}

export interface TemporalBackendOptions {
  /** How many rollouts the list shows, newest first. */
  limit?: number;
  /** A query waits for a worker: without one it would hang the page's request. */
  queryTimeoutMs?: number;
}

const SEND: Record<ControlAction, (client: Client, id: string, reason: string | undefined) => Promise<void>> =
  {
    pause: (client, id, reason) => pauseRollout(client, id, reason),
    resume: (client, id) => resumeRollout(client, id),
    promote: (client, id) => promoteRollout(client, id),
    // The API refuses an abort without a reason before it gets here.
    abort: (client, id, reason) => abortRollout(client, id, reason ?? ''),
  };

/** A closed run never changes again, so each one's state is read once; this many are remembered. */
const CLOSED_STATES_KEPT = 500;

/**
 * One row per rollout: visibility lists every run (a continue-as-new, a second rollout of the same
 * service), newest first, and readState reads the newest run of a workflow id.
 */
function newestRunEach(summaries: RolloutSummary[]): RolloutSummary[] {
  const seen = new Set<string>();
  return summaries.filter((summary) => !seen.has(summary.workflowId) && seen.add(summary.workflowId));
}

export function temporalBackend(client: Client, options: TemporalBackendOptions = {}): RolloutBackend {
  const limit = options.limit ?? 50;
  const timeoutMs = options.queryTimeoutMs ?? 5000;
  const closedStates = new Map<string, Promise<RolloutState>>();
  const withDeadline = <T>(fn: () => Promise<T>): Promise<T> =>
    client.withDeadline(Date.now() + timeoutMs, fn);

  const stateOf = (summary: RolloutSummary): Promise<RolloutState> => {
    const read = () => withDeadline(() => readState(client, summary.workflowId));
    if (summary.status === 'RUNNING') return read();
    let state = closedStates.get(summary.runId);
    if (!state) {
      state = read();
      closedStates.set(summary.runId, state);
      // A failed read is not remembered: the next refresh tries again.
      state.catch(() => closedStates.delete(summary.runId));
      if (closedStates.size > CLOSED_STATES_KEPT) closedStates.delete(closedStates.keys().next().value!);
    }
    return state;
  };

  return {
    namespace: client.options.namespace,
    async list() {
      const summaries = newestRunEach(await withDeadline(() => listRollouts(client, limit)));
      return Promise.all(
        summaries.map(async (summary) =>
          listRow(
            summary,
            await stateOf(summary).catch((err: unknown) =>
              err instanceof Error ? err : new Error(String(err)),
            ),
          ),
        ),
      );
    },
    async rollout(idOrService) {
      const handle = client.workflow.getHandle(toWorkflowId(idOrService));
      const description = await withDeadline(() => handle.describe());
      const state = await withDeadline(() => readState(client, description.workflowId));
      return {
        workflowId: description.workflowId,
        runId: description.runId,
        status: description.status.name,
        state,
      };
    },
    async signal(idOrService, action, reason) {
      const workflowId = toWorkflowId(idOrService);
      const description = await withDeadline(() => client.workflow.getHandle(workflowId).describe());
      if (description.status.name !== 'RUNNING') {
        throw new RolloutEndedError(`${workflowId} has ended (${description.status.name})`);
      }
      await withDeadline(() => SEND[action](client, workflowId, reason));
    },
  };
}
