//! Steps 1–3 of the gate (see the module doc of [`super`]): the baseline runs' shifts and each
//! handler's drift-free level, the per-handler run-to-run jitter, and the run-wide shift of the
//! candidate.

use std::collections::BTreeMap;

use crate::baseline::HandlerHistory;
use crate::config::Rule;
use crate::stats::{self, Summary};

use super::PRIOR_DRIFT;

/// The candidate's view of one handler.
pub(super) struct Current<'r> {
    pub(super) plugin: &'r str,
    pub(super) name: &'r str,
    pub(super) sorted: &'r [f64],
    pub(super) summary: Summary,
}

/// The baseline's view of one handler: its runs (index, summary), level and within-run spread.
pub(super) struct Base<'a> {
    pub(super) history: &'a HandlerHistory,
    pub(super) runs: Vec<(usize, &'a Summary)>,
    pub(super) count: u64,
    /// `level_h`: drift-free mean of the logarithms.
    pub(super) level: f64,
    /// Within-run sum of squares of the logarithms and its degrees of freedom.
    pub(super) ss: f64,
    pub(super) ss_df: f64,
    /// `Σ n_r² / N²`: how much of one run's jitter the level keeps.
    pub(super) jitter_share: f64,
}

impl<'a> Base<'a> {
    /// The runs the handler ran in; `None` when it has no samples (its level is set later).
    pub(super) fn new(history: &'a HandlerHistory) -> Option<Base<'a>> {
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

/// The baseline runs' shifts `ρ_r` (`None` where too few handlers qualify), leaving each base's
/// `level` set (see the module doc, step 1).
pub(super) fn baseline_shifts(
    bases: &mut BTreeMap<&str, Base>,
    rules: &BTreeMap<&str, Rule>,
    k_runs: usize,
    min_handlers: usize,
) -> Vec<Option<f64>> {
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
pub(super) fn jitter(bases: &BTreeMap<&str, Base>, rho: &[f64]) -> Option<f64> {
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

pub(super) fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    stats::quantile_sorted(&s, 0.5)
}

/// The run-wide shift `D` and its variance (step 3): the median of `diffs` (each handler's
/// `m̄_now − level_h`) with `(1.2533 · 1.4826 · MAD)² / m`, when at least `min_handlers` qualify;
/// else no shift, and the prior drift's variance for a baseline of `k_runs` runs.
pub(super) fn run_shift(diffs: &[f64], min_handlers: usize, k_runs: usize) -> (Option<f64>, f64) {
    if diffs.len() >= min_handlers {
        let m = median(diffs);
        let mad = 1.4826 * median(&diffs.iter().map(|r| (r - m).abs()).collect::<Vec<_>>());
        (Some(m), (1.2533 * mad).powi(2) / diffs.len() as f64)
    } else {
        (None, PRIOR_DRIFT.powi(2) * (1.0 + 1.0 / k_runs.max(1) as f64))
    }
}
