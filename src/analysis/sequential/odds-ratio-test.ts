/**
 * An anytime-valid test that the canary's share of "slow" requests is no higher than the
 * baseline's, exact at every sample size.
 *
 * In one poll interval the canary served n_c requests and the baseline n_b; S of them were slower
 * than the bound. If both versions are alike, which S of the n_c + n_b requests were slow is
 * exchangeable, so the canary's slow count is Hypergeometric(n_c + n_b, S, n_c) given those margins —
 * whatever the traffic, the split or the baseline's own rate. Under an odds ratio ψ it is Fisher's
 * noncentral hypergeometric instead, and the interval's likelihood ratio is
 * ψ^x / E_H0[ψ^X]. The product over intervals is a martingale under H0 (a supermartingale when the
 * canary is faster), and so is a mixture over a grid of ψ > 1: Ville's inequality bounds the chance
 * that it ever reaches 1/α by α, however often it is checked and however the bound was chosen, as
 * long as it was chosen before the interval it classifies.
 *
 * Unlike the binomial-on-events test used for errors, this one uses the requests that were *not*
 * slow too, which matters when slow requests are common (a bound at the baseline's median).
 */

/** Odds ratios the mixture bets on: a mild slowdown up to "every canary request is slow". */
export const ODDS_RATIOS: readonly number[] = [1.5, 2, 3, 5, 10, 20, 50, 100];
const LOG_ODDS = ODDS_RATIOS.map(Math.log);
const LOG_WEIGHT = -Math.log(ODDS_RATIOS.length);
/** Terms this far (in nats) below the largest add less than 1e-20 of the sum: stop there. */
const CUTOFF = 46;

const SMALL = 256;
const LOG_FACTORIAL_TABLE: number[] = (() => {
  const table = [0];
  for (let n = 1; n <= SMALL; n++) table.push((table[n - 1] as number) + Math.log(n));
  return table;
})();

/** ln n!, exact below SMALL, Stirling's series (error < 1e-15 relative) above. */
export function logFactorial(n: number): number {
  if (n <= SMALL) return LOG_FACTORIAL_TABLE[n] as number;
  const inv = 1 / n;
  const inv2 = inv * inv;
  return (
    n * Math.log(n) - n + 0.5 * Math.log(2 * Math.PI * n) + inv * (1 / 12 - inv2 * (1 / 360 - inv2 / 1260))
  );
}

const logChoose = (n: number, k: number): number => logFactorial(n) - logFactorial(k) - logFactorial(n - k);

export interface IntervalCounts {
  canaryRequests: number;
  baselineRequests: number;
  canarySlow: number;
  baselineSlow: number;
}

/** Clamps provider estimates (Prometheus counts are extrapolated) into a consistent 2×2 table. */
function table(counts: IntervalCounts): { nc: number; nb: number; x: number; s: number } | null {
  const int = (v: number): number => (Number.isFinite(v) ? Math.max(0, Math.round(v)) : 0);
  const nc = int(counts.canaryRequests);
  const nb = int(counts.baselineRequests);
  const x = Math.min(nc, int(counts.canarySlow));
  const s = x + Math.min(nb, int(counts.baselineSlow));
  // Nothing to learn when either version is missing, or when all or none of the requests were slow.
  if (nc === 0 || nb === 0 || s === 0 || s === nc + nb) return null;
  return { nc, nb, x, s };
}

/** ln E_H0[ψ^X] for X ~ Hypergeometric: a log-sum over the support, from the tilted mode outward. */
function logTiltedNormalizer(nc: number, nb: number, s: number, logPsi: number): number {
  const lo = Math.max(0, s - nb);
  const hi = Math.min(nc, s);
  const base = logChoose(nc + nb, s);
  const logTerm = (y: number): number => logChoose(nc, y) + logChoose(nb, s - y) - base + y * logPsi;
  // Consecutive terms fall once ψ(nc−y)(s−y) ≤ (y+1)(nb−s+y+1) (the terms are log-concave).
  const rising = (y: number): boolean =>
    logPsi + Math.log(((nc - y) * (s - y)) / ((y + 1) * (nb - s + y + 1))) > 0;
  let a = lo;
  let b = hi;
  while (a < b) {
    const mid = Math.floor((a + b) / 2);
    if (rising(mid)) a = mid + 1;
    else b = mid;
  }
  const mode = a;
  const top = logTerm(mode);
  let sum = 1;
  for (let y = mode + 1; y <= hi; y++) {
    const d = logTerm(y) - top;
    if (d < -CUTOFF) break;
    sum += Math.exp(d);
  }
  for (let y = mode - 1; y >= lo; y--) {
    const d = logTerm(y) - top;
    if (d < -CUTOFF) break;
    sum += Math.exp(d);
  }
  return top + Math.log(sum);
}

/** ln likelihood ratio of one interval for each odds ratio in ODDS_RATIOS; all 0 when it says nothing. */
export function intervalLogLR(counts: IntervalCounts): number[] {
  const t = table(counts);
  if (t === null) return LOG_ODDS.map(() => 0);
  return LOG_ODDS.map((logPsi) => t.x * logPsi - logTiltedNormalizer(t.nc, t.nb, t.s, logPsi));
}

export function emptyOddsEvidence(): number[] {
  return LOG_ODDS.map(() => 0);
}

export function addOddsEvidence(logLR: number[], interval: number[]): number[] {
  return logLR.map((v, k) => v + (interval[k] ?? 0));
}

/** ln of the mixture Bayes factor (equal weights over ODDS_RATIOS). */
export function logOddsBayesFactor(logLR: number[]): number {
  const terms = logLR.map((log) => log + LOG_WEIGHT);
  const max = Math.max(...terms);
  return max + Math.log(terms.reduce((sum, t) => sum + Math.exp(t - max), 0));
}
