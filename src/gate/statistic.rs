//! Steps 4–5 of the gate (see the module doc of [`super`]): the numbers of one statistic's test
//! — the change against what "unchanged" predicts, its standard error, interval and one-sided
//! p-value. The verdict comes later ([`super::verdict`]), once the family is known.

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use super::levels::{Base, Current};
use super::{StatComparison, StatReason, Verdict};
use crate::config::Rule;
use crate::stats::{self, Stat, Summary, round3, round6};

/// Observations a percentile needs beyond it (so p95 needs 100 samples, p99 500).
const TAIL_SAMPLES: f64 = 5.0;
/// Degrees of freedom of a percentile's or mean's relative standard error (estimated from the
/// sample itself).
const TAIL_DF: f64 = 8.0;

/// What one statistic's test needs beyond the handler's data.
pub(super) struct Terms<'a> {
    pub(super) rho: &'a [f64],
    pub(super) shift: f64,
    pub(super) shift_var: f64,
    pub(super) jitter2: f64,
    pub(super) z_level: f64,
}

/// The numbers of one statistic's test (module doc, steps 4–5); the verdict comes later.
pub(super) fn estimate(stat: Stat, gated: bool, base: &Base, now: &Current, rule: &Rule, terms: &Terms) -> StatComparison {
    let n_b = base.count;
    let n_c = now.summary.count;
    let tail = stat.quantile().map_or(0, |q| (TAIL_SAMPLES / (1.0 - q).min(q)).ceil() as usize);
    let needed = rule.min_samples.max(tail);
    let base_value = match stat {
        Stat::Typical => stats::from_log(base.level),
        _ => base.runs.iter().map(|(i, r)| r.count as f64 * stat.of(r) * (-terms.rho[*i]).exp()).sum::<f64>() / n_b as f64,
    };
    let now_value = stat.of(&now.summary);
    let mut out = StatComparison {
        stat,
        gated,
        base: Some(round3(base_value)),
        now: Some(round3(now_value)),
        expected: None,
        change: None,
        lower: None,
        upper: None,
        delta_ms: None,
        threshold: rule.max_increase,
        floor_ms: rule.min_increase_ms,
        base_samples: n_b,
        now_samples: n_c,
        needed_samples: needed,
        std_error: None,
        df: None,
        p_value: None,
        adjusted_p: None,
        verdict: Verdict::Insufficient,
        reason: StatReason::Pending,
    };
    if (n_b as usize) < needed || (n_c as usize) < needed {
        out.reason = StatReason::NeedsSamples { needed, base: n_b, now: n_c };
        return out;
    }
    let jitter = terms.jitter2 * (1.0 + base.jitter_share);
    let (d, expected, var, df) = match stat {
        Stat::Typical => {
            let d = now.summary.log_mean - base.level - terms.shift;
            let now_ss = (n_c as f64 - 1.0) * now.summary.log_sd.powi(2);
            let sampling_df = base.ss_df + n_c as f64 - 1.0;
            let s2 = (base.ss + now_ss) / sampling_df.max(1.0);
            let sampling = s2 * (1.0 / n_c as f64 + 1.0 / n_b as f64);
            let var = sampling + jitter + terms.shift_var;
            // Satterthwaite: the sampling part is estimated with `sampling_df` degrees of freedom,
            // the jitter and the shift are (nearly) known.
            let df = if sampling > 0.0 { var.powi(2) / (sampling.powi(2) / sampling_df.max(1.0)) } else { f64::INFINITY };
            (d, stats::from_log(base.level + terms.shift), var, df)
        }
        _ => {
            if base_value <= 0.0 || now_value <= 0.0 {
                out.reason = StatReason::ZeroOnOneSide;
                return out;
            }
            let expected = base_value * terms.shift.exp();
            let se = relative_se(stat, now.sorted, &now.summary) * (1.0 + n_c as f64 / n_b as f64).sqrt();
            ((now_value / expected).ln(), expected, se.powi(2) + jitter + terms.shift_var, TAIL_DF)
        }
    };
    let se = var.sqrt();
    let (p_up, crit) = if se > 0.0 {
        (t_sf(d / se, df), t_quantile(Normal::standard().cdf(terms.z_level), df))
    } else {
        (if d > 0.0 { 0.0 } else { 1.0 }, terms.z_level)
    };
    out.expected = Some(round3(expected));
    out.change = Some(round3(d.exp() - 1.0));
    out.lower = Some(round3((d - crit * se).exp() - 1.0));
    out.upper = Some(round3((d + crit * se).exp() - 1.0));
    out.delta_ms = Some(round3(now_value - expected));
    out.std_error = Some(round6(se));
    out.df = Some(if df.is_finite() { (df * 10.0).round() / 10.0 } else { 1e9 });
    out.p_value = Some(p_up);
    out.verdict = Verdict::Unchanged;
    out
}

/// Standard error of a statistic relative to its value.
fn relative_se(stat: Stat, sorted: &[f64], s: &Summary) -> f64 {
    let n = sorted.len() as f64;
    match stat.quantile() {
        Some(q) => {
            let half = (n * q * (1.0 - q)).sqrt();
            let lo = ((n * q - half).floor().max(0.0) as usize).min(sorted.len() - 1);
            let hi = ((n * q + half).ceil().max(0.0) as usize).min(sorted.len() - 1);
            let v = stat.of(s).max(1e-3);
            (sorted[hi] - sorted[lo]) / (2.0 * v)
        }
        None => s.stddev / n.sqrt() / s.mean.max(1e-3),
    }
}

/// `P(T > t)` for Student's t with `df` degrees of freedom (normal above 1,000).
fn t_sf(t: f64, df: f64) -> f64 {
    if !df.is_finite() || df > 1000.0 {
        return Normal::standard().sf(t);
    }
    StudentsT::new(0.0, 1.0, df.max(1.0)).map_or_else(|_| Normal::standard().sf(t), |d| d.sf(t))
}

/// The `p` quantile of Student's t with `df` degrees of freedom.
fn t_quantile(p: f64, df: f64) -> f64 {
    if !df.is_finite() || df > 1000.0 {
        return Normal::standard().inverse_cdf(p);
    }
    StudentsT::new(0.0, 1.0, df.max(1.0)).map_or_else(|_| Normal::standard().inverse_cdf(p), |d| d.inverse_cdf(p))
}
