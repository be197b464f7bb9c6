//! The report formats: each an [`Exporter`] of the one judged-run model
//! ([`crate::judged::Judged`]; an analysis, or a check with the gate's judgement), listed once
//! in [`EXPORTERS`]. How the gate's verdicts and reasons are worded lives in [`words`], the
//! escaping of log-derived text for each sink in [`escape`], the markup tables in [`table`].
//!
//! A new format is a new file here with an `Exporter`, and its line in `EXPORTERS`: the CLI
//! offers it to `--format NAME` and `--output NAME=FILE` from that list.

pub mod bands;
pub mod escape;
pub mod html;
pub mod json;
pub mod markdown;
pub mod table;
pub mod terminal;
pub mod trend;
pub mod words;

use crate::config::{Bands, BandsSetting, SortKey};
use crate::judged::Judged;

/// A report format.
pub trait Exporter: Sync {
    /// Its name: `--format NAME`, `--output NAME=FILE`.
    fn name(&self) -> &'static str;
    /// The whole report of a judged run.
    fn render(&self, run: &Judged<'_>, view: &View) -> String;
    /// The same report written to `out` as it is made (the JSON report: a large one is never
    /// held whole in memory); the same bytes as [`Exporter::render`].
    fn write_to(&self, run: &Judged<'_>, view: &View, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        out.write_all(self.render(run, view).as_bytes())
    }
}

/// What `write` writes, as text: the [`Exporter::render`] of the formats that write as they
/// serialize (writing into memory cannot fail, and JSON and HTML are UTF-8).
pub(crate) fn in_memory(write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>) -> String {
    let mut out = Vec::new();
    write(&mut out).expect("a report is written into memory");
    String::from_utf8(out).expect("a report is UTF-8")
}

/// Every report format.
pub static EXPORTERS: [&dyn Exporter; 4] = [&terminal::Terminal, &markdown::Markdown, &json::Json, &html::Html];

/// The format named `name`.
pub fn exporter(name: &str) -> Option<&'static dyn Exporter> {
    EXPORTERS.iter().copied().find(|e| e.name() == name)
}

/// What the human-facing renderers show.
#[derive(Debug, Clone, Copy)]
pub struct View {
    pub top: usize,
    pub sort: SortKey,
    /// `[report] bands`: resolved against the report being rendered ([`BandsSetting::of`]).
    pub bands: BandsSetting,
    /// ANSI colours in the terminal renderers (`--color`, `NO_COLOR`); never in files.
    pub color: bool,
    /// The terminal report of a check ends with how each verdict was decided (`--explain`).
    pub explain: bool,
}

/// `text` in the ANSI colour `code` (31 red, 32 green, 33 yellow, 2 dim) when `on`.
pub fn paint(on: bool, code: u8, text: &str) -> String {
    if on { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_owned() }
}

/// Severity of an average duration under the bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heat {
    Slow,
    Medium,
    Fast,
    VeryFast,
    /// No sample at all.
    None,
}

impl Heat {
    pub fn of(avg: Option<f64>, bands: &Bands) -> Heat {
        match avg {
            None => Heat::None,
            Some(v) if v > bands.slow_ms => Heat::Slow,
            Some(v) if v > bands.medium_ms => Heat::Medium,
            Some(v) if v >= bands.fast_ms => Heat::Fast,
            Some(_) => Heat::VeryFast,
        }
    }

    pub fn dot(self) -> &'static str {
        match self {
            Heat::Slow => "🔴",
            Heat::Medium => "🟠",
            Heat::Fast => "🟡",
            Heat::VeryFast => "🟢",
            Heat::None => "⚪",
        }
    }
}

/// The heatmap's 10-cell bar of `value` against the largest shown, `max`: `████████░░` (at
/// least one cell for any positive value).
pub fn bar(value: f64, max: f64) -> String {
    let cells = if max > 0.0 && value > 0.0 { ((value / max * 10.0).round() as usize).clamp(1, 10) } else { 0 };
    format!("{}{}", "█".repeat(cells), "░".repeat(10 - cells))
}

/// The slowest handler on average, with its plugin (`Plugin.handler`).
pub fn slowest(report: &crate::report::Report) -> Option<String> {
    let avg = |h: &&crate::report::HandlerReport| h.timing.map_or(0.0, |t| t.avg);
    report
        .handlers
        .iter()
        .filter(|h| h.timing.is_some())
        .max_by(|a, b| avg(a).total_cmp(&avg(b)).then_with(|| b.display_name().cmp(&a.display_name())))
        .map(|h| h.display_name())
}

/// `8.1ms` (one decimal from 1 ms up, two below).
pub fn ms(v: f64) -> String {
    if v.abs() >= 1.0 { format!("{v:.1}ms") } else { format!("{v:.2}ms") }
}

/// The legend lines, with the configured bands.
pub fn legend(b: &Bands) -> [String; 4] {
    let n = |v: f64| format!("{v}");
    [
        format!("{} Slow (>{}ms)", Heat::Slow.dot(), n(b.slow_ms)),
        format!("{} Medium ({}-{}ms)", Heat::Medium.dot(), n(b.medium_ms), n(b.slow_ms)),
        format!("{} Fast ({}-{}ms)", Heat::Fast.dot(), n(b.fast_ms), n(b.medium_ms)),
        format!("{} Very Fast (<{}ms)", Heat::VeryFast.dot(), n(b.fast_ms)),
    ]
}
