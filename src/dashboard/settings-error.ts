/** The dashboard may not start as asked (a missing or weak token, a bad URL in the environment): exit 2. */
export class DashboardSettingsError extends Error {
  override name = 'DashboardSettingsError';
}
