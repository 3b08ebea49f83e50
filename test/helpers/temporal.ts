import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundle } from '@temporalio/worker';
import { requireTemporalCli } from '../../src/devserver/resolve-cli';
import { DEV_SERVER_SEARCH_ATTRIBUTES } from '../../src/spec/search-attributes';
import { WORKFLOWS_PATH } from '../../src/worker/create-worker';

/** A real dev server through @temporalio/testing, using the project's pinned CLI binary. */
export async function createTemporalEnv(
  dynamicConfig: Record<string, string | number | boolean> = {},
): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  // Never the SDK's download: no machine here reaches its site, and a pinned binary is the point.
  const cli = requireTemporalCli();
  return TestWorkflowEnvironment.createLocal({
    server: {
      ip: '127.0.0.1',
      executable: { type: 'existing-path', path: cli.path },
      extraArgs: [
        '--log-level',
        'warn',
        ...Object.entries(DEV_SERVER_SEARCH_ATTRIBUTES).flatMap(([name, type]) => [
          '--search-attribute',
          `${name}=${type}`,
        ]),
        ...Object.entries(dynamicConfig).flatMap(([key, value]) => [
          '--dynamic-config-value',
          `${key}=${JSON.stringify(value)}`,
        ]),
      ],
    },
  });
}

let bundle: Promise<WorkflowBundle> | undefined;

/** Bundling takes seconds; tests that create several workers share one bundle. */
export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: {
      log: () => undefined,
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
    },
  });
  return bundle;
}

let runtimeInstalled = false;

/** Worker INFO logs drown test output; Runtime.install may run once per process. */
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('WARN') });
}
