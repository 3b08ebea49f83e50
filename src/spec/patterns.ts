import { z } from 'zod';

// Names end up in workflow ids, process environments and router tables: keep them boring.
export const serviceName = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'lowercase letters, digits and "-", at most 63 characters');

export const versionName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, ".", "_" and "-", at most 63 characters');

export const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'must be an http:// or https:// URL');

export const httpPath = z.string().regex(/^\/[^\s]*$/, 'must start with "/" and contain no spaces');

export const envKey = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name like MY_VAR');

/** An executable name or path: never a shell string. */
export const executable = z
  .string()
  .regex(/^[A-Za-z0-9_./-]+$/, 'an executable name or path, without spaces or shell syntax');
