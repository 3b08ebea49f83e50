import { ADMIN_TOKEN_ENV, adminTokenProblem } from '../router/admin-auth';
import { ConfigurationError } from './errors';

export interface AdminAuth {
  headers: Record<string, string>;
  /** Cut out of every error message, as requestJson's secrets. */
  secrets: string[];
}

/**
 * The embedded router's bearer token, read from the worker's environment on every call: never from
 * the spec, and never through workflow inputs, so it cannot reach history. Unset: no header, for a
 * loopback router without a token.
 */
export function adminAuth(env: NodeJS.ProcessEnv = process.env): AdminAuth {
  const token = env[ADMIN_TOKEN_ENV];
  if (token === undefined || token === '') return { headers: {}, secrets: [] };
  // Checked here so a malformed token fails with this message, not a Headers error quoting it.
  const problem = adminTokenProblem(token);
  if (problem) throw new ConfigurationError(`worker: ${problem}`);
  return { headers: { authorization: `Bearer ${token}` }, secrets: [token] };
}
