import { z } from 'zod';

export interface Faults {
  /** Probability (0..1) that a catch-all request answers 500. */
  errorRate: number;
  /** Delay added before answering a catch-all request. */
  latencyMs: number;
  failHealth: boolean;
  failSmoke: boolean;
}

export const DEFAULT_FAULTS: Readonly<Faults> = Object.freeze({
  errorRate: 0,
  latencyMs: 0,
  failHealth: false,
  failSmoke: false,
});

/** Ten minutes: long enough to simulate any slow dependency, short enough not to wedge shutdown forever. */
export const MAX_LATENCY_MS = 600_000;

export const faultsPatchSchema = z.strictObject({
  errorRate: z.number().min(0).max(1).optional(),
  latencyMs: z.number().min(0).max(MAX_LATENCY_MS).optional(),
  failHealth: z.boolean().optional(),
  failSmoke: z.boolean().optional(),
});

export type FaultsPatch = z.infer<typeof faultsPatchSchema>;

export function applyFaults(current: Faults, patch: FaultsPatch): Faults {
  const next: Faults = { ...current };
  if (patch.errorRate !== undefined) next.errorRate = patch.errorRate;
  if (patch.latencyMs !== undefined) next.latencyMs = patch.latencyMs;
  if (patch.failHealth !== undefined) next.failHealth = patch.failHealth;
  if (patch.failSmoke !== undefined) next.failSmoke = patch.failSmoke;
  return next;
}
