import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes, so rollouts can be listed and filtered in the Web UI, e.g.
 * `RolloutPhase = "monitoring"` or `RolloutService = "checkout"`. A cluster must register them once:
 *   temporal operator search-attribute create --name RolloutPhase --type Keyword   (and the others)
 */
export const RolloutService = defineSearchAttributeKey('RolloutService', SearchAttributeType.KEYWORD);
export const RolloutStrategy = defineSearchAttributeKey('RolloutStrategy', SearchAttributeType.KEYWORD);
export const RolloutPhase = defineSearchAttributeKey('RolloutPhase', SearchAttributeType.KEYWORD);
export const CanaryWeight = defineSearchAttributeKey('CanaryWeight', SearchAttributeType.INT);

/** The same attributes as `temporal server start-dev --search-attribute NAME=TYPE` wants them. */
export const DEV_SERVER_SEARCH_ATTRIBUTES = {
  RolloutService: 'Keyword',
  RolloutStrategy: 'Keyword',
  RolloutPhase: 'Keyword',
  CanaryWeight: 'Int',
} as const;
