//! The reports of `check` (terminal, markdown for the PR comment and job summary, JSON) and the
//! change summary printed by `update-baseline`. One view — [`CheckReport`] — read by each.

use std::fmt::Write;
use std::path::Path;

use serde::Serialize;

use super::table::{self, Align};
use super::{View, escape};
use crate::baseline::Baseline;
use crate::gate::{Comparison, HandlerComparison, Outcome, Verdict, pct};
use crate::publish::COMMENT_LIMIT;
use crate::report::Report;
use crate::stats;

pub struct CheckReport<'a> {
    /// The gate's id (the hidden marker).
    pub id: &'a str,
    pub comparison: &'a Comparison,
    pub report: &'a Report,
    /// A link to a source file (and line) at the PR's head commit, when known.
    pub source_link: Option<&'a SourceLink>,
    /// The CI run's page (job summary, artifacts), when known.
    pub run_url: Option<String>,
    /// The baseline compared with (its runs make the markdown heatmap).
    pub baseline: Option<&'a Baseline>,
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
    let word = super::paint(
        view.color,
        match cmp.outcome {
            Outcome::Fail => 31,
            Outcome::Warn => 33,
            Outcome::Pass => 32,
        },
        word,
    );
    let _ = writeln!(
        out,
        "perfgate check: {icon} {word} — {} (baseline: {} run{})",
        counts_line(cmp),
        cmp.baseline_runs,
        if cmp.baseline_runs == 1 { "" } else { "s" }
    );
    let _ = writeln!(out, "{}\n", drift_line(cmp));
    // Every changed handler, then folded ones while --top allows.
    let changed = cmp.changed().len();
    let shown = &cmp.handlers[..changed.max(view.top.min(cmp.handlers.len()))];
    let cells: Vec<[String; 5]> = shown
        .iter()
        .map(|h| {
            let s = headline(h);
            let stat = s.map_or("–".to_owned(), |s| s.stat.name().to_owned());
            let base = s.and_then(|s| s.base).map_or("–".to_owned(), |v| format!("{v:.2} ms"));
            let now = s.and_then(|s| s.now).map_or("–".to_owned(), |v| format!("{v:.2} ms"));
            let change = match s.map(|s| (s.change, s.lower, s.upper)) {
                Some((Some(ch), Some(lo), Some(hi))) => format!("{} [{}, {}]", pct(ch), pct(lo), pct(hi)),
                _ => String::new(),
            };
            [escape::terminal(&h.key), stat, base, now, change]
        })
        .collect();
    let width = |i: usize| cells.iter().map(|c| c[i].chars().count()).max().unwrap_or(0);
    let widths = [width(0), width(1), width(2), width(3), width(4)];
    let pad = |s: &str, w: usize| format!("{s}{}", " ".repeat(w - s.chars().count()));
    for (h, c) in shown.iter().zip(&cells) {
        let _ = write!(
            out,
            "{} {}  {}  {}{} → {}  {}  {}",
            verdict_emoji(h.verdict),
            pad(&c[0], widths[0]),
            pad(&c[1], widths[1]),
            " ".repeat(widths[2] - c[2].chars().count()),
            c[2],
            pad(&c[3], widths[3]),
            pad(&c[4], widths[4]),
            super::paint(view.color, verdict_color(h.verdict), h.verdict.name())
        );
        if h.verdict != Verdict::Unchanged {
            let _ = write!(out, " — {}", escape::terminal(h.short_reason()));
        }
        out.push('\n');
    }
    let hidden = &cmp.handlers[shown.len()..];
    if !hidden.is_empty() {
        let _ = writeln!(out, "… {} more: {} (--top N shows more)", hidden.len(), verdict_counts(hidden));
    }
    out.push('\n');
    out.push_str(&super::terminal::diagnostics_line(&c.report.diagnostics));
    out
}

/// The terminal colour of a verdict's name.
fn verdict_color(v: Verdict) -> u8 {
    match v {
        Verdict::Regressed | Verdict::OverBudget => 31,
        Verdict::Warning | Verdict::Missing => 33,
        Verdict::Improved => 32,
        _ => 2,
    }
}

/// `20 unchanged, 60 insufficient`: the verdicts of `handlers`, in the reports' order.
fn verdict_counts<'h>(handlers: impl IntoIterator<Item = &'h HandlerComparison>) -> String {
    let mut counts: Vec<(Verdict, usize)> = Vec::new();
    for h in handlers {
        match counts.iter_mut().find(|(v, _)| *v == h.verdict) {
            Some((_, n)) => *n += 1,
            None => counts.push((h.verdict, 1)),
        }
    }
    counts.iter().map(|(v, n)| format!("{n} {}", v.name())).collect::<Vec<_>>().join(", ")
}

/// The markdown report (PR comment, job summary), at most `COMMENT_LIMIT` characters: when too
/// long, the least severe rows are dropped and the report says how many.
pub fn markdown(c: &CheckReport<'_>, view: &View) -> String {
    markdown_within(c, view, COMMENT_LIMIT)
}

pub fn markdown_within(c: &CheckReport<'_>, view: &View, limit: usize) -> String {
    // Each row is rendered once; the search for the most rows that fit only joins them.
    let rows = table_rows(c);
    let heat = heatmap_rows(c, view);
    let total = rows.len();
    let full = markdown_rows(c, &rows, &heat, total);
    if full.chars().count() <= limit {
        return full;
    }
    // Binary search for the most rows that fit.
    let (mut lo, mut hi) = (0usize, total);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if markdown_rows(c, &rows, &heat, mid).chars().count() <= limit {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    markdown_rows(c, &rows, &heat, lo)
}

const TABLE: [(&str, Align); 7] = [
    ("", Align::Left),
    ("Handler", Align::Left),
    ("Statistic", Align::Left),
    ("Base → now (ms)", Align::Right),
    ("Change (interval)", Align::Right),
    ("Samples base / now", Align::Right),
    ("Why", Align::Left),
];

/// One table row per compared handler, in the comparison's order: the statistic the verdict
/// rests on, base → now, the change with its interval, the samples and the reason.
fn table_rows(c: &CheckReport<'_>) -> Vec<String> {
    let by_name: std::collections::HashMap<String, &crate::report::HandlerReport> =
        c.report.handlers.iter().map(|r| (r.display_name(), r)).collect();
    c.comparison
        .handlers
        .iter()
        .map(|h| {
            let source = by_name
                .get(&h.key)
                .and_then(|r| Some((r.source_file.as_deref()?, r.source_line)))
                .and_then(|(path, line)| c.source_link.and_then(|link| link(path, line)))
                .map(|url| format!(" [source]({})", escape::markdown_url(&url)))
                .unwrap_or_default();
            let s = headline(h);
            let mut why = escape::markdown_text(h.short_reason());
            if why.is_empty() {
                why = h.verdict.name().to_owned();
            }
            table::row([
                verdict_emoji(h.verdict).to_owned(),
                format!("{}{source}", escape::markdown_code(&h.key)),
                s.map_or("–".to_owned(), |s| s.stat.name().to_owned()),
                format!("{} → {}", opt_ms(s.and_then(|s| s.base)), opt_ms(s.and_then(|s| s.now))),
                headline_of(h),
                format!("{} / {}", h.base_count, h.now_count),
                why,
            ])
        })
        .collect()
}

/// A heatmap cell: the change of a run's typical duration against the pooled baseline's.
fn square(change: Option<f64>) -> &'static str {
    match change {
        None => "·",
        Some(c) if c >= 0.25 => "🟥",
        Some(c) if c >= 0.10 => "🟧",
        Some(c) if c > -0.10 => "⬜",
        Some(c) if c > -0.25 => "🟩",
        Some(_) => "🟦",
    }
}

/// The heatmap's header and rows: the changed handlers and then others up to `--top`, by the
/// baseline's kept runs (oldest first) and this run.
fn heatmap_rows(c: &CheckReport<'_>, view: &View) -> (String, Vec<String>) {
    let Some(baseline) = c.baseline else { return (String::new(), Vec::new()) };
    let runs: Vec<String> = baseline
        .runs
        .iter()
        .enumerate()
        .map(|(i, r)| match r.commit.as_deref() {
            Some(sha) if !sha.is_empty() => escape::markdown_code(&sha.chars().take(7).collect::<String>()),
            _ => format!("run {}", i + 1),
        })
        .collect();
    let mut columns: Vec<(&str, Align)> = vec![("Handler", Align::Left)];
    columns.extend(runs.iter().map(|r| (r.as_str(), Align::Left)));
    columns.push(("now", Align::Left));
    let header = table::header(&columns);
    let changed = c.comparison.changed().len();
    let rows = c
        .comparison
        .handlers
        .iter()
        .filter(|h| h.now_count > 0 && baseline.handlers.contains_key(&h.key))
        .take(changed.max(view.top))
        .map(|h| {
            let history = &baseline.handlers[&h.key];
            let pooled = stats::from_log(history.pooled.log_mean);
            let against = |typical: f64| (pooled > 0.0).then(|| typical / pooled - 1.0);
            let mut cells = vec![escape::markdown_code(&h.key)];
            cells.extend(history.runs.iter().map(|r| square(r.as_ref().and_then(|r| against(stats::from_log(r.log_mean)))).to_owned()));
            let now = h.stats.iter().find(|s| s.stat == stats::Stat::Typical).and_then(|s| s.now);
            cells.push(square(now.and_then(against)).to_owned());
            table::row(cells)
        })
        .collect();
    (header, rows)
}

fn markdown_rows(c: &CheckReport<'_>, rows: &[String], heat: &(String, Vec<String>), keep: usize) -> String {
    let cmp = c.comparison;
    let (icon, word) = outcome_word(cmp.outcome);
    let mut out = String::new();
    let _ = writeln!(out, "{}", crate::publish::marker(c.id));
    let changed = cmp.changed();
    let headline = if changed.is_empty() { "no handler changed".to_owned() } else { verdict_counts(changed) };
    let _ = writeln!(out, "## {icon} perfgate: {word} — {headline}\n");
    let _ = writeln!(
        out,
        "{} handler{} against {} baseline run{}: {}. {}.\n",
        cmp.handlers.len(),
        if cmp.handlers.len() == 1 { "" } else { "s" },
        cmp.baseline_runs,
        if cmp.baseline_runs == 1 { "" } else { "s" },
        counts_line(cmp),
        drift_line(cmp)
    );
    let keep = keep.min(rows.len());
    let n_changed = changed.len().min(keep);
    if n_changed > 0 {
        out.push_str(&table::header(&TABLE));
        for row in &rows[..n_changed] {
            out.push_str(row);
        }
        out.push('\n');
    }
    if !heat.1.is_empty() {
        out.push_str(
            "<details><summary>Heatmap: each kept baseline run and this one, typical duration against the pooled baseline</summary>\n\n",
        );
        out.push_str(&heat.0);
        for row in &heat.1 {
            out.push_str(row);
        }
        out.push_str("\n🟥 ≥ +25% · 🟧 +10% to +25% · ⬜ within ±10% · 🟩 −10% to −25% · 🟦 ≤ −25% · `·` no samples. A whole column of one colour is the runner, not the code.\n\n</details>\n\n");
    }
    let folded = &cmp.handlers[n_changed..keep];
    if !folded.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>{} more handler{}: {}</summary>\n",
            folded.len(),
            if folded.len() == 1 { "" } else { "s" },
            verdict_counts(folded)
        );
        out.push_str(&table::header(&TABLE));
        for row in &rows[n_changed..keep] {
            out.push_str(row);
        }
        out.push_str("\n</details>\n\n");
    }
    let dropped = cmp.handlers.len() - keep;
    if dropped > 0 {
        let _ = writeln!(
            out,
            "_{dropped} least severe row(s) omitted to fit GitHub's {COMMENT_LIMIT}-character limit; the JSON report has every handler._\n"
        );
    }
    if let Some(url) = c.run_url.as_deref().map(escape::markdown_url).filter(|u| !u.is_empty()) {
        let _ = writeln!(out, "[The run]({url}): job summary, and the HTML report (heatmap, drill-down) when uploaded as an artifact.");
    }
    out
}

fn headline_of(h: &HandlerComparison) -> String {
    match headline(h) {
        Some(s) => match (s.change, s.lower, s.upper) {
            (Some(ch), Some(lo), Some(hi)) => format!("{} ({} … {})", pct(ch), pct(lo), pct(hi)),
            _ => "–".into(),
        },
        None => "–".into(),
    }
}

/// What `update-baseline` prints: the file and its runs; then, against the previous baseline,
/// the changes the gate itself would call real (`comparison`: this run against the old
/// baseline), handlers new to or gone from the file, and a count of the rest.
pub fn baseline_changes(old: Option<&Baseline>, new: &Baseline, path: &Path, comparison: Option<&Comparison>) -> String {
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
    let (Some(old), Some(cmp)) = (old, comparison) else { return out };
    let compared: std::collections::HashSet<&str> = cmp.handlers.iter().map(|h| h.key.as_str()).collect();
    out.push_str("This run against the previous baseline, as `perfgate check` judges it:\n");
    let mut quiet = Vec::new();
    for h in &cmp.handlers {
        let name = escape::terminal(&h.key);
        match h.verdict {
            Verdict::New => {
                let _ = writeln!(out, "  + {name}: new, {} samples", h.now_count);
            }
            Verdict::Missing if !new.handlers.contains_key(&h.key) => {
                let _ = writeln!(out, "  - {name}: no longer in any kept run");
            }
            _ if h.changed => {
                let s = headline(h);
                let _ = writeln!(
                    out,
                    "  {} {name}: {} {} ms → {} ms ({}) {}",
                    verdict_emoji(h.verdict),
                    s.map_or("–", |s| s.stat.name()),
                    opt_ms(s.and_then(|s| s.base)),
                    opt_ms(s.and_then(|s| s.now)),
                    s.and_then(|s| s.change).map_or("–".to_owned(), pct),
                    h.verdict.name()
                );
            }
            _ => quiet.push(h),
        }
    }
    // Handlers the comparison left out (ignored by the config) that left the file.
    let gone = old.handlers.keys().filter(|k| !new.handlers.contains_key(*k) && !compared.contains(k.as_str()));
    for key in gone {
        let _ = writeln!(out, "  - {}: no longer in any kept run", escape::terminal(key));
    }
    if quiet.is_empty() {
        return out;
    }
    let _ = writeln!(out, "  {} more: {} (no change the gate would call real)", quiet.len(), verdict_counts(quiet.iter().copied()));
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
        let c = CheckReport {
            id: "default",
            comparison: &comparison,
            report: &report,
            source_link: None,
            run_url: None,
            baseline: Some(&baseline),
        };
        let view = View { top: 20, sort: crate::config::SortKey::Avg, bands: Default::default(), color: false };
        let rows = table_rows(&c);
        assert_eq!(rows.len(), 3);
        let slow = &rows[0];
        assert!(slow.starts_with("| ❌ | `P.slow` | typical | ") && slow.contains(" | past +10.0% and "), "{slow}");
        assert!(slow.contains("| 180 / 60 |"), "{slow}");
        // The hostile name is in a code span its backticks cannot close (HTML is inert there),
        // and its pipe cannot split the row.
        let hostile_row = rows.iter().find(|r| r.contains("P.x")).expect("the hostile row");
        assert!(hostile_row.contains("| `` P.x\\|<b>`y` `` |"), "{hostile_row}");
        assert_eq!(hostile_row.matches('|').count() - hostile_row.matches("\\|").count(), 8, "{hostile_row}");
        assert!(hostile_row.starts_with("| ➖ |"), "{hostile_row}");
        let md = markdown(&c, &view);
        assert!(md.starts_with("<!-- perfgate:default -->\n## ❌ perfgate: FAIL — 1 regressed\n"), "{md}");
        // The regression is in the table of changes; the unchanged handlers are folded.
        let (changes, rest) = md.split_once("<details><summary>Heatmap").expect("heatmap");
        let (_, folded) = rest.split_once("<details><summary>2 more handlers: 2 unchanged</summary>").expect("folded group");
        assert!(changes.contains("| `P.slow` |") && !changes.contains("| `P.steady` |"), "{md}");
        assert!(folded.contains("| `P.steady` |"), "{md}");
        // The heatmap: one row per handler, a square per baseline run and one for now.
        let heat = md.lines().find(|l| l.starts_with("| `P.slow` | ") && !l.contains("typical")).expect("heatmap row");
        assert_eq!(heat.matches(" | ").count(), 4, "{heat}");
        assert!(heat.ends_with("| 🟥 |"), "{heat}");
        let terminal = terminal(&c, &view);
        assert!(terminal.contains("❌ P.slow"), "{terminal}");
        // Trimmed to a limit, the least severe rows go first and the report says so.
        let short = markdown_within(&c, &view, md.chars().count() - 1);
        assert!(short.contains("| `P.slow` |") && short.contains("least severe row(s) omitted"), "{short}");
        assert!(short.chars().count() < md.chars().count());
    }
}
