import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metricsAddressFromEnv, runtimeOptions } from '../../src/worker/telemetry';
import { ROLLOUT_METRIC } from '../../src/workflows/rollout-metrics';

describe('ROLLOUT_METRICS_ADDRESS', () => {
  it('unset or blank serves no metrics', () => {
    assert.equal(metricsAddressFromEnv({}), null);
    assert.equal(metricsAddressFromEnv({ ROLLOUT_METRICS_ADDRESS: '  ' }), null);
    assert.deepEqual(runtimeOptions(null), {});
  });

  it('takes host:port, IPv6 in brackets', () => {
    for (const address of ['127.0.0.1:9464', '0.0.0.0:1', 'worker:65535', '[::1]:9464']) {
      assert.equal(metricsAddressFromEnv({ ROLLOUT_METRICS_ADDRESS: address }), address);
    }
  });

  it('refuses anything else, naming the variable and an example', () => {
    for (const bad of ['9464', '127.0.0.1', '127.0.0.1:0', 'host:70000', 'http://127.0.0.1:9464', 'a b:1']) {
      assert.throws(
        () => metricsAddressFromEnv({ ROLLOUT_METRICS_ADDRESS: bad }),
        /ROLLOUT_METRICS_ADDRESS must be host:port \(for example 127\.0\.0\.1:9464\)/,
        bad,
      );
    }
  });

  it('exports counters with _total and the rollback histograms in seconds buckets', () => {
    const options = runtimeOptions('127.0.0.1:9464');
    const metrics = options.telemetryOptions?.metrics;
    assert.ok(metrics && 'prometheus' in metrics);
    assert.equal(metrics.prometheus.bindAddress, '127.0.0.1:9464');
    assert.equal(metrics.prometheus.countersTotalSuffix, true);
    const buckets = metrics.prometheus.histogramBucketOverrides ?? {};
    assert.ok(buckets[ROLLOUT_METRIC.failureToRollback]?.includes(1));
    assert.ok(buckets[ROLLOUT_METRIC.rollbackConvergence]?.includes(1));
  });
});
