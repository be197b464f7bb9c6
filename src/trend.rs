//! Change points along the history of main: per handler, the runs where its level changed
//! (a **step**) or began to drift (a **creep**), each with its commit and its ratio; each
//! handler's per-run series for the trend page; and each handler's **accepted level**, the
//! level a PR is judged against once a history exists. Reading and writing the history is
//! [`crate::history`]'s; drawing the trend is the renderers'.
//!
//! **Model** (`gate`'s, along time). Run `r` of main gives handler `h` the mean `m̄_h,r` of
//! `ln(ms + c)` over `n_h,r` executions with spread `s_h,r`:
//! `m̄_h,r = μ_h(r) + ρ_r + j_h,r + e_h,r`, `ρ_r` the runner's shift (shared by every handler
//! of the run), `j_h,r ~ N(0, τ_h²)` the handler's run-to-run jitter, `e_h,r ~ N(0, s_h²/n_h,r)`
//! the sampling error. Without a change `μ_h(r)` is constant; a step makes it piecewise
//! constant, a creep linear from some run on.
//!
//! 1. **Runner shifts** exactly as `gate`'s baseline shifts: `ρ_r` is the median, over the
//!    handlers with `min_samples` in run `r` (at least `min_handlers`), of `m̄_h,r − level_h`;
//!    `level_h` the count-weighted mean of `m̄_h,r − ρ_r`; three rounds, `ρ` centred on zero.
//!    A run where every handler is slower moves `ρ_r`, not the handlers. A run with too few
//!    handlers takes the shift its check recorded (`history::Entry::shift`, else 0) and adds
//!    `gate::PRIOR_DRIFT²` to its variance. The series is `y_h,r = m̄_h,r − ρ_r`.
//! 2. **Sampling variance** `e_h,r = s_h² / n_h,r`, `s_h²` the within-run variance pooled over
//!    the handler's runs (`Σ(n−1)s² / Σ(n−1)`; a run's own `s` from three executions is noise).
//! 3. **Jitter** `τ_h²`, robust to the changes it must not hide: the first differences
//!    `d_r = y_r − y_{r−1}` have variance `e_r + e_{r−1} + 2τ²`, and a step moves one of them;
//!    `τ_h²` solves `median_r d_r² / (e_r + e_{r−1} + 2τ²) = med χ²₁ = 0.4549` — the median
//!    of the runs' `(d_r² / 0.4549 − e_r − e_{r−1}) / 2`. Where sampling error dominates a
//!    difference, it says little about `τ²` (the median of 23 `χ²₁` is ±48%), so the handlers
//!    are pooled as `gate` pools them: `τ₀²` is the median of the handlers' estimates weighted
//!    by their information `Σ_r (b_r/2 + τ_p²)⁻²` (`b_r = e_r + e_{r−1}`, `τ_p` =
//!    `gate::PRIOR_JITTER`), clipped at 0 — robust to the handlers that changed; each
//!    handler's own (clipped) estimate enters as `(k τ_h² + K₀ τ₀²)/(k + K₀)` with
//!    `k = Σ_r (τ₀² / (b_r/2 + τ₀²))²` the differences it is worth and `K₀ = 10`: a hot handler
//!    keeps much of its own jitter, a handler of ten executions borrows the others'. Each run
//!    then weighs `w_r = 1 / (e_r + τ_h²)`.
//! 4. **Steps: a weighted mean-shift scan, binary segmentation.** For a split at run `k`
//!    (segments of at least `min_segment` runs each side, so a one-run outlier is never a
//!    level), `Z_k = (ȳ_after − ȳ_before) / √(1/W_before + 1/W_after)` with `ȳ`, `W` the
//!    weighted means and weight sums: the likelihood-ratio statistic of a mean shift at `k`
//!    with known variances (`Z_k²` is the −2 log LR; Hawkins 1977; Killick & Eckley's
//!    changepoint). `k̂ = argmax |Z_k|`. Under no change the `Z_k` are a Gaussian process with
//!    `corr(Z_k, Z_{k+1}) = √(A_k B_{k+1} / (B_k A_{k+1}))`, `A_k`, `B_k` the weight before and
//!    from `k`; the p-value of the maximum is bounded by the Hunter–Worsley (improved
//!    Bonferroni) inequality `P(max_k Z_k > z) ≤ Φ̄(z) + Σ_k P(Z_k ≤ z < Z_{k+1})` (Hunter 1976,
//!    Worsley 1982; its use for change points: Worsley 1986), doubled for `|Z|`, each pair's
//!    probability a one-dimensional integral of the bivariate normal. It is close to exact for
//!    strongly correlated neighbours, where Bonferroni over the `k` would count the same
//!    excursion again at every split. Each handler's first scan gives two one-sided p-values,
//!    its largest rise (`max_k Z_k`) and its largest fall (`max_k −Z_k`); the `2H` tests are
//!    adjusted together by weighted Holm (as `gate` does; Holm 1979), which holds the
//!    probability that a trend of unchanged code reports any step at `¾α` (`α` =
//!    `false_alarm_rate`, default 0.5% per trend: CI runs it after every merge, and the
//!    simulation's unchanged branches then see a false slower change at some commit on 4%).
//!    The weights are read from each handler's precision alone, before its changes: Rubin,
//!    Dudoit & van der Laan's optimal weights for a +20% step between the halves of its history
//!    (`se = 2/√W`, `W` its runs' total weight; `gate::design_weights`), so a handler of three
//!    executions a run, which could not show such a step, does not dilute the level of one
//!    that could; three quarters of each handler's weight go to a rise — a regression is what
//!    the trend is for. (On the simulation's 200 branches, against equal weights and two-sided
//!    tests at `α/2`: a ×1.25 step found on 86% instead of 83% — on a handler of 30–50
//!    executions a run 75% instead of 68% — and fewer false changes on unchanged branches, 0.5%
//!    instead of 1.0% of full histories and 3.5% instead of 5.0% run by run.)
//!    The segments of a handler with a step are scanned again (binary segmentation: Scott &
//!    Knott 1974, Vostrikova 1981), two-sided, at `¾α/H`, `H`
//!    the handlers tested. A step smaller than `min_step` (default 10%, `gate`'s
//!    `max_increase`) is dropped and its segments merged, the smallest first. Its ratio is
//!    `exp(ȳ_after − ȳ_before)` over the neighbouring segments, with the interval
//!    `± z_{(1+confidence)/2} √(1/W_before + 1/W_after)`.
//! 5. **Creep: a weighted least-squares slope** over the last `creep_window` runs:
//!    `b = Σw(t−t̄)(y−ȳ) / Σw(t−t̄)²`, `se(b) = 1/√Σw(t−t̄)²`, `z = b / se(b)` two-sided, Holm
//!    over the handlers at `¼α` (a family of its own). The test counts when significant and
//!    the window's cumulative factor `exp(b (t_last − t_first))` is past `max_increase` (or
//!    below its inverse); for a handler without steps, also only when a ramp explains the
//!    window better than a step: the best broken line `y = a + b (t − t_k)₊` (a hinge at `k`,
//!    weighted least squares) has a smaller weighted residual sum of squares than the best
//!    two-level step (both have three parameters).
//!    **Stairs or a ramp.** Binary segmentation cuts a long ramp into stairs, and a check that
//!    accepted each stair would accept the creep. So for every handler with a change (steps,
//!    or the slope test), the shape is chosen by BIC (`RSS + k ln n`, the RSS weighted, so in
//!    χ² units; Schwarz 1978): the steps found (`k = 2·steps + 1`) against, for each region
//!    start `b` (the first run, or the `j`-th step), the steps up to `b` then one hinge over
//!    `[b, n)` (`k = 2j + 3`) whose rise from its knot passes `max_increase`. A ramp that wins
//!    is reported as a creep (its p-value the slope test's, or, when that did not reject, the
//!    step scan's: the change is established by then, the shape is a model choice); the steps
//!    after `b` are its own, and a step at `b` is measured up to the creep's knot. The hinge's
//!    knot places the creep's start (its first run is the one after the knot); its ratio is
//!    `exp(b_k (t_last − t_k))` with the interval from `se(b_k)(t_last − t_k)`.
//! 6. **Accepted level**: the weighted mean of `y` over the handler's current segment (since
//!    its last step), or, with a creep, over the runs of its segment before the creep began —
//!    so a PR is judged against the level creep started from, and creep fails `check` once its
//!    sum passes the threshold. Its standard error is `1/√W`; it is on the history's runner
//!    scale (the `ρ_r` centred on zero), like the baseline's levels on the baseline's.
//!
//! Against E-divisive means (Matteson & James 2014; MongoDB's CI, Daly et al. ICPE 2020;
//! Hunter / Apache Otava), which reads one number per run and calibrates by permutation: this
//! knows each run's sampling error and runner shift, so a run of 5 executions weighs less
//! than one of 500, a slow runner is no change, and the p-values are analytic (no
//! permutations, deterministic).
//!
//! Deterministic: handlers in key order, no randomness. Cost: `O(H · R)` for the shifts, the
//! jitter, the scans and the hinges (prefix sums), plus the Hunter–Worsley integrals of the
//! scans whose maximum could be significant and the binary segmentation of the changed
//! handlers. Measured (the ignored test `timing_1000_runs_100_handlers`, release without LTO,
//! on a loaded 2-core machine): 1,000 runs × 100 handlers in 35 ms; with 67 of the 100
//! handlers changed, 210 ms.

use std::collections::BTreeMap;

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};

use crate::history::{Entry, History};
use crate::stats;

pub use crate::config::TrendConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Step,
    Creep,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Slower,
    Faster,
}

/// One change of one handler's level.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub key: String,
    pub plugin: String,
    pub name: String,
    pub kind: Kind,
    pub direction: Direction,
    /// Index (into the history) of the first run at the new level (a creep: the first run of
    /// its ramp).
    pub run: usize,
    pub commit: Option<String>,
    /// The commit of the handler's run before it.
    pub previous_commit: Option<String>,
    pub time: Option<String>,
    /// After / before (a creep: now / where it began), and its interval at `confidence`.
    pub ratio: f64,
    pub lower: f64,
    pub upper: f64,
    /// The handler's runs in the segment before and after (a creep: before its start, on its
    /// ramp).
    pub runs_before: usize,
    pub runs_after: usize,
    /// A creep's factor per run (the hinge's slope).
    pub per_run: Option<f64>,
    /// Holm-adjusted p-value of the handler's test (the step scan's or the slope's).
    pub p_value: f64,
}

/// One handler in one run, for the trend page.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Point {
    pub run: usize,
    pub count: u64,
    /// The typical duration as measured (ms).
    pub typical: f64,
    /// With the run's runner shift taken out, and its interval at `confidence` (sampling and
    /// jitter).
    pub adjusted: f64,
    pub lower: f64,
    pub upper: f64,
    pub p95: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LevelBasis {
    /// The runs since the handler's last step (all its runs without one).
    Segment,
    /// The runs of its segment before a creep began.
    BeforeCreep,
}

/// The level a PR is judged against (module doc, step 6).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Level {
    /// Mean of `ln(ms + c)` free of the runners, on the history's runner scale.
    pub log_level: f64,
    pub std_error: f64,
    /// `exp(log_level) − c` (ms).
    pub typical: f64,
    /// The first run it rests on, its commit, and how many runs.
    pub since_run: usize,
    pub since_commit: Option<String>,
    pub runs: usize,
    pub basis: LevelBasis,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HandlerTrend {
    pub key: String,
    pub plugin: String,
    pub name: String,
    /// `τ_h` and the pooled within-run `s_h` (log scale).
    pub jitter: f64,
    pub spread: f64,
    pub series: Vec<Point>,
    pub changes: Vec<Change>,
    pub accepted: Option<Level>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunPoint {
    pub commit: Option<String>,
    pub time: Option<String>,
    /// `ρ_r` as estimated across handlers (`None`: too few handlers; the recorded one was used).
    pub shift: Option<f64>,
    pub recorded_shift: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Trend {
    pub runs: Vec<RunPoint>,
    pub handlers: BTreeMap<String, HandlerTrend>,
    /// Every handler's changes, by run then key.
    pub changes: Vec<Change>,
}

impl Trend {
    /// Each handler's accepted level (module doc, step 6).
    pub fn accepted_levels(&self) -> BTreeMap<&str, &Level> {
        self.handlers.iter().filter_map(|(k, h)| Some((k.as_str(), h.accepted.as_ref()?))).collect()
    }

    /// The changes that made a handler slower.
    pub fn slower(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.direction == Direction::Slower)
    }
}

impl Trend {
    /// What a check reads of the history (`gate::main_level`): each handler's accepted level
    /// with its jitter and its last runs, and the runner shifts of the runs. A handler with a
    /// change `skip` selects (a creep acknowledged) has no level: it is judged against the
    /// baseline alone.
    pub fn main_levels(&self, skip: &dyn Fn(&Change) -> bool) -> crate::gate::MainLevels {
        let handlers = self
            .handlers
            .values()
            .filter(|h| !h.changes.iter().any(skip))
            .filter_map(|h| {
                let l = h.accepted.as_ref()?;
                let level = crate::gate::MainLevel {
                    log_level: l.log_level,
                    std_error: l.std_error,
                    jitter: h.jitter,
                    spread: h.spread,
                    since_commit: l.since_commit.clone(),
                    runs: l.runs,
                    recent: h.series.iter().rev().take(SPARK_RUNS).rev().map(|p| p.adjusted).collect(),
                };
                Some((h.key.clone(), level))
            })
            .collect();
        crate::gate::MainLevels { handlers, runner_shifts: self.runs.iter().filter_map(|r| r.shift).collect() }
    }
}

/// Runs of main a check's comment shows beside its run.
const SPARK_RUNS: usize = 12;
/// Median of `χ²₁`.
const MEDIAN_CHI2_1: f64 = 0.454_936_423_119_572_8;
/// Differences the pooled jitter is worth when a handler's own is shrunk towards it.
const JITTER_PRIOR_RUNS: f64 = 10.0;
/// The least variance a run's mean is given (log scale, sd 0.001): a handler logged as the
/// same integer every time has no spread, and its runs still need finite weights.
const MIN_VARIANCE: f64 = 1e-6;
/// Runs a creep's window needs.
const CREEP_MIN_RUNS: usize = 6;
/// The step the step family's weights are designed to find (+20%: twice `min_step`'s default,
/// below the regressions a team would want found); the share of `false_alarm_rate` the step
/// family gets (the creep family the rest); the share of each handler's level given to a
/// slower step.
const DESIGN_STEP: f64 = 0.2;
const STEP_SHARE: f64 = 0.75;
const SLOWER_SHARE: f64 = 0.75;

/// One handler's observations: (run, count, log mean, log sd), in run order.
struct Series<'h> {
    key: &'h str,
    plugin: &'h str,
    name: &'h str,
    obs: Vec<(usize, u64, f64, f64, f64)>,
}

/// A handler's series ready for the tests: run index, value `y`, weight `w`.
struct Prepared {
    t: Vec<usize>,
    y: Vec<f64>,
    e: Vec<f64>,
    w: Vec<f64>,
}

/// Finds the changes in `history` (module doc).
pub fn detect(history: &History, config: &TrendConfig) -> Trend {
    detect_runs(&history.entries, config)
}

/// [`detect`] over the runs `entries` (oldest first): a history's prefix, as CI saw it then.
pub fn detect_runs(entries: &[Entry], config: &TrendConfig) -> Trend {
    let runs_n = entries.len();
    let mut series: BTreeMap<&str, Series> = BTreeMap::new();
    for (r, e) in entries.iter().enumerate() {
        for (k, h) in &e.handlers {
            series
                .entry(k.as_str())
                .or_insert_with(|| Series { key: k, plugin: &h.plugin, name: &h.name, obs: Vec::new() })
                .obs
                .push((r, h.count, h.log_mean, h.log_sd, h.p95));
        }
    }
    let series: Vec<Series> = series.into_values().collect();

    // 1. Runner shifts.
    let estimated = runner_shifts(&series, runs_n, config.min_samples as u64, config.min_handlers);
    let prior_drift2 = crate::gate::PRIOR_DRIFT.powi(2);
    let rho: Vec<f64> = (0..runs_n).map(|r| estimated[r].or(entries[r].shift).unwrap_or(0.0)).collect();
    let extra: Vec<f64> = estimated.iter().map(|s| if s.is_some() { 0.0 } else { prior_drift2 }).collect();

    // 2. Sampling variances.
    let pooled_s2: Vec<Option<f64>> = series
        .iter()
        .map(|s| {
            let df: f64 = s.obs.iter().map(|o| o.1 as f64 - 1.0).sum();
            (df > 0.0).then(|| s.obs.iter().map(|o| (o.1 as f64 - 1.0) * o.3 * o.3).sum::<f64>() / df)
        })
        .collect();
    let fallback_s2 = {
        let known: Vec<f64> = pooled_s2.iter().flatten().copied().collect();
        if known.is_empty() { 0.25 } else { median(&known) }
    };
    let mut prepared: Vec<Prepared> = series
        .iter()
        .zip(&pooled_s2)
        .map(|(s, s2)| {
            let s2 = s2.unwrap_or(fallback_s2);
            let t: Vec<usize> = s.obs.iter().map(|o| o.0).collect();
            let y = s.obs.iter().map(|o| o.2 - rho[o.0]).collect();
            let e = s.obs.iter().map(|o| s2 / o.1 as f64 + extra[o.0]).collect();
            Prepared { t, y, e, w: Vec::new() }
        })
        .collect();

    // 3. Jitter.
    let own: Vec<Option<(f64, Vec<f64>)>> = prepared.iter().map(own_jitter).collect();
    let prior2 = crate::gate::PRIOR_JITTER.powi(2);
    let pooled_tau2 = {
        // Weighted by the information each estimate has about τ² near the prior.
        let known: Vec<(f64, f64)> =
            own.iter().flatten().map(|(t2, base)| (*t2, base.iter().map(|b| (b / 2.0 + prior2).powi(-2)).sum::<f64>())).collect();
        if known.is_empty() { prior2 } else { weighted_median(known).max(0.0) }
    };
    let reference = pooled_tau2.max(prior2 / 4.0);
    let tau2: Vec<f64> = own
        .iter()
        .map(|o| {
            o.as_ref().map_or(pooled_tau2, |(t2, base)| {
                let k: f64 = base.iter().map(|b| (reference / (b / 2.0 + reference)).powi(2)).sum();
                (k * t2.max(0.0) + JITTER_PRIOR_RUNS * pooled_tau2) / (k + JITTER_PRIOR_RUNS)
            })
        })
        .collect();
    for (p, t2) in prepared.iter_mut().zip(&tau2) {
        p.w = p.e.iter().map(|e| 1.0 / (e + t2).max(MIN_VARIANCE)).collect();
    }

    let alpha = config.false_alarm_rate * STEP_SHARE;
    let alpha_creep = config.false_alarm_rate - alpha;
    let z_conf = Normal::standard().inverse_cdf((1.0 + config.confidence) / 2.0);

    // 4. Steps: the first scan of every handler, one test a direction, weighted Holm over
    //    them, then binary segmentation.
    let min_seg = config.min_segment.max(1);
    let first: Vec<Option<[Scan; 2]>> = prepared.iter().map(|p| scan_sides(p, 0, p.y.len(), min_seg, alpha)).collect();
    let tested = first.iter().flatten().count().max(1);
    let step_p = step_family(&prepared, &first, alpha);
    let mut steps: Vec<Vec<usize>> = vec![Vec::new(); prepared.len()];
    for (i, p) in prepared.iter().enumerate() {
        let Some(sides) = &first[i] else { continue };
        let (adjusted, dir) = step_p[i];
        if adjusted > alpha {
            continue;
        }
        let k = sides[dir].k;
        let level = alpha / tested as f64;
        let mut found = vec![k];
        split(p, 0, k, min_seg, level, &mut found);
        split(p, k, p.y.len(), min_seg, level, &mut found);
        found.sort_unstable();
        steps[i] = prune(p, found, config.min_step);
    }

    // 5. Creep.
    let slopes: Vec<Option<Slope>> = prepared.iter().map(|p| slope(p, config.creep_window)).collect();
    let creep_p = holm(&slopes.iter().map(|s| s.as_ref().map_or(1.0, |s| s.p)).collect::<Vec<_>>());

    let mut handlers = BTreeMap::new();
    let mut all_changes = Vec::new();
    for (i, (s, p)) in series.iter().zip(&prepared).enumerate() {
        let change = |kind, run_at: usize, ratio: (f64, f64), before, after, per_run, p_value| {
            let entry = &entries[p.t[run_at]];
            Change {
                key: s.key.to_owned(),
                plugin: s.plugin.to_owned(),
                name: s.name.to_owned(),
                kind,
                direction: if ratio.0 > 0.0 { Direction::Slower } else { Direction::Faster },
                run: p.t[run_at],
                commit: entry.commit.clone(),
                previous_commit: run_at.checked_sub(1).and_then(|j| entries[p.t[j]].commit.clone()),
                time: entry.time.clone(),
                ratio: round6(ratio.0.exp()),
                lower: round6((ratio.0 - z_conf * ratio.1).exp()),
                upper: round6((ratio.0 + z_conf * ratio.1).exp()),
                runs_before: before,
                runs_after: after,
                per_run,
                p_value: round6(p_value),
            }
        };
        let mut step_at: Vec<usize> = steps[i].clone();
        let creep_test = slopes[i].as_ref().filter(|sl| {
            creep_p[i] <= alpha_creep
                && sl.cumulative.abs() >= (1.0 + config.max_increase).ln()
                && (!step_at.is_empty() || sl.hinge.rss < sl.step_rss)
        });
        // The shape of a change found (module doc, step 5): stairs or a ramp.
        let mut creep: Option<(Hinge, f64)> = None;
        if (!step_at.is_empty() || creep_test.is_some())
            && let Some((kept, hinge)) = ramp(p, &step_at, (1.0 + config.max_increase).ln())
        {
            step_at.truncate(kept);
            step_at = prune(p, step_at, config.min_step);
            creep = Some((hinge, if creep_test.is_some() { creep_p[i] } else { step_p[i].0 }));
        }
        // With a creep, the last segment ends where the ramp begins.
        let end = creep.map_or(p.y.len(), |(c, _)| c.knot + 1);
        let bounds: Vec<usize> = std::iter::once(0).chain(step_at.iter().copied()).chain(std::iter::once(end)).collect();
        let mut changes = Vec::new();
        for j in 1..bounds.len() - 1 {
            let (a, k, b) = (bounds[j - 1], bounds[j], bounds[j + 1]);
            let (m1, w1) = mean(p, a, k);
            let (m2, w2) = mean(p, k, b);
            let se = (1.0 / w1 + 1.0 / w2).sqrt();
            changes.push(change(Kind::Step, k, (m2 - m1, se), k - a, b - k, None, step_p[i].0));
        }
        let seg_start = *bounds[..bounds.len() - 1].last().unwrap_or(&0);
        let mut accepted = None;
        if let Some((c, p_value)) = creep {
            // The knot is the last run at the old level; the ramp starts after it.
            let knot = c.knot.max(seg_start);
            let last = p.y.len() - 1;
            let span = (p.t[last] - p.t[knot]) as f64;
            changes.push(change(
                Kind::Creep,
                knot + 1,
                (c.slope.0 * span, c.slope.1 * span),
                knot + 1 - seg_start,
                last - knot,
                Some(round6(c.slope.0.exp())),
                p_value,
            ));
            accepted = Some(if knot + 1 - seg_start >= 2 {
                level(entries, p, seg_start, knot + 1, LevelBasis::BeforeCreep)
            } else {
                Level {
                    log_level: round6(c.level.0),
                    std_error: round6(c.level.1),
                    typical: stats::round3(stats::from_log(c.level.0)),
                    since_run: p.t[knot],
                    since_commit: entries[p.t[knot]].commit.clone(),
                    runs: 1,
                    basis: LevelBasis::BeforeCreep,
                }
            });
        }
        if accepted.is_none() && !p.y.is_empty() {
            accepted = Some(level(entries, p, seg_start, p.y.len(), LevelBasis::Segment));
        }
        let series_points = s
            .obs
            .iter()
            .zip(p.y.iter().zip(&p.w))
            .map(|(o, (y, w))| {
                let half = z_conf / w.sqrt();
                Point {
                    run: o.0,
                    count: o.1,
                    typical: stats::round3(stats::from_log(o.2)),
                    adjusted: stats::round3(stats::from_log(*y)),
                    lower: stats::round3(stats::from_log(y - half)),
                    upper: stats::round3(stats::from_log(y + half)),
                    p95: o.4,
                }
            })
            .collect();
        all_changes.extend(changes.iter().cloned());
        handlers.insert(
            s.key.to_owned(),
            HandlerTrend {
                key: s.key.to_owned(),
                plugin: s.plugin.to_owned(),
                name: s.name.to_owned(),
                jitter: round6(tau2[i].sqrt()),
                spread: round6(pooled_s2[i].unwrap_or(fallback_s2).sqrt()),
                series: series_points,
                changes,
                accepted,
            },
        );
    }
    all_changes.sort_by(|a, b| (a.run, &a.key, a.kind).cmp(&(b.run, &b.key, b.kind)));
    let runs = entries
        .iter()
        .zip(&estimated)
        .map(|(e, s)| RunPoint { commit: e.commit.clone(), time: e.time.clone(), shift: s.map(round6), recorded_shift: e.shift })
        .collect();
    Trend { runs, handlers, changes: all_changes }
}

/// Each handler's accepted level in `history` (module doc, step 6): what `check` judges a PR
/// against when a history exists.
pub fn accepted_levels(history: &History, config: &TrendConfig) -> BTreeMap<String, Level> {
    detect(history, config).handlers.into_iter().filter_map(|(k, h)| Some((k, h.accepted?))).collect()
}

fn level(entries: &[Entry], p: &Prepared, a: usize, b: usize, basis: LevelBasis) -> Level {
    let (m, w) = mean(p, a, b);
    Level {
        log_level: round6(m),
        std_error: round6(1.0 / w.sqrt()),
        typical: stats::round3(stats::from_log(m)),
        since_run: p.t[a],
        since_commit: entries[p.t[a]].commit.clone(),
        runs: b - a,
        basis,
    }
}

/// `ρ_r` (module doc, step 1): `gate`'s alternation over the history's runs.
fn runner_shifts(series: &[Series], runs: usize, min_samples: u64, min_handlers: usize) -> Vec<Option<f64>> {
    let mut rho: Vec<Option<f64>> = vec![None; runs];
    let mut level = vec![0.0; series.len()];
    let set_levels = |level: &mut [f64], rho: &[Option<f64>]| {
        for (l, s) in level.iter_mut().zip(series) {
            let n: f64 = s.obs.iter().map(|o| o.1 as f64).sum();
            *l = s.obs.iter().map(|o| o.1 as f64 * (o.2 - rho[o.0].unwrap_or(0.0))).sum::<f64>() / n;
        }
    };
    set_levels(&mut level, &rho);
    let mut diffs: Vec<Vec<f64>> = vec![Vec::new(); runs];
    for _ in 0..3 {
        diffs.iter_mut().for_each(Vec::clear);
        for (s, l) in series.iter().zip(&level) {
            for o in s.obs.iter().filter(|o| o.1 >= min_samples) {
                diffs[o.0].push(o.2 - l);
            }
        }
        for (slot, d) in rho.iter_mut().zip(&mut diffs) {
            *slot = (d.len() >= min_handlers.max(1)).then(|| median_in_place(d));
        }
        let known: Vec<f64> = rho.iter().flatten().copied().collect();
        if !known.is_empty() {
            let centre = known.iter().sum::<f64>() / known.len() as f64;
            rho.iter_mut().flatten().for_each(|r| *r -= centre);
        }
        set_levels(&mut level, &rho);
    }
    rho
}

/// `τ_h²` from the first differences (module doc, step 3), unclipped, and each difference's
/// sampling variance `e_r + e_{r−1}`. The
/// ratio `d_r² / (b_r + 2τ²)` passes `med χ²₁` exactly when `τ²` passes
/// `τ_r² = (d_r² / med χ²₁ − b_r) / 2`, so the root is the median of the `τ_r²`.
fn own_jitter(p: &Prepared) -> Option<(f64, Vec<f64>)> {
    if p.y.len() < 3 {
        return None;
    }
    let base: Vec<f64> = (1..p.y.len()).map(|i| p.e[i] + p.e[i - 1]).collect();
    let mut each: Vec<f64> = (1..p.y.len()).map(|i| ((p.y[i] - p.y[i - 1]).powi(2) / MEDIAN_CHI2_1 - base[i - 1]) / 2.0).collect();
    Some((median_in_place(&mut each), base))
}

/// The median of `(value, weight)` pairs: the first value where the weight reaches half.
fn weighted_median(mut v: Vec<(f64, f64)>) -> f64 {
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = v.iter().map(|x| x.1).sum();
    let mut acc = 0.0;
    for (x, w) in &v {
        acc += w;
        if acc >= total / 2.0 {
            return *x;
        }
    }
    v.last().map_or(0.0, |x| x.0)
}

/// The weighted mean of `y[a..b]` and its weight.
fn mean(p: &Prepared, a: usize, b: usize) -> (f64, f64) {
    let w: f64 = p.w[a..b].iter().sum();
    (p.w[a..b].iter().zip(&p.y[a..b]).map(|(w, y)| w * y).sum::<f64>() / w, w)
}

/// The best split of `[a, b)` and its p-value.
struct Scan {
    k: usize,
    p: f64,
}

/// One split of a scan: `(k, Z_k, A_k)`, `A_k` the weight before `k`.
type Split = (usize, f64, f64);

/// The mean-shift statistics of `[a, b)`: per split `k` (segments of at least `min_seg`),
/// `(k, Z_k, A_k)`, and the segment's total weight.
fn splits(p: &Prepared, a: usize, b: usize, min_seg: usize) -> Option<(Vec<Split>, f64)> {
    if b < a + 2 * min_seg {
        return None;
    }
    let total_w: f64 = p.w[a..b].iter().sum();
    let total_s: f64 = p.w[a..b].iter().zip(&p.y[a..b]).map(|(w, y)| w * y).sum();
    let (mut wa, mut sa) = (0.0, 0.0);
    let mut out = Vec::new();
    for k in a..b - min_seg {
        wa += p.w[k];
        sa += p.w[k] * p.y[k];
        let k1 = k + 1;
        if k1 < a + min_seg {
            continue;
        }
        let wb = total_w - wa;
        let z = ((total_s - sa) / wb - sa / wa) / (1.0 / wa + 1.0 / wb).sqrt();
        out.push((k1, z, wa));
    }
    Some((out, total_w))
}

/// The best split in one direction (`sign` 1: a rise, −1: a fall) and the one-sided p-value
/// of its maximum, `P(max_k sign·Z_k > z)` (module doc, step 4). The Hunter–Worsley integrals
/// are computed only when the maximum could pass `level`; otherwise the p-value is
/// Bonferroni's.
fn side(splits: &[Split], total_w: f64, sign: f64, level: f64) -> Scan {
    let (k, z) = splits.iter().map(|s| (s.0, sign * s.1)).fold((0, f64::NEG_INFINITY), |acc, s| if s.1 > acc.1 { s } else { acc });
    let tail = normal_sf(z);
    let bonferroni = (splits.len() as f64 * tail).min(1.0);
    if tail > level || bonferroni <= 1e-300 {
        return Scan { k, p: bonferroni };
    }
    let mut bound = tail;
    for pair in splits.windows(2) {
        let (ak, ak1) = (pair[0].2, pair[1].2);
        let c = (ak * (total_w - ak1) / ((total_w - ak) * ak1)).sqrt();
        bound += crossing(z, c);
    }
    Scan { k, p: bound.min(bonferroni).min(1.0) }
}

/// The rise and the fall of `[a, b)` with their one-sided p-values.
fn scan_sides(p: &Prepared, a: usize, b: usize, min_seg: usize, level: f64) -> Option<[Scan; 2]> {
    let (splits, total_w) = splits(p, a, b, min_seg)?;
    Some([side(&splits, total_w, 1.0, level), side(&splits, total_w, -1.0, level)])
}

/// The two-sided mean-shift scan of `[a, b)`: the larger `|Z_k|`, its p-value doubled.
fn scan(p: &Prepared, a: usize, b: usize, min_seg: usize, level: f64) -> Option<Scan> {
    let [up, down] = scan_sides(p, a, b, min_seg, level / 2.0)?;
    let best = if up.p <= down.p { up } else { down };
    Some(Scan { k: best.k, p: (2.0 * best.p).min(1.0) })
}

/// The step family (module doc, step 4): each scanned handler's rise and fall as two one-sided
/// tests, adjusted together by weighted Holm at `alpha`. A handler's weight is
/// [`design_weights`](crate::gate::design_weights) of its precision for a step of
/// `DESIGN_STEP` between the halves of its history (`se = 2/√W`, `W` its runs' total weight),
/// split between the directions as `SLOWER_SHARE` : `1 − SLOWER_SHARE` — a regression is what
/// the trend is for. Per handler: the smaller adjusted p-value and its direction (0: slower).
fn step_family(prepared: &[Prepared], first: &[Option<[Scan; 2]>], alpha: f64) -> Vec<(f64, usize)> {
    let scanned: Vec<usize> = (0..prepared.len()).filter(|&i| first[i].is_some()).collect();
    let se: Vec<f64> = scanned.iter().map(|&i| 2.0 / prepared[i].w.iter().sum::<f64>().sqrt()).collect();
    let w = crate::gate::design_weights(&se, (1.0 + DESIGN_STEP).ln(), alpha);
    let (mut p, mut weights) = (Vec::with_capacity(2 * scanned.len()), Vec::with_capacity(2 * scanned.len()));
    for (j, &i) in scanned.iter().enumerate() {
        let sides = first[i].as_ref().expect("scanned");
        p.extend([sides[0].p, sides[1].p]);
        weights.extend([2.0 * SLOWER_SHARE * w[j], 2.0 * (1.0 - SLOWER_SHARE) * w[j]]);
    }
    let adjusted = crate::gate::holm_adjust(&p, &weights);
    let mut out = vec![(1.0, 0); prepared.len()];
    for (j, &i) in scanned.iter().enumerate() {
        let (up, down) = (adjusted[2 * j], adjusted[2 * j + 1]);
        out[i] = if up <= down { (up, 0) } else { (down, 1) };
    }
    out
}

/// Binary segmentation below a first split: finds the steps of `[a, b)` at `level`.
fn split(p: &Prepared, a: usize, b: usize, min_seg: usize, level: f64, out: &mut Vec<usize>) {
    if let Some(s) = scan(p, a, b, min_seg, level)
        && s.p <= level
    {
        out.push(s.k);
        split(p, a, s.k, min_seg, level, out);
        split(p, s.k, b, min_seg, level, out);
    }
}

/// Drops steps smaller than `min_step`, the smallest first, merging their segments.
fn prune(p: &Prepared, mut steps: Vec<usize>, min_step: f64) -> Vec<usize> {
    let floor = (1.0 + min_step).ln();
    loop {
        let bounds: Vec<usize> = std::iter::once(0).chain(steps.iter().copied()).chain(std::iter::once(p.y.len())).collect();
        let sizes: Vec<f64> =
            (1..bounds.len() - 1).map(|j| (mean(p, bounds[j], bounds[j + 1]).0 - mean(p, bounds[j - 1], bounds[j]).0).abs()).collect();
        match sizes.iter().enumerate().filter(|(_, s)| **s < floor).min_by(|a, b| a.1.total_cmp(b.1)) {
            Some((j, _)) => {
                steps.remove(j);
            }
            None => return steps,
        }
    }
}

/// `P(Z_k ≤ z < Z_{k+1})` for standard normals with correlation `c`:
/// `∫₀^∞ φ(z+u) Φ(((1−c)z − cu)/√(1−c²)) du`, by Simpson's rule over where the integrand lives.
fn crossing(z: f64, c: f64) -> f64 {
    if c >= 1.0 - 1e-12 {
        return 0.0;
    }
    let s = (1.0 - c * c).sqrt();
    let upper = (10.0 / z.max(1.0)).min(8.0).min(((1.0 - c) * z + 8.0 * s) / c.max(1e-9));
    const N: usize = 32;
    let h = upper / N as f64;
    let f = |u: f64| normal_pdf(z + u) * normal_cdf(((1.0 - c) * z - c * u) / s);
    let mut acc = f(0.0) + f(upper);
    for i in 1..N {
        acc += f(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    (acc * h / 3.0).clamp(0.0, normal_sf(z))
}

/// The creep test's numbers for one handler (module doc, step 5).
struct Slope {
    /// The window's two-sided p-value and cumulative change (log scale).
    p: f64,
    cumulative: f64,
    /// The best hinge in the window, and the best two-level step's residual sum of squares.
    hinge: Hinge,
    step_rss: f64,
}

/// A broken line `y = a + b (t − t_knot)₊` fitted by weighted least squares.
#[derive(Clone, Copy)]
struct Hinge {
    rss: f64,
    /// The last run (index into the series) at the flat level.
    knot: usize,
    /// `b` and its standard error; `a` (the flat level) and its standard error.
    slope: (f64, f64),
    level: (f64, f64),
}

/// The best hinge over `[a, b)`, its knot anywhere from `a` to `b − 3` (at `a`: a line).
fn best_hinge(p: &Prepared, a: usize, b: usize) -> Hinge {
    let (t, y, w) = (&p.t[a..b], &p.y[a..b], &p.w[a..b]);
    let m = b - a;
    let sw: f64 = w.iter().sum();
    let ybar = w.iter().zip(y).map(|(w, y)| w * y).sum::<f64>() / sw;
    let mut best = Hinge { rss: f64::INFINITY, knot: a, slope: (0.0, f64::INFINITY), level: (ybar, 1.0 / sw.sqrt()) };
    // Suffix sums of w, w·t, w·t², w·y, w·t·y (t from the region's start, y about its mean):
    // each knot's fit in O(1), `x = (t − t_j)₊` summed over the runs from the knot on.
    let tt: Vec<f64> = t.iter().map(|&ti| (ti - t[0]) as f64).collect();
    let (mut s_w, mut s_t, mut s_tt, mut s_y, mut s_ty) =
        (vec![0.0; m + 1], vec![0.0; m + 1], vec![0.0; m + 1], vec![0.0; m + 1], vec![0.0; m + 1]);
    for i in (0..m).rev() {
        let dy = y[i] - ybar;
        s_w[i] = s_w[i + 1] + w[i];
        s_t[i] = s_t[i + 1] + w[i] * tt[i];
        s_tt[i] = s_tt[i + 1] + w[i] * tt[i] * tt[i];
        s_y[i] = s_y[i + 1] + w[i] * dy;
        s_ty[i] = s_ty[i + 1] + w[i] * tt[i] * dy;
    }
    let syy: f64 = w.iter().zip(y).map(|(w, y)| w * (y - ybar).powi(2)).sum();
    for j in 0..m.saturating_sub(2) {
        let tj = tt[j];
        let sx = s_t[j] - tj * s_w[j];
        let xbar = sx / sw;
        let sxx = s_tt[j] - 2.0 * tj * s_t[j] + tj * tj * s_w[j] - sx * xbar;
        if sxx <= 1e-12 {
            continue;
        }
        // Σw(x − x̄)(y − ȳ) = Σw·x·(y − ȳ): the y are centred.
        let sxy = s_ty[j] - tj * s_y[j];
        let rss = (syy - sxy * sxy / sxx).max(0.0);
        if rss < best.rss {
            let bj = sxy / sxx;
            // Var(a) = 1/Σw + x̄²/Sxx: the flat level's standard error.
            best = Hinge {
                rss,
                knot: a + j,
                slope: (bj, (1.0 / sxx).sqrt()),
                level: (ybar - bj * xbar, (1.0 / sw + xbar * xbar / sxx).sqrt()),
            };
        }
    }
    best
}

/// Whether the handler's change is a ramp: the best model by BIC (`RSS + k ln n`, the RSS
/// weighted, so in χ² units) among the steps found (`k = 2·steps + 1`) and, for each region
/// start `b` (0 or a step), the steps before `b` then one hinge over `[b, n)` (`k = 2j + 3`
/// with `j` the steps up to `b`; 3 for `b = 0`). A ramp wins only if its hinge rises or falls
/// by `threshold` (log) from its knot to the end. Returns how many steps stay (those up to
/// the region's start) and the hinge.
fn ramp(p: &Prepared, steps: &[usize], threshold: f64) -> Option<(usize, Hinge)> {
    let n = p.y.len();
    let ln_n = (n as f64).ln();
    let flat = |cuts: &[usize], end: usize| {
        let bounds: Vec<usize> = std::iter::once(0).chain(cuts.iter().copied()).chain(std::iter::once(end)).collect();
        bounds.windows(2).map(|w| flat_rss(p, w[0], w[1])).sum::<f64>()
    };
    let mut best_bic = flat(steps, n) + (2 * steps.len() + 1) as f64 * ln_n;
    let mut best = None;
    for j in 0..=steps.len() {
        let b = if j == 0 { 0 } else { steps[j - 1] };
        if n - b < CREEP_MIN_RUNS {
            continue;
        }
        let hinge = best_hinge(p, b, n);
        if hinge.knot + 2 >= n || (hinge.slope.0 * (p.t[n - 1] - p.t[hinge.knot]) as f64).abs() < threshold {
            continue;
        }
        let before = if j == 0 { 0.0 } else { flat(&steps[..j - 1], b) };
        let bic = before + hinge.rss + (2 * j + 3) as f64 * ln_n;
        if bic < best_bic {
            best_bic = bic;
            best = Some((j, hinge));
        }
    }
    best
}

/// The weighted residual sum of squares of `y[a..b]` about its mean.
fn flat_rss(p: &Prepared, a: usize, b: usize) -> f64 {
    let (m, _) = mean(p, a, b);
    p.w[a..b].iter().zip(&p.y[a..b]).map(|(w, y)| w * (y - m).powi(2)).sum()
}

fn slope(p: &Prepared, window: usize) -> Option<Slope> {
    let n = p.y.len();
    let len = window.min(n);
    if len < CREEP_MIN_RUNS {
        return None;
    }
    let a = n - len;
    let t: Vec<f64> = p.t[a..].iter().map(|&t| t as f64).collect();
    let (y, w) = (&p.y[a..], &p.w[a..]);
    let sw: f64 = w.iter().sum();
    let tbar = w.iter().zip(&t).map(|(w, t)| w * t).sum::<f64>() / sw;
    let ybar = w.iter().zip(y).map(|(w, y)| w * y).sum::<f64>() / sw;
    let stt: f64 = w.iter().zip(&t).map(|(w, t)| w * (t - tbar).powi(2)).sum();
    let sty: f64 = w.iter().zip(&t).zip(y).map(|((w, t), y)| w * (t - tbar) * (y - ybar)).sum();
    let b = sty / stt;
    let z = b / (1.0 / stt).sqrt();
    let step_rss = (a + 2..=n - 2).map(|k| flat_rss(p, a, k) + flat_rss(p, k, n)).fold(f64::INFINITY, f64::min);
    Some(Slope { p: (2.0 * normal_sf(z.abs())).min(1.0), cumulative: b * (t[len - 1] - t[0]), hinge: best_hinge(p, a, n), step_rss })
}

/// Holm's step-down adjusted p-values (equal weights), in the order given (Holm 1979):
/// `adj_(i) = max_{j ≤ i} min(1, (m − j + 1) p_(j))`.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|a, b| p[*a].total_cmp(&p[*b]));
    let mut out = vec![1.0; m];
    let mut running = 0.0f64;
    for (j, &i) in order.iter().enumerate() {
        running = running.max((p[i] * (m - j) as f64).min(1.0));
        out[i] = running;
    }
    out
}

fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

fn normal_cdf(x: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(-x / std::f64::consts::SQRT_2)
}

fn normal_sf(x: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(x / std::f64::consts::SQRT_2)
}

fn median(v: &[f64]) -> f64 {
    median_in_place(&mut v.to_vec())
}

/// The median (mean of the middle two for an even count); reorders `v`.
fn median_in_place(v: &mut [f64]) -> f64 {
    let n = v.len();
    let (_, &mut hi, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        return hi;
    }
    let lo = v[..n / 2].iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lo + hi) / 2.0
}

fn round6(x: f64) -> f64 {
    stats::round6(x)
}

#[cfg(test)]
mod simulation;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holm_is_holm() {
        let adj = holm(&[0.01, 0.04, 0.03, 0.005]);
        assert_eq!(adj, vec![0.03, 0.06, 0.06, 0.02]);
    }

    #[test]
    fn crossing_matches_the_bivariate_normal() {
        // P(Z₁ ≤ z < Z₂) = Φ̄(z) − P(Z₁ > z, Z₂ > z); for c = 0 it is Φ(z) Φ̄(z).
        let z = 2.5;
        assert!((crossing(z, 0.0) - normal_cdf(z) * normal_sf(z)).abs() < 1e-6, "{}", crossing(z, 0.0));
        // For c → 1 the Rice rate φ(z) √(2(1−c)) / √(2π) · … leads; the bound vanishes.
        assert!(crossing(z, 0.999_999) < 1e-5);
        // Orthant probability for c = 0.5 at z = 0: P(Z₁ ≤ 0 < Z₂) = 1/4 − asin(0.5)/(2π) = 1/6.
        assert!((crossing(0.0, 0.5) - 1.0 / 6.0).abs() < 1e-4, "{}", crossing(0.0, 0.5));
    }

    /// A history of `runs` runs × `handlers` handlers built from summaries directly (counts
    /// 5–500, σ 0.5, 10% runner drift, 3% jitter), handler `h` in run `r` times `change(h, r)`.
    fn synthetic(runs: usize, handlers: usize, seed: u64, change: &dyn Fn(usize, usize) -> f64) -> History {
        use crate::history::{Entry, HandlerRun, Histogram};
        let mut rng = crate::rng::Rng::new(seed);
        let shape: Vec<(f64, u64)> = (0..handlers).map(|_| (rng.log_uniform(1.0, 20.0).ln(), rng.log_uniform(5.0, 500.0) as u64)).collect();
        let entries = (0..runs)
            .map(|r| {
                let drift = 0.1 * rng.normal();
                let handlers = shape
                    .iter()
                    .enumerate()
                    .map(|(h, &(mu, n))| {
                        let step = change(h, r).ln();
                        let m = mu + drift + step + 0.03 * rng.normal() + 0.5 / (n as f64).sqrt() * rng.normal();
                        let (plugin, name) = ("P".to_owned(), format!("h{h:03}"));
                        let run = HandlerRun {
                            plugin,
                            name,
                            count: n,
                            log_mean: m,
                            log_sd: 0.5,
                            p50: m.exp(),
                            p95: m.exp() * 2.3,
                            histogram: Histogram::default(),
                        };
                        (format!("P.h{h:03}"), run)
                    })
                    .collect();
                Entry { commit: Some(format!("c{r:04}")), time: None, seeded: None, shift: None, handlers }
            })
            .collect();
        History::new(entries)
    }

    #[test]
    fn a_step_in_a_long_history_is_found_at_its_commit() {
        let t = detect(&synthetic(120, 30, 3, &|h, r| if h == 0 && r >= 60 { 1.3 } else { 1.0 }), &TrendConfig::default());
        let found: Vec<(&str, usize, Kind)> = t.changes.iter().map(|c| (c.key.as_str(), c.run, c.kind)).collect();
        assert_eq!(found, [("P.h000", 60, Kind::Step)]);
        let c = &t.changes[0];
        assert!(c.lower < 1.3 && 1.3 < c.upper && c.direction == Direction::Slower, "{c:?}");
        assert_eq!(
            (c.commit.as_deref(), c.previous_commit.as_deref(), c.runs_before, c.runs_after),
            (Some("c0060"), Some("c0059"), 60, 60)
        );
        // The accepted level is the new segment's.
        let level = &t.accepted_levels()["P.h000"];
        assert_eq!((level.since_run, level.runs, level.basis), (60, 60, LevelBasis::Segment));
    }

    #[test]
    fn creep_is_judged_from_where_it_began() {
        // Handler 1 is 4% slower per run from run 30 of 42 on (×1.6 at the end).
        let t = detect(
            &synthetic(42, 30, 5, &|h, r| if h == 1 && r >= 30 { 1.04f64.powi((r - 29) as i32) } else { 1.0 }),
            &TrendConfig::default(),
        );
        let found: Vec<(&str, Kind, Direction)> = t.changes.iter().map(|c| (c.key.as_str(), c.kind, c.direction)).collect();
        assert_eq!(found, [("P.h001", Kind::Creep, Direction::Slower)]);
        let c = &t.changes[0];
        assert!((28..=32).contains(&c.run), "{c:?}");
        let per_run = c.per_run.unwrap();
        assert!((1.02..1.06).contains(&per_run) && c.lower < 1.04f64.powi(12) * 1.1 && c.upper > 1.04f64.powi(10), "{c:?}");
        // The accepted level is the one before the creep: the handler's level without it.
        let level = &t.accepted_levels()["P.h001"];
        assert_eq!((level.basis, level.since_run), (LevelBasis::BeforeCreep, 0));
        let unchanged = detect(&synthetic(42, 30, 5, &|_, _| 1.0), &TrendConfig::default());
        let before = &unchanged.accepted_levels()["P.h001"];
        assert!((level.log_level - before.log_level).abs() < 3.0 * level.std_error.max(before.std_error), "{level:?} {before:?}");
    }

    #[test]
    fn a_slow_runner_is_not_a_change_and_short_histories_are_quiet() {
        // Every handler ×1.5 in run 20: the runner's shift, not 30 changes.
        let t = detect(&synthetic(40, 30, 8, &|_, r| if r == 20 { 1.5 } else { 1.0 }), &TrendConfig::default());
        assert_eq!(t.changes, []);
        let shift = t.runs[20].shift.unwrap() - t.runs[19].shift.unwrap();
        assert!((shift - 1.5f64.ln()).abs() < 0.3, "{shift}");
        for runs in 0..4 {
            let t = detect(&synthetic(runs, 12, 9, &|_, _| 1.0), &TrendConfig::default());
            assert_eq!((t.runs.len(), t.changes.len(), t.accepted_levels().len()), (runs, 0, if runs == 0 { 0 } else { 12 }));
        }
        // One handler logged as the same integer every time: no spread, no change, no NaN.
        let mut h = synthetic(10, 12, 10, &|_, _| 1.0);
        for e in &mut h.entries {
            let r = e.handlers.get_mut("P.h003").unwrap();
            (r.log_mean, r.log_sd) = (1.1f64.ln(), 0.0);
        }
        let t = detect(&h, &TrendConfig::default());
        assert!(t.changes.is_empty() && t.handlers["P.h003"].accepted.as_ref().unwrap().log_level.is_finite());
    }

    /// `detect` over 1,000 runs × 100 handlers (the product's budget: well under a second in
    /// release): `cargo test --release --lib trend::tests::timing -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn timing_1000_runs_100_handlers() {
        let history = synthetic(1000, 100, 11, &|h, r| if h == 0 && r >= 500 { 1.3 } else { 1.0 });
        let config = TrendConfig::default();
        let mut best = std::time::Duration::MAX;
        let mut trend = None;
        for _ in 0..5 {
            let start = std::time::Instant::now();
            trend = Some(detect(&history, &config));
            best = best.min(start.elapsed());
        }
        // A worse case: two handlers in three changed (a step at 500, a creep of 0.1% per run
        // from 600), so their shapes are chosen too.
        let all = synthetic(1000, 100, 12, &|h, r| match h % 3 {
            0 if r >= 500 => 1.3,
            1 if r >= 600 => 1.001f64.powi((r - 599) as i32),
            _ => 1.0,
        });
        let start = std::time::Instant::now();
        let changed = detect(&all, &config);
        let worst = start.elapsed();
        println!("detect over 1,000 runs × 100 handlers: {best:?} (best of 5); 67 handlers changed: {worst:?}");
        let changed_handlers = changed.changes.iter().map(|c| &c.key).collect::<std::collections::BTreeSet<_>>().len();
        assert!(changed_handlers >= 60, "{changed_handlers}");
        assert!(worst < std::time::Duration::from_secs(1), "{worst:?}");
        let trend = trend.unwrap();
        assert!(trend.changes.iter().any(|c| c.key == "P.h000" && c.run.abs_diff(500) <= 3), "{:?}", trend.changes);
        assert!(best < std::time::Duration::from_secs(1), "{best:?}");
    }

    #[test]
    fn a_run_with_too_few_handlers_takes_its_recorded_shift() {
        // Three handlers (fewer than `min_handlers`): no shift can be estimated; runs 6 and 7
        // were on a runner 50% slower, as their checks recorded.
        let mut h = synthetic(14, 3, 13, &|_, r| if r == 6 || r == 7 { 1.5 } else { 1.0 });
        for e in &mut h.entries {
            e.shift = Some(0.0);
        }
        let (with, without) = {
            let mut recorded = h.clone();
            recorded.entries[6].shift = Some(1.5f64.ln());
            recorded.entries[7].shift = Some(1.5f64.ln());
            (detect(&recorded, &TrendConfig::default()), detect(&h, &TrendConfig::default()))
        };
        assert_eq!((with.runs[6].shift, with.runs[6].recorded_shift), (None, Some(1.5f64.ln())));
        assert_eq!(with.changes, []);
        // The adjusted series has the runner taken out only where it was recorded.
        let adjusted = |t: &Trend| t.handlers["P.h000"].series[6].adjusted / t.handlers["P.h000"].series[5].adjusted;
        assert!(adjusted(&with) < 1.3 && adjusted(&without) > 1.3, "{} {}", adjusted(&with), adjusted(&without));
    }

    #[test]
    fn hinge_by_sums_matches_direct_least_squares() {
        let mut rng = crate::rng::Rng::new(4);
        let t: Vec<usize> = (0..30)
            .scan(0, |acc, _| {
                *acc += 1 + rng.below(3);
                Some(*acc)
            })
            .collect();
        let y: Vec<f64> = t.iter().map(|&t| 0.02 * (t as f64 - 20.0).max(0.0) + 0.05 * rng.normal()).collect();
        let w: Vec<f64> = (0..30).map(|_| rng.log_uniform(10.0, 1000.0)).collect();
        let p = Prepared { t: t.clone(), y: y.clone(), e: vec![0.0; 30], w: w.clone() };
        let direct = |j: usize| {
            let x: Vec<f64> = t[5..].iter().map(|&ti| ti.saturating_sub(t[j]) as f64).collect();
            let (ys, ws) = (&y[5..], &w[5..]);
            let sw: f64 = ws.iter().sum();
            let (xb, yb) =
                (ws.iter().zip(&x).map(|(w, x)| w * x).sum::<f64>() / sw, ws.iter().zip(ys).map(|(w, y)| w * y).sum::<f64>() / sw);
            let b = ws.iter().zip(&x).zip(ys).map(|((w, x), y)| w * (x - xb) * (y - yb)).sum::<f64>()
                / ws.iter().zip(&x).map(|(w, x)| w * (x - xb).powi(2)).sum::<f64>();
            (ws.iter().zip(&x).zip(ys).map(|((w, x), y)| w * (y - yb - b * (x - xb)).powi(2)).sum::<f64>(), b)
        };
        let h = best_hinge(&p, 5, 30);
        let (rss, b) = (5..28).map(direct).min_by(|a, b| a.0.total_cmp(&b.0)).unwrap();
        assert!((h.rss - rss).abs() < 1e-9 * rss.max(1.0) && (h.slope.0 - b).abs() < 1e-9, "{} {rss} {} {b}", h.rss, h.slope.0);
        assert!((direct(h.knot).0 - h.rss).abs() < 1e-9 * rss.max(1.0));
    }

    #[test]
    fn median_in_place_even_and_odd() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
    }
}
