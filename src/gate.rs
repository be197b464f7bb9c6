//! The comparison of a run with the baseline, and its verdicts. The whole rule is here:
//!
//! 1. **Run-wide shift.** Shared CI runners make a whole run 10–20% faster or slower; every
//!    handler moves together then. The run's common factor `D` is the median, over handlers
//!    with enough samples on both sides (at least `drift_min_handlers`), of `p50 now / p50
//!    base`. Each handler is judged against `base × D`, so a runner's drift never fails a
//!    handler by itself. The shift itself is gated by its own, wider rule: it fails when
//!    `D − 1` exceeds `drift_max_increase` (and, with ≥ 2 baseline runs, the baseline's own
//!    run-to-run spread of factors, z·s·√(1+1/K)), and warns above `max_increase`.
//! 2. **Noise of a handler's statistic**, on the log scale, from two estimates:
//!    - *sampling*: for a percentile, the distribution-free interval between the order
//!      statistics at ranks `n·q ± √(n·q·(1−q))` (±1 standard error); for the mean, `s/√n`.
//!      The baseline's statistic, from `n_b` samples of the same distribution under "no
//!      change", adds `se²·n/n_b`;
//!    - *history*: with ≥ 2 baseline runs, the standard deviation of the handler's
//!      drift-corrected run values, times √(1+1/K);
//!
//!    combined as variances weighted by degrees of freedom (the sampling model counts as 4,
//!    the runs as K − 1), plus the uncertainty of `D` itself (1.2533·MAD/√m for a median of m
//!    ratios); the critical value is Student's t with those degrees of freedom.
//! 3. **Verdict of a gated statistic**: with `d = ln(now / (base × D))` and `σ` the noise, the
//!    change's interval is `exp(d ± z·σ) − 1` (z from `confidence`, two-sided). *regressed*
//!    when the whole interval lies past `max_increase` **and** `now − base × D` exceeds
//!    `min_increase_ms`; *warning* when the point change does and the interval lies above zero
//!    (a real increase, not certainly past the threshold); *improved* symmetrically;
//!    *insufficient* below `min_samples` on either side — and, for a percentile q, below
//!    5/(1−q) samples (p95: 100, p99: 500), since a tail estimated from fewer than 5 values is
//!    noise; else *unchanged*. Warn-only statistics
//!    can reach *warning* at most. Budgets (`p95 < 12ms`) are absolute: *over-budget* fails.

use std::collections::BTreeMap;

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use crate::baseline::{Baseline, Run, RunSummary};
use crate::config::{GateConfig, Rule};
use crate::report::round3;
use crate::stats::{self, Stat, Summary};

/// Verdicts, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Regressed,
    OverBudget,
    Missing,
    Warning,
    New,
    Improved,
    Insufficient,
    Unchanged,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Regressed => "regressed",
            Verdict::OverBudget => "over-budget",
            Verdict::Missing => "missing",
            Verdict::Warning => "warning",
            Verdict::New => "new",
            Verdict::Improved => "improved",
            Verdict::Insufficient => "insufficient",
            Verdict::Unchanged => "unchanged",
        }
    }

    pub fn emoji(self) -> &'static str {
        match self {
            Verdict::Regressed | Verdict::OverBudget => "❌",
            Verdict::Missing | Verdict::Warning => "⚠️",
            Verdict::New => "🆕",
            Verdict::Improved => "✅",
            Verdict::Insufficient => "❔",
            Verdict::Unchanged => "➖",
        }
    }
}

/// The outcome of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Warn,
    Fail,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatComparison {
    pub stat: Stat,
    /// Whether this statistic can fail the gate (else it can only warn).
    pub gated: bool,
    pub base: Option<f64>,
    pub now: Option<f64>,
    /// Relative change against `base × runFactor`.
    pub change: Option<f64>,
    /// Bounds of the change's interval.
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    /// `now − base × runFactor`, in ms.
    pub delta_ms: Option<f64>,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetCheck {
    pub budget: String,
    pub value: Option<f64>,
    pub ok: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HandlerComparison {
    /// `Plugin.handler`.
    pub key: String,
    pub plugin: String,
    pub name: String,
    pub verdict: Verdict,
    pub base_count: u64,
    pub now_count: u64,
    pub base_p50: Option<f64>,
    pub now_p50: Option<f64>,
    pub base_p95: Option<f64>,
    pub now_p95: Option<f64>,
    pub stats: Vec<StatComparison>,
    pub budgets: Vec<BudgetCheck>,
}

impl HandlerComparison {
    /// The change that decides the row's order: the worst gated change.
    /// The statistic reports lead with: the first gated one with a change, else the first
    /// with a change.
    pub fn headline_stat(&self) -> Option<&StatComparison> {
        self.stats.iter().find(|s| s.gated && s.change.is_some()).or_else(|| self.stats.iter().find(|s| s.change.is_some()))
    }

    pub fn headline_change(&self) -> Option<f64> {
        self.stats
            .iter()
            .filter(|s| s.gated)
            .filter_map(|s| s.change)
            .reduce(f64::max)
            .or_else(|| self.stats.iter().filter_map(|s| s.change).reduce(f64::max))
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    /// The run-wide factor `D` (now / base), when it could be estimated.
    pub factor: Option<f64>,
    pub handlers_used: usize,
    /// Standard deviation of ln(run factor) across the baseline's runs (≥ 2 runs).
    pub baseline_spread: Option<f64>,
    /// The shift above which the run fails.
    pub fail_above: f64,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Comparison {
    pub outcome: Outcome,
    pub drift: Drift,
    /// Number of handlers per verdict.
    pub counts: BTreeMap<Verdict, usize>,
    pub ignored: usize,
    pub baseline_runs: usize,
    /// Most severe first, then largest change.
    pub handlers: Vec<HandlerComparison>,
}

struct Current {
    plugin: String,
    name: String,
    sorted: Vec<f64>,
    summary: Summary,
}

/// Compares `run` with `baseline` under `gate`.
pub fn compare(baseline: &Baseline, run: &Run, gate: &GateConfig) -> Comparison {
    let z = Normal::standard().inverse_cdf(1.0 - (1.0 - gate.confidence) / 2.0);
    let current: BTreeMap<&str, Current> = run
        .handlers
        .iter()
        .filter_map(|(k, (plugin, name, d))| {
            let mut sorted = d.clone();
            sorted.sort_by(f64::total_cmp);
            let summary = stats::summarize_sorted(&sorted)?;
            Some((k.as_str(), Current { plugin: plugin.clone(), name: name.clone(), sorted, summary }))
        })
        .collect();
    let rules: BTreeMap<&str, Rule> =
        baseline.handlers.keys().map(String::as_str).chain(current.keys().copied()).map(|k| (k, gate.rule_for(k))).collect();

    // The run-wide factor, from handlers with enough samples on both sides.
    let enough = |k: &str, base: &RunSummary, now: u64| {
        let r = &rules[k];
        !r.ignore && base.count as usize >= r.min_samples && now as usize >= r.min_samples && base.p50 > 0.0
    };
    let ratios: Vec<f64> = current
        .iter()
        .filter_map(|(k, c)| {
            let b = &baseline.handlers.get(*k)?.pooled;
            (enough(k, b, c.summary.count) && c.summary.p50 > 0.0).then(|| (c.summary.p50 / b.p50).ln())
        })
        .collect();
    let (log_d, sigma_d) = if ratios.len() >= gate.drift_min_handlers {
        let m = median(&ratios);
        let mad = 1.4826 * median(&ratios.iter().map(|r| (r - m).abs()).collect::<Vec<_>>());
        (Some(m), 1.2533 * mad / (ratios.len() as f64).sqrt())
    } else {
        (None, 0.0)
    };
    let run_factors = baseline_run_factors(baseline, &rules, gate.drift_min_handlers);
    let k_runs = baseline.runs.len();
    let known: Vec<f64> = run_factors.iter().flatten().map(|f| f.ln()).collect();
    let spread = (known.len() >= 2).then(|| stddev(&known));

    let mut handlers = Vec::new();
    let mut ignored = 0;
    for (key, rule) in &rules {
        if rule.ignore {
            ignored += 1;
            continue;
        }
        let base = baseline.handlers.get(*key);
        let now = current.get(key);
        let (plugin, name) = match (now, base) {
            (Some(c), _) => (c.plugin.clone(), c.name.clone()),
            (None, Some(b)) => (b.plugin.clone(), b.name.clone()),
            (None, None) => continue,
        };
        let mut cmp = HandlerComparison {
            key: (*key).to_owned(),
            plugin,
            name,
            verdict: Verdict::Unchanged,
            base_count: base.map_or(0, |b| b.pooled.count),
            now_count: now.map_or(0, |c| c.summary.count),
            base_p50: base.map(|b| b.pooled.p50),
            now_p50: now.map(|c| round3(c.summary.p50)),
            base_p95: base.map(|b| b.pooled.p95),
            now_p95: now.map(|c| round3(c.summary.p95)),
            stats: Vec::new(),
            budgets: Vec::new(),
        };
        for b in &rule.budgets {
            let value = now.map(|c| b.stat.of(&c.summary));
            cmp.budgets.push(BudgetCheck { budget: b.text.clone(), value: value.map(round3), ok: value.map(|v| b.holds(v)) });
        }
        let over_budget = cmp.budgets.iter().any(|b| b.ok == Some(false));
        cmp.verdict = match (base, now) {
            (None, Some(_)) => Verdict::New,
            (Some(_), None) => Verdict::Missing,
            (Some(b), Some(c)) => {
                let mut worst = Verdict::Unchanged;
                let stats_list = rule
                    .stats
                    .iter()
                    .map(|s| (*s, true))
                    .chain(rule.warn_stats.iter().filter(|s| !rule.stats.contains(s)).map(|s| (*s, false)));
                for (stat, gated) in stats_list {
                    let sc = compare_stat(stat, gated, b, c, rule, &run_factors, log_d, sigma_d, z);
                    worst = worst.min(sc.verdict);
                    cmp.stats.push(sc);
                }
                worst
            }
            (None, None) => unreachable!("skipped above"),
        };
        if over_budget {
            cmp.verdict = cmp.verdict.min(Verdict::OverBudget);
        }
        handlers.push(cmp);
    }
    handlers.sort_by(|a, b| {
        a.verdict
            .cmp(&b.verdict)
            .then_with(|| b.headline_change().unwrap_or(0.0).total_cmp(&a.headline_change().unwrap_or(0.0)))
            .then_with(|| a.key.cmp(&b.key))
    });

    let d = &gate.defaults;
    let mut fail_log = (1.0 + gate.drift_max_increase).ln();
    if let Some(s) = spread {
        // Noisier runners than the default assumes widen the rule (one-sided 95%).
        fail_log = fail_log.max(1.645 * s * (1.0 + 1.0 / k_runs as f64).sqrt());
    }
    let drift_verdict = match log_d {
        None => Verdict::Insufficient,
        Some(l) if l > fail_log => Verdict::Regressed,
        Some(l) if l > (1.0 + d.max_increase).ln() => Verdict::Warning,
        Some(l) if l < -(1.0 + d.max_increase).ln() => Verdict::Improved,
        Some(_) => Verdict::Unchanged,
    };
    let drift = Drift {
        factor: log_d.map(|l| round3(l.exp())),
        handlers_used: ratios.len(),
        baseline_spread: spread.map(round3),
        fail_above: round3(fail_log.exp() - 1.0),
        verdict: drift_verdict,
    };
    let mut counts: BTreeMap<Verdict, usize> = BTreeMap::new();
    for h in &handlers {
        *counts.entry(h.verdict).or_default() += 1;
    }
    let fails = |v: Verdict| match v {
        Verdict::Regressed | Verdict::OverBudget => true,
        Verdict::Missing => gate.fail_on_missing,
        Verdict::New => gate.fail_on_new,
        _ => false,
    };
    let outcome = if handlers.iter().any(|h| fails(h.verdict)) || drift.verdict == Verdict::Regressed {
        Outcome::Fail
    } else if handlers.iter().any(|h| matches!(h.verdict, Verdict::Warning | Verdict::Missing)) || drift.verdict == Verdict::Warning {
        Outcome::Warn
    } else {
        Outcome::Pass
    };
    Comparison { outcome, drift, counts, ignored, baseline_runs: k_runs, handlers }
}

/// Observations a percentile needs beyond it (so p95 needs 100 samples, p99 500).
const TAIL_SAMPLES: f64 = 5.0;

/// Weight of the sampling model against the baseline's observed run-to-run spread.
const PRIOR_DF: f64 = 4.0;

#[allow(clippy::too_many_arguments)]
fn compare_stat(
    stat: Stat,
    gated: bool,
    base: &crate::baseline::HandlerHistory,
    now: &Current,
    rule: &Rule,
    run_factors: &[Option<f64>],
    log_d: Option<f64>,
    sigma_d: f64,
    z: f64,
) -> StatComparison {
    let b = stat.of(&base.pooled.summary());
    let c = stat.of(&now.summary);
    let mut out = StatComparison {
        stat,
        gated,
        base: Some(b),
        now: Some(round3(c)),
        change: None,
        lower: None,
        upper: None,
        delta_ms: None,
        verdict: Verdict::Insufficient,
    };
    let n_b = base.pooled.count as usize;
    let n_c = now.sorted.len();
    // A percentile needs TAIL_SAMPLES observations beyond it: p95 is decided by the largest 5%,
    // which from 50 samples are two or three values.
    let tail = stat.quantile().map_or(0, |q| (TAIL_SAMPLES / (1.0 - q).min(q)).ceil() as usize);
    let needed = rule.min_samples.max(tail);
    if n_b < needed || n_c < needed || b <= 0.0 || c <= 0.0 {
        return out;
    }
    let factor = log_d.unwrap_or(0.0);
    let expected = b * factor.exp();
    let d = (c / expected).ln();
    // Sampling noise of the candidate's statistic, and of the baseline's (same distribution).
    let se_c = relative_se(stat, &now.sorted, &now.summary);
    let sampling = se_c * (1.0 + n_c as f64 / n_b as f64).sqrt();
    // Run-to-run noise of this handler in the baseline, drift-corrected.
    let logs: Vec<f64> = base
        .runs
        .iter()
        .zip(run_factors)
        .filter_map(|(r, f)| {
            let r = r.as_ref().filter(|r| r.count >= 2)?;
            let v = stat.of(&r.summary());
            (v > 0.0).then(|| v.ln() - f.unwrap_or(1.0).ln())
        })
        .collect();
    // The two estimates are combined as variances weighted by their degrees of freedom: the
    // sampling model counts as PRIOR_DF observations, the K baseline runs as K − 1.
    let (noise, df) = if logs.len() >= 2 {
        let k = logs.len() as f64;
        let history = stddev(&logs).powi(2) * (1.0 + 1.0 / k);
        (((PRIOR_DF * sampling.powi(2) + (k - 1.0) * history) / (PRIOR_DF + k - 1.0)).sqrt(), PRIOR_DF + k - 1.0)
    } else {
        (sampling, PRIOR_DF)
    };
    let sigma = (noise.powi(2) + sigma_d.powi(2)).sqrt();
    // The noise is estimated, so the critical value is Student's t with its degrees of freedom.
    let z = StudentsT::new(0.0, 1.0, df).map_or(z, |t| t.inverse_cdf(Normal::standard().cdf(z)));
    let change = d.exp() - 1.0;
    let lower = (d - z * sigma).exp() - 1.0;
    let upper = (d + z * sigma).exp() - 1.0;
    let delta = c - expected;
    let t = rule.max_increase;
    let verdict = if lower > t && delta > rule.min_increase_ms {
        if gated { Verdict::Regressed } else { Verdict::Warning }
    } else if change > t && lower > 0.0 && delta > rule.min_increase_ms {
        // Past the threshold and a real increase, but not certainly past the threshold.
        Verdict::Warning
    } else if upper < 1.0 / (1.0 + t) - 1.0 && -delta > rule.min_increase_ms {
        Verdict::Improved
    } else {
        Verdict::Unchanged
    };
    out.change = Some(round3(change));
    out.lower = Some(round3(lower));
    out.upper = Some(round3(upper));
    out.delta_ms = Some(round3(delta));
    out.verdict = verdict;
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

/// Each baseline run's common factor against the pooled values (`None` for runs where too few
/// handlers qualify).
fn baseline_run_factors(baseline: &Baseline, rules: &BTreeMap<&str, Rule>, min_handlers: usize) -> Vec<Option<f64>> {
    (0..baseline.runs.len())
        .map(|r| {
            let ratios: Vec<f64> = baseline
                .handlers
                .iter()
                .filter_map(|(k, h)| {
                    let rule = &rules[k.as_str()];
                    let run = h.runs.get(r)?.as_ref()?;
                    (!rule.ignore && run.count as usize >= rule.min_samples && run.p50 > 0.0 && h.pooled.p50 > 0.0)
                        .then(|| run.p50 / h.pooled.p50)
                })
                .collect();
            (ratios.len() >= min_handlers).then(|| median(&ratios))
        })
        .collect()
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    stats::quantile_sorted(&s, 0.5)
}

fn stddev(v: &[f64]) -> f64 {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
}

#[cfg(test)]
mod simulation;
