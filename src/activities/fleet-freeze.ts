import { status } from '@grpc/grpc-js';
import { Context } from '@temporalio/activity';
import { isGrpcServiceError, WorkflowNotFoundError } from '@temporalio/client';
import {
  activeFreeze,
  FLEET_FREEZE_QUERY,
  FLEET_FREEZE_WORKFLOW_ID,
  type FleetFreeze,
} from '../schedule/fleet-freeze';

export function createFleetFreezeActivities() {
  return {
    /**
     * The fleet-wide freeze in force, or null. Never frozen (no such workflow) and a freeze workflow
     * that has ended (terminated by hand, say) both mean no freeze: a freeze that nobody can lift
     * would hold every rollout forever. Any other error (Temporal down) throws, so it is retried.
     */
    async readFleetFreeze(): Promise<FleetFreeze | null> {
      const handle = Context.current().client.workflow.getHandle(FLEET_FREEZE_WORKFLOW_ID);
      try {
        const description = await handle.describe();
        if (description.status.name !== 'RUNNING') return null;
        const freeze = await handle.query<FleetFreeze | null>(FLEET_FREEZE_QUERY);
        // The workflow drops an expired freeze only when it wakes; by the activity's clock it is gone.
        return activeFreeze(freeze, Date.now());
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return null;
        if (isGrpcServiceError(err) && err.code === status.NOT_FOUND) return null;
        throw err;
      }
    },
  };
}

export type FleetFreezeActivities = ReturnType<typeof createFleetFreezeActivities>;
