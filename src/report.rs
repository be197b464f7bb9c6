//! The report's view-model, built once from an attribution and read by every renderer
//! (terminal, markdown, JSON). Its serialized form is the JSON report: a superset of the seed
//! document's shape (`handlers[].{name,plugin,executions,timing,totalTime,sourceFile}` and
//! `summary`), plus diagnostics. Numbers are rounded to 3 decimals (microseconds) so that the
//! same input gives byte-identical output.

use serde::Serialize;

use crate::attribute::tracker::Source;
use crate::attribute::{Attribution, HandlerData, HandlerKey, Mapping};
use crate::config::SortKey;
use crate::input::Encoding;
use crate::stats;
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
    /// Failed and incomplete beats, in log order.
    pub issues: Vec<IssueReport>,
    /// Every duration (for the gate and the baseline; not serialized).
    #[serde(skip)]
    pub durations: Vec<f64>,
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
    pub source: Source,
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
    pub source: Source,
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

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diagnostics {
    pub files: Vec<FileDiagnostics>,
    pub lines: u64,
    pub recognized_lines: u64,
    pub timing_lines: u64,
    pub samples: u64,
    pub failed: u64,
    pub incomplete: u64,
    pub orphans: u64,
    pub orphans_attributed: u64,
    pub unmapped_beats: u64,
    /// Durations rejected as not finite, negative or above 10⁹ ms (never samples).
    pub rejected: u64,
    pub catalog: CatalogDiagnostics,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogDiagnostics {
    pub files: usize,
    pub sequences: usize,
    pub skipped_files: usize,
    pub duplicate_sequences: usize,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileDiagnostics {
    pub path: String,
    pub encoding: Option<Encoding>,
    pub format: Option<crate::attribute::InputFormat>,
    pub bytes: u64,
    pub lines: u64,
    pub recognized_lines: u64,
    pub timing_lines: u64,
    pub samples: u64,
    pub failed: u64,
    pub incomplete: u64,
    pub orphans: u64,
    pub rejected: u64,
    /// Why the file contributed nothing, when it did not.
    pub problem: Option<String>,
    /// SHA-256 of the file's bytes (computed for `update-baseline` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// Rounds to microseconds, and turns -0.0 into 0.0, for stable output.
pub fn round3(x: f64) -> f64 {
    let r = (x * 1000.0).round() / 1000.0;
    if r == 0.0 { 0.0 } else { r }
}

/// Six decimals (logarithms, standard errors: a relative 10⁻⁶), without a negative zero.
pub fn round6(x: f64) -> f64 {
    let r = (x * 1e6).round() / 1e6;
    if r == 0.0 { 0.0 } else { r }
}

/// Builds the report. `files` maps a location's file index to its display path;
pub fn build(attribution: Attribution, files: &[String], sort: SortKey, mut diagnostics: Diagnostics) -> Report {
    let file = |i: u32| files.get(i as usize).cloned().unwrap_or_default();
    let mut handlers: Vec<HandlerReport> = attribution.handlers.into_iter().map(|(key, data)| handler_report(&key, data, &file)).collect();
    handlers.sort_by(|a, b| b.sort_value(sort).total_cmp(&a.sort_value(sort)).then_with(|| a.display_name().cmp(&b.display_name())));

    let timed: Vec<&HandlerReport> = handlers.iter().filter(|h| h.timing.is_some()).collect();
    let by_avg = |h: &&HandlerReport| h.timing.map_or(0.0, |t| t.avg);
    let slowest = timed.iter().max_by(|a, b| by_avg(a).total_cmp(&by_avg(b)).then_with(|| b.display_name().cmp(&a.display_name())));
    let fastest = timed.iter().min_by(|a, b| by_avg(a).total_cmp(&by_avg(b)).then_with(|| a.display_name().cmp(&b.display_name())));
    let summary = ReportSummary {
        total_handlers: handlers.len(),
        total_executions: handlers.iter().map(|h| h.executions).sum(),
        total_time: round3(handlers.iter().flat_map(|h| h.durations.iter()).sum()),
        slowest_handler: slowest.map(|h| h.name.clone()),
        fastest_handler: fastest.map(|h| h.name.clone()),
    };
    let orphans = attribution
        .orphans
        .iter()
        .map(|o| OrphanReport {
            beat: o.beat,
            event: o.event.as_deref().map(str::to_owned),
            duration_ms: round3(o.ms),
            source: o.source,
            timestamp: o.ts.map(timestamp::format_iso),
            handler: o.handler.as_ref().map(HandlerKey::display),
            file: file(o.at.file),
            line: o.at.line,
        })
        .collect();
    let c = attribution.counts;
    diagnostics.samples = c.samples;
    diagnostics.failed = c.failed;
    diagnostics.incomplete = c.incomplete;
    diagnostics.orphans = c.orphans;
    diagnostics.orphans_attributed = c.orphans_attributed;
    diagnostics.unmapped_beats = c.unmapped;
    Report { handlers, summary, orphans, diagnostics }
}

fn handler_report(key: &HandlerKey, data: HandlerData, file: &dyn Fn(u32) -> String) -> HandlerReport {
    let values = &data.durations;
    let summary = stats::summarize(values);
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
        executions: values.len() as u64,
        timing,
        total_time: round3(summary.map_or(0.0, |s| s.total)),
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
                file: file(e.at.file),
                line: e.at.line,
            })
            .collect(),
        executions_truncated: truncated,
        durations: data.durations,
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
            file: file(i.at.file),
            line: i.at.line,
        })
        .collect(),
    }
}
