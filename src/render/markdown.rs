//! The markdown report of `analyze` (for a file or a job summary): headline, the table of the
//! top handlers with emoji heat, and the diagnostics folded in `<details>`. Log-derived text
//! goes through [`escape::markdown_code`].

use std::fmt::Write;

use super::table::{self, Align};
use super::{Heat, View, escape, legend};
use crate::report::Report;

pub fn render(report: &Report, view: &View) -> String {
    let mut out = String::new();
    let s = &report.summary;
    out.push_str("## perfgate — handler performance\n\n");
    let _ = writeln!(
        out,
        "**{} handler{}**, {} executions, {:.2} ms in total.{}\n",
        s.total_handlers,
        if s.total_handlers == 1 { "" } else { "s" },
        s.total_executions,
        s.total_time,
        s.slowest_handler.as_deref().map(|h| format!(" Slowest (avg): {}.", escape::markdown_code(h))).unwrap_or_default()
    );
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
        let heat = Heat::of(h.timing.map(|t| t.avg), &view.bands);
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
        let _ = writeln!(out, "\n_{} more handler(s) not shown._", report.handlers.len() - view.top);
    }
    let _ = writeln!(out, "\n{}\n", legend(&view.bands).join(" · "));
    let d = &report.diagnostics;
    out.push_str("<details><summary>Diagnostics</summary>\n\n");
    out.push_str(&super::terminal::diagnostics_line(d));
    out.push('\n');
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
