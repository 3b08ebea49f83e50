import { z } from 'zod';
import { hasControlChars } from './display';
import { MAX_URL_LENGTH } from './limits';

// Names end up in workflow ids, process environments and router tables: keep them boring.
export const serviceName = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'lowercase letters, digits and "-", at most 63 characters');

/** A version name, wherever one is accepted: the spec, the router's admin API, the demo service. */
export const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export const versionName = z
  .string()
  .regex(VERSION_PATTERN, 'letters, digits, ".", "_" and "-", at most 63 characters');

export { httpUrl } from './target-url';

/**
 * A request path appended to a target. `//host/x` and `\\host` would be read as another authority
 * (169.254.169.254, say), and a control character could split the request line: refused.
 */
export const httpPath = z
  .string()
  .max(MAX_URL_LENGTH)
  .regex(/^\/[^\s]*$/, 'must start with "/" and contain no spaces')
  .refine((p) => !p.startsWith('//') && !p.includes('\\'), 'must be a path: no leading "//" and no "\\"')
  .refine((p) => !hasControlChars(p), 'must not contain control characters')
  .refine((p) => !p.includes('#'), 'must not contain a fragment');

export const envKey = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]{0,127}$/, 'an environment variable name like MY_VAR, at most 128 characters');

/** An executable name or path: never a shell string. */
export const executable = z
  .string()
  .max(4096)
  .regex(/^[A-Za-z0-9_./-]+$/, 'an executable name or path, without spaces or shell syntax');
