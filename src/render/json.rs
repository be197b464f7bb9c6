//! The JSON report: the serialized view-model (pretty, deterministic key order); for a check,
//! the comparison beside it, and the markdown report (so that `perfgate publish` can post it
//! from another workflow).

use serde::Serialize;

use super::{Exporter, View};
use crate::baseline::Baseline;
use crate::gate::{Comparison, Outcome};
use crate::judged::Judged;
use crate::report::Report;

/// The JSON format.
pub struct Json;

impl Exporter for Json {
    fn name(&self) -> &'static str {
        "json"
    }

    fn render(&self, run: &Judged<'_>, view: &View) -> String {
        super::in_memory(|out| self.write_to(run, view, out))
    }

    fn write_to(&self, run: &Judged<'_>, view: &View, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        match run.judgement {
            None => serde_json::to_writer_pretty(&mut *out, run.report)?,
            Some(judgement) => {
                #[derive(Serialize)]
                struct Out<'a> {
                    id: &'a str,
                    outcome: Outcome,
                    markdown: &'a str,
                    comparison: &'a Comparison,
                    /// The baseline compared with: `perfgate publish` rebuilds the comment from
                    /// this report's data (never from its markdown), heatmap included.
                    baseline: &'a Baseline,
                    report: &'a Report,
                }
                let markdown = super::markdown::check(&super::markdown::Check { run, judgement, limit: run.markdown_limit }, view);
                serde_json::to_writer_pretty(
                    &mut *out,
                    &Out {
                        id: judgement.id,
                        outcome: judgement.comparison.outcome,
                        markdown: &markdown,
                        comparison: judgement.comparison,
                        baseline: judgement.baseline,
                        report: run.report,
                    },
                )?
            }
        }
        out.write_all(b"\n")
    }
}

/// The JSON report of an analysis.
pub fn render(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("the report serializes");
    s.push('\n');
    s
}
