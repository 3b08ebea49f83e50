import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { checkHealth } from '../../src/providers/checks/health';
import { runSmokeTests } from '../../src/providers/checks/smoke';
import { healthCheckSchema, smokeTestSchema } from '../../src/spec/checks';

describe('health and smoke checks reach a target path prefix the way the router does', () => {
  let server: Server;
  let base: string;
  const seen: string[] = [];
  before(async () => {
    server = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  test('a check on http://host/v2 probes /v2/healthz, not /healthz on the bare host', async () => {
    seen.length = 0;
    const report = await checkHealth(
      [`${base}/v2`],
      healthCheckSchema.parse({ path: '/healthz', retries: 0 }),
    );
    assert.equal(report.healthy, true);
    const smoke = await runSmokeTests(
      [`${base}/v2/`],
      [smokeTestSchema.parse({ name: 's', path: '/smoke?deep=1' })],
    );
    assert.equal(smoke.passed, true);
    assert.deepEqual(seen, ['/v2/healthz', '/v2/smoke?deep=1']);
  });
});
