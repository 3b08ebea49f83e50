/**
 * An anytime-valid test that the canary's event rate (errors, or slow requests) is no higher than
 * the baseline's, after Lindon & Malek's Poisson-process view of multinomial counts.
 *
 * Model: events arrive as Poisson processes whose rates are proportional to each version's traffic.
 * Given how many requests each version served in an interval, and how many events happened in total,
 * the canary's share of the events is Binomial(events, ρ) under H0, where ρ is the canary's share of
 * the requests. Under the alternative the canary's per-request rate is λ times the baseline's, and its
 * share becomes λρ / (λρ + 1 − ρ).
 *
 * The split changes at every stage, so ρ is taken per observation (per poll interval) instead of per
 * stage: each interval contributes its own likelihood ratio, and their product stays a nonnegative
 * (super)martingale under H0 across stage boundaries. Evidence therefore carries from one stage into
 * the next instead of restarting. Mixing the ratio over a grid of λ > 1 keeps it a martingale, and
 * Ville's inequality bounds the chance that it ever reaches 1/α under H0 by α, however often we look.
 */

/** Relative risks the mixture bets on: from a 1.5× regression up to a 100× one. */
export const RELATIVE_RISKS: readonly number[] = [1.5, 2, 3, 5, 10, 20, 50, 100];
const LOG_WEIGHT = -Math.log(RELATIVE_RISKS.length);

export interface MixtureState {
  /** log likelihood ratio per entry of RELATIVE_RISKS. */
  logLR: number[];
  canaryEvents: number;
  baselineEvents: number;
}

export function emptyMixture(): MixtureState {
  return { logLR: RELATIVE_RISKS.map(() => 0), canaryEvents: 0, baselineEvents: 0 };
}

/** Adds one interval: events seen on each version, and the canary's share of that interval's requests. */
export function updateMixture(
  state: MixtureState,
  canaryEvents: number,
  baselineEvents: number,
  canaryShare: number,
): MixtureState {
  const total = canaryEvents + baselineEvents;
  if (total <= 0 || !(canaryShare > 0) || !(canaryShare < 1)) return state;
  return {
    logLR: state.logLR.map(
      (log, k) =>
        log +
        canaryEvents * Math.log(RELATIVE_RISKS[k] as number) -
        total * Math.log((RELATIVE_RISKS[k] as number) * canaryShare + 1 - canaryShare),
    ),
    canaryEvents: state.canaryEvents + canaryEvents,
    baselineEvents: state.baselineEvents + baselineEvents,
  };
}

/** log of the mixture Bayes factor (equal weights over RELATIVE_RISKS). */
export function logBayesFactor(state: MixtureState): number {
  const terms = state.logLR.map((log) => log + LOG_WEIGHT);
  const max = Math.max(...terms);
  return max + Math.log(terms.reduce((sum, t) => sum + Math.exp(t - max), 0));
}
