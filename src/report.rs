//! The report's view-model, built once from an attribution and read by every renderer
//! (terminal, markdown, JSON). Its serialized form is the JSON report: a superset of the seed
//! document's shape (`handlers[].{name,plugin,executions,timing,totalTime,sourceFile}` and
//! `summary`), plus diagnostics. Numbers are rounded to 3 decimals (microseconds) so that the
//! same input gives byte-identical output.

use serde::Serialize;

use crate::attribute::tracker::TimedBy;
use crate::attribute::{HandlerKey, Mapping, Orphan};
use crate::config::SortKey;
pub use crate::measure::{CatalogDiagnostics, Diagnostics, FileDiagnostics};
use crate::measure::{Measured, Measurements};
use crate::stats::round3;
use crate::timestamp;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub handlers: Vec<HandlerReport>,
    pub summary: ReportSummary,
    pub orphans: Vec<OrphanReport>,
    pub diagnostics: Diagnostics,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HandlerReport {
    /// The handler's name; for an unmapped beat `sequence-id#N event`.
    pub name: String,
    /// The plugin (pluginId); empty when unknown.
    pub plugin: String,
    /// How the handler was named: catalog, log (DataBaton lines), report (markdown), unmapped.
    pub mapping: Mapping,
    /// Number of samples (completed beats).
    pub executions: u64,
    /// `None` when the handler only has failed or incomplete beats.
    pub timing: Option<Timing>,
    pub total_time: f64,
    pub source_file: Option<String>,
    pub source_line: Option<u32>,
    pub sequences: Vec<String>,
    pub beats: Vec<u32>,
    pub events: Vec<String>,
    pub kinds: Vec<String>,
    pub failed: u64,
    pub incomplete: u64,
    pub orphans: u64,
    /// Individual executions for drill-down (all, or a bounded selection — see
    /// `executionsTruncated`), in log order.
    pub execution_list: Vec<ExecutionReport>,
    pub executions_truncated: bool,
    /// The executions listed at most for this handler when the run's many handlers lowered it
    /// below `--max-executions` (the drill-down budget is shared by all handlers), and it left
    /// executions out; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executions_capped: Option<usize>,
    /// Failed and incomplete beats, in log order.
    pub issues: Vec<IssueReport>,
    /// Every duration, binned (the HTML drill-down; not in the JSON report).
    #[serde(skip)]
    pub histogram: Histogram,
}

/// Bins of each handler's histogram.
pub const BINS: usize = 24;

/// Upper edges (ms) of the latency buckets shared by every handler: 0.125 ms doubling to 32.8 s,
/// and a last bucket above; log-spaced, so that fast and slow handlers share one scale.
pub fn latency_edges() -> Vec<f64> {
    (0..19).map(|k| 0.125 * f64::from(1u32 << k)).collect()
}

/// Counts of a handler's durations in `BINS` equal bins between min and max (all durations,
/// not only the listed executions); no bins without durations. `latency`: the counts in the
/// log-spaced buckets of [`latency_edges`] (one more than edges).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Histogram {
    pub min: f64,
    pub max: f64,
    pub counts: Vec<u64>,
    pub latency: Vec<u64>,
}

impl Histogram {
    fn of(sorted: &[f64]) -> Histogram {
        let (Some(&min), Some(&max)) = (sorted.first(), sorted.last()) else { return Histogram::default() };
        let mut counts = vec![0u64; BINS];
        let width = (max - min) / BINS as f64;
        for d in sorted {
            let i = if width > 0.0 { (((d - min) / width) as usize).min(BINS - 1) } else { 0 };
            counts[i] += 1;
        }
        let edges = latency_edges();
        let mut latency = vec![0u64; edges.len() + 1];
        for d in sorted {
            latency[edges.partition_point(|&e| e <= *d)] += 1;
        }
        Histogram { min, max, counts, latency }
    }
}

impl HandlerReport {
    /// `Plugin.handler` (or the bare name when the plugin is unknown).
    pub fn display_name(&self) -> String {
        HandlerKey { plugin: self.plugin.clone(), name: self.name.clone() }.display()
    }

    /// The value a sort key orders by (0 for handlers without samples).
    pub fn sort_value(&self, key: SortKey) -> f64 {
        match (key, &self.timing) {
            (SortKey::Count, _) => self.executions as f64,
            (SortKey::Total, _) => self.total_time,
            (_, None) => 0.0,
            (SortKey::Avg, Some(t)) => t.avg,
            (SortKey::P95, Some(t)) => t.p95,
        }
    }
}

/// The JSON report's `timing`: the handler's [`crate::stats::Summary`] in the seed document's
/// shape (`avg`, no count or logarithms), rounded to microseconds. A view, not a second summary.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Timing {
    pub min: f64,
    pub max: f64,
    pub avg: f64,
    pub stddev: f64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionReport {
    pub timestamp: Option<String>,
    pub sequence: Option<String>,
    pub beat: u32,
    pub event: Option<String>,
    pub request_id: Option<String>,
    pub duration_ms: f64,
    pub source: TimedBy,
    pub file: String,
    pub line: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueReport {
    pub status: &'static str,
    pub timestamp: Option<String>,
    pub sequence: Option<String>,
    pub beat: u32,
    pub event: Option<String>,
    pub file: String,
    pub line: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrphanReport {
    pub beat: Option<u32>,
    pub event: Option<String>,
    pub duration_ms: f64,
    pub source: TimedBy,
    pub timestamp: Option<String>,
    /// `Plugin.handler` when the catalog (or the log) makes the beat unambiguous.
    pub handler: Option<String>,
    pub file: String,
    pub line: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportSummary {
    pub total_handlers: usize,
    pub total_executions: u64,
    pub total_time: f64,
    pub slowest_handler: Option<String>,
    pub fastest_handler: Option<String>,
}

impl Report {
    /// The report a published comment is rebuilt from (`perfgate publish`): each handler's
    /// identity and source file, which is all of the report the comment shows.
    pub fn of_sources(handlers: impl IntoIterator<Item = (String, String, Option<String>, Option<u32>)>) -> Report {
        let handlers: Vec<HandlerReport> = handlers
            .into_iter()
            .map(|(plugin, name, source_file, source_line)| HandlerReport {
                name,
                plugin,
                mapping: Mapping::Unmapped,
                executions: 0,
                timing: None,
                total_time: 0.0,
                source_file,
                source_line,
                sequences: Vec::new(),
                beats: Vec::new(),
                events: Vec::new(),
                kinds: Vec::new(),
                failed: 0,
                incomplete: 0,
                orphans: 0,
                execution_list: Vec::new(),
                executions_truncated: false,
                executions_capped: None,
                issues: Vec::new(),
                histogram: Histogram::default(),
            })
            .collect();
        let summary = ReportSummary {
            total_handlers: handlers.len(),
            total_executions: 0,
            total_time: 0.0,
            slowest_handler: None,
            fastest_handler: None,
        };
        Report { handlers, summary, orphans: Vec::new(), diagnostics: Diagnostics::default() }
    }
}

/// Builds the report view of the measurements, handlers ordered by `sort`.
pub fn build(m: &Measurements, sort: SortKey) -> Report {
    let mut handlers: Vec<HandlerReport> = m.handlers.iter().map(|(key, h)| handler_report(key, h, m)).collect();
    handlers.sort_by(|a, b| b.sort_value(sort).total_cmp(&a.sort_value(sort)).then_with(|| a.display_name().cmp(&b.display_name())));

    let timed: Vec<&HandlerReport> = handlers.iter().filter(|h| h.timing.is_some()).collect();
    let by_avg = |h: &&HandlerReport| h.timing.map_or(0.0, |t| t.avg);
    let slowest = timed.iter().max_by(|a, b| by_avg(a).total_cmp(&by_avg(b)).then_with(|| b.display_name().cmp(&a.display_name())));
    let fastest = timed.iter().min_by(|a, b| by_avg(a).total_cmp(&by_avg(b)).then_with(|| a.display_name().cmp(&b.display_name())));
    let total: f64 = m.handlers.values().filter_map(|h| h.samples.as_ref()).flat_map(|s| s.sorted()).sum();
    let summary = ReportSummary {
        total_handlers: handlers.len(),
        total_executions: handlers.iter().map(|h| h.executions).sum(),
        total_time: round3(total),
        slowest_handler: slowest.map(|h| h.name.clone()),
        fastest_handler: fastest.map(|h| h.name.clone()),
    };
    let orphans = m
        .orphans
        .iter()
        .map(|Orphan { record: o, handler }| OrphanReport {
            beat: o.beat,
            event: o.event.as_deref().map(str::to_owned),
            duration_ms: round3(o.ms),
            source: o.source,
            timestamp: o.ts.map(timestamp::format_iso),
            handler: handler.as_ref().map(HandlerKey::display),
            file: m.file(o.at.file),
            line: o.at.line,
        })
        .collect();
    Report { handlers, summary, orphans, diagnostics: m.diagnostics.clone() }
}

fn handler_report(key: &HandlerKey, data: &Measured, m: &Measurements) -> HandlerReport {
    let summary = data.samples.as_ref().map(|s| *s.summary());
    let timing = summary.map(|s| Timing {
        min: round3(s.min),
        max: round3(s.max),
        avg: round3(s.mean),
        stddev: round3(s.stddev),
        p50: round3(s.p50),
        p90: round3(s.p90),
        p95: round3(s.p95),
        p99: round3(s.p99),
    });
    let (selected, truncated) = (data.drill.kept(), data.drill.truncated());
    HandlerReport {
        name: key.name.clone(),
        plugin: key.plugin.clone(),
        mapping: data.mapping,
        executions: summary.map_or(0, |s| s.count),
        timing,
        total_time: round3(summary.map_or(0.0, |s| s.total())),
        source_file: data.source.as_ref().map(|s| s.path.clone()),
        source_line: data.source.as_ref().map(|s| s.line),
        sequences: data.sequences.iter().cloned().collect(),
        beats: data.beats.iter().copied().collect(),
        events: data.events.iter().cloned().collect(),
        kinds: data.kinds.iter().cloned().collect(),
        failed: data.issues.iter().filter(|i| i.failed).count() as u64,
        incomplete: data.issues.iter().filter(|i| !i.failed).count() as u64,
        orphans: data.orphans,
        execution_list: selected
            .into_iter()
            .map(|e| ExecutionReport {
                timestamp: e.ts.map(timestamp::format_iso),
                sequence: e.sequence.as_deref().map(str::to_owned),
                beat: e.beat,
                event: e.event.as_deref().map(str::to_owned),
                request_id: e.request.as_deref().map(str::to_owned),
                duration_ms: round3(e.ms),
                source: e.source,
                file: m.file(e.at.file),
                line: e.at.line,
            })
            .collect(),
        executions_truncated: truncated,
        executions_capped: data.drill.capped(),
        histogram: Histogram::of(data.samples.as_ref().map_or(&[][..], |s| s.sorted())),
        issues: {
            let mut issues: Vec<&crate::attribute::BeatIssue> = data.issues.iter().collect();
            issues.sort_by_key(|i| i.at);
            issues
        }
        .into_iter()
        .map(|i| IssueReport {
            status: if i.failed { "failed" } else { "incomplete" },
            timestamp: i.ts.map(timestamp::format_iso),
            sequence: i.sequence.as_deref().map(str::to_owned),
            beat: i.beat,
            event: i.event.as_deref().map(str::to_owned),
            file: m.file(i.at.file),
            line: i.at.line,
        })
        .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::measure::testing::{json_lines as measure, lines};

    #[test]
    fn the_view_orders_rounds_and_summarizes() {
        let m = measure(&lines(&[("b", 2.0), ("a", 1.0), ("c", 0.1234567), ("b", 4.0), ("a", 3.0), ("b", 6.0)]));
        let r = build(&m, SortKey::Avg);
        // By average, slowest first: b 4, a 2, c 0.123.
        let names: Vec<&str> = r.handlers.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["b", "a", "c"]);
        let b = &r.handlers[0];
        assert_eq!((b.executions, b.total_time, b.plugin.as_str(), b.display_name()), (3, 12.0, "P", "P.b".to_owned()));
        let t = b.timing.unwrap();
        assert_eq!((t.min, t.p50, t.max, t.avg, t.stddev), (2.0, 4.0, 6.0, 4.0, 2.0));
        assert_eq!(r.handlers[2].timing.unwrap().avg, 0.123, "rounded to microseconds");
        // Drill-down keeps at most max_executions (2) of b's 3, in log order, and says so.
        assert!(b.executions_truncated && b.execution_list.len() == 2);
        assert!(b.execution_list.windows(2).all(|w| w[0].line < w[1].line));
        // The histogram bins every duration.
        assert_eq!(b.histogram.counts.iter().sum::<u64>(), 3);
        assert_eq!((b.histogram.min, b.histogram.max, b.histogram.counts.len()), (2.0, 6.0, BINS));
        assert_eq!((r.summary.total_handlers, r.summary.total_executions, r.summary.total_time), (3, 6, 16.123));
        assert_eq!((r.summary.slowest_handler.as_deref(), r.summary.fastest_handler.as_deref()), (Some("b"), Some("c")));
        // By count: b (3), then a and c by name... a has 2, c 1.
        let by_count: Vec<String> = build(&m, SortKey::Count).handlers.iter().map(|h| h.name.clone()).collect();
        assert_eq!(by_count, ["b", "a", "c"]);
        // Ties are broken by name.
        let tied = measure(&lines(&[("y", 1.0), ("x", 1.0)]));
        let names: Vec<String> = build(&tied, SortKey::Avg).handlers.iter().map(|h| h.name.clone()).collect();
        assert_eq!(names, ["x", "y"]);
    }

    #[test]
    fn a_handler_without_samples_has_no_timing() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let m = crate::analyze::analyze(&crate::analyze::AnalyzeOptions {
            catalog_paths: vec![root.join("fixtures/packages")],
            ..crate::analyze::AnalyzeOptions::for_test(
                vec![root.join("fixtures/logs/plain-console.log").to_string_lossy().into_owned()],
                root,
            )
        })
        .unwrap();
        let r = build(&m, SortKey::Avg);
        let failed = r.handlers.iter().find(|h| h.failed > 0 && h.executions == 0).expect("a handler whose only beat failed");
        assert!(failed.timing.is_none() && failed.total_time == 0.0 && failed.histogram.counts.is_empty());
        assert_eq!(failed.issues[0].status, "failed");
        assert_eq!(r.handlers.last().unwrap().name, failed.name, "no samples sorts last");
    }
}
