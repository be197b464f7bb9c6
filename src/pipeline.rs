//! The commands as functions of validated options: `analyze`, `check`, `update-baseline`,
//! `publish`. The CLI parses and validates the flags into these options (the config loaded,
//! paths resolved, the GitHub context read); each function measures once, hands the
//! measurements to the report view, the baseline's run and the gate, writes the outputs, and
//! returns the exit code: 0 success or a passing check, 1 a failing check (an [`Error`] is 2).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::analyze::{self, AnalyzeOptions};
use crate::baseline::{Baseline, Run, SourceInfo};
use crate::config::Config;
use crate::error::Error;
use crate::gate::{self, Comparison, Outcome, Verdict};
use crate::measure::Measurements;
use crate::publish::{self, Context, github::CommentMode};
use crate::render::{self, View};
use crate::report;

/// What to read, and the config it was read under.
#[derive(Debug, Clone)]
pub struct Input {
    pub config: Config,
    pub analyze: AnalyzeOptions,
}

/// What stdout shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Terminal,
    Markdown,
    Json,
    Html,
}

/// What to write, and how the reports look.
#[derive(Debug, Clone)]
pub struct Output {
    pub format: Format,
    pub json: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
    pub html: Option<PathBuf>,
    pub view: View,
}

/// How to publish on GitHub.
#[derive(Debug, Clone)]
pub struct Github {
    pub context: Context,
    pub comment: CommentMode,
    pub comment_author: String,
    /// A publishing failure is an error (exit 2), not a warning.
    pub fail_on_publish_error: bool,
}

#[derive(Debug, Clone)]
pub struct Check {
    pub input: Input,
    pub output: Output,
    pub baseline: PathBuf,
    /// Warnings fail the check too.
    pub fail_on_warning: bool,
    /// The gate's id (the comment's marker).
    pub comment_id: String,
    pub github: Github,
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

#[derive(Debug, Clone)]
pub struct Publish {
    /// A report written by `check --json`.
    pub report: PathBuf,
    pub github: Github,
}

/// Measures the input, printing the reading's warnings on stderr.
fn measure(input: &Input) -> Result<Measurements, Error> {
    use std::io::Write as _;
    let m = analyze::analyze(&input.analyze)?;
    let mut stderr = std::io::stderr().lock();
    for w in &m.diagnostics.warnings {
        let _ = writeln!(stderr, "warning: {}", render::escape::terminal_text(w));
    }
    Ok(m)
}

/// The report files must not overwrite an input, the config, `extra` (the baseline a check
/// reads) or each other.
fn check_outputs(output: &Output, input: &Input, m: &Measurements, extra: &[(&str, &Path)]) -> Result<(), Error> {
    let outputs: Vec<(&str, &Path)> = [("--json", &output.json), ("--markdown", &output.markdown), ("--html", &output.html)]
        .into_iter()
        .filter_map(|(flag, p)| Some((flag, p.as_deref()?)))
        .collect();
    let mut protected: Vec<(&str, &Path)> = extra.to_vec();
    protected.extend(input.config.path.as_deref().map(|p| ("the config", p)));
    protected.extend(inputs(m));
    crate::output::check_targets(&outputs, &protected)
}

/// The input files of the measurements (not the standard input), as protected paths.
fn inputs(m: &Measurements) -> Vec<(&'static str, &Path)> {
    m.diagnostics.files.iter().filter(|f| f.path != crate::input::STDIN).map(|f| ("an input", Path::new(&f.path))).collect()
}

/// Writes the files `output` names and prints its format, each rendered by `render`.
fn write_outputs(output: &Output, render: &dyn Fn(Format) -> String) -> Result<(), Error> {
    for (path, format) in [(&output.json, Format::Json), (&output.markdown, Format::Markdown), (&output.html, Format::Html)] {
        if let Some(path) = path {
            crate::output::write(path, render(format).as_bytes())?;
        }
    }
    crate::output::stdout(&render(output.format))
}

/// `perfgate analyze`.
pub fn analyze(input: &Input, output: &Output) -> Result<i32, Error> {
    let m = measure(input)?;
    check_outputs(output, input, &m, &[])?;
    let report = report::build(&m, output.view.sort);
    let view = &output.view;
    write_outputs(output, &|format| match format {
        Format::Terminal => render::terminal::render(&report, view),
        Format::Markdown => render::markdown::render(&report, view),
        Format::Json => render::json::render(&report),
        Format::Html => render::html::render(&report, view, None, None),
    })?;
    Ok(0)
}

/// `perfgate check`.
pub fn check(c: &Check) -> Result<i32, Error> {
    let m = measure(&c.input)?;
    check_outputs(&c.output, &c.input, &m, &[("the baseline", &c.baseline)])?;
    let baseline = Baseline::load(&c.baseline)?.ok_or_else(|| Error::NoBaseline(c.baseline.clone()))?;
    let comparison = gate::compare(&baseline, &Run::of(&m, None, Vec::new()), &c.input.config.gate);
    nothing_compared(&comparison, &c.baseline, c.input.analyze.allow_empty)?;
    let report = report::build(&m, c.output.view.sort);
    let context = &c.github.context;
    let links = context.clone();
    let link = move |path: &str, line: Option<u32>| links.blob_url(path, line);
    let check = render::check::CheckReport {
        id: &c.comment_id,
        comparison: &comparison,
        report: &report,
        source_link: Some(&link),
        run_url: context.run_url(),
        baseline: Some(&baseline),
    };
    let view = &c.output.view;
    let markdown = render::check::markdown(&check, view);
    write_outputs(&c.output, &|format| match format {
        Format::Terminal => render::check::terminal(&check, view),
        Format::Markdown => markdown.clone(),
        Format::Json => render::check::json(&check, &markdown),
        Format::Html => render::html::render(&report, view, Some(&comparison), Some(&baseline)),
    })?;
    let published = publish_github(&c.github, &c.comment_id, &markdown, newsworthy(&comparison));
    if context.in_actions {
        crate::output::stdout(&publish::actions::annotations(&comparison))?;
    }
    // The job summary and the step outputs are outputs like the others: a failure to write them
    // is an error, not a verdict.
    if let Some(summary) = &context.step_summary {
        publish::actions::append(summary, &publish::actions::summary(&markdown))
            .map_err(|source| Error::Write { path: summary.clone(), source })?;
    }
    if let Some(output) = &context.output {
        publish::actions::append(output, &publish::actions::outputs(&comparison, c.output.json.as_deref()))
            .map_err(|source| Error::Write { path: output.clone(), source })?;
    }
    published?;
    Ok(match comparison.outcome {
        Outcome::Fail => 1,
        Outcome::Warn if c.fail_on_warning => 1,
        _ => 0,
    })
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

fn newsworthy(c: &Comparison) -> bool {
    c.outcome != Outcome::Pass
        || c.handlers.iter().any(|h| matches!(h.verdict, Verdict::Warning | Verdict::Regressed | Verdict::OverBudget))
}

/// Posts the sticky comment when there is a PR, a repository and a token. A failure is a
/// warning (the verdict stands), or exit 2 with `fail_on_publish_error`.
fn publish_github(g: &Github, id: &str, markdown: &str, newsworthy: bool) -> Result<(), Error> {
    let context = &g.context;
    if g.comment == CommentMode::Never {
        return Ok(());
    }
    let (Some((owner, repo)), Some(pr), Some(token)) = (&context.repo, context.pr, &context.token) else {
        if context.in_actions && context.pr.is_some() {
            eprintln!("warning: no GITHUB_TOKEN: the pull request gets no comment (the job summary has the report)");
        }
        return Ok(());
    };
    let target = publish::github::Target {
        api_url: context.api_url.clone(),
        token: token.clone(),
        owner: owner.clone(),
        repo: repo.clone(),
        pr,
        marker: publish::marker(id),
        author: g.comment_author.clone(),
        mode: g.comment,
        newsworthy,
        backoff: Duration::from_millis(env_backoff()),
    };
    match publish::github::upsert(&target, markdown) {
        Ok(done) => {
            eprintln!(
                "perfgate: PR #{pr}: {}",
                match done {
                    publish::github::Done::Created(n) => format!("comment {n} created"),
                    publish::github::Done::Updated(n) => format!("comment {n} updated"),
                    publish::github::Done::Skipped(why) => format!("no comment ({why})"),
                }
            );
            Ok(())
        }
        Err(f) if g.fail_on_publish_error => Err(Error::Publish(f.warning())),
        Err(f) => {
            eprintln!("warning: {}", render::escape::terminal_text(&f.warning()));
            Ok(())
        }
    }
}

/// Base delay between retries, in ms (`PERFGATE_RETRY_MS`, for tests; default 1000).
fn env_backoff() -> u64 {
    std::env::var("PERFGATE_RETRY_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000)
}

/// `perfgate publish`: posts a report a check wrote elsewhere.
pub fn publish(p: &Publish) -> Result<i32, Error> {
    let text = std::fs::read(&p.report).map_err(|source| Error::Read { path: p.report.clone(), source })?;
    #[derive(serde::Deserialize)]
    struct Saved {
        id: String,
        outcome: Outcome,
        markdown: String,
    }
    let saved: Saved = serde_json::from_slice(&text)
        .map_err(|e| Error::Usage(format!("{}: not a report written by `perfgate check --json`: {e}", p.report.display())))?;
    if !saved.markdown.starts_with(&publish::marker(&saved.id)) {
        return Err(Error::Usage(format!("{}: the report's markdown does not carry its marker", p.report.display())));
    }
    let context = &p.github.context;
    if context.pr.is_none() {
        return Err(Error::Usage("no pull request: pass --pr N (a workflow_run event of a fork PR lists none)".into()));
    }
    if context.token.is_none() || context.repo.is_none() {
        return Err(Error::Usage("publishing needs GITHUB_TOKEN and GITHUB_REPOSITORY (or --repo)".into()));
    }
    publish_github(&p.github, &saved.id, &saved.markdown, saved.outcome != Outcome::Pass)?;
    Ok(0)
}

/// `perfgate update-baseline`: appends this run to the baseline, under its lock.
pub fn update_baseline(u: &Update) -> Result<i32, Error> {
    let m = measure(&u.input)?;
    let path = &u.baseline;
    let protected = inputs(&m);
    crate::output::check_targets(&[("the baseline", path)], &protected)?;
    let sources: Vec<SourceInfo> = m
        .diagnostics
        .files
        .iter()
        .filter_map(|f| Some(SourceInfo { path: f.path.clone(), bytes: f.bytes, sha256: f.sha256.clone()? }))
        .collect();
    let sampled: Vec<&SourceInfo> = sources.iter().zip(&m.diagnostics.files).filter(|(_, f)| f.samples > 0).map(|(s, _)| s).collect();
    check_unique_inputs(&sampled)?;
    let run = Run::of(&m, u.commit.clone(), sources.clone());
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
    crate::output::stdout(&render::check::baseline_changes(old.as_ref(), &next, path, judged.as_ref()))?;
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
