/** One rollout per service: the id is derived from the service name, so Temporal refuses a second start. */
export function workflowIdForService(service: string): string {
  return `rollout-${service}`;
}

export const DEFAULT_TASK_QUEUE = 'durable-rollouts';

export function taskQueueFromEnv(): string {
  return process.env.ROLLOUT_TASK_QUEUE ?? DEFAULT_TASK_QUEUE;
}
