import { runWorker } from './run-worker';
import { installRuntime } from './telemetry';

try {
  const metricsAddress = installRuntime();
  if (metricsAddress) console.log(`metrics at http://${metricsAddress}/metrics`);
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}

runWorker().catch((err) => {
  console.error(err);
  process.exit(1);
});
