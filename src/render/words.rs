//! How the reports word the gate's data: the one format of a change and of its interval, a
//! verdict's mark and colour (from its severity, decided once by the gate), and every reason.
//! The renderers call these; none words a verdict on its own.

use crate::gate::{Comparison, FamilyTest, HandlerComparison, HandlerReason, Outcome, Severity, StatComparison, StatReason, Verdict};

/// A relative change as a signed percentage: `+12.5%`.
pub fn pct(x: f64) -> String {
    format!("{:+.1}%", x * 100.0)
}

/// The interval of a change, in the one format every report uses: `[+1.0%, +9.0%]`.
pub fn interval(lower: f64, upper: f64) -> String {
    format!("[{}, {}]", pct(lower), pct(upper))
}

/// A change with its interval, `+5.0% [+1.0%, +9.0%]`, when the statistic was tested.
pub fn change(s: &StatComparison) -> Option<String> {
    match (s.change, s.lower, s.upper) {
        (Some(c), Some(l), Some(u)) => Some(format!("{} {}", pct(c), interval(l, u))),
        _ => None,
    }
}

/// A p-value in few characters: `0.003`, `2e-7`.
fn p_text(p: f64) -> String {
    if p >= 0.001 { format!("{}", (p * 1000.0).round() / 1000.0) } else { format!("{p:.0e}") }
}

fn family(f: &FamilyTest) -> String {
    format!(
        "family-wise p {} {} {} ({} tests)",
        p_text(f.adjusted_p),
        if f.adjusted_p <= f.level { "≤" } else { ">" },
        p_text(f.level),
        f.tests
    )
}

/// Why a statistic got its verdict, in one line (its change and interval are shown beside it).
pub fn stat_reason(s: &StatComparison) -> String {
    match &s.reason {
        StatReason::Pending => String::new(),
        StatReason::NeedsSamples { needed, base, now } => {
            format!("{} needs {needed} samples on each side (baseline {base}, now {now})", s.stat.name())
        }
        StatReason::ZeroOnOneSide => format!("{} is zero on one side: no ratio to test", s.stat.name()),
        StatReason::PastThreshold { threshold, delta_ms, floor_ms, family: f } => {
            format!("past {} and +{delta_ms:.2} ms > {floor_ms} ms; {}", pct(*threshold), family(f))
        }
        StatReason::IntervalPast { threshold, family: f } => {
            format!("interval past {}, but not significant across the run: {}", pct(*threshold), family(f))
        }
        StatReason::Faster { by, delta_ms } => format!("faster by more than {:.1}% and {delta_ms:.2} ms", by * 100.0),
        StatReason::WithinThreshold { threshold, floor_ms } => format!("a real increase, within {} / {floor_ms} ms", pct(*threshold)),
        StatReason::Noise { family: f } => format!("within the noise ({})", family(f)),
    }
}

/// Why a handler got its verdict, whole: the deciding statistic with its change and interval,
/// then any broken budget.
pub fn reason(h: &HandlerComparison) -> String {
    let base = match h.reason {
        HandlerReason::New => "not in the baseline".to_owned(),
        HandlerReason::Missing => "in the baseline, not in this run".to_owned(),
        HandlerReason::NoStatistic => "no statistic compared".to_owned(),
        HandlerReason::MainLevel => match &h.main {
            Some(m) => format!(
                "typical {} {} against main's level ({:.2} ms since {}, {} runs): past {} and +{:.2} ms",
                pct(m.change),
                interval(m.lower, m.upper),
                m.expected,
                m.since_commit.as_deref().map_or_else(|| "its first run".to_owned(), |c| c.chars().take(7).collect()),
                m.runs,
                pct(m.threshold),
                m.delta_ms
            ),
            None => "against main's level".to_owned(),
        },
        HandlerReason::Statistic { .. } => match h.deciding_stat() {
            Some(s) => match change(s) {
                Some(c) => format!("{} {c}: {}", s.stat.name(), stat_reason(s)),
                None => stat_reason(s),
            },
            None => "no statistic compared".to_owned(),
        },
    };
    let broken: Vec<String> = h
        .broken_budgets()
        .map(|b| format!("budget {} broken ({} ms)", b.budget, b.value.map_or("–".into(), |v| format!("{v:.2}"))))
        .collect();
    match (broken.is_empty(), h.verdict) {
        (true, _) => base,
        (false, Verdict::OverBudget) => broken.join("; "),
        (false, _) => format!("{base}; {}", broken.join("; ")),
    }
}

/// The reason for rows that show the headline statistic's numbers: that statistic's own reason
/// when it decided the verdict, else the whole reason.
pub fn short_reason(h: &HandlerComparison) -> String {
    match h.headline_stat().or_else(|| h.stats.first()).filter(|s| s.verdict == h.verdict) {
        Some(s) => stat_reason(s),
        None => reason(h),
    }
}

/// The statistic a row shows: the headline one, else the first one.
pub fn headline(h: &HandlerComparison) -> Option<&StatComparison> {
    h.headline_stat().or_else(|| h.stats.first())
}

/// The mark of a handler in the check reports: its severity's, or for handlers that pass, its
/// verdict's.
pub fn mark(h: &HandlerComparison) -> &'static str {
    match (h.severity, h.verdict) {
        (Severity::Fail, _) => "❌",
        (Severity::Warn, _) => "⚠️",
        (_, Verdict::Improved) => "✅",
        (_, Verdict::New) => "🆕",
        (_, Verdict::Insufficient) => "❔",
        _ => "➖",
    }
}

/// The terminal colour of a severity (31 red, 33 yellow, 32 green, 2 dim).
pub fn color(s: Severity) -> u8 {
    match s {
        Severity::Fail => 31,
        Severity::Warn => 33,
        Severity::Info => 32,
        Severity::Pass => 2,
    }
}

/// The outcome's mark and word.
pub fn outcome(o: Outcome) -> (&'static str, &'static str) {
    match o {
        Outcome::Pass => ("✅", "PASS"),
        Outcome::Warn => ("⚠️", "PASS with warnings"),
        Outcome::Fail => ("❌", "FAIL"),
    }
}

/// `3 unchanged · 1 regressed · 2 ignored`.
pub fn counts(c: &Comparison) -> String {
    let mut parts: Vec<String> = c.counts.iter().map(|(v, n)| format!("{n} {}", v.name())).collect();
    if c.ignored > 0 {
        parts.push(format!("{} ignored", c.ignored));
    }
    if parts.is_empty() {
        parts.push("no handlers".into());
    }
    parts.join(" · ")
}

/// The run-wide shift in one sentence.
pub fn drift(c: &Comparison) -> String {
    let d = &c.drift;
    match d.factor {
        Some(f) => format!(
            "Run-wide shift: {} across {} handlers ({}; the run fails above {})",
            pct(f - 1.0),
            d.handlers_used,
            d.verdict.name(),
            pct(d.fail_above)
        ),
        None => format!(
            "Run-wide shift: not estimated ({} handlers with enough samples; handlers are compared without drift correction)",
            d.handlers_used
        ),
    }
}

/// `20 unchanged, 60 insufficient`: the verdicts of `handlers`, in the reports' order.
pub fn verdict_counts<'h>(handlers: impl IntoIterator<Item = &'h HandlerComparison>) -> String {
    let mut counts: Vec<(Verdict, usize)> = Vec::new();
    for h in handlers {
        match counts.iter_mut().find(|(v, _)| *v == h.verdict) {
            Some((_, n)) => *n += 1,
            None => counts.push((h.verdict, 1)),
        }
    }
    counts.iter().map(|(v, n)| format!("{n} {}", v.name())).collect::<Vec<_>>().join(", ")
}

/// A number of ms with two decimals, or `–`.
pub fn opt_ms(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.2}"))
}
