import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { startCanary } from '../../src/client/rollouts';
import { type DevServer, startDevServer } from '../../src/devserver/dev-server';
import { RolloutService } from '../../src/spec/search-attributes';
import { parseCanarySpec } from '../../src/spec/load';

describe('a cluster that has not registered the rollout search attributes', () => {
  let server: DevServer;
  let connection: Connection;
  before(async () => {
    server = await startDevServer({ searchAttributes: {} });
    connection = await Connection.connect({ address: server.address });
  });
  after(async () => {
    await connection?.close();
    await server?.stop();
  });

  it('still starts the rollout, without the attributes', async () => {
    const client = new Client({ connection });
    const spec = parseCanarySpec({
      service: 'no-attributes',
      stable: { version: 'v1', targets: ['http://127.0.0.1:1'] },
      canary: { version: 'v2', targets: ['http://127.0.0.1:2'] },
    });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      // No worker: only the start is under test.
      const handle = await startCanary(client, spec, 'no-worker-here');
      const description = await handle.describe();
      assert.equal(description.status.name, 'RUNNING');
      assert.equal(description.typedSearchAttributes.get(RolloutService), undefined);
      await new Promise((r) => setImmediate(r));
      assert.ok(
        warnings.some((w) => /without search attributes/.test(w)),
        `warnings: ${warnings.join('; ')}`,
      );
      await handle.terminate('test done');
    } finally {
      process.off('warning', onWarning);
    }
  });
});
