/**
 * How much of an in-sample Sharpe ratio survives selection among many trials: the deflated Sharpe ratio.
 *
 * @module
 */

/** The Euler–Mascheroni constant γ. */
const EULER_GAMMA = 0.5772156649015329;

/** What {@link deflatedSharpe} needs. Sharpe ratios are per candle (not annualised). */
export interface DeflatedSharpeInput {
  /** The chosen trial's Sharpe ratio per candle. */
  readonly sharpe: number;
  /** Sharpe ratios per candle of every trial the choice was made among (the chosen one included). */
  readonly trialSharpes: readonly number[];
  /** Returns observed (candles − 1) of the chosen trial. */
  readonly observations: number;
  /** Skewness and kurtosis (not excess) of the chosen trial's returns. */
  readonly skewness: number;
  readonly kurtosis: number;
}

/**
 * The deflated Sharpe ratio: the probability that the chosen trial's true Sharpe ratio is above zero once the
 * selection among N trials, the sample length and the returns' skewness and kurtosis are accounted for (a value below
 * 0.95 means the in-sample Sharpe is not significant at 5%).
 *
 * `SR0 = √V[SR_n] · ((1 − γ) Φ⁻¹(1 − 1/N) + γ Φ⁻¹(1 − 1/(N e)))` (the expected maximum Sharpe of N trials with no skill),
 * `DSR = Φ((SR − SR0) √(T − 1) / √(1 − γ₃ SR + (γ₄ − 1)/4 · SR²))`; with one trial, SR0 = 0 (the probabilistic
 * Sharpe ratio).
 *
 * @see D. H. Bailey and M. López de Prado, "The Deflated Sharpe Ratio: Correcting for Selection Bias, Backtest
 *   Overfitting and Non-Normality", Journal of Portfolio Management 40(5), 2014, equations 2 and 3.
 * @returns a probability in [0, 1], or null when there are fewer than 2 observations or the denominator is not positive.
 */
export function deflatedSharpe(input: DeflatedSharpeInput): number | null {
  const { sharpe, trialSharpes, observations, skewness, kurtosis } = input;
  const n = trialSharpes.length;
  let sr0 = 0;
  if (n >= 2) {
    const mean = trialSharpes.reduce((a, b) => a + b, 0) / n;
    const variance = trialSharpes.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
    sr0 = Math.sqrt(variance) * ((1 - EULER_GAMMA) * normalQuantile(1 - 1 / n) + EULER_GAMMA * normalQuantile(1 - 1 / (n * Math.E)));
  }
  const denominator = 1 - skewness * sharpe + ((kurtosis - 1) / 4) * sharpe * sharpe;
  if (observations < 2 || !(denominator > 0)) return null;
  return normalCdf(((sharpe - sr0) * Math.sqrt(observations - 1)) / Math.sqrt(denominator));
}

/**
 * The standard normal distribution function Φ(x), through the complementary error function of W. H. Press et al.,
 * "Numerical Recipes" (3rd ed., 2007), §6.2.2, `erfc` by a Chebyshev fit with fractional error < 1.2e-7.
 */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const erfc =
    t *
    Math.exp(
      -z * z - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/**
 * The standard normal quantile Φ⁻¹(p) for p in (0, 1) (±Infinity at 0 and 1), by P. J. Acklam's rational
 * approximation (relative error < 1.15e-9), "An algorithm for computing the inverse normal cumulative distribution
 * function" (2003).
 */
export function normalQuantile(p: number): number {
  if (p <= 0) return Number.NEGATIVE_INFINITY;
  if (p >= 1) return Number.POSITIVE_INFINITY;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low || p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(p < low ? p : 1 - p));
    const x = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
    return p < low ? x : -x;
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}
