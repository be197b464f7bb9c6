//! The HTML report: one self-contained file (inline CSS, JS and data; no request to the network
//! or to any other file — a Content-Security-Policy forbids them) with an SVG heatmap of
//! handlers × statistics, a sortable, filterable table, and a drill-down per handler
//! (histogram, sequences/beats/events, every listed execution with its log location, failed
//! and incomplete beats, source file; with `check`, baseline vs now).
//!
//! Log-derived text reaches the page only as JSON data, embedded with `<`, `>`, `&` and the
//! line separators escaped as `\uXXXX` (so `</script>` in a handler name cannot close the
//! script element), and is put into the page with `textContent` / `createElementNS` only.

use serde::Serialize;

use super::{Exporter, View, words};
use crate::gate::Comparison;
use crate::judged::Judged;
use crate::report::{Histogram, Report};

const CSS: &str = include_str!("assets/report.css");
const JS: &str = include_str!("assets/report.js");

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PageData<'a> {
    title: String,
    top: usize,
    bands: [f64; 3],
    /// Said of the bands when they are the report's own (`auto`).
    bands_note: Option<&'static str>,
    report: &'a Report,
    histograms: Vec<&'a Histogram>,
    comparison: Option<&'a Comparison>,
    /// Upper edges of the latency buckets (ms).
    latency_edges: Vec<f64>,
    /// Per handler, the pooled baseline's mean and standard deviation of `ln(ms + 0.1)` (the
    /// baseline keeps no samples: its latency row is the log-normal of these).
    baselines: Vec<Option<[f64; 2]>>,
    /// Per compared handler (in the comparison's order), its row in words.
    words: Vec<RowWords>,
    /// The outcome in a word (`FAIL`, `PASS with warnings`), for a check.
    outcome: Option<&'static str>,
    /// The verdicts counted (`1 regressed · 2 warnings`), for a check.
    counts: Option<String>,
    /// The run-wide shift in a sentence, for a check.
    drift: Option<String>,
    /// The slowest handler on average, with its plugin.
    slowest: Option<String>,
    /// The directory every absolute log path shares (shown once); the page shows log locations
    /// relative to it.
    file_root: String,
}

/// A compared handler's row as the reports word it ([`words`]): its state, the change labelled
/// with its statistic, the reason in plain words; per statistic the plain reason and the
/// detail of how it was decided.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RowWords {
    state: &'static str,
    /// The headline statistic's name.
    stat: Option<&'static str>,
    /// The headline statistic's change base → now, labelled: `typical +120.5%`.
    change: String,
    /// For a handler the reports lead with, when the runner's shift was taken out: what the
    /// gate judged and the shift (`+124.9%`, `-2.3%`), shown beside the change.
    net: Option<(String, String)>,
    /// base → now of the headline statistic, for sorting.
    raw_change: Option<f64>,
    reason: String,
    reasons: Vec<String>,
    details: Vec<String>,
}

/// The longest directory (ending with its separator) that every absolute path in the report
/// starts with; empty when a path is relative or they share none.
fn file_root(report: &Report) -> String {
    let files = report
        .handlers
        .iter()
        .flat_map(|h| h.execution_list.iter().map(|e| e.file.as_str()).chain(h.issues.iter().map(|i| i.file.as_str())))
        .chain(report.orphans.iter().map(|o| o.file.as_str()));
    let mut root: Option<&str> = None;
    for f in files {
        if !(f.starts_with('/') || f.get(1..3) == Some(":\\") || f.get(1..3) == Some(":/")) {
            return String::new();
        }
        let dir = &f[..f.rfind(['/', '\\']).map_or(0, |i| i + 1)];
        root = Some(match root {
            None => dir,
            Some(r) => {
                let common =
                    r.char_indices().zip(dir.chars()).take_while(|((_, a), b)| a == b).last().map_or(0, |((i, c), _)| i + c.len_utf8());
                let common = &r[..common];
                &common[..common.rfind(['/', '\\']).map_or(0, |i| i + 1)]
            }
        });
    }
    root.unwrap_or("").to_owned()
}

/// The HTML format.
pub struct Html;

impl Exporter for Html {
    fn name(&self) -> &'static str {
        "html"
    }

    fn render(&self, run: &Judged<'_>, view: &View) -> String {
        super::in_memory(|out| write_page(run, view, out))
    }

    fn write_to(&self, run: &Judged<'_>, view: &View, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        write_page(run, view, out)
    }
}

/// JSON that is safe inside `<script type="application/json">`.
pub(crate) fn script_json(value: &impl Serialize) -> String {
    super::in_memory(|out| write_script_json(out, value))
}

/// Writes [`script_json`] of `value` to `out` as it serializes (a page's data is never held
/// whole in memory twice).
fn write_script_json(out: &mut dyn std::io::Write, value: &impl Serialize) -> std::io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(out, ScriptSafe);
    value.serialize(&mut ser).map_err(std::io::Error::from)
}

/// Compact JSON whose strings escape what could end the script element or the script (`<`,
/// `>`, `&`; U+2028 and U+2029, line ends to old JavaScript): they occur only inside strings,
/// which serde_json hands over in fragments of whole characters.
struct ScriptSafe;

impl serde_json::ser::Formatter for ScriptSafe {
    fn write_string_fragment<W: ?Sized + std::io::Write>(&mut self, writer: &mut W, fragment: &str) -> std::io::Result<()> {
        let mut from = 0;
        for (i, c) in fragment.char_indices() {
            let escaped = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[from..i])?;
            writer.write_all(escaped.as_bytes())?;
            from = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[from..])
    }
}

/// The page; with the comparison and the baseline for a check.
fn write_page(run: &Judged<'_>, view: &View, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let report = run.report;
    let comparison = run.judgement.map(|j| j.comparison);
    let baseline = run.judgement.map(|j| j.baseline);
    let data = PageData {
        title: match comparison {
            Some(_) => "perfgate check".to_owned(),
            None => "perfgate — handler performance".to_owned(),
        },
        top: view.top,
        bands_note: view.bands.note(report),
        bands: {
            let b = view.bands.of(report);
            [b.fast_ms, b.medium_ms, b.slow_ms]
        },
        report,
        histograms: report.handlers.iter().map(|h| &h.histogram).collect(),
        latency_edges: crate::report::latency_edges(),
        baselines: report
            .handlers
            .iter()
            .map(|h| baseline?.handlers.get(&h.display_name()).map(|b| [b.pooled.log_mean, b.pooled.log_sd]))
            .collect(),
        words: comparison.map_or_else(Vec::new, |c| {
            c.handlers
                .iter()
                .map(|h| RowWords {
                    state: words::state(h),
                    stat: words::headline(h).map(|s| s.stat.name()),
                    change: words::headline(h).map_or_else(
                        || "–".to_owned(),
                        |s| format!("{} {}", s.stat.name(), words::raw_change(s).map_or_else(|| "–".to_owned(), words::pct)),
                    ),
                    net: words::headline(h).filter(|_| h.changed).and_then(words::net_of_shift),
                    raw_change: words::headline(h).and_then(words::raw_change),
                    reason: words::short_reason(h),
                    reasons: h.stats.iter().map(words::stat_reason).collect(),
                    details: h.stats.iter().map(words::stat_detail).collect(),
                })
                .collect()
        }),
        outcome: comparison.map(|c| words::outcome(c.outcome).1),
        counts: comparison.map(words::counts),
        drift: comparison.map(words::drift),
        slowest: super::slowest(report),
        file_root: file_root(report),
        comparison,
    };
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>perfgate report</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n\
<header><h1 id=\"title\">perfgate</h1><p id=\"summary\"></p><p id=\"verdict\"></p></header>\n\
<section id=\"controls\"><input id=\"filter\" type=\"search\" placeholder=\"Filter handlers, plugins, sequences, events…\">\
<select id=\"plugin\"><option value=\"\">All plugins</option></select>\
<select id=\"sequence\"><option value=\"\">All sequences</option></select>\
<label><input id=\"show-all\" type=\"checkbox\"> Show all handlers</label> <span id=\"shown\"></span></section>\n\
<section id=\"heatmap-section\"><h2>Statistics</h2><div id=\"heatmap\"></div><p class=\"legend\" id=\"legend\"></p></section>\n\
<section id=\"latency-section\"><h2>Latency heatmap</h2><div id=\"latency\"></div><p class=\"legend\" id=\"latency-legend\"></p></section>\n\
<section><h2>Handlers</h2><div class=\"scroll\"><table id=\"handlers\"><thead><tr></tr></thead><tbody></tbody></table></div></section>\n\
<section id=\"drilldown\" hidden><h2 id=\"dd-title\"></h2><p id=\"dd-meta\"></p><div id=\"dd-compare\"></div><div id=\"dd-latency\"></div><div id=\"dd-histogram\"></div>\
<h3>Executions</h3><p id=\"dd-note\"></p><div class=\"scroll\"><table id=\"dd-executions\"><thead><tr><th>Timestamp</th><th>Sequence</th><th>Beat</th><th>Event</th><th>Request id</th><th>Duration (ms)</th><th>Source</th><th>Log location</th></tr></thead><tbody></tbody></table></div>\
<h3>Failed and incomplete beats</h3><div class=\"scroll\"><table id=\"dd-issues\"><thead><tr><th>Status</th><th>Timestamp</th><th>Sequence</th><th>Beat</th><th>Event</th><th>Log location</th></tr></thead><tbody></tbody></table></div></section>\n\
<footer id=\"diagnostics\"></footer>\n\
<script type=\"application/json\" id=\"perfgate-data\">"
    )?;
    write_script_json(out, &data)?;
    write!(out, "</script>\n<script>\n{JS}</script>\n</body>\n</html>\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_locations_are_shown_relative_to_the_directory_they_share() {
        let m = crate::measure::testing::json_lines(&crate::measure::testing::lines(&[("a", 1.0)]));
        let mut r = crate::report::build(&m, crate::config::SortKey::Avg);
        let set = |r: &mut Report, files: &[&str]| {
            let template = r.handlers[0].execution_list[0].clone();
            r.handlers[0].execution_list =
                files.iter().map(|f| crate::report::ExecutionReport { file: (*f).to_owned(), ..template.clone() }).collect();
        };
        set(&mut r, &["/home/runner/work/app/.logs/a.log", "/home/runner/work/app/.logs/e2e/b.log"]);
        assert_eq!(file_root(&r), "/home/runner/work/app/.logs/");
        set(&mut r, &["/home/runner/work/app/.logs/a.log", "/home/runner/work/apps.log"]);
        assert_eq!(file_root(&r), "/home/runner/work/");
        set(&mut r, &["C:\\ci\\logs\\a.log", "C:\\ci\\logs\\b.log"]);
        assert_eq!(file_root(&r), "C:\\ci\\logs\\");
        set(&mut r, &[".logs/a.log", "/abs/b.log"]);
        assert_eq!(file_root(&r), "");
    }

    #[test]
    fn embedded_json_cannot_close_the_script() {
        let s = script_json(&serde_json::json!({"name": "</script><script>alert(1)</script> & \u{2028}"}));
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&') && !s.contains('\u{2028}'));
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back["name"], "</script><script>alert(1)</script> & \u{2028}");
    }
}
