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
//!    **With a history of main** (at least `MAIN_DRIFT_MIN_RUNS` runs with their runner shifts
//!    `ρ_r`), the runners' drift is learned rather than assumed, and the rule reads the run's
//!    shift `D_H` against main's accepted levels (`main_level`): it fails when `D_H` exceeds
//!    `max(ln(1 + max_increase), t_{1−½α,ν} · √(s_H² (1 + 1/R) + se(D_H)²))`, `s_H²` the
//!    variance of the history's `R` shifts pooled with `PRIOR_DRIFT` (`ν = PRIOR_DRIFT_DF + R −
//!    1` degrees of freedom): the one-sided prediction bound of one more runner at half the
//!    false-alarm rate, the two handler families (the baseline's and main's) sharing the other
//!    half, so that an unchanged run still fails at most `α` of the time. On CI whose runners
//!    drift 10% a run that is about ×1.33 (where `drift_max_increase` sets ×1.35 with a
//!    baseline alone); on runners that drift 3%, ×1.15 — the rule tightens as far as the
//!    runners allow. Measured (`trend::simulation`, 10% drift, 200 branches): a run where
//!    every handler is ×1.5 fails 86.5% of the time with a history against 82.5% without, one
//!    handler ×1.5 is caught 71.5% against 72% (its families' smaller share), unchanged runs
//!    fail 0.5% (1.5% without).
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
//!    12ms`) are absolute: *over-budget* fails. Each verdict's [`Severity`] — fail, warn, info,
//!    pass — is decided once under the config (`fail_on_missing`, `fail_on_new`,
//!    `fail_on_warning`) and stored; the run's [`Outcome`] is the most severe of them.
//!
//! The steps live in `levels` (1–3), `statistic` (4–5), `family` (6) and `verdict` (7);
//! [`compare`] runs them in that order. Reasons are data ([`StatReason`], [`HandlerReason`]):
//! the renderers word them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use crate::baseline::{Baseline, Run};
use crate::config::{GateConfig, Rule};
use crate::stats::{self, Stat, round3, round6};

mod family;
mod levels;
mod main_level;
mod statistic;
mod verdict;

pub use family::{design_weights, holm_adjust};
use levels::{Base, Current};
pub use main_level::{MainLevel, MainLevels, MainTest};
use statistic::Terms;
pub use verdict::{FamilyTest, HandlerReason, Severity, StatReason};

/// Verdicts, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Warn,
    Fail,
}

/// One statistic of one handler: the numbers its verdict rests on.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// Why the verdict, with its numbers.
    pub reason: StatReason,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetCheck {
    pub budget: String,
    pub value: Option<f64>,
    pub ok: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HandlerComparison {
    /// `Plugin.handler`.
    pub key: String,
    pub plugin: String,
    pub name: String,
    pub verdict: Verdict,
    /// How much the verdict matters to this run, under the config.
    pub severity: Severity,
    /// Why: the deciding statistic (its reason is in `stats`), new or missing; broken budgets
    /// are in `budgets`.
    pub reason: HandlerReason,
    pub base_count: u64,
    pub now_count: u64,
    pub base_p50: Option<f64>,
    pub now_p50: Option<f64>,
    pub base_p95: Option<f64>,
    pub now_p95: Option<f64>,
    pub stats: Vec<StatComparison>,
    pub budgets: Vec<BudgetCheck>,
    /// Its test against main's accepted level, when the history of main has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub main: Option<MainTest>,
    /// The reports lead with it: its severity is above `pass` (it fails the run, warns, or
    /// improved). The others (unchanged, insufficient, and new unless configured to fail) are
    /// folded.
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

    /// The statistic the handler's reason names, when a statistic decided.
    pub fn deciding_stat(&self) -> Option<&StatComparison> {
        match self.reason {
            HandlerReason::Statistic { stat } => self.stats.iter().find(|s| s.stat == stat),
            _ => None,
        }
    }

    /// The budgets this run broke.
    pub fn broken_budgets(&self) -> impl Iterator<Item = &BudgetCheck> {
        self.budgets.iter().filter(|b| b.ok == Some(false))
    }

    /// The change that orders rows of one verdict: the headline statistic's.
    pub fn headline_change(&self) -> Option<f64> {
        self.headline_stat().and_then(|s| s.change)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    /// The run-wide factor `e^D` (now / base), when it could be estimated.
    pub factor: Option<f64>,
    /// Standard error of `D`.
    pub std_error: Option<f64>,
    pub handlers_used: usize,
    /// Standard deviation of the baseline runs' shifts `ρ_r` (≥ 2 runs).
    pub baseline_spread: Option<f64>,
    /// The shift above which the run fails (against main's runners when `main` is known).
    pub fail_above: f64,
    pub verdict: Verdict,
    pub severity: Severity,
    /// The run's shift against main's history, when there is one: it decides the verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub main: Option<MainDrift>,
}

/// The run-wide shift against main's runners (module doc, step 3).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MainDrift {
    /// `e^{D_H}`: this run against main's levels, on the history's runner scale.
    pub factor: f64,
    pub std_error: f64,
    pub handlers_used: usize,
    /// Runs of main whose runner shifts were read, and their spread (log scale, pooled with
    /// the prior).
    pub runs: usize,
    pub spread: f64,
}

/// The family-wise control of false alarms.
#[derive(Debug, Clone, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Serialize, Deserialize)]
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

    /// Handlers that fail the run (the `regressions` output).
    pub fn failing(&self) -> usize {
        self.handlers.iter().filter(|h| h.severity == Severity::Fail).count()
    }

    /// Something fails or warns: worth a new PR comment (`--comment on-change`).
    pub fn newsworthy(&self) -> bool {
        self.outcome != Outcome::Pass || self.handlers.iter().any(|h| h.severity >= Severity::Warn)
    }
}

/// Per-handler run-to-run jitter (log scale) assumed when the baseline has one run.
pub const PRIOR_JITTER: f64 = 0.03;
/// Runner drift (log scale per run): assumed when the run-wide shift cannot be estimated, and
/// the prior of the run-wide rule's noise, worth `PRIOR_DRIFT_DF` baseline runs.
pub const PRIOR_DRIFT: f64 = 0.10;
const PRIOR_DRIFT_DF: f64 = 4.0;
/// The run-wide shift warns above this part of its failing threshold (log scale).
const DRIFT_WARN: f64 = 2.0 / 3.0;

/// Runs of main whose runner shifts the run-wide rule needs before it reads them, and the
/// share of `false_alarm_rate` that rule spends.
const MAIN_DRIFT_MIN_RUNS: usize = 6;
const MAIN_DRIFT_SHARE: f64 = 0.5;

/// The run-wide rule against main's runners (module doc, step 3): the run's shift `D_H`
/// against main's levels, and the shift above which it fails — the one-sided `1 − ½α`
/// prediction bound of a new runner among the history's `R` runs,
/// `t_{1−½α, ν} · √(s² (1 + 1/R) + se(D_H)²)`
/// with `s²` the runners' variance pooled with `PRIOR_DRIFT` (`ν = PRIOR_DRIFT_DF + R − 1`),
/// and at least the default `max_increase` (a slowdown every handler passes only together is
/// still under each one's threshold). `None` without such a history.
fn against_main(m: main_level::MainShift, shifts: &[f64], gate: &GateConfig) -> Option<(MainDrift, f64)> {
    let r = shifts.len();
    if r < MAIN_DRIFT_MIN_RUNS {
        return None;
    }
    let mean = shifts.iter().sum::<f64>() / r as f64;
    let ss: f64 = shifts.iter().map(|x| (x - mean).powi(2)).sum();
    let df = PRIOR_DRIFT_DF + (r - 1) as f64;
    let s2 = (PRIOR_DRIFT_DF * PRIOR_DRIFT.powi(2) + ss) / df;
    let t = statrs::distribution::StudentsT::new(0.0, 1.0, df).ok()?.inverse_cdf(1.0 - MAIN_DRIFT_SHARE * gate.false_alarm_rate);
    let fail = (1.0 + gate.defaults.max_increase).ln().max(t * (s2 * (1.0 + 1.0 / r as f64) + m.var).sqrt());
    let drift = MainDrift {
        factor: round3(m.shift.exp()),
        std_error: round6(m.var.sqrt()),
        handlers_used: m.handlers,
        runs: r,
        spread: round6(s2.sqrt()),
    };
    Some((drift, fail))
}

/// Compares `run` with `baseline` under `gate`.
pub fn compare(baseline: &Baseline, run: &Run, gate: &GateConfig) -> Comparison {
    compare_with(baseline, run, gate, &MainLevels::default())
}

/// Compares `run` with `baseline` under `gate`, and with main's accepted levels when there are
/// any (`main_level`): the two families and the run-wide rule against main's runners then share
/// the false-alarm rate (¼, ¼, ½), so that a run of unchanged code fails with at most
/// `false_alarm_rate` in all.
pub fn compare_with(baseline: &Baseline, run: &Run, gate: &GateConfig, main: &MainLevels) -> Comparison {
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
    let rho = levels::baseline_shifts(&mut bases, &rules, k_runs, gate.drift_min_handlers);
    let known_rho: Vec<f64> = rho.iter().flatten().copied().collect();
    let rho: Vec<f64> = rho.iter().map(|r| r.unwrap_or(0.0)).collect();
    let spread = (known_rho.len() >= 2).then(|| stats::sample_sd(&known_rho));

    // 2. The jitter.
    let (jitter2, jitter_estimated) = match levels::jitter(&bases, &rho) {
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
    let (shift, shift_var) = levels::run_shift(&diffs, gate.drift_min_handlers, k_runs);
    let terms = Terms {
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
            severity: Severity::Pass,
            reason: HandlerReason::NoStatistic,
            base_count: base.map_or(0, |b| b.count),
            now_count: now.map_or(0, |c| c.summary.count),
            base_p50: base.map(|b| b.history.pooled.p50),
            now_p50: now.map(|c| round3(c.summary.p50)),
            base_p95: base.map(|b| b.history.pooled.p95),
            now_p95: now.map(|c| round3(c.summary.p95)),
            stats: Vec::new(),
            budgets: Vec::new(),
            main: None,
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
                cmp.stats.push(statistic::estimate(stat, gated, b, c, rule, &terms));
            }
        }
        handlers.push(cmp);
    }

    // 6. Holm within each family: gated increases, warn-only increases, decreases.
    // With a history, three tests share the false-alarm rate: the run-wide rule against main's
    // runners (½, when the history has their shifts), the baseline's family and main's.
    let drift_share = if main.runner_shifts.len() >= MAIN_DRIFT_MIN_RUNS { MAIN_DRIFT_SHARE } else { 0.0 };
    let alpha = if main.is_empty() { gate.false_alarm_rate } else { gate.false_alarm_rate * (1.0 - drift_share) / 2.0 };
    let gated = family::holm_family(&handlers, |s| s.gated, |p| p);
    let tests = gated.len();
    let warn_only = family::holm_family(&handlers, |s| !s.gated, |p| p);
    let warn_tests = warn_only.len();
    for ((i, j), adj) in gated.into_iter().chain(warn_only) {
        handlers[i].stats[j].adjusted_p = Some(adj);
    }
    let down: BTreeMap<(usize, usize), f64> = family::holm_family(&handlers, |_| true, |p| 1.0 - p).into_iter().collect();

    // 7. Verdicts, and their severity under the config.
    for (i, h) in handlers.iter_mut().enumerate() {
        let (verdict, reason) = match (bases.contains_key(h.key.as_str()), current.contains_key(h.key.as_str())) {
            (false, true) => (Verdict::New, HandlerReason::New),
            (true, false) => (Verdict::Missing, HandlerReason::Missing),
            _ => {
                for (j, s) in h.stats.iter_mut().enumerate() {
                    let family = if s.gated { tests } else { warn_tests };
                    verdict::decide(s, alpha, down.get(&(i, j)).copied(), family);
                }
                // A statistic without enough samples decides only when every one lacks them.
                h.stats
                    .iter()
                    .filter(|s| s.verdict != Verdict::Insufficient)
                    .min_by_key(|s| s.verdict)
                    .or_else(|| h.stats.first())
                    .map_or((Verdict::Unchanged, HandlerReason::NoStatistic), |s| (s.verdict, HandlerReason::Statistic { stat: s.stat }))
            }
        };
        h.verdict = verdict;
        h.reason = reason;
    }
    let main_shift = if main.is_empty() { None } else { main_level::test(&mut handlers, &current, main, &rules, alpha, terms.z_level) };
    for h in &mut handlers {
        if h.broken_budgets().next().is_some() {
            h.verdict = h.verdict.min(Verdict::OverBudget);
        }
        h.severity = Severity::of(h.verdict, gate);
        h.changed = h.severity > Severity::Pass;
    }

    // The runners' drift: PRIOR_DRIFT, worth PRIOR_DRIFT_DF runs, updated by the baseline's
    // runs; noisier runners widen the rule to their one-sided 1% band.
    let runs_df = known_rho.len().saturating_sub(1) as f64;
    let drift_sd = ((PRIOR_DRIFT_DF * PRIOR_DRIFT.powi(2) + runs_df * spread.unwrap_or(0.0).powi(2)) / (PRIOR_DRIFT_DF + runs_df)).sqrt();
    let fail_log = (1.0 + gate.drift_max_increase).ln().max(2.326 * drift_sd * (1.0 + 1.0 / k_runs.max(1) as f64).sqrt());
    let against_main = main_shift.and_then(|m| against_main(m, &main.runner_shifts, gate));
    let (d, fail_log) = match &against_main {
        Some((m, fail)) => (Some(m.factor.ln()), *fail),
        None => (shift, fail_log),
    };
    let drift_verdict = match d {
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
        severity: Severity::of(drift_verdict, gate),
        main: against_main.map(|(m, _)| m),
    };
    let family = Family { level: alpha, tests, jitter: round6(jitter2.sqrt()), jitter_estimated };
    let mut counts: BTreeMap<Verdict, usize> = BTreeMap::new();
    for h in &handlers {
        *counts.entry(h.verdict).or_default() += 1;
    }
    // One order for every report, each group by the size of its change.
    handlers.sort_by(|a, b| {
        let size = |h: &HandlerComparison| h.headline_change().map_or(0.0, f64::abs);
        verdict::rank(a.severity, a.verdict)
            .cmp(&verdict::rank(b.severity, b.verdict))
            .then_with(|| a.verdict.cmp(&b.verdict))
            .then_with(|| size(b).total_cmp(&size(a)))
            .then_with(|| a.key.cmp(&b.key))
    });
    let worst = handlers.iter().map(|h| h.severity).chain([drift.severity]).max().unwrap_or(Severity::Pass);
    let outcome = match worst {
        Severity::Fail => Outcome::Fail,
        Severity::Warn => Outcome::Warn,
        Severity::Info | Severity::Pass => Outcome::Pass,
    };
    Comparison { outcome, drift, family, counts, ignored, baseline_runs: k_runs, handlers }
}

#[cfg(test)]
pub(crate) mod simulation;

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
                let tests = if s.gated { 3 } else { 6 };
                match s.reason {
                    StatReason::Noise { family } | StatReason::IntervalPast { family, .. } | StatReason::PastThreshold { family, .. } => {
                        assert_eq!(family.tests, tests, "{:?}", s.reason)
                    }
                    StatReason::WithinThreshold { .. } | StatReason::Faster { .. } => {}
                    other => panic!("a measured statistic: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn weights_favour_tests_that_can_see_the_design_change() {
        // Standard errors: hopeless (0.6), useful (0.1), certain (0.005).
        let w = family::weights(&[0.6, 0.1, 0.005]);
        assert!((w.iter().sum::<f64>() - 3.0).abs() < 1e-9, "{w:?}");
        assert!(w[1] > 1.5 && w[1] > w[0] && w[0] > w[2], "{w:?}");
        // Every test keeps its floor.
        assert!(w.iter().all(|x| *x >= family::WEIGHT_FLOOR - 1e-12), "{w:?}");
        // Equal precision: equal weights.
        let w = family::weights(&[0.1; 5]);
        assert!(w.iter().all(|x| (x - 1.0).abs() < 1e-9), "{w:?}");
        // Tests precise enough to see the design change at any level: equal weights, not NaN.
        let w = family::weights(&[0.003; 5]);
        assert!(w.iter().all(|x| (x - 1.0).abs() < 1e-9), "{w:?}");
    }

    #[test]
    fn precise_handlers_still_fail() {
        // Many samples with little spread: every test's standard error is below 0.001.
        let mut rng = crate::rng::Rng::new(8);
        let mut run = |slow: f64| {
            let mut r = Run::default();
            for h in 0..12 {
                let f = if h == 0 { slow } else { 1.0 };
                let d = (0..1000).map(|_| 4.0 * f * (0.005 * rng.normal()).exp()).collect();
                r.add("P", &format!("h{h:02}"), d);
            }
            r
        };
        let baseline = Baseline::empty(3).append(&run(1.0), 3).append(&run(1.0), 3).append(&run(1.0), 3);
        let c = compare(&baseline, &run(3.0), &GateConfig::default());
        let h0 = c.handlers.iter().find(|h| h.key == "P.h00").unwrap();
        assert_eq!((h0.verdict, c.outcome), (Verdict::Regressed, Outcome::Fail), "{:?}", h0.stats[0]);
        assert!(h0.stats[0].adjusted_p.unwrap() < 1e-6, "{:?}", h0.stats[0]);
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
            let rho: Vec<f64> = levels::baseline_shifts(&mut bases, &rules, 3, 3).into_iter().map(|r| r.unwrap_or(0.0)).collect();
            levels::jitter(&bases, &rho).expect("estimated").sqrt()
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
        assert_eq!(c.handlers[0].reason, HandlerReason::Statistic { stat: Stat::Typical });
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
        assert_eq!(h5.broken_budgets().map(|b| b.budget.as_str()).collect::<Vec<_>>(), ["p95 < 1ms"]);
        assert_eq!(c.outcome, Outcome::Fail);
    }
}
