import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Metadata, status } from '@grpc/grpc-js';
import { ServiceError } from '@temporalio/client';
import { isTemporalUnreachable, TemporalUnreachableError } from '../../src/client/connect';

/** What grpc-js rejects a call with: an Error carrying a status code, details and metadata. */
function grpcError(code: status, details: string): Error {
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), {
    code,
    details,
    metadata: new Metadata(),
  });
}

// The CLI exits 4 when Temporal is unreachable; that is read from classes and statuses, not text.
describe('isTemporalUnreachable', () => {
  test('a connect wait that timed out is unreachable', () => {
    const cause = new Error('Failed to connect before the deadline');
    assert.equal(isTemporalUnreachable(new TemporalUnreachableError('127.0.0.1:1', { cause })), true);
  });

  test('UNAVAILABLE and DEADLINE_EXCEEDED are unreachable, bare or wrapped by the SDK', () => {
    for (const code of [status.UNAVAILABLE, status.DEADLINE_EXCEEDED]) {
      const raw = grpcError(code, 'no connection');
      assert.equal(isTemporalUnreachable(raw), true, status[code]);
      assert.equal(
        isTemporalUnreachable(new ServiceError('call failed', { cause: raw })),
        true,
        status[code],
      );
    }
  });

  test('other statuses are not, and neither is a message that only mentions connecting', () => {
    assert.equal(isTemporalUnreachable(grpcError(status.NOT_FOUND, 'workflow not found')), false);
    assert.equal(isTemporalUnreachable(grpcError(status.UNAUTHENTICATED, 'bad api key')), false);
    assert.equal(isTemporalUnreachable(new Error('ECONNREFUSED: could not connect, UNAVAILABLE')), false);
    assert.equal(isTemporalUnreachable('UNAVAILABLE'), false);
  });
});
