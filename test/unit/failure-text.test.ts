import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { failureText } from '../../src/workflows/failure-text';

describe('the real cause of a failed activity reaches the state', () => {
  test('an activity failure names the activity and its root cause, not "Activity task failed"', () => {
    const cause = ApplicationFailure.nonRetryable(
      'router refused the split: canary.targets.0 has a query',
      'ConfigurationError',
    );
    const err = new ActivityFailure(
      'Activity task failed',
      'setTraffic',
      '7',
      RetryState.NON_RETRYABLE_FAILURE,
      'worker',
      cause,
    );
    assert.equal(
      failureText(err),
      'setTraffic failed: router refused the split: canary.targets.0 has a query',
    );
  });

  test('any other error keeps its message', () => {
    assert.equal(failureText(new Error('boom')), 'boom');
    assert.equal(failureText('plain'), 'plain');
  });
});
