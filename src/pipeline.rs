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
use crate::history;
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
    /// When the run is recorded (epoch ms; the clock enters at the CLI).
    pub time_ms: i64,
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
        crate::output::write_with(&f.path, &mut |out| f.format.write_to(run, &output.view, out))?;
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
    let main = main_levels(&c.input.config, &c.baseline)?;
    let comparison = gate::compare_with(&baseline, &Run::of(&m, None, Vec::new()), &c.input.config.gate, &main);
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

/// Runs of main the history needs before a check is judged against its levels: fewer leave a
/// level resting on too few runs, and a step or creep too short to tell apart.
pub const MIN_HISTORY_RUNS: usize = 6;

/// Each handler's accepted level on main, from the history (`trend`), when it holds at least
/// [`MIN_HISTORY_RUNS`] runs; a handler whose creep was accepted (`perfgate accept`) is judged
/// against the baseline alone.
fn main_levels(config: &crate::config::Config, baseline: &Path) -> Result<gate::MainLevels, Error> {
    let dir = config.history_dir(baseline);
    let history = history::load(&dir)?;
    if history.len() < MIN_HISTORY_RUNS {
        return Ok(gate::MainLevels::default());
    }
    let accepted = history::load_accepted(&history::accepted_path(&dir))?;
    let trend = crate::trend::detect(&history, &config.trend);
    let accepted_creep = |c: &crate::trend::Change| {
        c.kind == crate::trend::Kind::Creep && accepted.iter().any(|a| a.handler == c.key && (a.commit.is_none() || a.commit == c.commit))
    };
    Ok(trend.main_levels(&accepted_creep))
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
    let view = View {
        top: crate::config::Config::default().top,
        sort: crate::config::SortKey::Avg,
        bands: Default::default(),
        color: false,
        explain: false,
    };
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

/// What `perfgate trend` prints on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrendFormat {
    Terminal,
    Markdown,
    Json,
    Html,
}

#[derive(Debug, Clone)]
pub struct TrendOptions {
    pub history: PathBuf,
    /// Seeds an empty history (in memory) with the runs it keeps.
    pub baseline: PathBuf,
    pub format: TrendFormat,
    pub json: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
    pub html: Option<PathBuf>,
    pub fail_on_change: bool,
    pub repo_url: Option<String>,
    pub config: crate::config::TrendConfig,
}

/// The history in `dir`, or — when it has no run yet — the runs a baseline keeps.
fn history_or_baseline(dir: &Path, baseline: &Path) -> Result<history::History, Error> {
    let h = history::load(dir)?;
    if !h.is_empty() {
        return Ok(h);
    }
    Ok(match Baseline::load(baseline)? {
        Some(b) => history::History::new(history::bootstrap(&b)),
        None => h,
    })
}

/// `perfgate trend`: the change points of the history of main; exit 1 with `--fail-on change`
/// when a slower change was not accepted.
pub fn trend(t: &TrendOptions) -> Result<i32, Error> {
    let history = history_or_baseline(&t.history, &t.baseline)?;
    if history.is_empty() {
        return Err(Error::Usage(format!(
            "{}: no run of main recorded yet (and no baseline to begin from): `perfgate update-baseline` on main records one per run",
            t.history.display()
        )));
    }
    let accepted = history::load_accepted(&history::accepted_path(&t.history))?;
    let trend = crate::trend::detect(&history, &t.config);
    let find = |c: &crate::trend::Change| {
        accepted.iter().find(|a| a.handler == c.key && (a.commit.is_none() || a.commit == c.commit)).map(|a| a.reason.clone())
    };
    let view = render::trend::TrendView { trend: &trend, accepted: &find, repo_url: t.repo_url.as_deref(), spark_runs: 20 };
    let outputs: Vec<(&str, &Path)> = [("--json", &t.json), ("--markdown", &t.markdown), ("--html", &t.html)]
        .into_iter()
        .filter_map(|(f, p)| Some((f, p.as_deref()?)))
        .collect();
    let protected = [("the baseline", t.baseline.as_path()), ("the accepted changes", &history::accepted_path(&t.history))];
    crate::output::check_targets(&outputs, &protected)?;
    crate::output::check_outside(&outputs, &[("the history", t.history.as_path())])?;
    let render = |f: TrendFormat| match f {
        TrendFormat::Terminal => render::trend::terminal(&view),
        TrendFormat::Markdown => render::trend::markdown(&view),
        TrendFormat::Json => render::trend::json(&view),
        TrendFormat::Html => render::trend::html(&view),
    };
    for (path, f) in [(&t.json, TrendFormat::Json), (&t.markdown, TrendFormat::Markdown), (&t.html, TrendFormat::Html)] {
        if let Some(path) = path {
            crate::output::write(path, render(f).as_bytes())?;
        }
    }
    crate::output::stdout(&render(t.format))?;
    Ok(if t.fail_on_change && !render::trend::unaccepted_slower(&view).is_empty() { 1 } else { 0 })
}

/// `perfgate accept HANDLER --reason …`: records that the handler's change (its latest, or the
/// one from `commit`) is intended.
pub fn accept(dir: &Path, handler: &str, commit: Option<&str>, reason: &str, config: &crate::config::TrendConfig) -> Result<i32, Error> {
    if reason.trim().is_empty() {
        return Err(Error::Usage("--reason: say why the change is intended (it is shown wherever the change is)".into()));
    }
    let history = history::load(dir)?;
    let trend = crate::trend::detect(&history, config);
    let changes: Vec<&crate::trend::Change> = trend.changes.iter().filter(|c| c.key == handler).collect();
    let change = match commit {
        Some(sha) => changes.iter().rev().find(|c| c.commit.as_deref().is_some_and(|c| c.starts_with(sha))).copied(),
        None => changes.last().copied(),
    };
    let Some(change) = change else {
        let known =
            if trend.handlers.contains_key(handler) { "no change of it is detected" } else { "no handler of that name is in the history" };
        return Err(Error::Usage(format!(
            "{}: {known}{}; `perfgate trend` lists the changes and their handlers",
            render::escape::terminal(handler),
            commit.map(|c| format!(" from {}", render::escape::terminal(c))).unwrap_or_default()
        )));
    };
    let path = history::accepted_path(dir);
    let mut list = history::load_accepted(&path)?;
    list.retain(|a| !(a.handler == change.key && a.commit == change.commit));
    list.push(history::Acceptance {
        handler: change.key.clone(),
        commit: change.commit.clone(),
        reason: reason.to_owned(),
        ratio: Some(change.ratio),
    });
    history::write_accepted(&path, &list)?;
    println!(
        "accepted: {} ×{:.2} from {} — commit {}",
        render::escape::terminal(&change.key),
        change.ratio,
        render::escape::terminal(&change.commit.clone().unwrap_or_else(|| "?".into())),
        path.display()
    );
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
    // The history of main is read before anything is written: a broken file stops the update
    // with nothing changed.
    let config = &u.input.config;
    let dir = &config.history_dir(path);
    let kept = history::load(dir)?;
    let next = old.clone().unwrap_or_else(|| Baseline::empty(config.history)).append(&run, config.history);
    next.write(path)?;
    let judged = old.as_ref().map(|old| gate::compare(old, &run, &config.gate));
    // A history begins with the runs the baseline kept, so that a trend has them from the start.
    let mut seeded = 0;
    if kept.is_empty()
        && let Some(old) = &old
    {
        for entry in history::bootstrap(old) {
            history::append(dir, &entry, config.history_retention)?;
            seeded += 1;
        }
    }
    // Runs recorded within one millisecond (or by a clock that went back) still keep their order.
    let last_ms = kept
        .entries
        .iter()
        .filter_map(|e| e.time.as_deref())
        .filter_map(|t| crate::timestamp::parse_iso(t.as_bytes()))
        .map(|(ms, _)| ms)
        .max();
    let time_ms = last_ms.map_or(u.time_ms, |last| u.time_ms.max(last + 1));
    let shift = judged.as_ref().and_then(|c| c.drift.factor).map(f64::ln);
    history::append(dir, &history::Entry::of(&run, u.commit.as_deref(), time_ms, shift), config.history_retention)?;
    let total = (kept.len() + seeded + 1).min(config.history_retention);
    let mut out = render::terminal::baseline_changes(old.as_ref(), &next, path, judged.as_ref());
    out.push_str(&format!(
        "History {}: {} run{} (keeps {}){}.\n",
        dir.display(),
        total,
        if total == 1 { "" } else { "s" },
        config.history_retention,
        if seeded > 0 { format!(", {seeded} of them seeded from the baseline") } else { String::new() }
    ));
    crate::output::stdout(&out)?;
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
