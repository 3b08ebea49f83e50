/** Number of cohort buckets; a canary weight of 1% covers 100 of them. */
export const COHORT_BUCKETS = 10_000;

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * FNV-1a (32-bit) over the UTF-8 bytes. Chosen because it is stable across processes and
 * releases (unlike a seeded hash), so a user keeps their cohort when the router restarts.
 */
export function fnv1a32(input: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (const byte of Buffer.from(input, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME) >>> 0;
  }
  return hash >>> 0;
}

export function cohortBucket(key: string): number {
  return fnv1a32(key) % COHORT_BUCKETS;
}

/**
 * Buckets [0, weight*100) form the canary cohort. Growing the weight only adds buckets,
 * so a user already on the canary stays there as the rollout advances.
 */
export function isCanaryBucket(bucket: number, canaryWeight: number): boolean {
  return bucket < canaryWeight * (COHORT_BUCKETS / 100);
}
