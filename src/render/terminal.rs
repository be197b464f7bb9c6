//! The terminal reports: for an analysis, the heatmap of the seed document (severity dot, name,
//! 10-cell bar, `8.1ms avg (42 executions)`, the legend, and the run's diagnostics); for a
//! check, the outcome and a line per handler; and what `update-baseline` prints.

use std::fmt::Write;
use std::path::Path;

use super::{Exporter, Heat, View, escape, legend, ms, words};
use crate::baseline::Baseline;
use crate::config::SortKey;
use crate::gate::{Comparison, Outcome, Verdict};
use crate::judged::{Judged, Judgement};
use crate::report::{Diagnostics, Report};

/// The terminal format (`--format terminal`, the default on stdout).
pub struct Terminal;

impl Exporter for Terminal {
    fn name(&self) -> &'static str {
        "terminal"
    }

    fn render(&self, run: &Judged<'_>, view: &View) -> String {
        match &run.judgement {
            Some(j) => check(run, j, view),
            None => heatmap(run.report, view),
        }
    }
}

/// The heatmap of an analysis.
pub fn heatmap(report: &Report, view: &View) -> String {
    let mut out = String::new();
    out.push_str("Handler Performance Heatmap\n");
    out.push_str(&"═".repeat(59));
    out.push_str("\n\n");
    let shown: Vec<_> = report.handlers.iter().take(view.top).collect();
    if shown.is_empty() {
        out.push_str("(no handler executions found)\n");
    }
    let names: Vec<String> = shown.iter().map(|h| escape::terminal(&h.display_name())).collect();
    let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let max_value = shown.iter().map(|h| h.sort_value(view.sort)).fold(0.0, f64::max);
    let bands = view.bands.of(report);
    for (h, name) in shown.iter().zip(&names) {
        let heat = Heat::of(h.timing.map(|t| t.avg), &bands);
        let pad = width - name.chars().count();
        let _ = write!(out, "{} {name}{} {}", heat.dot(), " ".repeat(pad), bar_text(h, view, max_value));
        out.push('\n');
    }
    if report.handlers.len() > shown.len() {
        let _ = writeln!(out, "… {}; --top N shows more", words::plural((report.handlers.len() - shown.len()) as u64, "more handler"));
    }
    let _ = writeln!(out, "\nLegend{}:", view.bands.note(report).map(|n| format!(" ({n})")).unwrap_or_default());
    for l in legend(&bands) {
        out.push_str(&l);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&diagnostics_line(&report.diagnostics));
    out
}

/// A handler's bar and numbers in the heatmap: `████████░░ 8.1ms avg (42 executions)`, with
/// failed, incomplete and unmapped noted (also the markdown heatmap's).
pub fn bar_text(h: &crate::report::HandlerReport, view: &View, max_value: f64) -> String {
    let mut out = format!("{} ", super::bar(h.sort_value(view.sort), max_value));
    match h.timing {
        Some(t) => {
            let _ = write!(out, "{} avg", ms(t.avg));
            match view.sort {
                SortKey::P95 => {
                    let _ = write!(out, ", p95 {}", ms(t.p95));
                }
                SortKey::Total => {
                    let _ = write!(out, ", total {}", ms(h.total_time));
                }
                SortKey::Avg | SortKey::Count => {}
            }
            let _ = write!(out, " ({})", words::plural(h.executions, "execution"));
        }
        None => out.push_str("no samples"),
    }
    let mut notes = Vec::new();
    if h.failed > 0 {
        notes.push(format!("{} failed", h.failed));
    }
    if h.incomplete > 0 {
        notes.push(format!("{} incomplete", h.incomplete));
    }
    if h.mapping == crate::attribute::Mapping::Unmapped {
        notes.push("unmapped".to_owned());
    }
    if !notes.is_empty() {
        let _ = write!(out, " [{}]", notes.join(", "));
    }
    out
}

/// One paragraph of diagnostics (also used by the markdown report).
pub fn diagnostics_line(d: &Diagnostics) -> String {
    let plural = words::plural;
    let mut s = format!(
        "Diagnostics: {}, {}, {} recognized ({}) → {}, {} failed, {} incomplete, {} ({} attributed), {}",
        plural(d.files.len() as u64, "file"),
        plural(d.lines, "line"),
        d.recognized_lines,
        plural(d.timing_lines, "timing line"),
        plural(d.samples, "sample"),
        d.failed,
        d.incomplete,
        plural(d.orphans, "orphan completion"),
        d.orphans_attributed,
        plural(d.unmapped_beats, "unmapped beat"),
    );
    let _ = writeln!(s, "; catalog: {} from {}", plural(d.catalog.sequences as u64, "sequence"), plural(d.catalog.files as u64, "file"));
    s
}

/// The terminal report of a check: the outcome, the run-wide shift, and a line per handler.
pub fn check(run: &Judged<'_>, j: &Judgement<'_>, view: &View) -> String {
    let cmp = j.comparison;
    let (icon, word) = words::outcome(cmp.outcome);
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
        words::counts(cmp),
        cmp.baseline_runs,
        if cmp.baseline_runs == 1 { "" } else { "s" }
    );
    let _ = writeln!(out, "{}.\n", words::drift(cmp));
    // Every changed handler, then folded ones while --top allows.
    let changed = cmp.changed().len();
    let shown = &cmp.handlers[..changed.max(view.top.min(cmp.handlers.len()))];
    let cells: Vec<[String; 4]> = shown
        .iter()
        .map(|h| {
            let s = words::headline(h);
            let stat = s.map_or("–".to_owned(), |s| s.stat.name().to_owned());
            let base = s.and_then(|s| s.base).map_or("–".to_owned(), |v| format!("{v:.2} ms"));
            let now = s.and_then(|s| s.now).map_or("–".to_owned(), |v| format!("{v:.2} ms"));
            [escape::terminal(&h.key), stat, format!("{base} → {now}"), s.map(|s| words::row_change(h, s)).unwrap_or_default()]
        })
        .collect();
    let width = |i: usize| cells.iter().map(|c| c[i].chars().count()).max().unwrap_or(0);
    let widths = [width(0), width(1), width(2), width(3)];
    let pad = |s: &str, w: usize| format!("{s}{}", " ".repeat(w - s.chars().count()));
    for (h, c) in shown.iter().zip(&cells) {
        let state = words::state(h);
        let _ = write!(
            out,
            "{} {}  {}  {}  {}  {}",
            words::mark(h),
            pad(&c[0], widths[0]),
            pad(&c[1], widths[1]),
            pad(&c[2], widths[2]),
            pad(&c[3], widths[3]),
            super::paint(view.color, words::color(h.severity), state)
        );
        if h.verdict != Verdict::Unchanged || state != "unchanged" {
            let _ = write!(out, " — {}", escape::terminal(&words::short_reason(h)));
        }
        out.push('\n');
    }
    let hidden = &cmp.handlers[shown.len()..];
    if !hidden.is_empty() {
        let _ = writeln!(out, "… {} (--top N shows more)", words::more(hidden));
    }
    out.push('\n');
    if view.explain {
        let _ = writeln!(out, "How this was decided:\n{}.\n{}", words::drift_detail(cmp), words::family_detail(cmp));
        for h in cmp.changed() {
            let _ = writeln!(out, "  {}: {}", escape::terminal(&h.key), escape::terminal(&words::verdict_detail(h)));
        }
        out.push('\n');
    }
    out.push_str(&diagnostics_line(&run.report.diagnostics));
    out
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
                let s = words::headline(h);
                let _ = writeln!(
                    out,
                    "  {} {name}: {} {} ms → {} ms ({}) {}",
                    words::mark(h),
                    s.map_or("–", |s| s.stat.name()),
                    words::opt_ms(s.and_then(|s| s.base)),
                    words::opt_ms(s.and_then(|s| s.now)),
                    s.map_or("–".to_owned(), |s| words::row_change(h, s)),
                    words::state(h)
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
    let _ = writeln!(out, "  {} (no change the gate would call real)", words::more(quiet.iter().copied()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_diagnostics_line_counts_in_words_with_their_plurals() {
        let mut d = Diagnostics::default();
        d.catalog.sequences = 1;
        d.catalog.files = 1;
        d.lines = 1;
        d.orphans = 1;
        assert_eq!(
            diagnostics_line(&d),
            "Diagnostics: 0 files, 1 line, 0 recognized (0 timing lines) → 0 samples, 0 failed, 0 incomplete, 1 orphan completion \
(0 attributed), 0 unmapped beats; catalog: 1 sequence from 1 file\n"
        );
    }
}
