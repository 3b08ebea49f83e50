import { runWorker } from './run-worker';

runWorker().catch((err) => {
  console.error(err);
  process.exit(1);
});
