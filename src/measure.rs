//! The measurements: what `analyze` hands on — per handler its samples (sorted once,
//! summarized once), where it was named and its drill-down selection; the orphans; the
//! diagnostics of the reading. The report view ([`crate::report`]), the baseline's run
//! ([`crate::baseline::Run`]) and the gate each read it; none reads another's output.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::attribute::{Attribution, BeatIssue, HandlerData, HandlerKey, Mapping, Orphan, drill::Drill, source::SourceRef};
use crate::input::Encoding;
use crate::stats::{self, Summary};

/// One handler's durations, sorted, with their summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Samples {
    sorted: Vec<f64>,
    summary: Summary,
}

impl Samples {
    /// `None` when there are no durations.
    pub fn new(mut durations: Vec<f64>) -> Option<Samples> {
        durations.sort_by(f64::total_cmp);
        let summary = stats::summarize_sorted(&durations)?;
        Some(Samples { sorted: durations, summary })
    }

    /// The durations in increasing order.
    pub fn sorted(&self) -> &[f64] {
        &self.sorted
    }

    pub fn summary(&self) -> &Summary {
        &self.summary
    }
}

/// One handler as measured.
#[derive(Debug, Clone)]
pub struct Measured {
    /// `Plugin.handler` (the bare name when the plugin is unknown): the name the baseline and
    /// the gate use.
    pub display: String,
    pub mapping: Mapping,
    pub source: Option<SourceRef>,
    pub kinds: std::collections::BTreeSet<String>,
    pub sequences: std::collections::BTreeSet<String>,
    pub beats: std::collections::BTreeSet<u32>,
    pub events: std::collections::BTreeSet<String>,
    /// `None` when the handler only has failed or incomplete beats.
    pub samples: Option<Samples>,
    pub drill: Drill,
    pub issues: Vec<BeatIssue>,
    pub orphans: u64,
}

/// Everything a run measured.
#[derive(Debug, Clone)]
pub struct Measurements {
    pub handlers: BTreeMap<HandlerKey, Measured>,
    pub orphans: Vec<Orphan>,
    /// Display paths of the input files, by file index.
    pub files: Vec<String>,
    pub diagnostics: Diagnostics,
}

impl Measurements {
    /// From an attribution over `files`, with the reading's diagnostics (their beat counts
    /// are filled in from the attribution).
    pub fn new(attribution: Attribution, files: Vec<String>, mut diagnostics: Diagnostics) -> Measurements {
        let c = attribution.counts;
        diagnostics.samples = c.samples;
        diagnostics.failed = c.failed;
        diagnostics.incomplete = c.incomplete;
        diagnostics.orphans = c.orphans;
        diagnostics.orphans_attributed = c.orphans_attributed;
        diagnostics.unmapped_beats = c.unmapped;
        diagnostics.unmapped_beyond_window = c.beyond_window;
        let handlers = attribution
            .handlers
            .into_iter()
            .map(|(key, d)| {
                let HandlerData { first: _, mapping, source, kinds, sequences, beats, events, durations, drill, issues, orphans } = d;
                let m = Measured {
                    display: key.display(),
                    mapping,
                    source,
                    kinds,
                    sequences,
                    beats,
                    events,
                    samples: Samples::new(durations),
                    drill,
                    issues,
                    orphans,
                };
                (key, m)
            })
            .collect();
        Measurements { handlers, orphans: attribution.orphans, files, diagnostics }
    }

    /// The display path of input file `i`.
    pub fn file(&self, i: u32) -> String {
        self.files.get(i as usize).cloned().unwrap_or_default()
    }
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
    /// Beats and orphans left unmapped while the file had handler lines of their event further
    /// than the window of `attribute::hints::WINDOW` executions from them (absent when none).
    #[serde(skip_serializing_if = "is_zero")]
    pub unmapped_beyond_window: u64,
    /// Durations rejected as not finite, negative or above 10⁹ ms (never samples).
    pub rejected: u64,
    pub catalog: CatalogDiagnostics,
    pub warnings: Vec<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
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

/// Measurements for tests, from JSON lines.
#[cfg(test)]
pub mod testing {
    use super::Measurements;

    /// The measurements of `text` read by a JSON-lines rule (`{"h": name, "ms": value}`,
    /// plugin `P`), with at most 2 executions kept per handler for drill-down.
    pub fn json_lines(text: &str) -> Measurements {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("a.log");
        std::fs::write(&log, text).unwrap();
        let config = crate::config::Config::parse(
            "[[sources.json]]\nhandler = \"h\"\nduration = \"ms\"\nplugin = \"P\"\n",
            &dir.path().join("perfgate.toml"),
        )
        .unwrap();
        crate::analyze::analyze(&crate::analyze::AnalyzeOptions {
            max_executions: 2,
            rules: config.rules,
            ..crate::analyze::AnalyzeOptions::for_test(vec![log.to_string_lossy().into_owned()], dir.path())
        })
        .unwrap()
    }

    /// JSON lines of `(handler, ms)` samples.
    pub fn lines(samples: &[(&str, f64)]) -> String {
        samples.iter().map(|(h, ms)| format!("{{\"h\":\"{h}\",\"ms\":{ms}}}\n")).collect()
    }
}
