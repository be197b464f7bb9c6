//! The terminal heatmap of the seed document: severity dot, name, 10-cell bar, `8.1ms avg
//! (42 executions)`, the legend, and the run's diagnostics.

use std::fmt::Write;

use super::{Heat, View, escape, legend, ms};
use crate::config::SortKey;
use crate::report::{Diagnostics, Report};

pub fn render(report: &Report, view: &View) -> String {
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
    for (h, name) in shown.iter().zip(&names) {
        let value = h.sort_value(view.sort);
        let cells = if max_value > 0.0 && value > 0.0 { ((value / max_value * 10.0).round() as usize).clamp(1, 10) } else { 0 };
        let bar = format!("{}{}", "█".repeat(cells), "░".repeat(10 - cells));
        let heat = Heat::of(h.timing.map(|t| t.avg), &view.bands);
        let pad = width - name.chars().count();
        let _ = write!(out, "{} {name}{} {bar} ", heat.dot(), " ".repeat(pad));
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
                let _ = write!(out, " ({} execution{})", h.executions, if h.executions == 1 { "" } else { "s" });
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
        out.push('\n');
    }
    if report.handlers.len() > shown.len() {
        let _ = writeln!(out, "… {} more handler(s); --top N shows more", report.handlers.len() - shown.len());
    }
    out.push_str("\nLegend:\n");
    for l in legend(&view.bands) {
        out.push_str(&l);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&diagnostics_line(&report.diagnostics));
    out
}

/// One paragraph of diagnostics (also used by the markdown report).
pub fn diagnostics_line(d: &Diagnostics) -> String {
    let plural = |n: u64, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
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
    let _ = writeln!(s, "; catalog: {} sequences from {} files", d.catalog.sequences, d.catalog.files);
    s
}
