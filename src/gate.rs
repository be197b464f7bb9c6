//! The comparison of a run with the baseline, and its verdicts. The whole rule is here.
//!
//! **Model.** On the log scale a handler's durations are close to normal (they are right-skewed,
//! roughly log-normal), and a run adds a shift shared by every handler (the runner's speed):
//! `ln(x + c) = μ_h + ρ_run + jitter_h,run + ε`, with `ε ~ N(0, σ_h²)` per execution and a small
//! per-handler, per-run jitter of variance `τ²`. The *typical duration* is `exp(μ) − c`, the
//! geometric mean (`stats`); its estimate is the mean of the logarithms, `m̄`, which the baseline
//! keeps per run with `n` and the standard deviation `s`.
//!
//! 1. **The baseline's level.** Each baseline run's shift `ρ_r` is the median, over the
//!    handlers with `min_samples` in that run, of `m̄_h,r − level_h`; `level_h` is the
//!    count-weighted mean of `m̄_h,r − ρ_r` over the runs the handler ran in (three rounds of
//!    this alternation, the `ρ_r` centred on zero). A handler's level is then free of the
//!    runners its baseline runs happened to get, whichever runs it appears in.
//! 2. **Jitter** `τ²`, from the baseline (≥ 2 runs): per handler, Cochran's
//!    `Q_h = Σ_r w_r (m̄_h,r − ρ_r − level_h)²` with `w_r = n_r / s_h²` has median
//!    `med χ²(K_h − 1)` when `τ = 0`; `τ_h² = (Q_h / med χ²(K_h−1) − 1)(K_h − 1) / c_h`
//!    (`c_h = Σw − Σw²/Σw`, DerSimonian–Laird) is one handler's estimate, and `τ²` is their
//!    median weighted by `c_h` (clipped at 0): pooled over handlers, so it is precise from three
//!    runs, and robust to a handler that really changed within the baseline's history. A
//!    one-run baseline assumes `τ = PRIOR_JITTER`.
//! 3. **Run-wide shift** `D`: the median, over handlers with `min_samples` on both sides (at
//!    least `drift_min_handlers`), of `m̄_now − level_h`, with standard error
//!    `1.2533 · 1.4826 · MAD / √m`. Every handler is judged against `level_h + D`, so a
//!    runner's drift never fails a handler. The shift itself fails the run when `D` exceeds
//!    `max(ln(1 + drift_max_increase), 2.326 · s · √(1 + 1/K))`, `s` the runners' drift per run
//!    — `PRIOR_DRIFT` worth `PRIOR_DRIFT_DF` runs, pooled with the standard deviation of the
//!    baseline's `ρ_r` — and warns above `DRIFT_WARN` (⅔) of that. Without enough handlers,
//!    `D = 0` and `se(D)² = PRIOR_DRIFT² (1 + 1/K)` is added to every handler's noise instead.
//! 4. **The typical duration's test** (Welch's idea, on the logarithms): `d = m̄_now − level_h −
//!    D` with variance `s²(1/n_now + 1/N_base) + τ²(1 + Σn_r²/N²) + se(D)²`, `s²` the within-run
//!    variance pooled over the baseline's runs and this one (the samples of one distribution
//!    under "no change"); `t = d / se` against Student's t with the Welch–Satterthwaite degrees
//!    of freedom of the sampling part.
//! 5. **Tails and the arithmetic mean** (`p50`…`p99`, `avg`): `d = ln(now / (base · e^D))`, the
//!    base being the count-weighted mean of the runs' values with their `ρ_r` taken out; the
//!    sampling error of a percentile from the distribution-free spread of the order statistics
//!    at ranks `n·q ± √(n·q·(1−q))` (±1 standard error), of the mean from `s/√n`, each times
//!    `√(1 + n_now/N_base)` for the baseline's own error, plus `τ²` and `se(D)²`; Student's t
//!    with `TAIL_DF` degrees of freedom (the spread is itself an estimate). A percentile `q`
//!    needs `5/(1−q)` samples on each side (p95: 100, p99: 500): a tail from fewer than five
//!    values beyond it is noise.
//! 6. **Family-wise error.** A run tests every handler × gated statistic at once. The one-sided
//!    p-values of an increase are adjusted by Holm's weighted step-down procedure (in the order
//!    of `p_i / w_i`, a test is rejected at `α · w_i / Σ w` over the tests not yet rejected;
//!    the weights from `weights` favour tests precise enough to see a change of
//!    `DESIGN_CHANGE`), so the probability that a run of unchanged code fails any handler is at
//!    most `α = false_alarm_rate`, however many handlers the run has (Holm 1979; it needs no
//!    independence). Warn-only statistics form a family of their own, and so do decreases
//!    (improvements).
//! 7. **Verdicts.** *regressed* when the increase is significant family-wise **and** the change
//!    is past `max_increase` **and** `now − expected > min_increase_ms` — the test bounds the
//!    noise, the thresholds the size. *warning* when the change's interval at `confidence` (the
//!    one shown) lies entirely past `max_increase` and the floor, but the family-wise test does
//!    not reject, and at most this for warn-only statistics. *improved* mirrors both. A handler
//!    below the samples it needs is *insufficient*; otherwise *unchanged*. Budgets (`p95 <
//!    12ms`) are absolute: *over-budget* fails.

use std::collections::BTreeMap;

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use crate::baseline::{Baseline, HandlerHistory, Run};
use crate::config::{GateConfig, Rule};
use crate::stats::{self, Stat, Summary, round3, round6};

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
}

/// The outcome of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Warn,
    Fail,
}

/// One statistic of one handler: the numbers its verdict rests on.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatComparison {
    pub stat: Stat,
    /// Whether this statistic can fail the gate (else it can only warn).
    pub gated: bool,
    /// The baseline's value with its runs' shifts taken out (ms).
    pub base: Option<f64>,
    pub now: Option<f64>,
    /// `base × runFactor`: what "unchanged" predicts for this run (ms).
    pub expected: Option<f64>,
    /// Relative change against `expected`.
    pub change: Option<f64>,
    /// Bounds of the change's interval at `confidence`.
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    /// `now − expected`, in ms.
    pub delta_ms: Option<f64>,
    /// The rule's relative threshold and absolute floor.
    pub threshold: f64,
    pub floor_ms: f64,
    pub base_samples: u64,
    pub now_samples: u64,
    /// Samples each side needs for this statistic.
    pub needed_samples: usize,
    /// Standard error of `ln(now / expected)`, and the degrees of freedom of its t.
    pub std_error: Option<f64>,
    pub df: Option<f64>,
    /// One-sided p-value of an increase, and Holm's adjustment of it within its family.
    pub p_value: Option<f64>,
    pub adjusted_p: Option<f64>,
    pub verdict: Verdict,
    /// Why the verdict, in one line (the change and its interval are in the fields above).
    pub reason: String,
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
    /// Why, in one line: the deciding statistic's reason (and broken budgets).
    pub reason: String,
    pub base_count: u64,
    pub now_count: u64,
    pub base_p50: Option<f64>,
    pub now_p50: Option<f64>,
    pub base_p95: Option<f64>,
    pub now_p95: Option<f64>,
    pub stats: Vec<StatComparison>,
    pub budgets: Vec<BudgetCheck>,
    /// The reports lead with it: it fails the run, warns, or improved. The others (unchanged,
    /// insufficient, and new or missing unless configured to fail) are folded.
    pub changed: bool,
}

impl HandlerComparison {
    /// The statistic reports lead with: the one that decided the verdict, else the first gated
    /// one with a change, else the first with a change.
    pub fn headline_stat(&self) -> Option<&StatComparison> {
        self.stats
            .iter()
            .find(|s| s.verdict == self.verdict && s.change.is_some())
            .or_else(|| self.stats.iter().find(|s| s.gated && s.change.is_some()))
            .or_else(|| self.stats.iter().find(|s| s.change.is_some()))
    }

    /// The reason without the statistic's numbers, for rows that show them: the deciding
    /// statistic's own reason when the headline is that statistic, else the whole reason.
    pub fn short_reason(&self) -> &str {
        self.headline_stat()
            .or_else(|| self.stats.first())
            .filter(|s| s.verdict == self.verdict)
            .map_or(self.reason.as_str(), |s| s.reason.as_str())
    }

    /// The change that orders rows of one verdict: the headline statistic's.
    pub fn headline_change(&self) -> Option<f64> {
        self.headline_stat().and_then(|s| s.change)
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    /// The run-wide factor `e^D` (now / base), when it could be estimated.
    pub factor: Option<f64>,
    /// Standard error of `D`.
    pub std_error: Option<f64>,
    pub handlers_used: usize,
    /// Standard deviation of the baseline runs' shifts `ρ_r` (≥ 2 runs).
    pub baseline_spread: Option<f64>,
    /// The shift above which the run fails.
    pub fail_above: f64,
    pub verdict: Verdict,
}

/// The family-wise control of false alarms.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Family {
    /// `false_alarm_rate`: the family-wise error level.
    pub level: f64,
    /// Gated tests in the run (handlers × statistics with enough samples).
    pub tests: usize,
    /// Per-handler run-to-run jitter `τ` used (log scale), and whether it was estimated from
    /// the baseline (else assumed: a one-run baseline).
    pub jitter: f64,
    pub jitter_estimated: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Comparison {
    pub outcome: Outcome,
    pub drift: Drift,
    pub family: Family,
    /// Number of handlers per verdict.
    pub counts: BTreeMap<Verdict, usize>,
    pub ignored: usize,
    pub baseline_runs: usize,
    /// In the reports' order: the changed handlers first (see [`HandlerComparison::changed`]).
    pub handlers: Vec<HandlerComparison>,
}

impl Comparison {
    /// The handlers the reports lead with (a prefix of `handlers`); the rest are folded.
    pub fn changed(&self) -> &[HandlerComparison] {
        &self.handlers[..self.handlers.partition_point(|h| h.changed)]
    }
}

/// Observations a percentile needs beyond it (so p95 needs 100 samples, p99 500).
const TAIL_SAMPLES: f64 = 5.0;
/// Degrees of freedom of a percentile's or mean's relative standard error (estimated from the
/// sample itself).
const TAIL_DF: f64 = 8.0;
/// Per-handler run-to-run jitter (log scale) assumed when the baseline has one run.
pub const PRIOR_JITTER: f64 = 0.03;
/// Runner drift (log scale per run): assumed when the run-wide shift cannot be estimated, and
/// the prior of the run-wide rule's noise, worth `PRIOR_DRIFT_DF` baseline runs.
pub const PRIOR_DRIFT: f64 = 0.10;
const PRIOR_DRIFT_DF: f64 = 4.0;
/// The run-wide shift warns above this part of its failing threshold (log scale).
const DRIFT_WARN: f64 = 2.0 / 3.0;

/// The candidate's view of one handler.
struct Current<'r> {
    plugin: &'r str,
    name: &'r str,
    sorted: &'r [f64],
    summary: Summary,
}

/// The baseline's view of one handler: its runs (index, summary), level and within-run spread.
struct Base<'a> {
    history: &'a HandlerHistory,
    runs: Vec<(usize, &'a Summary)>,
    count: u64,
    /// `level_h`: drift-free mean of the logarithms.
    level: f64,
    /// Within-run sum of squares of the logarithms and its degrees of freedom.
    ss: f64,
    ss_df: f64,
    /// `Σ n_r² / N²`: how much of one run's jitter the level keeps.
    jitter_share: f64,
}

impl<'a> Base<'a> {
    /// The runs the handler ran in; `None` when it has no samples (its level is set later).
    fn new(history: &'a HandlerHistory) -> Option<Base<'a>> {
        let runs: Vec<(usize, &Summary)> =
            history.runs.iter().enumerate().filter_map(|(i, r)| r.as_ref().filter(|r| r.count > 0).map(|r| (i, r))).collect();
        let count: u64 = runs.iter().map(|(_, r)| r.count).sum();
        (count > 0).then(|| {
            let ss = runs.iter().map(|(_, r)| (r.count as f64 - 1.0) * r.log_sd.powi(2)).sum();
            let ss_df = runs.iter().map(|(_, r)| r.count as f64 - 1.0).sum();
            let jitter_share = runs.iter().map(|(_, r)| (r.count as f64).powi(2)).sum::<f64>() / (count as f64).powi(2);
            Base { history, runs, count, level: 0.0, ss, ss_df, jitter_share }
        })
    }
}

/// What one statistic's test needs beyond the handler's data.
struct Context<'a> {
    rho: &'a [f64],
    shift: f64,
    shift_var: f64,
    jitter2: f64,
    z_level: f64,
}

/// Compares `run` with `baseline` under `gate`.
pub fn compare(baseline: &Baseline, run: &Run, gate: &GateConfig) -> Comparison {
    let current: BTreeMap<&str, Current> = run
        .handlers
        .iter()
        .map(|(k, h)| (k.as_str(), Current { plugin: &h.plugin, name: &h.name, sorted: h.samples.sorted(), summary: *h.samples.summary() }))
        .collect();
    let rules: BTreeMap<&str, Rule> =
        baseline.handlers.keys().map(String::as_str).chain(current.keys().copied()).map(|k| (k, gate.rule_for(k))).collect();
    let k_runs = baseline.runs.len();
    let mut bases: BTreeMap<&str, Base> = baseline
        .handlers
        .iter()
        .filter(|(k, _)| !rules[k.as_str()].ignore)
        .filter_map(|(k, h)| Some((k.as_str(), Base::new(h)?)))
        .collect();

    // 1. The baseline runs' shifts and the handlers' levels.
    let rho = baseline_shifts(&mut bases, &rules, k_runs, gate.drift_min_handlers);
    let known_rho: Vec<f64> = rho.iter().flatten().copied().collect();
    let rho: Vec<f64> = rho.iter().map(|r| r.unwrap_or(0.0)).collect();
    let spread = (known_rho.len() >= 2).then(|| stats::sample_sd(&known_rho));

    // 2. The jitter.
    let (jitter2, jitter_estimated) = match jitter(&bases, &rho) {
        Some(t2) => (t2, true),
        None => (PRIOR_JITTER.powi(2), false),
    };

    // 3. The run-wide shift.
    let enough = |k: &str, base: u64, now: u64| {
        let r = &rules[k];
        !r.ignore && base as usize >= r.min_samples && now as usize >= r.min_samples
    };
    let diffs: Vec<f64> = current
        .iter()
        .filter_map(|(k, c)| {
            let b = bases.get(k)?;
            enough(k, b.count, c.summary.count).then_some(c.summary.log_mean - b.level)
        })
        .collect();
    let (shift, shift_var) = if diffs.len() >= gate.drift_min_handlers {
        let m = median(&diffs);
        let mad = 1.4826 * median(&diffs.iter().map(|r| (r - m).abs()).collect::<Vec<_>>());
        (Some(m), (1.2533 * mad).powi(2) / diffs.len() as f64)
    } else {
        (None, PRIOR_DRIFT.powi(2) * (1.0 + 1.0 / k_runs.max(1) as f64))
    };
    let ctx = Context {
        rho: &rho,
        shift: shift.unwrap_or(0.0),
        shift_var,
        jitter2,
        z_level: Normal::standard().inverse_cdf(1.0 - (1.0 - gate.confidence) / 2.0),
    };

    // 4–5. Every handler's statistics.
    let mut handlers = Vec::new();
    let mut ignored = 0;
    for (key, rule) in &rules {
        if rule.ignore {
            ignored += 1;
            continue;
        }
        let base = bases.get(key);
        let now = current.get(key);
        let (plugin, name) = match (now, base) {
            (Some(c), _) => (c.plugin.to_owned(), c.name.to_owned()),
            (None, Some(b)) => (b.history.plugin.clone(), b.history.name.clone()),
            (None, None) => continue,
        };
        let mut cmp = HandlerComparison {
            key: (*key).to_owned(),
            plugin,
            name,
            verdict: Verdict::Unchanged,
            reason: String::new(),
            base_count: base.map_or(0, |b| b.count),
            now_count: now.map_or(0, |c| c.summary.count),
            base_p50: base.map(|b| b.history.pooled.p50),
            now_p50: now.map(|c| round3(c.summary.p50)),
            base_p95: base.map(|b| b.history.pooled.p95),
            now_p95: now.map(|c| round3(c.summary.p95)),
            stats: Vec::new(),
            budgets: Vec::new(),
            changed: false,
        };
        for b in &rule.budgets {
            let value = now.map(|c| b.stat.of(&c.summary));
            cmp.budgets.push(BudgetCheck { budget: b.text.clone(), value: value.map(round3), ok: value.map(|v| b.holds(v)) });
        }
        if let (Some(b), Some(c)) = (base, now) {
            let stats_list = rule
                .stats
                .iter()
                .map(|s| (*s, true))
                .chain(rule.warn_stats.iter().filter(|s| !rule.stats.contains(s)).map(|s| (*s, false)));
            for (stat, gated) in stats_list {
                cmp.stats.push(measure(stat, gated, b, c, rule, &ctx));
            }
        }
        handlers.push(cmp);
    }

    // 6. Holm within each family: gated increases, warn-only increases, decreases.
    let alpha = gate.false_alarm_rate;
    let gated = holm_family(&handlers, |s| s.gated, |p| p);
    let tests = gated.len();
    let warn_only = holm_family(&handlers, |s| !s.gated, |p| p);
    let warn_tests = warn_only.len();
    for ((i, j), adj) in gated.into_iter().chain(warn_only) {
        handlers[i].stats[j].adjusted_p = Some(adj);
    }
    let down: BTreeMap<(usize, usize), f64> = holm_family(&handlers, |_| true, |p| 1.0 - p).into_iter().collect();

    // 7. Verdicts.
    for (i, h) in handlers.iter_mut().enumerate() {
        let over_budget = h.budgets.iter().any(|b| b.ok == Some(false));
        let (verdict, reason) = match (bases.contains_key(h.key.as_str()), current.contains_key(h.key.as_str())) {
            (false, true) => (Verdict::New, "new: not in the baseline".to_owned()),
            (true, false) => (Verdict::Missing, "missing: in the baseline, not in this run".to_owned()),
            _ => {
                for (j, s) in h.stats.iter_mut().enumerate() {
                    let family = if s.gated { tests } else { warn_tests };
                    decide(s, alpha, down.get(&(i, j)).copied(), family);
                }
                // A statistic without enough samples decides only when every one lacks them.
                h.stats.iter().filter(|s| s.verdict != Verdict::Insufficient).min_by_key(|s| s.verdict).or_else(|| h.stats.first()).map_or(
                    (Verdict::Unchanged, "no statistic compared".to_owned()),
                    |s| match (s.change, s.lower, s.upper) {
                        (Some(c), Some(l), Some(u)) => {
                            (s.verdict, format!("{} {} [{}, {}]: {}", s.stat.name(), pct(c), pct(l), pct(u), s.reason))
                        }
                        _ => (s.verdict, s.reason.clone()),
                    },
                )
            }
        };
        h.verdict = verdict;
        h.reason = reason;
        if over_budget {
            h.verdict = h.verdict.min(Verdict::OverBudget);
            let broken: Vec<String> = h
                .budgets
                .iter()
                .filter(|b| b.ok == Some(false))
                .map(|b| format!("budget {} broken ({} ms)", b.budget, b.value.map_or("–".into(), |v| format!("{v:.2}"))))
                .collect();
            h.reason = if h.verdict == Verdict::OverBudget { broken.join("; ") } else { format!("{}; {}", h.reason, broken.join("; ")) };
        }
    }

    // The runners' drift: PRIOR_DRIFT, worth PRIOR_DRIFT_DF runs, updated by the baseline's
    // runs; noisier runners widen the rule to their one-sided 1% band.
    let runs_df = known_rho.len().saturating_sub(1) as f64;
    let drift_sd = ((PRIOR_DRIFT_DF * PRIOR_DRIFT.powi(2) + runs_df * spread.unwrap_or(0.0).powi(2)) / (PRIOR_DRIFT_DF + runs_df)).sqrt();
    let fail_log = (1.0 + gate.drift_max_increase).ln().max(2.326 * drift_sd * (1.0 + 1.0 / k_runs.max(1) as f64).sqrt());
    let drift_verdict = match shift {
        None => Verdict::Insufficient,
        Some(l) if l > fail_log => Verdict::Regressed,
        Some(l) if l > fail_log * DRIFT_WARN => Verdict::Warning,
        Some(l) if l < -fail_log * DRIFT_WARN => Verdict::Improved,
        Some(_) => Verdict::Unchanged,
    };
    let drift = Drift {
        factor: shift.map(|l| round3(l.exp())),
        std_error: shift.map(|_| round6(shift_var.sqrt())),
        handlers_used: diffs.len(),
        baseline_spread: spread.map(round6),
        fail_above: round3(fail_log.exp() - 1.0),
        verdict: drift_verdict,
    };
    let family = Family { level: alpha, tests, jitter: round6(jitter2.sqrt()), jitter_estimated };
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
    // One order for every report: what fails, then warnings, then improvements, each by the
    // size of its change; then the folded ones — unchanged, insufficient, new, missing.
    let rank = |v: Verdict| match v {
        v if fails(v) => 0,
        Verdict::Warning => 1,
        Verdict::Improved => 2,
        Verdict::Unchanged => 3,
        Verdict::Insufficient => 4,
        Verdict::New => 5,
        _ => 6,
    };
    for h in &mut handlers {
        h.changed = rank(h.verdict) < 3;
    }
    handlers.sort_by(|a, b| {
        let size = |h: &HandlerComparison| h.headline_change().map_or(0.0, f64::abs);
        rank(a.verdict)
            .cmp(&rank(b.verdict))
            .then_with(|| a.verdict.cmp(&b.verdict))
            .then_with(|| size(b).total_cmp(&size(a)))
            .then_with(|| a.key.cmp(&b.key))
    });
    let outcome = if handlers.iter().any(|h| fails(h.verdict)) || drift.verdict == Verdict::Regressed {
        Outcome::Fail
    } else if handlers.iter().any(|h| matches!(h.verdict, Verdict::Warning | Verdict::Missing)) || drift.verdict == Verdict::Warning {
        Outcome::Warn
    } else {
        Outcome::Pass
    };
    Comparison { outcome, drift, family, counts, ignored, baseline_runs: k_runs, handlers }
}

/// The baseline runs' shifts `ρ_r` (`None` where too few handlers qualify), leaving each base's
/// `level` set (see the module doc, step 1).
fn baseline_shifts(bases: &mut BTreeMap<&str, Base>, rules: &BTreeMap<&str, Rule>, k_runs: usize, min_handlers: usize) -> Vec<Option<f64>> {
    let mut rho: Vec<Option<f64>> = vec![None; k_runs];
    let set_levels = |bases: &mut BTreeMap<&str, Base>, rho: &[Option<f64>]| {
        for b in bases.values_mut() {
            let n = b.count as f64;
            b.level = b.runs.iter().map(|(i, r)| r.count as f64 * (r.log_mean - rho[*i].unwrap_or(0.0))).sum::<f64>() / n;
        }
    };
    set_levels(bases, &rho);
    for _ in 0..3 {
        for (r, slot) in rho.iter_mut().enumerate() {
            let diffs: Vec<f64> = bases
                .iter()
                .filter_map(|(k, b)| {
                    let (_, s) = b.runs.iter().find(|(i, _)| *i == r)?;
                    (s.count as usize >= rules[k].min_samples).then_some(s.log_mean - b.level)
                })
                .collect();
            *slot = (diffs.len() >= min_handlers).then(|| median(&diffs));
        }
        let known: Vec<f64> = rho.iter().flatten().copied().collect();
        if !known.is_empty() {
            let centre = known.iter().sum::<f64>() / known.len() as f64;
            for r in rho.iter_mut().flatten() {
                *r -= centre;
            }
        }
        set_levels(bases, &rho);
    }
    rho
}

/// `τ²` from the baseline's runs (module doc, step 2); `None` when no handler ran in two runs.
fn jitter(bases: &BTreeMap<&str, Base>, rho: &[f64]) -> Option<f64> {
    let mut estimates: Vec<(f64, f64)> = Vec::new();
    for b in bases.values() {
        let runs: Vec<&(usize, &Summary)> = b.runs.iter().filter(|(_, r)| r.count >= 2).collect();
        if runs.len() < 2 || b.ss_df <= 0.0 {
            continue;
        }
        let s2 = b.ss / b.ss_df;
        if s2 <= 1e-12 {
            continue;
        }
        let w: Vec<f64> = runs.iter().map(|(_, r)| r.count as f64 / s2).collect();
        let sw: f64 = w.iter().sum();
        let sw2: f64 = w.iter().map(|x| x * x).sum();
        let centre = runs.iter().zip(&w).map(|((i, r), w)| w * (r.log_mean - rho[*i])).sum::<f64>() / sw;
        let q: f64 = runs.iter().zip(&w).map(|((i, r), w)| w * (r.log_mean - rho[*i] - centre).powi(2)).sum();
        let k = (runs.len() - 1) as f64;
        // Median of χ²(k), Wilson–Hilferty.
        let med = k * (1.0 - 2.0 / (9.0 * k)).powi(3);
        let c = sw - sw2 / sw;
        estimates.push(((q / med - 1.0) * k / c, c));
    }
    if estimates.is_empty() {
        return None;
    }
    estimates.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = estimates.iter().map(|e| e.1).sum();
    let mut acc = 0.0;
    for (t2, c) in &estimates {
        acc += c;
        if acc >= total / 2.0 {
            return Some(t2.max(0.0));
        }
    }
    Some(0.0)
}

/// The numbers of one statistic's test (module doc, steps 4–5); the verdict comes later.
fn measure(stat: Stat, gated: bool, base: &Base, now: &Current, rule: &Rule, ctx: &Context) -> StatComparison {
    let n_b = base.count;
    let n_c = now.summary.count;
    let tail = stat.quantile().map_or(0, |q| (TAIL_SAMPLES / (1.0 - q).min(q)).ceil() as usize);
    let needed = rule.min_samples.max(tail);
    let base_value = match stat {
        Stat::Typical => stats::from_log(base.level),
        _ => base.runs.iter().map(|(i, r)| r.count as f64 * stat.of(r) * (-ctx.rho[*i]).exp()).sum::<f64>() / n_b as f64,
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
        reason: String::new(),
    };
    if (n_b as usize) < needed || (n_c as usize) < needed {
        out.reason = format!("{} needs {needed} samples on each side (baseline {n_b}, now {n_c})", stat.name());
        return out;
    }
    let jitter = ctx.jitter2 * (1.0 + base.jitter_share);
    let (d, expected, var, df) = match stat {
        Stat::Typical => {
            let d = now.summary.log_mean - base.level - ctx.shift;
            let now_ss = (n_c as f64 - 1.0) * now.summary.log_sd.powi(2);
            let sampling_df = base.ss_df + n_c as f64 - 1.0;
            let s2 = (base.ss + now_ss) / sampling_df.max(1.0);
            let sampling = s2 * (1.0 / n_c as f64 + 1.0 / n_b as f64);
            let var = sampling + jitter + ctx.shift_var;
            // Satterthwaite: the sampling part is estimated with `sampling_df` degrees of freedom,
            // the jitter and the shift are (nearly) known.
            let df = if sampling > 0.0 { var.powi(2) / (sampling.powi(2) / sampling_df.max(1.0)) } else { f64::INFINITY };
            (d, stats::from_log(base.level + ctx.shift), var, df)
        }
        _ => {
            if base_value <= 0.0 || now_value <= 0.0 {
                out.reason = format!("{} is zero on one side: no ratio to test", stat.name());
                return out;
            }
            let expected = base_value * ctx.shift.exp();
            let se = relative_se(stat, now.sorted, &now.summary) * (1.0 + n_c as f64 / n_b as f64).sqrt();
            ((now_value / expected).ln(), expected, se.powi(2) + jitter + ctx.shift_var, TAIL_DF)
        }
    };
    let se = var.sqrt();
    let (p_up, crit) = if se > 0.0 {
        (t_sf(d / se, df), t_quantile(Normal::standard().cdf(ctx.z_level), df))
    } else {
        (if d > 0.0 { 0.0 } else { 1.0 }, ctx.z_level)
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

/// The verdict and reason of a measured statistic, given its family's adjusted p-values and
/// the size of its family (gated or warn-only).
fn decide(s: &mut StatComparison, alpha: f64, adjusted_down: Option<f64>, tests: usize) {
    let (Some(change), Some(lower), Some(upper), Some(delta), Some(adj)) = (s.change, s.lower, s.upper, s.delta_ms, s.adjusted_p) else {
        return;
    };
    let t = s.threshold;
    let floor = s.floor_ms;
    let drop = 1.0 / (1.0 + t) - 1.0;
    let down = adjusted_down.unwrap_or(1.0);
    let family = |p: f64| format!("family-wise p {} {} {} ({tests} tests)", p_text(p), if p <= alpha { "≤" } else { ">" }, p_text(alpha));
    let (verdict, reason) = if adj <= alpha && change > t && delta > floor {
        let v = if s.gated { Verdict::Regressed } else { Verdict::Warning };
        (v, format!("past {} and +{delta:.2} ms > {floor} ms; {}", pct(t), family(adj)))
    } else if lower > t && delta > floor {
        (Verdict::Warning, format!("interval past {}, but not significant across the run: {}", pct(t), family(adj)))
    } else if ((down <= alpha && change < drop) || upper < drop) && -delta > floor {
        (Verdict::Improved, format!("faster by more than {:.1}% and {:.2} ms", -drop * 100.0, -delta))
    } else if adj <= alpha && change > 0.0 {
        (Verdict::Unchanged, format!("a real increase, within {} / {floor} ms", pct(t)))
    } else {
        (Verdict::Unchanged, format!("within the noise ({})", family(adj)))
    };
    s.verdict = verdict;
    s.reason = reason;
}

/// Weighted Holm within one family: the statistics `member` selects, with p-value
/// `p(p_value)`; each as (handler index, statistic index, adjusted p). The weights are
/// [`weights`] of the tests' precision, known before their changes are.
fn holm_family(
    handlers: &[HandlerComparison],
    member: impl Fn(&StatComparison) -> bool,
    p: impl Fn(f64) -> f64,
) -> Vec<((usize, usize), f64)> {
    let ps: Vec<((usize, usize), f64, f64)> = handlers
        .iter()
        .enumerate()
        .flat_map(|(i, h)| {
            h.stats.iter().enumerate().filter(|(_, s)| member(s)).filter_map(move |(j, s)| Some(((i, j), s.p_value?, s.std_error?)))
        })
        .map(|(at, v, se)| (at, p(v), se))
        .collect();
    let w = weights(&ps.iter().map(|(_, _, se)| *se).collect::<Vec<_>>());
    let adjusted = holm_adjust(&ps.iter().map(|(_, p, _)| *p).collect::<Vec<_>>(), &w);
    ps.into_iter().map(|(at, _, _)| at).zip(adjusted).collect()
}

/// Weights of a family's tests (mean 1), from their standard errors: Rubin, Dudoit & van der
/// Laan's (2006) optimal weights for detecting a common change `θ = ln(1 + DESIGN_CHANGE)`.
/// With `c_i = θ / se_i`, test `i` gets the level `α_i = Φ̄(c_i/2 + L/c_i)`, `L` such that the
/// levels sum to `α`: tests too noisy to detect `θ` and tests that detect it at any level get
/// little, the rest more. Every test keeps `WEIGHT_FLOOR` of its equal share.
fn weights(se: &[f64]) -> Vec<f64> {
    let m = se.len();
    if m == 0 {
        return Vec::new();
    }
    let theta = (1.0 + DESIGN_CHANGE).ln();
    let c: Vec<f64> = se.iter().map(|s| if *s > 0.0 { theta / s } else { 1e6 }).collect();
    let normal = Normal::standard();
    let levels = |l: f64| c.iter().map(|c| normal.sf(c / 2.0 + l / c)).collect::<Vec<_>>();
    // Σ α_i decreases in L; find Σ α_i = DESIGN_ALPHA by bisection on L.
    let (mut lo, mut hi) = (-50.0f64, 500.0f64);
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if levels(mid).iter().sum::<f64>() > DESIGN_ALPHA { lo = mid } else { hi = mid }
    }
    let a = levels(hi);
    let total: f64 = a.iter().sum();
    a.iter().map(|x| WEIGHT_FLOOR + (1.0 - WEIGHT_FLOOR) * x / total * m as f64).collect()
}

/// The change the family's level is spread to detect best (+50%), the level the weights are
/// designed at, and the part of an equal share every test keeps.
const DESIGN_CHANGE: f64 = 0.5;
const DESIGN_ALPHA: f64 = 0.01;
const WEIGHT_FLOOR: f64 = 0.2;

/// Weighted Holm step-down adjusted p-values, in the order given: tests sorted by `p_i / w_i`;
/// `adj_(i) = max_{j ≤ i} min(1, p_(j) · Σ_{k ≥ j} w_(k) / w_(j))` (equal weights: Holm's
/// `(m − j + 1) · p_(j)`).
pub fn holm_adjust(p: &[f64], w: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|a, b| (p[*a] / w[*a]).total_cmp(&(p[*b] / w[*b])));
    let mut remaining: f64 = order.iter().map(|&i| w[i]).sum();
    let mut out = vec![1.0; m];
    let mut running = 0.0f64;
    for &i in &order {
        running = running.max((p[i] * remaining / w[i]).min(1.0));
        out[i] = running;
        remaining -= w[i];
    }
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

/// A relative change as a signed percentage: `+12.5%`.
pub fn pct(x: f64) -> String {
    format!("{:+.1}%", x * 100.0)
}

/// A p-value in few characters: `0.003`, `2e-7`.
fn p_text(p: f64) -> String {
    if p >= 0.001 { format!("{}", (p * 1000.0).round() / 1000.0) } else { format!("{p:.0e}") }
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    stats::quantile_sorted(&s, 0.5)
}

#[cfg(test)]
mod simulation;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holm_with_equal_weights_is_holm() {
        // p = 0.01, 0.04, 0.03, 0.005 → sorted 0.005, 0.01, 0.03, 0.04 → ×4, ×3, ×2, ×1 =
        // 0.02, 0.03, 0.06, 0.04 → running maximum 0.02, 0.03, 0.06, 0.06.
        let adj = holm_adjust(&[0.01, 0.04, 0.03, 0.005], &[1.0; 4]);
        let expect = [0.03, 0.06, 0.06, 0.02];
        for (a, e) in adj.iter().zip(expect) {
            assert!((a - e).abs() < 1e-12, "{adj:?}");
        }
        // Weights: a test of weight 3 among weights 3, 1 is compared with 3/4 of α.
        let adj = holm_adjust(&[0.006, 0.5], &[3.0, 1.0]);
        assert!((adj[0] - 0.008).abs() < 1e-12 && (adj[1] - 0.5).abs() < 1e-12, "{adj:?}");
    }

    #[test]
    fn reasons_name_their_own_family() {
        let mut rng = crate::rng::Rng::new(5);
        let mut run = || {
            let mut r = Run::default();
            for h in 0..3 {
                let d = (0..50).map(|_| 4.0 * (0.3 * rng.normal()).exp()).collect();
                r.add("P", &format!("h{h}"), d);
            }
            r
        };
        let baseline = Baseline::empty(3).append(&run(), 3).append(&run(), 3);
        let mut gate = GateConfig::default();
        gate.defaults.stats = vec![Stat::Typical];
        gate.defaults.warn_stats = vec![Stat::P50, Stat::Avg];
        let c = compare(&baseline, &run(), &gate);
        assert_eq!(c.family.tests, 3);
        for h in &c.handlers {
            for s in &h.stats {
                let family = if s.gated { "(3 tests)" } else { "(6 tests)" };
                assert!(
                    s.verdict != Verdict::Unchanged || s.reason.contains(family) || s.reason.starts_with("a real increase"),
                    "{}",
                    s.reason
                );
            }
        }
    }

    #[test]
    fn weights_favour_tests_that_can_see_the_design_change() {
        // Standard errors: hopeless (0.6), useful (0.1), certain (0.005).
        let w = weights(&[0.6, 0.1, 0.005]);
        assert!((w.iter().sum::<f64>() - 3.0).abs() < 1e-9, "{w:?}");
        assert!(w[1] > 1.5 && w[1] > w[0] && w[0] > w[2], "{w:?}");
        // Every test keeps its floor.
        assert!(w.iter().all(|x| *x >= WEIGHT_FLOOR - 1e-12), "{w:?}");
        // Equal precision: equal weights.
        let w = weights(&[0.1; 5]);
        assert!(w.iter().all(|x| (x - 1.0).abs() < 1e-9), "{w:?}");
    }

    #[test]
    fn jitter_is_pooled_and_robust_to_one_changed_handler() {
        let mut rng = crate::rng::Rng::new(3);
        let runs = |rng: &mut crate::rng::Rng, jitter: f64, step: f64| -> Baseline {
            let mut b = Baseline::empty(3);
            for r in 0..3 {
                let mut run = Run::default();
                for h in 0..40 {
                    let j = (jitter * rng.normal()).exp() * if h == 0 && r == 2 { step } else { 1.0 };
                    let d = (0..400).map(|_| 5.0 * j * (0.4 * rng.normal()).exp()).collect();
                    run.add("P", &format!("h{h:02}"), d);
                }
                b = b.append(&run, 3);
            }
            b
        };
        let gate = GateConfig::default();
        let estimate = |b: &Baseline| {
            let rules: BTreeMap<&str, Rule> = b.handlers.keys().map(|k| (k.as_str(), gate.rule_for(k))).collect();
            let mut bases: BTreeMap<&str, Base> = b.handlers.iter().filter_map(|(k, h)| Some((k.as_str(), Base::new(h)?))).collect();
            let rho: Vec<f64> = baseline_shifts(&mut bases, &rules, 3, 3).into_iter().map(|r| r.unwrap_or(0.0)).collect();
            jitter(&bases, &rho).expect("estimated").sqrt()
        };
        let none = estimate(&runs(&mut rng, 0.0, 1.0));
        let some = estimate(&runs(&mut rng, 0.05, 1.0));
        // One handler 50% slower in the last run barely moves the pooled estimate.
        let stepped = estimate(&runs(&mut rng, 0.0, 1.5));
        assert!(none < 0.015, "{none}");
        assert!((0.025..0.08).contains(&some), "{some}");
        assert!(stepped < 0.015, "{stepped}");
    }

    /// Ten handlers (`P.h0`…`P.h9`, 5 ms typical, σ 0.3 on the log scale); `shape(h)` gives
    /// handler `h`'s factor and sample count (0: absent).
    fn suite(rng: &mut crate::rng::Rng, shape: &dyn Fn(usize) -> (f64, usize)) -> Run {
        let mut run = Run::default();
        for h in 0..10 {
            let (factor, n) = shape(h);
            let median = if h == 9 { 0.2 } else { 5.0 };
            let d = (0..n).map(|_| median * factor * (0.3 * rng.normal()).exp()).collect();
            run.add("P", &format!("h{h}"), d);
        }
        run
    }

    fn verdicts(c: &Comparison) -> BTreeMap<String, Verdict> {
        c.handlers.iter().map(|h| (h.key.clone(), h.verdict)).collect()
    }

    #[test]
    fn verdict_edges() {
        let mut rng = crate::rng::Rng::new(21);
        let mut baseline = Baseline::empty(3);
        for _ in 0..3 {
            baseline = baseline.append(&suite(&mut rng, &|_| (1.0, 200)), 3);
        }
        let now = suite(&mut rng, &|h| match h {
            0 => (2.0, 200),  // doubled
            1 => (0.5, 200),  // halved
            2 => (1.05, 200), // below the 10% threshold
            3 => (2.0, 7),    // doubled, but one sample short of min_samples
            4 => (1.0, 0),    // gone
            9 => (2.0, 200),  // doubled, but 0.2 ms more: below the 0.5 ms floor
            _ => (1.0, 200),
        });
        let mut now = now;
        now.add("P", "new", vec![1.0; 20]);
        let gate = GateConfig::default();
        let c = compare(&baseline, &now, &gate);
        let v = verdicts(&c);
        assert_eq!(v["P.h0"], Verdict::Regressed, "{:?}", c.handlers[0].reason);
        assert_eq!(v["P.h1"], Verdict::Improved);
        assert_eq!(v["P.h2"], Verdict::Unchanged);
        assert_eq!(v["P.h3"], Verdict::Insufficient);
        assert_eq!(v["P.h4"], Verdict::Missing);
        assert_eq!(v["P.h9"], Verdict::Unchanged);
        assert_eq!(v["P.new"], Verdict::New);
        assert_eq!(v["P.h5"], Verdict::Unchanged);
        assert_eq!(c.outcome, Outcome::Fail);
        assert_eq!(c.handlers[0].key, "P.h0", "the regression leads");
        // Without the floor, the 0.2 ms doubling is a regression; at min_samples 7, so is h3.
        let mut gate = GateConfig::default();
        gate.defaults.min_increase_ms = 0.0;
        gate.defaults.min_samples = 7;
        let v = verdicts(&compare(&baseline, &now, &gate));
        assert_eq!((v["P.h9"], v["P.h3"]), (Verdict::Regressed, Verdict::Regressed));
        // A threshold above the change: the doubling passes.
        let mut gate = GateConfig::default();
        gate.defaults.max_increase = 1.5;
        assert_eq!(verdicts(&compare(&baseline, &now, &gate))["P.h0"], Verdict::Unchanged);
    }

    #[test]
    fn overrides_ignore_and_budgets() {
        let mut rng = crate::rng::Rng::new(22);
        let mut baseline = Baseline::empty(3);
        for _ in 0..2 {
            baseline = baseline.append(&suite(&mut rng, &|_| (1.0, 150)), 3);
        }
        let now = suite(&mut rng, &|h| (if h == 0 { 2.0 } else { 1.0 }, 150));
        let text = "[[gate.override]]\nmatch = \"P.h0\"\nignore = true\n[[gate.override]]\nmatch = \"P.h5\"\nbudget = \"p95 < 1ms\"\n";
        let config = crate::config::Config::parse(text, std::path::Path::new("perfgate.toml")).unwrap();
        let c = compare(&baseline, &now, &config.gate);
        let v = verdicts(&c);
        assert!(!v.contains_key("P.h0"), "ignored");
        assert_eq!(c.ignored, 1);
        assert_eq!(v["P.h5"], Verdict::OverBudget);
        let h5 = c.handlers.iter().find(|h| h.key == "P.h5").unwrap();
        assert_eq!(h5.budgets[0].ok, Some(false));
        assert!(h5.reason.contains("p95 < 1ms"), "{}", h5.reason);
        assert_eq!(c.outcome, Outcome::Fail);
    }
}
