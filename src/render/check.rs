//! The reports of `check` (terminal, markdown for the PR comment and job summary, JSON) and the
//! change summary printed by `update-baseline`. One view — [`CheckReport`] — read by each.

use std::fmt::Write;
use std::path::Path;

use serde::Serialize;

use super::table::{self, Align};
use super::{Heat, View, escape, ms};
use crate::baseline::Baseline;
use crate::gate::{Comparison, HandlerComparison, Outcome, Verdict, pct};
use crate::publish::COMMENT_LIMIT;
use crate::report::Report;

pub struct CheckReport<'a> {
    /// The gate's id (the hidden marker).
    pub id: &'a str,
    pub comparison: &'a Comparison,
    pub report: &'a Report,
    /// A link to a source file (and line) at the PR's head commit, when known.
    pub source_link: Option<&'a SourceLink>,
    /// The CI run's page (job summary, artifacts), when known.
    pub run_url: Option<String>,
}

/// Makes the URL of a source file at a line.
pub type SourceLink = dyn Fn(&str, Option<u32>) -> Option<String>;

/// The JSON report of a check: the comparison, the analysis, and the markdown comment (so that
/// `perfgate publish` can post it from another workflow).
/// `markdown` is this check's [`markdown`] report.
pub fn json(c: &CheckReport<'_>, markdown: &str) -> String {
    #[derive(Serialize)]
    struct Out<'a> {
        id: &'a str,
        outcome: Outcome,
        markdown: &'a str,
        comparison: &'a Comparison,
        report: &'a Report,
    }
    let out = Out { id: c.id, outcome: c.comparison.outcome, markdown, comparison: c.comparison, report: c.report };
    let mut s = serde_json::to_string_pretty(&out).expect("serializes");
    s.push('\n');
    s
}

/// The mark of a verdict in the check reports.
pub fn verdict_emoji(v: Verdict) -> &'static str {
    match v {
        Verdict::Regressed | Verdict::OverBudget => "❌",
        Verdict::Missing | Verdict::Warning => "⚠️",
        Verdict::New => "🆕",
        Verdict::Improved => "✅",
        Verdict::Insufficient => "❔",
        Verdict::Unchanged => "➖",
    }
}

fn outcome_word(o: Outcome) -> (&'static str, &'static str) {
    match o {
        Outcome::Pass => ("✅", "PASS"),
        Outcome::Warn => ("⚠️", "PASS with warnings"),
        Outcome::Fail => ("❌", "FAIL"),
    }
}

fn counts_line(c: &Comparison) -> String {
    let mut parts: Vec<String> = c.counts.iter().map(|(v, n)| format!("{n} {}", v.name())).collect();
    if c.ignored > 0 {
        parts.push(format!("{} ignored", c.ignored));
    }
    if parts.is_empty() {
        parts.push("no handlers".into());
    }
    parts.join(" · ")
}

fn drift_line(c: &Comparison) -> String {
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

/// The statistic a row shows: the headline one (see `HandlerComparison::headline_stat`), else the
/// first one.
fn headline(h: &HandlerComparison) -> Option<&crate::gate::StatComparison> {
    h.headline_stat().or_else(|| h.stats.first())
}

fn opt_ms(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.2}"))
}

pub fn terminal(c: &CheckReport<'_>, view: &View) -> String {
    let cmp = c.comparison;
    let (icon, word) = outcome_word(cmp.outcome);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "perfgate check: {icon} {word} — {} (baseline: {} run{})",
        counts_line(cmp),
        cmp.baseline_runs,
        if cmp.baseline_runs == 1 { "" } else { "s" }
    );
    let _ = writeln!(out, "{}\n", drift_line(cmp));
    let rows: Vec<&HandlerComparison> = cmp
        .handlers
        .iter()
        .filter(|h| h.verdict != Verdict::Unchanged)
        .chain(cmp.handlers.iter().filter(|h| h.verdict == Verdict::Unchanged))
        .take(view.top.max(cmp.handlers.iter().filter(|h| h.verdict != Verdict::Unchanged).count()))
        .collect();
    let names: Vec<String> = rows.iter().map(|h| escape::terminal(&h.key)).collect();
    let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    for (h, name) in rows.iter().zip(&names) {
        let pad = " ".repeat(width - name.chars().count());
        let _ = write!(out, "{} {name}{pad}  ", verdict_emoji(h.verdict));
        match headline(h) {
            Some(s) => {
                let _ = write!(out, "{:<4} {:>8} → {:<8}", s.stat.name(), opt_ms(s.base), opt_ms(s.now));
                if let (Some(ch), Some(lo), Some(hi)) = (s.change, s.lower, s.upper) {
                    let _ = write!(out, " {:>7} [{}, {}]", pct(ch), pct(lo), pct(hi));
                }
            }
            None => {
                let _ = write!(out, "p95  {:>8} → {:<8}", opt_ms(h.base_p95), opt_ms(h.now_p95));
            }
        }
        let _ = write!(out, "  {}", h.verdict.name());
        for b in h.budgets.iter().filter(|b| b.ok == Some(false)) {
            let _ = write!(out, " (budget {} broken: {})", b.budget, b.value.map_or("–".into(), ms));
        }
        if h.verdict != Verdict::Unchanged {
            let _ = write!(out, " — {}", escape::terminal(h.short_reason()));
        }
        out.push('\n');
    }
    let hidden = cmp.handlers.len() - rows.len();
    if hidden > 0 {
        let _ = writeln!(out, "… {hidden} more unchanged handler(s); --top N shows more");
    }
    out.push('\n');
    out.push_str(&super::terminal::diagnostics_line(&c.report.diagnostics));
    out
}

/// The markdown report (PR comment, job summary), at most `COMMENT_LIMIT` characters: when too
/// long, the least severe rows are dropped and the report says how many.
pub fn markdown(c: &CheckReport<'_>, view: &View) -> String {
    markdown_within(c, view, COMMENT_LIMIT)
}

pub fn markdown_within(c: &CheckReport<'_>, view: &View, limit: usize) -> String {
    // Each row is rendered once; the search for the most rows that fit only joins them.
    let rows = table_rows(c, view);
    let total = rows.len();
    let full = markdown_rows(c, view, &rows, total);
    if full.chars().count() <= limit {
        return full;
    }
    // Binary search for the most rows that fit.
    let (mut lo, mut hi) = (0usize, total);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if markdown_rows(c, view, &rows, mid).chars().count() <= limit {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    markdown_rows(c, view, &rows, lo)
}

/// One table row per compared handler, in the comparison's order.
fn table_rows(c: &CheckReport<'_>, view: &View) -> Vec<String> {
    let by_name: std::collections::HashMap<String, &crate::report::HandlerReport> =
        c.report.handlers.iter().map(|r| (r.display_name(), r)).collect();
    c.comparison
        .handlers
        .iter()
        .map(|h| {
            let report = by_name.get(&h.key);
            let heat = Heat::of(report.and_then(|r| r.timing).map(|t| t.avg), &view.bands);
            let change = headline_of(h);
            let mut verdict = format!("{} {}", verdict_emoji(h.verdict), h.verdict.name());
            for b in h.budgets.iter().filter(|b| b.ok == Some(false)) {
                let _ = write!(verdict, " ({} broken)", escape::markdown_code(&b.budget));
            }
            if h.verdict != Verdict::Unchanged {
                let _ = write!(verdict, ": {}", escape::markdown_text(h.short_reason()));
            }
            let source = report
                .and_then(|r| Some((r.source_file.as_deref()?, r.source_line)))
                .and_then(|(path, line)| c.source_link.and_then(|link| link(path, line)))
                .map(|url| format!(" [source]({})", escape::markdown_url(&url)))
                .unwrap_or_default();
            table::row([
                heat.dot().to_owned(),
                format!("{}{source}", escape::markdown_code(&h.key)),
                format!("{} → {}", opt_ms(h.base_p50), opt_ms(h.now_p50)),
                format!("{} → {}", opt_ms(h.base_p95), opt_ms(h.now_p95)),
                change,
                format!("{} / {}", h.base_count, h.now_count),
                verdict,
            ])
        })
        .collect()
}

fn markdown_rows(c: &CheckReport<'_>, view: &View, rows: &[String], keep: usize) -> String {
    let cmp = c.comparison;
    let (icon, word) = outcome_word(cmp.outcome);
    let mut out = String::new();
    let _ = writeln!(out, "{}", crate::publish::marker(c.id));
    let regressed = cmp.counts.get(&Verdict::Regressed).copied().unwrap_or(0) + cmp.counts.get(&Verdict::OverBudget).copied().unwrap_or(0);
    let title = match cmp.outcome {
        Outcome::Fail if regressed > 0 => format!("{regressed} handler{} regressed", if regressed == 1 { "" } else { "s" }),
        Outcome::Fail => "the run failed the gate".to_owned(),
        Outcome::Warn => "no regression, with warnings".to_owned(),
        Outcome::Pass => "no regression".to_owned(),
    };
    let _ = writeln!(out, "## {icon} perfgate: {title}\n");
    let _ = writeln!(
        out,
        "**{word}** — {} — compared with {} baseline run{}.\n",
        counts_line(cmp),
        cmp.baseline_runs,
        if cmp.baseline_runs == 1 { "" } else { "s" }
    );
    let _ = writeln!(out, "{}.\n", drift_line(cmp));
    let kept = &cmp.handlers[..keep.min(cmp.handlers.len())];
    let changed: Vec<usize> = (0..kept.len()).filter(|&i| kept[i].verdict != Verdict::Unchanged).collect();
    let unchanged: Vec<usize> = (0..kept.len()).filter(|&i| kept[i].verdict == Verdict::Unchanged).collect();
    let (l, r) = (Align::Left, Align::Right);
    let header = &table::header(&[
        ("", l),
        ("Handler", l),
        ("p50 base → now (ms)", r),
        ("p95 base → now (ms)", r),
        ("Δ", r),
        ("Samples base / now", r),
        ("Verdict", l),
    ]);
    if changed.is_empty() {
        out.push_str("No handler changed beyond its threshold and the noise.\n\n");
    } else {
        out.push_str(header);
        for &i in &changed {
            out.push_str(&rows[i]);
        }
        out.push('\n');
    }
    if !unchanged.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>{} unchanged handler{}</summary>\n",
            unchanged.len(),
            if unchanged.len() == 1 { "" } else { "s" }
        );
        out.push_str(header);
        for &i in &unchanged {
            out.push_str(&rows[i]);
        }
        out.push_str("\n</details>\n\n");
    }
    let dropped = cmp.handlers.len() - kept.len();
    if dropped > 0 {
        let _ = writeln!(
            out,
            "_{dropped} least severe row(s) omitted to fit GitHub's {COMMENT_LIMIT}-character limit; the JSON report has every handler._\n"
        );
    }
    // The heatmap of this run.
    out.push_str("<details><summary>Heatmap of this run</summary>\n\n");
    out.push_str(&table::header(&[("", l), ("Handler", l), ("Executions", r), ("avg ms", r), ("p95 ms", r)]));
    for h in c.report.handlers.iter().take(view.top) {
        let heat = Heat::of(h.timing.map(|t| t.avg), &view.bands);
        out.push_str(&table::row([
            heat.dot().to_owned(),
            escape::markdown_code(&h.display_name()),
            h.executions.to_string(),
            opt_ms(h.timing.map(|t| t.avg)),
            opt_ms(h.timing.map(|t| t.p95)),
        ]));
    }
    out.push_str("\n</details>\n");
    if let Some(url) = c.run_url.as_deref().map(escape::markdown_url).filter(|u| !u.is_empty()) {
        let _ = writeln!(out, "\n[The run]({url}): job summary, and the HTML report when uploaded as an artifact.");
    }
    out
}

fn headline_of(h: &HandlerComparison) -> String {
    match headline(h) {
        Some(s) => match (s.change, s.lower, s.upper) {
            (Some(ch), Some(lo), Some(hi)) => format!("{} {} ({} … {})", s.stat.name(), pct(ch), pct(lo), pct(hi)),
            _ => "–".into(),
        },
        None => "–".into(),
    }
}

/// What `update-baseline` prints: the file, its runs, and each handler's pooled p50/p95 before
/// and after.
pub fn baseline_changes(old: Option<&Baseline>, new: &Baseline, path: &Path) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Baseline {}: {} run{} kept (history {}), {} handlers{}.",
        path.display(),
        new.runs.len(),
        if new.runs.len() == 1 { "" } else { "s" },
        new.history,
        new.handlers.len(),
        if old.is_none() { " (new file)" } else { "" }
    );
    let Some(old) = old else { return out };
    let mut lines: Vec<(f64, String)> = Vec::new();
    for (key, h) in &new.handlers {
        let name = escape::terminal(key);
        match old.handlers.get(key) {
            None => lines.push((f64::INFINITY, format!("  + {name}: new, p50 {} p95 {}", ms(h.pooled.p50), ms(h.pooled.p95)))),
            Some(o) => {
                let change = if o.pooled.p95 > 0.0 { h.pooled.p95 / o.pooled.p95 - 1.0 } else { 0.0 };
                lines.push((
                    change.abs(),
                    format!(
                        "  ~ {name}: p50 {} → {}, p95 {} → {} ({})",
                        ms(o.pooled.p50),
                        ms(h.pooled.p50),
                        ms(o.pooled.p95),
                        ms(h.pooled.p95),
                        pct(change)
                    ),
                ));
            }
        }
    }
    for key in old.handlers.keys().filter(|k| !new.handlers.contains_key(*k)) {
        lines.push((f64::INFINITY, format!("  - {}: no longer in any kept run", escape::terminal(key))));
    }
    lines.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    out.push_str("Changes against the previous baseline (pooled over the kept runs):\n");
    for (_, l) in lines {
        out.push_str(&l);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::Run;
    use crate::measure::testing::{json_lines, lines};

    /// `n` samples of each handler at `ms` (spread ±20% around it).
    fn samples(handlers: &[(&str, f64)], n: usize, seed: u64) -> String {
        let mut rng = crate::rng::Rng::new(seed);
        let mut out = Vec::new();
        for _ in 0..n {
            for (h, ms) in handlers {
                out.push((*h, (ms * (0.2 * rng.normal()).exp() * 100.0).round() / 100.0));
            }
        }
        lines(&out)
    }

    #[test]
    fn rows_lead_with_the_change_and_escape_names() {
        let hostile = "x|<b>`y`";
        let base: Vec<(&str, f64)> = vec![("steady", 4.0), ("slow", 6.0), (hostile, 2.0)];
        let mut baseline = Baseline::empty(3);
        for seed in 1..=3 {
            baseline = baseline.append(&Run::of(&json_lines(&samples(&base, 60, seed)), None, Vec::new()), 3);
        }
        let now = json_lines(&samples(&[("steady", 4.0), ("slow", 12.0), (hostile, 2.0)], 60, 9));
        let comparison = crate::gate::compare(&baseline, &Run::of(&now, None, Vec::new()), &Default::default());
        let report = crate::report::build(&now, crate::config::SortKey::Avg);
        let c = CheckReport { id: "default", comparison: &comparison, report: &report, source_link: None, run_url: None };
        let view = View { top: 20, sort: crate::config::SortKey::Avg, bands: Default::default() };
        let rows = table_rows(&c, &view);
        assert_eq!(rows.len(), 3);
        let slow = &rows[0];
        assert!(slow.starts_with("| ") && slow.contains("| `P.slow` |") && slow.contains("❌ regressed: "), "{slow}");
        assert!(slow.contains("| 180 / 60 |"), "{slow}");
        // The hostile name is in a code span its backticks cannot close (HTML is inert there),
        // and its pipe cannot split the row.
        let hostile_row = rows.iter().find(|r| r.contains("P.x")).expect("the hostile row");
        assert!(hostile_row.contains("| `` P.x\\|<b>`y` `` |"), "{hostile_row}");
        assert_eq!(hostile_row.matches('|').count() - hostile_row.matches("\\|").count(), 8, "{hostile_row}");
        let md = markdown(&c, &view);
        assert!(md.starts_with("<!-- perfgate:default -->\n## ❌ perfgate:"), "{md}");
        let terminal = terminal(&c, &view);
        assert!(terminal.contains("❌ P.slow"), "{terminal}");
        // Trimmed to a limit, the least severe rows go first and the report says so.
        let short = markdown_within(&c, &view, md.chars().count() - 1);
        assert!(short.contains("| `P.slow` |") && short.contains("least severe row(s) omitted"), "{short}");
        assert!(short.chars().count() < md.chars().count());
    }
}
