//! Step 6 of the gate (see the module doc of [`super`]): Holm's weighted step-down procedure
//! within a family of tests, and the weights that favour tests precise enough to see a change.

use statrs::distribution::{ContinuousCDF, Normal};

use super::{HandlerComparison, StatComparison};

/// Weighted Holm within one family: the statistics `member` selects, with p-value
/// `p(p_value)`; each as (handler index, statistic index, adjusted p). The weights are
/// [`weights`] of the tests' precision, known before their changes are.
pub(super) fn holm_family(
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
/// Laan's (2006) optimal weights for detecting a common change `θ = ln(1 + DESIGN_CHANGE)`
/// ([`design_weights`] at `DESIGN_ALPHA`).
pub(super) fn weights(se: &[f64]) -> Vec<f64> {
    design_weights(se, (1.0 + DESIGN_CHANGE).ln(), DESIGN_ALPHA)
}

/// Rubin, Dudoit & van der Laan's (2006) optimal weights (mean 1) for detecting a change `theta`
/// (log scale) in every test at a family level `alpha`: with `c_i = θ / se_i`, test `i` gets
/// the level `α_i = Φ̄(c_i/2 + L/c_i)`, `L` such that the levels sum to `α`: tests too noisy to
/// detect `θ` and tests that detect it at any level get little, the rest more. Every test keeps
/// `WEIGHT_FLOOR` of its equal share. Known before the changes are (they read only the
/// precision), so Holm's bound holds with them.
pub fn design_weights(se: &[f64], theta: f64, alpha: f64) -> Vec<f64> {
    let m = se.len();
    if m == 0 {
        return Vec::new();
    }
    let c: Vec<f64> = se.iter().map(|s| if *s > 0.0 { theta / s } else { 1e6 }).collect();
    let normal = Normal::standard();
    let levels = |l: f64| c.iter().map(|c| normal.sf(c / 2.0 + l / c)).collect::<Vec<_>>();
    // Σ α_i decreases in L; find Σ α_i = alpha by bisection on L.
    let (mut lo, mut hi) = (-50.0f64, 500.0f64);
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if levels(mid).iter().sum::<f64>() > alpha { lo = mid } else { hi = mid }
    }
    let a = levels(hi);
    let total: f64 = a.iter().sum();
    // Tests so precise that each detects the design change at any level: no `L` spreads the
    // design level over them (Φ̄ underflows towards 0 for every one), so no test is favoured and
    // the weights are equal. Without this, 0/0 made every weight NaN and every adjusted p-value
    // 1 — the gate passed a ×3 regression of handlers with many samples and little spread.
    if !(total >= alpha / 2.0 && total.is_finite()) {
        return vec![1.0; m];
    }
    a.iter().map(|x| WEIGHT_FLOOR + (1.0 - WEIGHT_FLOOR) * x / total * m as f64).collect()
}

/// The change the family's level is spread to detect best (+50%), the level the weights are
/// designed at, and the part of an equal share every test keeps.
const DESIGN_CHANGE: f64 = 0.5;
const DESIGN_ALPHA: f64 = 0.01;
pub(super) const WEIGHT_FLOOR: f64 = 0.2;

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
