import type { Client } from '@temporalio/client';
import { temporalBackend } from './backend';
import type { DashboardSettings } from './options';
import { startDashboard } from './server';

/** Serves the dashboard until Ctrl-C (or SIGTERM), then closes the server; the caller closes the client. */
export async function serveDashboard(client: Client, settings: DashboardSettings): Promise<void> {
  const dashboard = await startDashboard({
    backend: temporalBackend(client),
    host: settings.host,
    port: settings.port,
    token: settings.token,
    publicUrl: settings.publicUrl,
    webUiUrl: settings.webUiUrl,
  });
  console.log(`dashboard: ${dashboard.url}/ (namespace ${client.options.namespace}; Ctrl-C stops it)`);
  if (settings.publicUrl) console.log(`public URL: ${settings.publicUrl}/`);
  if (settings.token !== undefined) {
    // The token itself is never printed: it is in the environment of whoever started this.
    console.log(
      `the API needs the token in $${settings.tokenEnv}: open ${dashboard.url}/?token=<token> once`,
    );
  }
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  console.log('dashboard: stopping');
  await dashboard.close();
}
