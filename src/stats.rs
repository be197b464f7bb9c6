//! Per-handler statistics over the durations as logged.
//!
//! Percentiles are exact, by linear interpolation between closest ranks: for sorted values
//! `x[0..n]` and quantile `q`, `h = (n−1)·q`, `Q = x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])` —
//! Hyndman & Fan type 7, numpy's default and k6's. The standard deviation is the sample one
//! (divisor n−1; 0 for a single value).
//!
//! The **typical duration** is the geometric mean, `exp(mean(ln(x + c))) − c` with
//! `c = LOG_OFFSET_MS` = 0.1 ms, so that a logged `0ms` (the BeatExecutor's integer for a
//! sub-millisecond beat) has a finite logarithm that is not an outlier: the offset changes the
//! typical value only of handlers far below the gate's default 0.5 ms floor. Durations are right-skewed and roughly
//! log-normal; on the log scale they are close to normal, so the mean of the logarithms is the
//! efficient estimate of their location (the maximum-likelihood one for a log-normal: the
//! median needs π/2 ≈ 1.57 times the samples for the same precision, and the arithmetic mean
//! is pulled by the long right tail). The summary keeps `log_mean` and `log_sd` (sample
//! standard deviation, n−1) of `ln(x + c)`: with the count they are all a two-sample test on
//! the logarithms needs, so the baseline keeps no samples.

use serde::Serialize;

/// A handler's durations summarized: what the reports show, the baseline keeps per run and
/// pools, and the gate compares. The baseline file holds it as written here (field order
/// included), rounded by [`Summary::rounded`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub count: u64,
    pub mean: f64,
    pub stddev: f64,
    pub min: f64,
    pub max: f64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    /// Mean of `ln(x + LOG_OFFSET_MS)`.
    pub log_mean: f64,
    /// Sample standard deviation of `ln(x + LOG_OFFSET_MS)` (0 for a single value).
    pub log_sd: f64,
}

impl Summary {
    /// The sum of the durations.
    pub fn total(&self) -> f64 {
        self.count as f64 * self.mean
    }

    /// Durations to microseconds, the logarithms to six decimals (a relative 10⁻⁶).
    pub fn rounded(&self) -> Summary {
        Summary {
            count: self.count,
            mean: round3(self.mean),
            stddev: round3(self.stddev),
            min: round3(self.min),
            max: round3(self.max),
            p50: round3(self.p50),
            p90: round3(self.p90),
            p95: round3(self.p95),
            p99: round3(self.p99),
            log_mean: round6(self.log_mean),
            log_sd: round6(self.log_sd),
        }
    }
}

/// Added to every duration before its logarithm is taken (ms).
pub const LOG_OFFSET_MS: f64 = 0.1;

/// The longest duration perfgate accepts as a sample: 10⁹ ms, 11.6 days. Anything longer (or
/// negative, or not finite) is not a beat's duration but a broken value, and would overflow the
/// sums of squares of the statistics; it is rejected where it is read, with a diagnostic.
pub const MAX_MS: f64 = 1e9;

/// A value as a reader recognizes it in a message (`1e308`, not 309 digits).
pub fn show(v: f64) -> String {
    if v.is_finite() && v.abs() < 1e9 { format!("{v}") } else { format!("{v:e}") }
}

/// Whether `ms` may enter the statistics: finite, 0 ≤ ms ≤ [`MAX_MS`].
pub fn valid_ms(ms: f64) -> bool {
    (0.0..=MAX_MS).contains(&ms)
}

/// `ln(x + LOG_OFFSET_MS)`, for a duration `x ≥ 0` (a negative one counts as 0).
pub fn log_duration(x: f64) -> f64 {
    (x.max(0.0) + LOG_OFFSET_MS).ln()
}

/// The duration whose [`log_duration`] is `l`.
pub fn from_log(l: f64) -> f64 {
    (l.exp() - LOG_OFFSET_MS).max(0.0)
}

/// A statistic the gate and the baseline know by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stat {
    /// The geometric mean: the location of a right-skewed duration (see the module doc).
    Typical,
    Avg,
    P50,
    P90,
    P95,
    P99,
    Max,
}

impl Stat {
    pub const ALL: [Stat; 7] = [Stat::Typical, Stat::Avg, Stat::P50, Stat::P90, Stat::P95, Stat::P99, Stat::Max];

    pub fn name(self) -> &'static str {
        match self {
            Stat::Typical => "typical",
            Stat::Avg => "avg",
            Stat::P50 => "p50",
            Stat::P90 => "p90",
            Stat::P95 => "p95",
            Stat::P99 => "p99",
            Stat::Max => "max",
        }
    }

    pub fn parse(s: &str) -> Option<Stat> {
        Stat::ALL.into_iter().find(|st| st.name() == s).or(match s {
            "mean" => Some(Stat::Avg),
            "median" => Some(Stat::P50),
            "geomean" => Some(Stat::Typical),
            _ => None,
        })
    }

    /// The quantile level, for percentiles.
    pub fn quantile(self) -> Option<f64> {
        match self {
            Stat::P50 => Some(0.5),
            Stat::P90 => Some(0.9),
            Stat::P95 => Some(0.95),
            Stat::P99 => Some(0.99),
            Stat::Typical | Stat::Avg | Stat::Max => None,
        }
    }

    pub fn of(self, s: &Summary) -> f64 {
        match self {
            Stat::Typical => from_log(s.log_mean),
            Stat::Avg => s.mean,
            Stat::P50 => s.p50,
            Stat::P90 => s.p90,
            Stat::P95 => s.p95,
            Stat::P99 => s.p99,
            Stat::Max => s.max,
        }
    }
}

/// Summarizes `values` (any order); `None` when empty. NaN values must not be passed.
pub fn summarize(values: &[f64]) -> Option<Summary> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    summarize_sorted(&sorted)
}

/// [`summarize`] of values already sorted ascending (by `f64::total_cmp`).
pub fn summarize_sorted(sorted: &[f64]) -> Option<Summary> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    // Kahan-free but order-independent: summing the sorted values makes the result depend only
    // on the multiset of durations, not on file or thread order.
    let mean = sorted.iter().sum::<f64>() / n as f64;
    let log_mean = sorted.iter().map(|&v| log_duration(v)).sum::<f64>() / n as f64;
    let log_var = if n > 1 { sorted.iter().map(|&v| (log_duration(v) - log_mean).powi(2)).sum::<f64>() / (n - 1) as f64 } else { 0.0 };
    Some(Summary {
        count: n as u64,
        min: sorted[0],
        max: sorted[n - 1],
        mean,
        stddev: sample_sd(sorted),
        p50: quantile_sorted(sorted, 0.50),
        p90: quantile_sorted(sorted, 0.90),
        p95: quantile_sorted(sorted, 0.95),
        p99: quantile_sorted(sorted, 0.99),
        log_mean,
        log_sd: log_var.sqrt(),
    })
}

/// The sample standard deviation (divisor n − 1; 0 for fewer than two values).
pub fn sample_sd(values: &[f64]) -> f64 {
    let n = values.len();
    if n < 2 {
        return 0.0;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
}

/// Type-7 quantile of sorted, non-empty `sorted`.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let frac = h - lo as f64;
    let v = sorted[lo] + frac * (sorted[hi] - sorted[lo]);
    // Interpolation can overshoot by one ulp; a quantile never leaves its neighbours' range.
    v.clamp(sorted[lo], sorted[hi])
}

/// Rounds to microseconds, and turns -0.0 into 0.0, for stable output.
pub fn round3(x: f64) -> f64 {
    let r = (x * 1000.0).round() / 1000.0;
    if r == 0.0 { 0.0 } else { r }
}

/// Six decimals (logarithms, standard errors: a relative 10⁻⁶), without a negative zero.
pub fn round6(x: f64) -> f64 {
    let r = (x * 1e6).round() / 1e6;
    if r == 0.0 { 0.0 } else { r }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn matches_numpy_linear() {
        // numpy.percentile([1,2,3,4,5,6,7,8,9,10], [50,90,95,99]) = 5.5, 9.1, 9.55, 9.91
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        let s = summarize(&v).unwrap();
        assert_eq!((s.p50, s.count, s.total(), s.min, s.max, s.mean), (5.5, 10, 55.0, 1.0, 10.0, 5.5));
        assert!((s.p90 - 9.1).abs() < 1e-12 && (s.p95 - 9.55).abs() < 1e-12 && (s.p99 - 9.91).abs() < 1e-12);
        assert!((s.stddev - 3.0276503540974917).abs() < 1e-12);
        // The geometric mean of 1..=10 is 4.529 (10!^(1/10)); with the 0.1 ms offset,
        // exp(mean(ln(x + 0.1))) − 0.1.
        let expect = (v.iter().map(|x| (x + 0.1f64).ln()).sum::<f64>() / 10.0).exp() - 0.1;
        assert!((Stat::Typical.of(&s) - expect).abs() < 1e-12 && (expect - 4.529).abs() < 0.05, "{expect}");
        assert_eq!(log_duration(0.0), 0.1f64.ln());
    }

    #[test]
    fn single_and_empty() {
        assert_eq!(summarize(&[]), None);
        let s = summarize(&[4.2]).unwrap();
        assert_eq!((s.p50, s.p99, s.stddev), (4.2, 4.2, 0.0));
    }

    proptest! {
        #[test]
        fn ordered_and_order_independent(mut v in proptest::collection::vec(0.0f64..1e6, 1..200)) {
            let s = summarize(&v).unwrap();
            prop_assert!(s.min <= s.p50 && s.p50 <= s.p90 && s.p90 <= s.p95 && s.p95 <= s.p99 && s.p99 <= s.max);
            // The geometric mean lies between min and max, and never above the arithmetic mean.
            let typical = Stat::Typical.of(&s);
            prop_assert!(typical >= s.min - 1e-9 && typical <= s.max + 1e-9 && typical <= s.mean + 1e-9);
            v.reverse();
            prop_assert_eq!(summarize(&v).unwrap(), s);
        }
    }
}
