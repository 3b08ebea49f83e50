import type { Client } from '@temporalio/client';
import type { RolloutState } from '../workflows/state';
import { readState } from './rollouts';

/** Polls the state query until the rollout ends, calling onChange whenever it moved. */
export async function watchRollout(
  client: Client,
  id: string,
  onChange: (state: RolloutState) => void,
  intervalMs = 1000,
): Promise<RolloutState> {
  let lastUpdate = '';
  for (;;) {
    const state = await readState(client, id);
    if (state.updatedAt !== lastUpdate) {
      lastUpdate = state.updatedAt;
      onChange(state);
    }
    if (state.outcome) return state;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
