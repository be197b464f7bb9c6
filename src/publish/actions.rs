//! The job's own channels: the step summary (`$GITHUB_STEP_SUMMARY`, at most 1 MiB), the step's
//! outputs (`$GITHUB_OUTPUT`) and annotations (`::error`/`::warning` workflow commands, at most
//! ten of each — GitHub shows no more per step — then one notice counting the rest).

use std::io::Write;
use std::path::Path;

use crate::gate::{Comparison, Outcome, Severity};
use crate::render::escape::{annotation_data as escape_data, annotation_property as escape_property};
use crate::render::words;

/// GitHub refuses a step summary above 1 MiB.
pub const SUMMARY_LIMIT: usize = 1024 * 1024;
/// Annotations of each kind shown per step.
pub const ANNOTATIONS: usize = 10;

/// Appends to a file GitHub reads after the step.
pub fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(text.as_bytes())
}

/// The summary to append: the markdown, cut to the limit (at a line) with a note.
pub fn summary(markdown: &str) -> String {
    if markdown.len() <= SUMMARY_LIMIT {
        return format!("{markdown}\n");
    }
    let note = "\n_The report was cut to fit the step summary's 1 MiB limit._\n";
    let mut cut = SUMMARY_LIMIT - note.len();
    while !markdown.is_char_boundary(cut) {
        cut -= 1;
    }
    let cut = markdown[..cut].rfind('\n').unwrap_or(cut);
    format!("{}{note}", &markdown[..cut])
}

/// `result=…`, `regressions=…`, `report=…` lines for `$GITHUB_OUTPUT`.
pub fn outputs(c: &Comparison, report: Option<&Path>) -> String {
    let result = match c.outcome {
        Outcome::Pass => "pass",
        Outcome::Warn => "warn",
        Outcome::Fail => "fail",
    };
    // Handlers that fail the run, as the gate decided (with `fail_on_missing`, a missing one).
    let regressions = c.failing();
    let mut s = format!("result={result}\nregressions={regressions}\n");
    if let Some(p) = report {
        // A path never holds a line break here, so no heredoc is needed; refuse one anyway.
        let p = p.to_string_lossy().replace(['\n', '\r'], " ");
        s.push_str(&format!("report={p}\n"));
    }
    s
}

/// The annotation lines for a comparison (worst first), within GitHub's per-step limits.
pub fn annotations(c: &Comparison) -> String {
    let mut out = String::new();
    let mut errors = 0;
    let mut warnings = 0;
    let mut more = 0;
    for h in &c.handlers {
        let kind = match h.severity {
            Severity::Fail => "error",
            Severity::Warn => "warning",
            Severity::Info | Severity::Pass => continue,
        };
        let count = if kind == "error" { &mut errors } else { &mut warnings };
        if *count >= ANNOTATIONS {
            more += 1;
            continue;
        }
        *count += 1;
        // The reason names the statistic, its change and interval, and why it decides.
        let message = format!("{} {}: {}", h.key, h.verdict.name(), words::reason(h));
        out.push_str(&format!("::{kind} title={}::{}\n", escape_property(&format!("perfgate: {}", h.key)), escape_data(&message)));
    }
    if c.drift.severity >= Severity::Warn {
        let kind = if c.drift.severity == Severity::Fail { "error" } else { "warning" };
        out.push_str(&format!(
            "::{kind} title=perfgate run-wide shift::{}\n",
            escape_data(&format!("the whole run is {:+.1}% slower", (c.drift.factor.unwrap_or(1.0) - 1.0) * 100.0))
        ));
    }
    if more > 0 {
        out.push_str(&format!("::notice title=perfgate::{more} more handler(s) changed; see the job summary\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_ten_errors_then_one_notice() {
        use crate::baseline::{Baseline, Run};
        use crate::config::GateConfig;
        let mut rng = crate::rng::Rng::new(1);
        let mut run = |slow: f64| {
            let mut r = Run::default();
            for h in 0..14 {
                let f = if h < 12 { slow } else { 1.0 };
                let d = (0..300).map(|_| 5.0 * f * (0.2 * rng.normal()).exp()).collect();
                r.add("P", &format!("h{h:02}"), d);
            }
            r
        };
        let baseline = Baseline::empty(5).append(&run(1.0), 5).append(&run(1.0), 5);
        let gate = GateConfig { drift_min_handlers: 100, ..GateConfig::default() };
        let c = crate::gate::compare(&baseline, &run(3.0), &gate);
        let a = annotations(&c);
        assert_eq!(a.lines().filter(|l| l.starts_with("::error ")).count(), 10, "{a}");
        assert!(a.ends_with("::notice title=perfgate::2 more handler(s) changed; see the job summary\n"), "{a}");
        assert!(a.contains("::error title=perfgate%3A P.h00::P.h00 regressed: typical +"), "{a}");
    }

    #[test]
    fn summary_is_cut_at_the_limit() {
        let big = "line\n".repeat(300_000);
        let s = summary(&big);
        assert!(s.len() <= SUMMARY_LIMIT && s.ends_with("1 MiB limit._\n"));
        assert_eq!(summary("x"), "x\n");
    }
}
