//! The commands as functions of validated options: `analyze`, `check`, `update-baseline`,
//! `publish`. The CLI parses and validates the flags into these options (the config loaded,
//! paths resolved, the formats chosen, the publishers made from the environment); each function
//! measures once, judges the run (the gate, for `check`), exports it through each chosen format,
//! publishes it through each publisher, and returns the exit code: 0 success or a passing
//! check, 1 a failing check (an [`Error`] is 2).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::analyze::{self, AnalyzeOptions};
use crate::baseline::{Baseline, Run, SourceInfo};
use crate::config::Config;
use crate::error::Error;
use crate::gate::{self, Comparison, Outcome, Verdict};
use crate::judged::{Judged, Judgement};
use crate::measure::Measurements;
use crate::publish::{Publisher, github::GitHub};
use crate::render::{self, Exporter, View};
use crate::report;

/// What to read, and the config it was read under.
#[derive(Debug, Clone)]
pub struct Input {
    pub config: Config,
    pub analyze: AnalyzeOptions,
}

/// A report file to write.
pub struct OutputFile {
    /// The flag that named it (`--json`, `--output markdown=…`), for messages.
    pub flag: String,
    pub path: PathBuf,
    pub format: &'static dyn Exporter,
}

/// What to write, and how the reports look.
pub struct Output {
    /// The format printed on stdout.
    pub stdout: &'static dyn Exporter,
    pub files: Vec<OutputFile>,
    pub view: View,
}

pub struct Check {
    pub input: Input,
    pub output: Output,
    pub baseline: PathBuf,
    /// The gate's id (the comment's marker).
    pub comment_id: String,
    /// Where the judged run is published (GitHub, in Actions or with a token).
    pub publishers: Vec<Box<dyn Publisher>>,
}

#[derive(Debug, Clone)]
pub struct Update {
    pub input: Input,
    pub baseline: PathBuf,
    /// Start the baseline over from this run.
    pub reset: bool,
    pub commit: Option<String>,
    pub lock_timeout: Duration,
}

pub struct Publish {
    /// A report written by `check --json`.
    pub report: PathBuf,
    pub github: GitHub,
}

/// Measures the input, printing the reading's warnings on stderr (each one line: a hostile file
/// name cannot add a line of its own, which the runner could read as a workflow command).
fn measure(input: &Input) -> Result<Measurements, Error> {
    use std::io::Write as _;
    let m = analyze::analyze(&input.analyze)?;
    let mut stderr = std::io::stderr().lock();
    for w in &m.diagnostics.warnings {
        let _ = writeln!(stderr, "warning: {}", render::escape::terminal(w));
    }
    Ok(m)
}

/// The report files must not overwrite anything the run reads — an input, the config, a
/// catalog, a handler's source file, `extra` (the baseline a check reads) — nor each other.
fn check_outputs(output: &Output, input: &Input, m: &Measurements, extra: &[(&str, &Path)]) -> Result<(), Error> {
    let outputs: Vec<(&str, &Path)> = output.files.iter().map(|f| (f.flag.as_str(), f.path.as_path())).collect();
    refuse_overwrites(&outputs, input, m, extra)
}

/// `outputs` must not overwrite anything the run reads, nor each other (see [`check_outputs`]).
fn refuse_overwrites(outputs: &[(&str, &Path)], input: &Input, m: &Measurements, extra: &[(&str, &Path)]) -> Result<(), Error> {
    let mut protected: Vec<(&str, &Path)> = extra.to_vec();
    protected.extend(input.config.path.as_deref().map(|p| ("the config", p)));
    protected.extend(inputs(m));
    let catalogs = &input.analyze.catalog_paths;
    protected.extend(catalogs.iter().filter(|p| p.is_file()).map(|p| ("a catalog", p.as_path())));
    let sources: Vec<PathBuf> =
        m.handlers.values().filter_map(|h| h.source.as_ref()).map(|s| input.analyze.source_root.join(&s.path)).collect();
    protected.extend(sources.iter().map(|p| ("a handler's source file", p.as_path())));
    crate::output::check_targets(outputs, &protected)?;
    let dirs: Vec<(&str, &Path)> = catalogs.iter().filter(|p| p.is_dir()).map(|p| ("the catalog directory", p.as_path())).collect();
    crate::output::check_outside(outputs, &dirs)
}

/// The input files of the measurements (not the standard input), as protected paths.
fn inputs(m: &Measurements) -> Vec<(&'static str, &Path)> {
    m.diagnostics.files.iter().filter(|f| f.path != crate::input::STDIN).map(|f| ("an input", Path::new(&f.path))).collect()
}

/// Writes the report files and prints the stdout format, each rendered by its exporter.
fn export(output: &Output, run: &Judged<'_>) -> Result<(), Error> {
    for f in &output.files {
        crate::output::write(&f.path, f.format.render(run, &output.view).as_bytes())?;
    }
    crate::output::stdout(&output.stdout.render(run, &output.view))
}

/// `perfgate analyze`.
pub fn analyze(input: &Input, output: &Output) -> Result<i32, Error> {
    let m = measure(input)?;
    check_outputs(output, input, &m, &[])?;
    let report = report::build(&m, output.view.sort);
    export(output, &Judged::analysis(&report))?;
    Ok(0)
}

/// `perfgate check`: measure → compare → export → publish → the exit code.
pub fn check(c: &Check) -> Result<i32, Error> {
    let m = measure(&c.input)?;
    check_outputs(&c.output, &c.input, &m, &[("the baseline", &c.baseline)])?;
    let baseline = Baseline::load(&c.baseline)?.ok_or_else(|| Error::NoBaseline(c.baseline.clone()))?;
    let comparison = gate::compare(&baseline, &Run::of(&m, None, Vec::new()), &c.input.config.gate);
    nothing_compared(&comparison, &c.baseline, c.input.analyze.allow_empty)?;
    let report = report::build(&m, c.output.view.sort);
    let run = Judged {
        report: &report,
        judgement: Some(Judgement { id: &c.comment_id, comparison: &comparison, baseline: &baseline }),
        links: c.publishers.first().map(|p| p.links()).unwrap_or_default(),
        markdown_limit: c.publishers.iter().filter_map(|p| p.markdown_limit()).min(),
    };
    export(&c.output, &run)?;
    let json = c.output.files.iter().find(|f| f.format.name() == "json").map(|f| f.path.as_path());
    // Every publisher is tried; the first failure that must not pass quietly is the error.
    let published: Vec<Result<(), Error>> = c.publishers.iter().map(|p| p.publish(&run, &c.output.view, json)).collect();
    published.into_iter().collect::<Result<(), Error>>()?;
    Ok(if comparison.outcome == Outcome::Fail { 1 } else { 0 })
}

/// A check that compared no handler judged nothing — the logs are of another app, the names
/// changed (a catalog not found), or the run has no samples — and is not a pass. An empty run is
/// accepted with `--allow-empty`; handlers ignored by the config count as compared.
fn nothing_compared(c: &Comparison, baseline: &Path, allow_empty: bool) -> Result<(), Error> {
    let count = |v: Verdict| c.counts.get(&v).copied().unwrap_or(0);
    let (new, missing) = (count(Verdict::New), count(Verdict::Missing));
    let common = c.handlers.len() - new - missing;
    if common > 0 || c.ignored > 0 || (new == 0 && (missing == 0 || allow_empty)) {
        return Ok(());
    }
    let what = if new == 0 {
        format!("this run has no samples of any baseline handler ({missing} missing)")
    } else {
        format!("no handler of this run is in the baseline ({new} new, {missing} missing)")
    };
    Err(Error::Baseline {
        path: baseline.to_path_buf(),
        message: format!(
            "{what}: nothing was compared. Are the logs of another app, or did the handler names change (a catalog not found: --catalog)? To start over from this run deliberately: `perfgate update-baseline --reset`"
        ),
    })
}

/// `perfgate publish`: posts the comment of a report a check wrote elsewhere. In the fork
/// recipe the report is the fork's artifact, so nothing of it is trusted as text: the comment
/// is rebuilt from its data (the comparison, the baseline, the handlers' sources) by this
/// perfgate's own renderer, which escapes every name, and the gate's id must be one that
/// `check` accepts.
pub fn publish(p: &Publish) -> Result<i32, Error> {
    let text = std::fs::read(&p.report).map_err(|source| Error::Read { path: p.report.clone(), source })?;
    #[derive(serde::Deserialize)]
    struct Saved {
        id: String,
        comparison: Comparison,
        baseline: serde_json::Value,
        report: SavedReport,
    }
    #[derive(serde::Deserialize)]
    struct SavedReport {
        handlers: Vec<SavedHandler>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct SavedHandler {
        name: String,
        plugin: String,
        source_file: Option<String>,
        source_line: Option<u32>,
    }
    let bad = |why: String| Error::Usage(format!("{}: not a report written by `perfgate check --json`: {why}", p.report.display()));
    let saved: Saved = serde_json::from_slice(&text).map_err(|e| bad(e.to_string()))?;
    if !valid_id(&saved.id) {
        return Err(bad(format!("its gate id {:?} is not one `check` accepts", render::escape::terminal(&saved.id))));
    }
    let baseline =
        Baseline::parse(&serde_json::to_vec(&saved.baseline).expect("a JSON value")).map_err(|e| bad(format!("its baseline: {e}")))?;
    let report = report::Report::of_sources(saved.report.handlers.into_iter().map(|h| (h.plugin, h.name, h.source_file, h.source_line)));
    let github = &p.github;
    let run = Judged {
        report: &report,
        judgement: Some(Judgement { id: &saved.id, comparison: &saved.comparison, baseline: &baseline }),
        links: github.links(),
        markdown_limit: github.markdown_limit(),
    };
    let view =
        View { top: crate::config::Config::default().top, sort: crate::config::SortKey::Avg, bands: Default::default(), color: false };
    let markdown = render::markdown::Markdown.render(&run, &view);
    let context = &p.github.context;
    if context.token.is_none() || context.repo.is_none() {
        return Err(Error::Usage("publishing needs GITHUB_TOKEN and GITHUB_REPOSITORY (or --repo)".into()));
    }
    // The PR comes from GitHub's event (or --pr), never from the report: in the fork recipe the
    // report is the fork's artifact.
    let Some(pr) = p.github.pull_request()? else {
        let why = match &context.run_head {
            Some(h) => format!("no open pull request has the head {}:{} at {}", h.owner, h.branch, h.sha),
            None => "the event names none".to_owned(),
        };
        return Err(Error::Usage(format!("no pull request to comment on ({why}); pass --pr N")));
    };
    github.comment_on(Some(pr), &saved.id, &markdown, saved.comparison.newsworthy())?;
    Ok(0)
}

/// A gate's id: letters, digits, `-`, `_` and `.` (it is written into the comment's marker).
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 100 && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// `perfgate update-baseline`: appends this run to the baseline, under its lock.
pub fn update_baseline(u: &Update) -> Result<i32, Error> {
    let m = measure(&u.input)?;
    let path = &u.baseline;
    refuse_overwrites(&[("the baseline", path)], &u.input, &m, &[])?;
    let sources: Vec<SourceInfo> = m
        .diagnostics
        .files
        .iter()
        .filter_map(|f| Some(SourceInfo { path: f.path.clone(), bytes: f.bytes, sha256: f.sha256.clone()? }))
        .collect();
    let sampled: Vec<&SourceInfo> = sources.iter().zip(&m.diagnostics.files).filter(|(_, f)| f.samples > 0).map(|(s, _)| s).collect();
    check_unique_inputs(&sampled)?;
    let run = Run::of(&m, u.commit.clone(), sources.clone());
    // A run without samples (accepted with --allow-empty) would push a real run out of the
    // kept history and tell the gate nothing.
    if run.handlers.values().all(|h| h.samples.summary().count == 0) {
        eprintln!("perfgate: {}: this run has no samples: nothing appended", render::escape::terminal(&path.display().to_string()));
        return Ok(0);
    }
    // Read, change and write under the lock: two updaters of one file never lose a run.
    let _lock = crate::output::lock(path, u.lock_timeout)?;
    let old = if u.reset { None } else { Baseline::load(path)? };
    if let Some(old) = &old
        && let Some(n) = already_recorded(old, &sources, &sampled, path)?
    {
        eprintln!("perfgate: {}: these inputs are already the baseline's run {n} (same SHA-256): nothing appended", path.display());
        return Ok(0);
    }
    let history = u.input.config.history;
    let next = old.clone().unwrap_or_else(|| Baseline::empty(history)).append(&run, history);
    next.write(path)?;
    let judged = old.as_ref().map(|old| gate::compare(old, &run, &u.input.config.gate));
    crate::output::stdout(&render::terminal::baseline_changes(old.as_ref(), &next, path, judged.as_ref()))?;
    Ok(0)
}

/// Two inputs of one run with the same content would count its samples twice.
fn check_unique_inputs(sampled: &[&SourceInfo]) -> Result<(), Error> {
    let mut seen: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for s in sampled {
        if let Some(first) = seen.insert(&s.sha256, &s.path) {
            return Err(Error::Usage(format!(
                "{}: same content (SHA-256 {}) as {first}: its samples would count twice; pass each log once",
                s.path,
                &s.sha256[..12]
            )));
        }
    }
    Ok(())
}

/// `Some(run number)` when exactly these inputs are a kept run already (an update run twice):
/// nothing to do. An error when some inputs with samples are in the baseline and others are not
/// (their samples would count twice).
fn already_recorded(old: &Baseline, sources: &[SourceInfo], sampled: &[&SourceInfo], path: &Path) -> Result<Option<usize>, Error> {
    fn digests(v: &[SourceInfo]) -> std::collections::BTreeSet<&str> {
        v.iter().map(|s| s.sha256.as_str()).collect()
    }
    let ours = digests(sources);
    for (i, r) in old.runs.iter().enumerate() {
        if !ours.is_empty() && digests(&r.sources) == ours {
            return Ok(Some(i + 1));
        }
    }
    for s in sampled {
        if let Some((i, known)) =
            old.runs.iter().enumerate().find_map(|(i, r)| r.sources.iter().find(|k| k.sha256 == s.sha256).map(|k| (i, k)))
        {
            return Err(Error::Baseline {
                path: path.to_path_buf(),
                message: format!(
                    "{} has the content (SHA-256 {}) of {} in the baseline's run {}: its samples would count twice; nothing was written (pass only new logs, or --reset)",
                    s.path,
                    &s.sha256[..12],
                    known.path,
                    i + 1
                ),
            });
        }
    }
    Ok(None)
}
