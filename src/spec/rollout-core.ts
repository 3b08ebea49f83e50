import type { CanarySpec } from './canary';

/**
 * What the shared workflow steps (deploy and verify, monitor a split, restore traffic) need to know,
 * whatever the strategy: a stable and a new version with their targets, and the providers.
 * A blue-green rollout resolves its environments into this shape once it knows which one is live.
 */
export type RolloutCore = Pick<
  CanarySpec,
  | 'service'
  | 'stable'
  | 'canary'
  | 'monitoring'
  | 'healthCheck'
  | 'smokeTests'
  | 'analysis'
  | 'traffic'
  | 'metrics'
  | 'deploy'
  | 'notify'
  | 'migrations'
  | 'schedule'
>;
