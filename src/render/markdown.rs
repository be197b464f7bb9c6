//! The markdown reports. For an analysis (a file or a job summary): headline, the table of the
//! top handlers with emoji heat, and the diagnostics folded in `<details>`. For a check (the PR
//! comment and the job summary): the verdict first, the changed handlers, a heatmap of the
//! baseline's runs, the rest folded, within the publisher's size limit. Log-derived text goes
//! through [`escape`].

use std::fmt::Write;

use super::table::{self, Align};
use super::terminal::bar_text;
use super::{Exporter, Heat, View, escape, legend, words};
use crate::judged::{Judged, Judgement};
use crate::report::Report;
use crate::stats;

/// The markdown format.
pub struct Markdown;

impl Exporter for Markdown {
    fn name(&self) -> &'static str {
        "markdown"
    }

    fn render(&self, run: &Judged<'_>, view: &View) -> String {
        match run.judgement {
            Some(judgement) => check(&Check { run, judgement, limit: run.markdown_limit }, view),
            None => analysis(run.report, view),
        }
    }
}

/// A check's markdown: the judged run, its judgement, and the size limit.
pub struct Check<'a> {
    pub run: &'a Judged<'a>,
    pub judgement: Judgement<'a>,
    pub limit: Option<usize>,
}

/// The markdown of an analysis.
pub fn analysis(report: &Report, view: &View) -> String {
    let mut out = String::new();
    let s = &report.summary;
    out.push_str("## perfgate — handler performance\n\n");
    let _ = writeln!(
        out,
        "**{}**, {}, {:.2} ms in total.{}\n",
        words::plural(s.total_handlers as u64, "handler"),
        words::plural(s.total_executions, "execution"),
        s.total_time,
        super::slowest(report).map(|h| format!(" Slowest on average: {}.", escape::markdown_code(&h))).unwrap_or_default()
    );
    // The heatmap's bars, as the terminal draws them.
    let shown: Vec<_> = report.handlers.iter().take(view.top).collect();
    let max_value = shown.iter().map(|h| h.sort_value(view.sort)).fold(0.0, f64::max);
    let bands = view.bands.of(report);
    for h in &shown {
        let heat = Heat::of(h.timing.map(|t| t.avg), &bands);
        let _ = writeln!(out, "- {} {} {}", heat.dot(), escape::markdown_code(&h.display_name()), bar_text(h, view, max_value));
    }
    if !shown.is_empty() {
        out.push('\n');
    }
    let (l, r) = (Align::Left, Align::Right);
    out.push_str(&table::header(&[
        ("", l),
        ("Handler", l),
        ("Plugin", l),
        ("Executions", r),
        ("avg ms", r),
        ("p50", r),
        ("p95", r),
        ("p99", r),
        ("max", r),
        ("total ms", r),
        ("Source", l),
    ]));
    for h in report.handlers.iter().take(view.top) {
        let heat = Heat::of(h.timing.map(|t| t.avg), &bands);
        let plugin = if h.plugin.is_empty() { String::new() } else { escape::markdown_code(&h.plugin) };
        let source = match (&h.source_file, h.source_line) {
            (Some(f), Some(l)) => escape::markdown_code(&format!("{f}:{l}")),
            _ => String::new(),
        };
        let nums: Vec<String> = match h.timing {
            Some(t) => [t.avg, t.p50, t.p95, t.p99, t.max, h.total_time].iter().map(|v| format!("{v:.2}")).collect(),
            None => vec!["–".to_owned(); 6],
        };
        let mut cells = vec![heat.dot().to_owned(), escape::markdown_code(&h.name), plugin, h.executions.to_string()];
        cells.extend(nums);
        cells.push(source);
        out.push_str(&table::row(cells));
    }
    if report.handlers.len() > view.top {
        let _ = writeln!(out, "\n_{} not shown._", words::plural((report.handlers.len() - view.top) as u64, "more handler"));
    }
    let _ = writeln!(out, "\n{}{}\n", legend(&bands).join(" · "), noted(view, report));
    let d = &report.diagnostics;
    // The counts are the summary (a line of numbers; no log-derived text), the files inside.
    let _ = writeln!(out, "<details><summary>{}</summary>\n", super::terminal::diagnostics_line(d).trim_end());
    out.push_str(&table::header(&[
        ("File", l),
        ("Lines", r),
        ("Recognized", r),
        ("Samples", r),
        ("Failed", r),
        ("Incomplete", r),
        ("Orphans", r),
        ("Note", l),
    ]));
    for f in &d.files {
        let counts = [f.lines, f.recognized_lines, f.samples, f.failed, f.incomplete, f.orphans].map(|n| n.to_string());
        let mut cells = vec![escape::markdown_code(&f.path)];
        cells.extend(counts);
        cells.push(f.problem.as_deref().map(escape::markdown_code).unwrap_or_default());
        out.push_str(&table::row(cells));
    }
    out.push_str("\n</details>\n");
    out
}

/// ` (bands = "auto": from this run's averages)` after a legend, when they are.
fn noted(view: &View, report: &Report) -> String {
    view.bands.note(report).map(|n| format!(" ({n})")).unwrap_or_default()
}

/// The markdown report of a check (PR comment, job summary), at most `limit` characters when
/// bounded: when too long, the least severe rows are dropped and the report says how many.
pub fn check(c: &Check<'_>, view: &View) -> String {
    // Each row is rendered once; the search for the most rows that fit only joins them.
    let bands = view.bands.of(c.run.report);
    let parts = Parts {
        rows: table_rows(c),
        heat: heatmap_rows(c, view),
        bars: bar_rows(c, view, &bands),
        how: how_rows(c),
        legend: legend(&bands).join(" · ") + &noted(view, c.run.report),
    };
    let total = parts.rows.len();
    let full = markdown_rows(c, &parts, total);
    let Some(limit) = c.limit else { return full };
    if full.chars().count() <= limit {
        return full;
    }
    // Binary search for the most rows that fit.
    let (mut lo, mut hi) = (0usize, total);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if markdown_rows(c, &parts, mid).chars().count() <= limit {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let out = markdown_rows(c, &parts, lo);
    if out.chars().count() <= limit {
        return out;
    }
    // Even without a row the frame does not fit (a limit below a few hundred characters): cut
    // at a line, and say so within the limit.
    let note = "\n_The report was cut to fit the comment's limit; the JSON report has it whole._\n";
    let room = limit.saturating_sub(note.chars().count());
    let cut: String = out.chars().take(room).collect();
    let cut = match cut.rfind('\n') {
        Some(i) => &cut[..i],
        None => "",
    };
    let mut short = format!("{cut}{note}");
    if short.chars().count() > limit {
        short = short.chars().take(limit).collect();
    }
    short
}

/// A handler's name as the comment shows it: at most `NAME_CHARS` characters, the middle left
/// out (`…`) beyond that, so that no one name can take the comment's room; the JSON and HTML
/// reports have it whole.
fn comment_name(key: &str) -> String {
    const NAME_CHARS: usize = 100;
    if key.chars().count() <= NAME_CHARS {
        return escape::markdown_code(key);
    }
    let head: String = key.chars().take(NAME_CHARS / 2).collect();
    let tail: Vec<char> = key.chars().rev().take(NAME_CHARS / 2 - 1).collect();
    escape::markdown_code(&format!("{head}…{}", tail.into_iter().rev().collect::<String>()))
}

const TABLE: [(&str, Align); 6] = [
    ("", Align::Left),
    ("Handler", Align::Left),
    ("Base → now (ms)", Align::Right),
    ("Change", Align::Left),
    ("Samples base / now", Align::Right),
    ("Verdict", Align::Left),
];

/// Each part of a check's comment rendered once; the search for the most rows that fit only
/// joins them. Every part but the table's rows carries the index of its handler in the
/// comparison, and is kept while that handler's table row is.
struct Parts {
    rows: Vec<String>,
    heat: (String, Vec<(usize, String)>),
    bars: Vec<(usize, String)>,
    how: Vec<(usize, String)>,
    legend: String,
}

/// The heatmap of the brief, folded: the slowest handlers of this run by average (up to
/// `--top`), each with its bar and its change.
fn bar_rows(c: &Check<'_>, view: &View, bands: &crate::config::Bands) -> Vec<(usize, String)> {
    let by_name: std::collections::HashMap<String, &crate::report::HandlerReport> =
        c.run.report.handlers.iter().map(|r| (r.display_name(), r)).collect();
    let mut timed: Vec<(usize, &crate::report::HandlerReport, &crate::gate::HandlerComparison)> = c
        .judgement
        .comparison
        .handlers
        .iter()
        .enumerate()
        .filter_map(|(i, h)| Some((i, *by_name.get(&h.key)?, h)))
        .filter(|(_, r, _)| r.timing.is_some())
        .collect();
    timed.sort_by(|a, b| b.1.sort_value(view.sort).total_cmp(&a.1.sort_value(view.sort)).then(a.0.cmp(&b.0)));
    timed.truncate(view.top);
    let max_value = timed.iter().map(|(_, r, _)| r.sort_value(view.sort)).fold(0.0, f64::max);
    timed
        .into_iter()
        .map(|(i, r, h)| {
            let heat = Heat::of(r.timing.map(|t| t.avg), bands);
            let change = words::headline(h).map(|s| format!(" · {} {}", words::mark(h), words::labelled_change(h, s))).unwrap_or_default();
            (i, format!("- {} {} {}{change}\n", heat.dot(), comment_name(&h.key), bar_text(r, view, max_value)))
        })
        .collect()
}

/// "How this was decided": per changed handler, its statistic net of the runner with the
/// interval, the thresholds and the family-wise test.
fn how_rows(c: &Check<'_>) -> Vec<(usize, String)> {
    c.judgement
        .comparison
        .changed()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let detail = words::verdict_detail(h);
            (i, format!("- {}: {}\n", comment_name(&h.key), escape::markdown_text(&detail)))
        })
        .collect()
}

/// One table row per compared handler, in the comparison's order: the statistic the verdict
/// rests on, base → now, the change with its interval, the samples and the reason.
fn table_rows(c: &Check<'_>) -> Vec<String> {
    let by_name: std::collections::HashMap<String, &crate::report::HandlerReport> =
        c.run.report.handlers.iter().map(|r| (r.display_name(), r)).collect();
    c.judgement
        .comparison
        .handlers
        .iter()
        .map(|h| {
            let source = by_name
                .get(&h.key)
                .and_then(|r| Some((r.source_file.as_deref()?, r.source_line)))
                .and_then(|(path, line)| c.run.links.source.and_then(|link| link(path, line)))
                .map(|url| format!(" [source]({})", escape::markdown_url(&url)))
                .unwrap_or_default();
            let s = words::headline(h);
            let state = words::state(h);
            let reason = words::short_reason(h);
            let mut verdict = if reason.is_empty() || (state == "unchanged" && reason == "within the noise") {
                state.to_owned()
            } else {
                format!("{state}: {}", escape::markdown_text(&reason))
            };
            if let Some(spark) = words::main_sparkline(h) {
                verdict = format!("{verdict} · {spark}");
            }
            table::row([
                words::mark(h).to_owned(),
                format!("{}{source}", comment_name(&h.key)),
                format!("{} → {}", words::opt_ms(s.and_then(|s| s.base)), words::opt_ms(s.and_then(|s| s.now))),
                s.map_or_else(|| "–".to_owned(), |s| escape::markdown_text(&words::labelled_change(h, s))),
                format!("{} / {}", h.base_count, h.now_count),
                verdict,
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
/// Each row with the index of its handler in the comparison (a row is kept while its handler's
/// table row is).
fn heatmap_rows(c: &Check<'_>, view: &View) -> (String, Vec<(usize, String)>) {
    let baseline = c.judgement.baseline;
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
    let changed = c.judgement.comparison.changed().len();
    let rows = c
        .judgement
        .comparison
        .handlers
        .iter()
        .enumerate()
        .filter(|(_, h)| h.now_count > 0 && baseline.handlers.contains_key(&h.key))
        .take(changed.max(view.top))
        .map(|(i, h)| {
            let history = &baseline.handlers[&h.key];
            let pooled = stats::from_log(history.pooled.log_mean);
            let against = |typical: f64| (pooled > 0.0).then(|| typical / pooled - 1.0);
            let mut cells = vec![comment_name(&h.key)];
            cells.extend(history.runs.iter().map(|r| square(r.as_ref().and_then(|r| against(stats::from_log(r.log_mean)))).to_owned()));
            let now = h.stats.iter().find(|s| s.stat == stats::Stat::Typical).and_then(|s| s.now);
            cells.push(square(now.and_then(against)).to_owned());
            (i, table::row(cells))
        })
        .collect();
    (header, rows)
}

fn markdown_rows(c: &Check<'_>, parts: &Parts, keep: usize) -> String {
    let (rows, heat) = (&parts.rows, &parts.heat);
    let cmp = c.judgement.comparison;
    let (icon, word) = words::outcome(cmp.outcome);
    let mut out = String::new();
    let _ = writeln!(out, "{}", crate::judged::marker(c.judgement.id));
    let changed = cmp.changed();
    let headline = if changed.is_empty() { "no handler changed".to_owned() } else { words::verdict_counts(changed) };
    let _ = writeln!(out, "## {icon} perfgate: {word} — {headline}\n");
    let _ = writeln!(
        out,
        "{} against {}: {}. {}.\n",
        words::plural(cmp.handlers.len() as u64, "handler"),
        words::plural(cmp.baseline_runs as u64, "baseline run"),
        words::counts(cmp),
        words::drift(cmp)
    );
    let keep = keep.min(rows.len());
    let n_changed = changed.len().min(keep);
    if n_changed > 0 {
        out.push_str(&table::header(&TABLE));
        for row in &rows[..n_changed] {
            out.push_str(row);
        }
        out.push('\n');
        out.push_str("<details><summary>How this was decided</summary>\n\n");
        let _ = writeln!(out, "{}.", words::drift_detail(cmp));
        let _ = writeln!(out, "{}\n", words::family_detail(cmp));
        for (_, line) in parts.how.iter().filter(|(i, _)| *i < n_changed) {
            out.push_str(line);
        }
        out.push_str("\n</details>\n\n");
    }
    let bar_rows: Vec<&String> = parts.bars.iter().filter(|(i, _)| *i < keep).map(|(_, r)| r).collect();
    if !bar_rows.is_empty() {
        out.push_str("<details><summary>Slowest handlers now, with their change</summary>\n\n");
        for row in bar_rows {
            out.push_str(row);
        }
        let _ = writeln!(out, "\n{}\n\n</details>\n", parts.legend);
    }
    let heat_rows: Vec<&String> = heat.1.iter().filter(|(i, _)| *i < keep).map(|(_, r)| r).collect();
    if !heat_rows.is_empty() {
        out.push_str(
            "<details><summary>Heatmap: each kept baseline run and this one, typical duration against the pooled baseline</summary>\n\n",
        );
        out.push_str(&heat.0);
        for row in heat_rows {
            out.push_str(row);
        }
        out.push_str("\n🟥 ≥ +25% · 🟧 +10% to +25% · ⬜ within ±10% · 🟩 −10% to −25% · 🟦 ≤ −25% · `·` no samples. A whole column of one colour is the runner, not the code.\n\n</details>\n\n");
    }
    let folded = &cmp.handlers[n_changed..keep];
    if !folded.is_empty() {
        let _ = writeln!(out, "<details><summary>{}</summary>\n", words::more(folded));
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
            "_{} omitted to fit the comment's {}-character limit; the JSON report has every handler._\n",
            words::plural(dropped as u64, "least severe row"),
            c.limit.unwrap_or(0)
        );
    }
    if let Some(url) = c.run.links.run.as_deref().map(escape::markdown_url).filter(|u| !u.is_empty()) {
        let _ = writeln!(out, "[The run]({url}): job summary, and the HTML report (heatmap, drill-down) when uploaded as an artifact.");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::{Baseline, Run};
    use crate::judged::Links;
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
        let run = Judged {
            report: &report,
            judgement: Some(Judgement { id: "default", comparison: &comparison, baseline: &baseline }),
            links: Links::default(),
            markdown_limit: None,
        };
        let c = Check { run: &run, judgement: run.judgement.unwrap(), limit: None };
        let view = View { top: 20, sort: crate::config::SortKey::Avg, bands: Default::default(), color: false, explain: false };
        let rows = table_rows(&c);
        assert_eq!(rows.len(), 3);
        let slow = &rows[0];
        assert_eq!(
            slow,
            "| ❌ | `P.slow` | 5.93 → 11.60 | typical +95.4% \\(+93.5% net of the runner's +0.2%\\) | 180 / 60 | regressed: 2.0× slower \\(+95%\\), very likely real |\n"
        );
        assert!(slow.contains("| 180 / 60 |"), "{slow}");
        // The hostile name is in a code span its backticks cannot close (HTML is inert there),
        // and its pipe cannot split the row.
        let hostile_row = rows.iter().find(|r| r.contains("P.x")).expect("the hostile row");
        assert!(hostile_row.contains("| `` P.x\\|<b>`y` `` |"), "{hostile_row}");
        assert_eq!(hostile_row.matches('|').count() - hostile_row.matches("\\|").count(), 7, "{hostile_row}");
        assert!(hostile_row.starts_with("| ➖ |"), "{hostile_row}");
        let md = check(&c, &view);
        assert!(md.starts_with("<!-- perfgate:default -->\n## ❌ perfgate: FAIL — 1 regressed\n"), "{md}");
        // The regression is in the table of changes; the unchanged handlers are folded.
        let (changes, rest) = md.split_once("<details><summary>Heatmap").expect("heatmap");
        let (_, folded) = rest.split_once("<details><summary>2 more handlers, all unchanged</summary>").expect("folded group");
        assert!(changes.contains("| `P.slow` |") && !changes.contains("| `P.steady` |"), "{md}");
        assert!(folded.contains("| `P.steady` |"), "{md}");
        // The heatmap: one row per handler, a square per baseline run and one for now.
        let heat = md.lines().find(|l| l.starts_with("| `P.slow` | ") && !l.contains("typical")).expect("heatmap row");
        // The brief's bars, folded: the slowest first, full, with its change.
        assert!(md.contains("- 🔴 `P.slow` ██████████ "), "{md}");
        assert_eq!(heat.matches(" | ").count(), 4, "{heat}");
        assert!(heat.ends_with("| 🟥 |"), "{heat}");
        let terminal = super::super::terminal::check(&run, &run.judgement.unwrap(), &view);
        assert!(terminal.contains("❌ P.slow"), "{terminal}");
        // Trimmed to a limit, the least severe rows go first and the report says so.
        let short = check(&Check { limit: Some(md.chars().count() - 1), ..c }, &view);
        assert!(short.contains("| `P.slow` |") && short.contains("1 least severe row omitted"), "{short}");
        assert!(short.chars().count() < md.chars().count());
    }
}
