import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type DemoServiceHandle, startDemoService } from '../../src/demo/service';

/** Sample lines of one metric family from the text exposition format: series → value. */
function samples(text: string, name: string): Map<string, number> {
  const result = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const at = line.lastIndexOf(' ');
    result.set(line.slice(name.length, at), Number(line.slice(at + 1)));
  }
  return result;
}

async function scrape(service: DemoServiceHandle): Promise<{ contentType: string | null; text: string }> {
  const response = await fetch(`${service.url}/metrics`);
  assert.equal(response.status, 200);
  return { contentType: response.headers.get('content-type'), text: await response.text() };
}

describe('demo service /metrics', () => {
  let v1: DemoServiceHandle;
  let v2: DemoServiceHandle;

  before(async () => {
    v1 = await startDemoService({ version: 'v1' });
    v2 = await startDemoService({ version: 'v2', faults: { errorRate: 1, latencyMs: 30 } });
  });

  after(async () => {
    await v1?.close();
    await v2?.close();
  });

  test('before any traffic, the 200 and 500 series exist at 0', async () => {
    const fresh = await startDemoService({ version: 'v0' });
    try {
      const { contentType, text } = await scrape(fresh);
      assert.match(contentType ?? '', /^text\/plain/);
      assert.deepEqual(
        samples(text, 'http_request_duration_seconds_count'),
        new Map([
          ['{version="v0",code="200"}', 0],
          ['{version="v0",code="500"}', 0],
        ]),
      );
    } finally {
      await fresh.close();
    }
  });

  test('user requests are measured by version and code; probes, scrapes and fault control are not', async () => {
    for (const path of ['/', '/api/checkout?cart=1', '/api/other'])
      await (await fetch(`${v1.url}${path}`)).text();
    for (const path of ['/healthz', '/smoke', '/__faults', '/metrics', '/healthz?x=1']) {
      await (await fetch(`${v1.url}${path}`)).text();
    }
    for (let i = 0; i < 2; i++) await (await fetch(`${v2.url}/api/checkout`)).text();

    const one = await scrape(v1);
    assert.deepEqual(
      samples(one.text, 'http_request_duration_seconds_count'),
      new Map([
        ['{version="v1",code="200"}', 3],
        ['{version="v1",code="500"}', 0],
      ]),
    );
    // Each service has its own registry: v2's requests are not in v1's output, and vice versa.
    const two = await scrape(v2);
    assert.deepEqual(
      samples(two.text, 'http_request_duration_seconds_count'),
      new Map([
        ['{version="v2",code="200"}', 0],
        ['{version="v2",code="500"}', 2],
      ]),
    );
    // The 30 ms delay lands in the (25 ms, 50 ms] bucket.
    const buckets = samples(two.text, 'http_request_duration_seconds_bucket');
    assert.equal(buckets.get('{le="0.025",version="v2",code="500"}'), 0);
    assert.equal(buckets.get('{le="0.05",version="v2",code="500"}'), 2);
    assert.equal(buckets.get('{le="+Inf",version="v2",code="500"}'), 2);
    assert.ok(
      (samples(two.text, 'http_request_duration_seconds_sum').get('{version="v2",code="500"}') ?? 0) >= 0.06,
    );
  });
});
