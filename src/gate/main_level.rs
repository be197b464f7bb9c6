//! The test against main's accepted level (issue: a creep the rolling baseline follows down).
//! When the history of main has a level for a handler (`trend`: where its current segment began,
//! or the level before a creep), the run is also judged against it:
//!
//! `x_h = m̄_now − L_h`; the run's shift against the history's runner scale is
//! `D_H = median_h x_h` over the handlers with `min_samples`, with standard error
//! `1.2533 · 1.4826 · MAD / √m` (as step 3 of the gate); then `d_h = x_h − D_H` with variance
//! `s_h²/n_now + se(L_h)² + τ_h² + se(D_H)²` (`τ_h` the handler's run-to-run jitter the trend
//! estimated, `s_h` its within-run spread pooled over the history's runs: this run's own spread,
//! from as few as `min_samples` executions, understated it often enough to fail one unchanged
//! run in fifty). The one-sided p-values of an increase are adjusted by Holm within this family;
//! a handler *regressed* against main when its adjusted p is at most the family's level, its
//! change `e^d − 1` is past `max_increase`, and the typical duration grew by more than
//! `min_increase_ms` — the same thresholds as the baseline's test. A series of small increases
//! that each passed against the rolling baseline fails once their sum passes the threshold.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use super::levels::{Current, median};
use super::{HandlerComparison, Verdict, family};
use crate::config::Rule;
use crate::stats::{self, round3};

/// Main's accepted level of a handler, from the history (`trend`).
#[derive(Debug, Clone, PartialEq)]
pub struct MainLevel {
    /// Mean of `ln(ms + c)` on the history's runner scale, and its standard error.
    pub log_level: f64,
    pub std_error: f64,
    /// The handler's run-to-run jitter `τ_h` and its within-run spread `s_h` pooled over the
    /// history's runs (log scale).
    pub jitter: f64,
    pub spread: f64,
    /// The first commit the level rests on, and how many runs.
    pub since_commit: Option<String>,
    pub runs: usize,
    /// The typical duration of its last runs on main (ms, oldest first), each run's runner
    /// shift taken out: the comment's sparkline.
    pub recent: Vec<f64>,
}

/// What the history of main tells a check: the handlers' levels, by key, and the runners'
/// shifts over its runs (the run-wide rule's noise, learned).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MainLevels {
    pub handlers: BTreeMap<String, MainLevel>,
    /// The runner shift `ρ_r` of each run of the history where it was estimated (log scale,
    /// centred on zero: the history's runner scale).
    pub runner_shifts: Vec<f64>,
}

impl MainLevels {
    pub fn is_empty(&self) -> bool {
        self.handlers.is_empty()
    }
}

/// This run's shift against main's levels, `D_H`, its variance, and the handlers it rests on.
#[derive(Debug, Clone, Copy)]
pub(super) struct MainShift {
    pub shift: f64,
    pub var: f64,
    pub handlers: usize,
}

/// A handler's test against main's level.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MainTest {
    /// Main's level (ms, with this run's shift) and where it began.
    pub expected: f64,
    pub since_commit: Option<String>,
    pub runs: usize,
    /// Relative change of the typical duration against it, and its interval at `confidence`.
    pub change: f64,
    pub lower: f64,
    pub upper: f64,
    pub delta_ms: f64,
    pub threshold: f64,
    pub floor_ms: f64,
    pub p_value: f64,
    pub adjusted_p: f64,
    /// The family's level and size.
    pub level: f64,
    pub tests: usize,
    pub regressed: bool,
    /// Main's last runs (ms, runner shifts taken out, oldest first) and this run on the same
    /// scale (its shift against them, `D_H`, taken out): the comment's sparkline.
    #[serde(default)]
    pub recent: Vec<f64>,
    #[serde(default)]
    pub now_on_main: f64,
}

/// Tests every handler with a level on main and enough samples now; stores each test on its
/// handler, and returns the run's shift against main (`None` below three such handlers).
/// `alpha`: this family's level; `z`: the interval's normal quantile.
pub(super) fn test(
    handlers: &mut [HandlerComparison],
    current: &BTreeMap<&str, Current>,
    levels: &MainLevels,
    rules: &BTreeMap<&str, Rule>,
    alpha: f64,
    z: f64,
) -> Option<MainShift> {
    let usable: Vec<(usize, &Current, &MainLevel)> = handlers
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            let now = current.get(h.key.as_str())?;
            let level = levels.handlers.get(&h.key)?;
            (now.summary.count as usize >= rules.get(h.key.as_str())?.min_samples && now.summary.count >= 2).then_some((i, now, level))
        })
        .collect();
    if usable.len() < 3 {
        return None;
    }
    let x: Vec<f64> = usable.iter().map(|(_, now, l)| now.summary.log_mean - l.log_level).collect();
    let shift = median(&x);
    let mad = 1.4826 * median(&x.iter().map(|v| (v - shift).abs()).collect::<Vec<_>>());
    let shift_var = (1.2533 * mad).powi(2) / x.len() as f64;
    let normal = Normal::standard();
    let tested: Vec<(usize, f64, f64, &Current, &MainLevel)> = usable
        .iter()
        .zip(&x)
        .map(|((i, now, l), x)| {
            let d = x - shift;
            let var = l.spread.powi(2) / now.summary.count as f64 + l.std_error.powi(2) + l.jitter.powi(2) + shift_var;
            (*i, d, var.sqrt(), *now, *l)
        })
        .collect();
    let p: Vec<f64> = tested
        .iter()
        .map(|(_, d, se, _, _)| {
            if *se > 0.0 {
                normal.sf(d / se)
            } else if *d > 0.0 {
                0.0
            } else {
                1.0
            }
        })
        .collect();
    let adjusted = family::holm_adjust(&p, &vec![1.0; p.len()]);
    let tests = p.len();
    for (((i, d, se, now, l), p), adj) in tested.into_iter().zip(p).zip(adjusted) {
        let h = &mut handlers[i];
        let rule = &rules[h.key.as_str()];
        let expected = stats::from_log(l.log_level + shift);
        let delta_ms = stats::from_log(now.summary.log_mean) - expected;
        let change = d.exp() - 1.0;
        let regressed = adj <= alpha && change > rule.max_increase && delta_ms > rule.min_increase_ms;
        h.main = Some(MainTest {
            expected: round3(expected),
            since_commit: l.since_commit.clone(),
            runs: l.runs,
            change: round3(change),
            lower: round3((d - z * se).exp() - 1.0),
            upper: round3((d + z * se).exp() - 1.0),
            delta_ms: round3(delta_ms),
            threshold: rule.max_increase,
            floor_ms: rule.min_increase_ms,
            p_value: p,
            adjusted_p: adj,
            level: alpha,
            tests,
            regressed,
            recent: l.recent.clone(),
            now_on_main: round3(stats::from_log(now.summary.log_mean - shift)),
        });
        if regressed
            && h.verdict > Verdict::Regressed
            && matches!(h.verdict, Verdict::Warning | Verdict::Improved | Verdict::Insufficient | Verdict::Unchanged)
        {
            h.verdict = Verdict::Regressed;
            h.reason = super::HandlerReason::MainLevel;
        }
    }
    Some(MainShift { shift, var: shift_var, handlers: tests })
}
