//! Step 7 of the gate (see the module doc of [`super`]): each statistic's verdict and the reason
//! for it, as data (the renderers word it), and each verdict's [`Severity`] under the config —
//! decided here once, and read by every report, annotation, output and the exit code.

use serde::{Deserialize, Serialize};

use super::{StatComparison, Verdict};
use crate::config::GateConfig;

/// How much a verdict matters to this run, under the config: what fails it, what warns, what is
/// worth telling (an improvement), and what passes quietly. Ordered from the least to the most
/// severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Pass,
    Info,
    Warn,
    Fail,
}

impl Severity {
    /// The one place a verdict becomes a severity: `fail_on_missing`, `fail_on_new` and
    /// `--fail-on warning` (`fail_on_warning`) raise missing, new and warning handlers to
    /// failures; regressions and broken budgets always fail.
    pub fn of(v: Verdict, gate: &GateConfig) -> Severity {
        match v {
            Verdict::Regressed | Verdict::OverBudget => Severity::Fail,
            Verdict::Missing if gate.fail_on_missing => Severity::Fail,
            Verdict::New if gate.fail_on_new => Severity::Fail,
            Verdict::Warning if gate.fail_on_warning => Severity::Fail,
            Verdict::Missing | Verdict::Warning => Severity::Warn,
            Verdict::Improved => Severity::Info,
            Verdict::New | Verdict::Insufficient | Verdict::Unchanged => Severity::Pass,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Severity::Pass => "pass",
            Severity::Info => "info",
            Severity::Warn => "warn",
            Severity::Fail => "fail",
        }
    }
}

/// A statistic's test within its family: Holm's adjusted p-value, the family-wise level and the
/// number of tests in the family.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FamilyTest {
    pub adjusted_p: f64,
    pub level: f64,
    pub tests: usize,
}

/// Why a statistic got its verdict, with the numbers the reason rests on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum StatReason {
    /// Not decided yet (never in a finished comparison).
    Pending,
    /// Fewer samples than the statistic needs on one side.
    NeedsSamples { needed: usize, base: u64, now: u64 },
    /// The statistic is zero on one side: no ratio to test.
    ZeroOnOneSide,
    /// Significant across the run, past the threshold and past the floor (regressed; a warning
    /// for a warn-only statistic).
    PastThreshold { threshold: f64, delta_ms: f64, floor_ms: f64, family: FamilyTest },
    /// The interval lies past the threshold and the floor, but the family-wise test does not
    /// reject.
    IntervalPast { threshold: f64, family: FamilyTest },
    /// Faster by more than the mirror of the threshold (`by`, a fraction) and the floor.
    Faster { by: f64, delta_ms: f64 },
    /// A real increase, within the threshold or the floor.
    WithinThreshold { threshold: f64, floor_ms: f64 },
    /// Not significant.
    Noise { family: FamilyTest },
}

/// Why a handler got its verdict; broken budgets are in its `budgets`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum HandlerReason {
    /// Not in the baseline.
    New,
    /// In the baseline, not in this run.
    Missing,
    /// No statistic was compared.
    NoStatistic,
    /// The statistic that decided (its reason and numbers are in `stats`).
    Statistic { stat: crate::stats::Stat },
    /// Its typical duration against main's accepted level (the numbers are in `main`).
    MainLevel,
}

/// The verdict and reason of a measured statistic, given its adjusted p-values (increase within
/// its family, decrease) and its family's level and size.
pub(super) fn decide(s: &mut StatComparison, alpha: f64, adjusted_down: Option<f64>, tests: usize) {
    let (Some(change), Some(lower), Some(upper), Some(delta), Some(adj)) = (s.change, s.lower, s.upper, s.delta_ms, s.adjusted_p) else {
        return;
    };
    let threshold = s.threshold;
    let floor_ms = s.floor_ms;
    let drop = 1.0 / (1.0 + threshold) - 1.0;
    let down = adjusted_down.unwrap_or(1.0);
    let family = FamilyTest { adjusted_p: adj, level: alpha, tests };
    let (verdict, reason) = if adj <= alpha && change > threshold && delta > floor_ms {
        let v = if s.gated { Verdict::Regressed } else { Verdict::Warning };
        (v, StatReason::PastThreshold { threshold, delta_ms: delta, floor_ms, family })
    } else if lower > threshold && delta > floor_ms {
        (Verdict::Warning, StatReason::IntervalPast { threshold, family })
    } else if ((down <= alpha && change < drop) || upper < drop) && -delta > floor_ms {
        (Verdict::Improved, StatReason::Faster { by: -drop, delta_ms: -delta })
    } else if adj <= alpha && change > 0.0 {
        (Verdict::Unchanged, StatReason::WithinThreshold { threshold, floor_ms })
    } else {
        (Verdict::Unchanged, StatReason::Noise { family })
    };
    s.verdict = verdict;
    s.reason = reason;
}

/// The position of a handler in every report: what fails, then warnings, then improvements;
/// then the folded ones — unchanged, insufficient, new.
pub(super) fn rank(severity: Severity, verdict: Verdict) -> u8 {
    match severity {
        Severity::Fail => 0,
        Severity::Warn => 1,
        Severity::Info => 2,
        Severity::Pass => match verdict {
            Verdict::Unchanged => 3,
            Verdict::Insufficient => 4,
            _ => 5,
        },
    }
}
