//! The markdown report of `analyze` (for a file or a job summary): headline, the table of the
//! top handlers with emoji heat, and the diagnostics folded in `<details>`. Log-derived text
//! goes through [`escape::markdown_code`].

use std::fmt::Write;

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
    out.push_str("| | Handler | Plugin | Executions | avg ms | p50 | p95 | p99 | max | total ms | Source |\n");
    out.push_str("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for h in report.handlers.iter().take(view.top) {
        let heat = Heat::of(h.timing.map(|t| t.avg), &view.bands);
        let plugin = if h.plugin.is_empty() { String::new() } else { escape::markdown_code(&h.plugin) };
        let source = match (&h.source_file, h.source_line) {
            (Some(f), Some(l)) => escape::markdown_code(&format!("{f}:{l}")),
            _ => String::new(),
        };
        let nums = match h.timing {
            Some(t) => format!("{:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2}", t.avg, t.p50, t.p95, t.p99, t.max, h.total_time),
            None => "– | – | – | – | – | –".to_owned(),
        };
        let _ = writeln!(out, "| {} | {} | {plugin} | {} | {nums} | {source} |", heat.dot(), escape::markdown_code(&h.name), h.executions);
    }
    if report.handlers.len() > view.top {
        let _ = writeln!(out, "\n_{} more handler(s) not shown._", report.handlers.len() - view.top);
    }
    let _ = writeln!(out, "\n{}\n", legend(&view.bands).join(" · "));
    let d = &report.diagnostics;
    out.push_str("<details><summary>Diagnostics</summary>\n\n");
    out.push_str(&super::terminal::diagnostics_line(d));
    out.push('\n');
    out.push_str(
        "| File | Lines | Recognized | Samples | Failed | Incomplete | Orphans | Note |\n|---|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for f in &d.files {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            escape::markdown_code(&f.path),
            f.lines,
            f.recognized_lines,
            f.samples,
            f.failed,
            f.incomplete,
            f.orphans,
            f.problem.as_deref().map(escape::markdown_code).unwrap_or_default()
        );
    }
    out.push_str("\n</details>\n");
    out
}
