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

/// The gate's change (net of the runner's shift) with its interval, `+5.0% [+1.0%, +9.0%]`,
/// when the statistic was tested: the detail of "how this was decided".
pub fn change(s: &StatComparison) -> Option<String> {
    match (s.change, s.lower, s.upper) {
        (Some(c), Some(l), Some(u)) => Some(format!("{} {}", pct(c), interval(l, u))),
        _ => None,
    }
}

/// The change that base → now gives by arithmetic (`now / base − 1`).
pub fn raw_change(s: &StatComparison) -> Option<f64> {
    match (s.base, s.now) {
        (Some(b), Some(n)) if b > 0.0 => Some(n / b - 1.0),
        _ => s.change,
    }
}

/// The runner's shift the gate took out of this statistic (`expected / base − 1`), when it
/// shows at one decimal.
pub fn runner_shift(s: &StatComparison) -> Option<f64> {
    match (s.base, s.expected) {
        (Some(b), Some(e)) if b > 0.0 && ((e / b - 1.0) * 1000.0).round() != 0.0 => Some(e / b - 1.0),
        _ => None,
    }
}

/// The change a row shows, labelled with its statistic: `typical +81.3%`; for a handler the
/// reports lead with ([`HandlerComparison::changed`]), with what the gate judged when it took
/// the runner's shift out: `typical +81.3% (+85.5% net of the runner's -2.3%)`.
pub fn labelled_change(h: &HandlerComparison, s: &StatComparison) -> String {
    format!("{} {}", s.stat.name(), row_change(h, s))
}

/// A row's change, unlabelled: [`change_with_shift`] for a handler the reports lead with, else
/// base → now's.
pub fn row_change(h: &HandlerComparison, s: &StatComparison) -> String {
    if h.changed { change_with_shift(s) } else { raw_change(s).map_or_else(|| "–".to_owned(), pct) }
}

/// `+81.3%`, or `+81.3% (+85.5% net of the runner's -2.3%)`; `–` when untested.
pub fn change_with_shift(s: &StatComparison) -> String {
    let Some(raw) = raw_change(s) else { return "–".to_owned() };
    match net_of_shift(s) {
        Some((net, shift)) => format!("{} ({net} net of the runner's {shift})", pct(raw)),
        None => pct(raw),
    }
}

/// What the gate judged when it took the runner's shift out, and that shift: `("+85.5%",
/// "-2.3%")`; `None` when there was no shift to take out.
pub fn net_of_shift(s: &StatComparison) -> Option<(String, String)> {
    Some((pct(s.change?), pct(runner_shift(s)?)))
}

/// How much slower or faster, in plain words: `2.2× slower (+120%)`, `24% slower`, `1.9×
/// faster (-47%)`, `3% faster`.
pub fn size(change: f64) -> String {
    size_with(change, true)
}

/// [`size`], without the percentage of a large change when `pct` is false (the caller shows it).
fn size_with(change: f64, with_pct: bool) -> String {
    let r = 1.0 + change;
    let whole = |x: f64| if x.abs() >= 0.01 || x == 0.0 { format!("{:.0}%", x.abs() * 100.0) } else { format!("{:.1}%", x.abs() * 100.0) };
    if r >= 1.5 {
        if with_pct { format!("{r:.1}× slower (+{:.0}%)", change * 100.0) } else { format!("{r:.1}× slower") }
    } else if r > 1.0 {
        format!("{} slower", whole(change))
    } else if r <= 0.0 {
        "faster".to_owned()
    } else if r <= 1.0 / 1.5 {
        if with_pct { format!("{:.1}× faster (-{:.0}%)", 1.0 / r, -change * 100.0) } else { format!("{:.1}× faster", 1.0 / r) }
    } else if r < 1.0 {
        format!("{} faster", whole(change))
    } else {
        "no change".to_owned()
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

/// Why a statistic got its verdict, in plain words: how much slower or faster base → now is,
/// and how sure the gate is. The statistical detail is [`stat_detail`].
pub fn stat_reason(s: &StatComparison) -> String {
    stat_reason_with(s, true)
}

fn stat_reason_with(s: &StatComparison, with_pct: bool) -> String {
    let sized = || raw_change(s).map(|c| size_with(c, with_pct)).unwrap_or_else(|| "changed".to_owned());
    match &s.reason {
        StatReason::Pending => String::new(),
        StatReason::NeedsSamples { needed, base, now } => {
            format!("{} needs {needed} samples on each side (baseline {base}, now {now})", s.stat.name())
        }
        StatReason::ZeroOnOneSide => format!("{} is zero on one side: no ratio to test", s.stat.name()),
        StatReason::PastThreshold { .. } => format!("{}, very likely real", sized()),
        StatReason::IntervalPast { .. } => format!("{}, likely but not certain across the run", sized()),
        StatReason::Faster { .. } => format!("{}, very likely real", sized()),
        StatReason::WithinThreshold { threshold, floor_ms } => {
            format!("{}, within the threshold ({} and {floor_ms} ms)", sized(), pct(*threshold))
        }
        StatReason::Noise { family: f } => match direction(s) {
            Some(_) => format!("could be chance, with {} in this run", plural(f.tests as u64, "test")),
            None => "within the noise".to_owned(),
        },
    }
}

/// `Some(true)` when the statistic's interval lies wholly above zero, `Some(false)` wholly
/// below, `None` otherwise.
fn direction(s: &StatComparison) -> Option<bool> {
    match (s.lower, s.upper) {
        (Some(l), _) if l > 0.0 => Some(true),
        (_, Some(u)) if u < 0.0 => Some(false),
        _ => None,
    }
}

/// How the gate decided a statistic's verdict: its change net of the runner's shift with its
/// interval, the thresholds and the family-wise test (the folded "how this was decided").
pub fn stat_detail(s: &StatComparison) -> String {
    let why = match &s.reason {
        StatReason::PastThreshold { threshold, delta_ms, floor_ms, family: f } => {
            format!("past {} and +{delta_ms:.2} ms > {floor_ms} ms; {}", pct(*threshold), family(f))
        }
        StatReason::IntervalPast { threshold, family: f } => {
            format!("interval past {}, but not significant across the run: {}", pct(*threshold), family(f))
        }
        StatReason::Faster { by, delta_ms } => format!("faster by more than {:.1}% and {delta_ms:.2} ms", by * 100.0),
        StatReason::WithinThreshold { threshold, floor_ms } => format!("a real increase, within {} / {floor_ms} ms", pct(*threshold)),
        StatReason::Noise { family: f } => format!("not significant: {}", family(f)),
        _ => stat_reason(s),
    };
    match change(s) {
        Some(c) => format!("{} {c} net of the runner: {why}", s.stat.name()),
        None => why,
    }
}

/// The word of a handler's state in a row: its verdict's, except that an unchanged handler
/// whose interval lies wholly past zero is `maybe slower` or `maybe faster`.
pub fn state(h: &HandlerComparison) -> &'static str {
    match (
        h.verdict,
        headline(h).filter(|s| matches!(s.reason, StatReason::Noise { .. } | StatReason::WithinThreshold { .. })).and_then(direction),
    ) {
        (Verdict::Unchanged, Some(true)) => "maybe slower",
        (Verdict::Unchanged, Some(false)) => "maybe faster",
        (v, _) => v.name(),
    }
}

/// A changed handler's recent runs of main and this run, as a sparkline on one scale (each
/// run's runner shift taken out): `main ▃▂▃▂▃▃ → this run █`. `None` for an unchanged handler or
/// without a history.
pub fn main_sparkline(h: &HandlerComparison) -> Option<String> {
    let m = h.main.as_ref()?;
    if matches!(h.verdict, Verdict::Unchanged | Verdict::Insufficient | Verdict::New | Verdict::Missing)
        || m.recent.is_empty()
        || m.now_on_main.is_nan()
        || m.now_on_main <= 0.0
    {
        return None;
    }
    let values: Vec<f64> = m.recent.iter().copied().chain(std::iter::once(m.now_on_main)).collect();
    let spark: Vec<char> = super::trend::sparkline(&values).chars().collect();
    let (main, now) = spark.split_at(spark.len() - 1);
    Some(format!("main {} → this run {}", main.iter().collect::<String>(), now[0]))
}

/// Why a handler got its verdict, whole: the deciding statistic's reason, then any broken
/// budget.
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
            // `typical +204.8%: 3.0× slower, very likely real` (annotations read it alone).
            Some(s) => match raw_change(s) {
                Some(c) => format!("{} {}: {}", s.stat.name(), pct(c), stat_reason_with(s, false)),
                None => format!("{}: {}", s.stat.name(), stat_reason(s)),
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
    match h.headline_stat().or_else(|| h.stats.first()).filter(|s| s.verdict == h.verdict && s.reason != StatReason::Pending) {
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
    let mut parts: Vec<String> = c.counts.iter().map(|(v, n)| counted(*n, *v)).collect();
    if c.ignored > 0 {
        parts.push(format!("{} ignored", c.ignored));
    }
    if parts.is_empty() {
        parts.push("no handlers".into());
    }
    parts.join(" · ")
}

/// The run-wide shift in one plain sentence.
pub fn drift(c: &Comparison) -> String {
    let d = &c.drift;
    match d.factor {
        Some(f) => {
            let limit = match d.severity {
                Severity::Fail => format!(" — more than the {} the run allows", pct(d.fail_above)),
                Severity::Warn => format!(" — close to the {} the run allows", pct(d.fail_above)),
                _ => String::new(),
            };
            let main = d.main.as_ref().map_or_else(String::new, |m| {
                format!(
                    " and {} than main's usual (its runners vary by ±{:.1}% over {} runs)",
                    size(m.factor - 1.0),
                    m.spread * 100.0,
                    m.runs
                )
            });
            format!(
                "The runner was {} than the baseline's runs (from {}){main}{limit}; each change is also given net of it",
                size(f - 1.0),
                plural(d.handlers_used as u64, "handler")
            )
        }
        None => format!(
            "The runner's shift could not be estimated ({} with enough samples): changes are not corrected for it",
            plural(d.handlers_used as u64, "handler")
        ),
    }
}

/// The run-wide shift with the gate's numbers ("how this was decided").
pub fn drift_detail(c: &Comparison) -> String {
    let d = &c.drift;
    match d.factor {
        Some(f) => match &d.main {
            Some(m) => format!(
                "Run-wide shift: {} against the baseline across {} handlers, {} against main's levels across {}; main's runners vary by ±{:.1}% over {} runs ({}; the run fails above {})",
                pct(f - 1.0),
                d.handlers_used,
                pct(m.factor - 1.0),
                m.handlers_used,
                m.spread * 100.0,
                m.runs,
                d.verdict.name(),
                pct(d.fail_above)
            ),
            None => format!(
                "Run-wide shift: {} across {} handlers ({}; the run fails above {})",
                pct(f - 1.0),
                d.handlers_used,
                d.verdict.name(),
                pct(d.fail_above)
            ),
        },
        None => format!(
            "Run-wide shift: not estimated ({} handlers with enough samples; handlers are compared without drift correction)",
            d.handlers_used
        ),
    }
}

/// The family-wise test of a check, in one paragraph ("how this was decided").
pub fn family_detail(c: &Comparison) -> String {
    let f = &c.family;
    format!(
        "A handler fails when its change is past its threshold and floor and significant across the run: {} tested at a family-wise false-alarm rate of {} (Holm), run-to-run jitter {:.1}% ({}). Each change below is net of the runner's shift, with its interval.",
        plural(f.tests as u64, "statistic"),
        f.level,
        f.jitter * 100.0,
        if f.jitter_estimated { "estimated from the baseline" } else { "assumed: one baseline run" }
    )
}

/// How a changed handler's verdict was decided: its deciding statistic net of the runner, with
/// the interval, thresholds and family-wise test (or the reason, without a statistic).
pub fn verdict_detail(h: &HandlerComparison) -> String {
    h.deciding_stat().or_else(|| headline(h)).map_or_else(|| reason(h), stat_detail)
}

/// `1 file`, `3 files`.
pub fn plural(n: u64, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// What a folded group holds: `12 more handlers, all unchanged`, `79 more handlers: 76
/// unchanged, 3 insufficient`, `1 more handler, new`.
pub fn more<'h>(handlers: impl IntoIterator<Item = &'h HandlerComparison>) -> String {
    let handlers: Vec<&HandlerComparison> = handlers.into_iter().collect();
    let n = handlers.len() as u64;
    let counts = verdict_counts(handlers.iter().copied());
    let kinds = counts.matches(", ").count() + 1;
    match (n, kinds) {
        (1, _) => format!("1 more handler, {}", handlers[0].verdict.name()),
        (_, 1) => format!("{} more handlers, all {}", n, handlers[0].verdict.name()),
        _ => format!("{} more handlers: {counts}", n),
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
    counts.iter().map(|(v, n)| counted(*n, *v)).collect::<Vec<_>>().join(", ")
}

/// `2 warnings`, `1 warning`, `3 regressed`: a count of a verdict (the one that is a noun takes
/// its plural).
pub fn counted(n: usize, v: Verdict) -> String {
    match v {
        Verdict::Warning => plural(n as u64, "warning"),
        _ => format!("{n} {}", v.name()),
    }
}

/// A number of ms with two decimals, or `–`.
pub fn opt_ms(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.2}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_of_verdicts_take_their_plural() {
        assert_eq!(counted(2, Verdict::Warning), "2 warnings");
        assert_eq!(counted(1, Verdict::Warning), "1 warning");
        assert_eq!(counted(3, Verdict::Regressed), "3 regressed");
        assert_eq!(counted(2, Verdict::Missing), "2 missing");
    }

    #[test]
    fn sizes_read_as_a_person_says_them() {
        assert_eq!(size(1.02), "2.0× slower (+102%)");
        assert_eq!(size(0.231), "23% slower");
        assert_eq!(size(0.004), "0.4% slower");
        assert_eq!(size(-0.5), "2.0× faster (-50%)");
        assert_eq!(size(-0.03), "3% faster");
        assert_eq!(size(0.0), "no change");
        assert_eq!(
            (plural(1, "file"), plural(2, "file"), plural(0, "orphan completion")),
            ("1 file".into(), "2 files".into(), "0 orphan completions".into())
        );
    }
}
