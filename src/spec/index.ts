export * from './canary';
export * from './checks';
export * from './analysis';
export * from './providers';
export * from './duration';
export * from './errors';
export { serviceName, versionName } from './patterns';
export { workflowIdForService, DEFAULT_TASK_QUEUE, taskQueueFromEnv } from './workflow-id';
