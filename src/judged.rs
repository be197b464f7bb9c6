//! The judged run: the one model every output reads. A run's measurements as the report view
//! and — for `check` — the gate's judgement of it: the comparison (every verdict with its
//! severity, decided once by the gate), the baseline it was made against, and the gate's id.
//! `analyze` is the case without a judgement. The links to sources and to the CI run come from
//! the publisher's context; the markdown's size limit is the publisher's too (a PR comment's).

use crate::baseline::Baseline;
use crate::gate::Comparison;
use crate::report::Report;

pub struct Judged<'a> {
    pub report: &'a Report,
    pub judgement: Option<Judgement<'a>>,
    pub links: Links<'a>,
    /// The most characters the markdown report may have, when bounded (the comment limit of
    /// the target it is published to).
    pub markdown_limit: Option<usize>,
}

/// What `check` adds to a run: the comparison with the baseline.
#[derive(Clone, Copy)]
pub struct Judgement<'a> {
    /// The gate's id (the hidden marker), for several gates in one repository.
    pub id: &'a str,
    pub comparison: &'a Comparison,
    /// The baseline compared with (its runs make the markdown heatmap).
    pub baseline: &'a Baseline,
}

/// Makes the URL of a source file at a line.
pub type SourceLink = dyn Fn(&str, Option<u32>) -> Option<String>;

/// Links the reports may show.
#[derive(Default)]
pub struct Links<'a> {
    /// A source file (and line) at the head commit, when known.
    pub source: Option<&'a SourceLink>,
    /// The CI run's page (job summary, artifacts), when known.
    pub run: Option<String>,
}

impl<'a> Judged<'a> {
    /// An analysis: the report alone.
    pub fn analysis(report: &'a Report) -> Judged<'a> {
        Judged { report, judgement: None, links: Links::default(), markdown_limit: None }
    }
}

/// The hidden marker that identifies gate `id`'s report (and its PR comment).
pub fn marker(id: &str) -> String {
    format!("<!-- perfgate:{id} -->")
}
