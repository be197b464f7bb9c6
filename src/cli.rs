//! Command-line arguments (clap derive) and their validation into runs of the library. The
//! binary calls [`run`] and exits with the code it returns: 0 success (or a passing check),
//! 1 a failing check, 2 an error.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::analyze::{self, AnalyzeOptions};
use crate::attribute::InputFormat;
use crate::baseline::{Baseline, Run, SourceInfo};
use crate::config::{Config, SortKey};
use crate::error::Error;
use crate::gate::{self, Comparison, Outcome, Verdict};
use crate::generate;
use crate::publish::{self, Context, github::CommentMode};
use crate::render::{self, View};
use crate::report::Report;

#[derive(Debug, Parser)]
#[command(name = "perfgate", version, about = "Per-handler performance statistics and gate for Musical Conductor (RenderX) logs")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse logs, attribute every beat to its handler, and report per-handler statistics.
    #[command(after_long_help = ANALYZE_EXAMPLES)]
    Analyze(AnalyzeArgs),
    /// Analyze, compare with the baseline, report, and exit 1 when a handler regressed.
    #[command(after_long_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
    /// Post a report computed by `check --json` as the sticky PR comment (the fork-safe
    /// second workflow).
    #[command(after_long_help = PUBLISH_EXAMPLES)]
    Publish(PublishArgs),
    /// Write a commented perfgate.toml (with the catalogs found) and a GitHub Actions workflow.
    Init(InitArgs),
    /// Analyze and append the run to the baseline file (written atomically); print what changed.
    #[command(name = "update-baseline", after_long_help = UPDATE_EXAMPLES)]
    UpdateBaseline(UpdateArgs),
    /// Write realistic, seeded synthetic logs with their ground truth (tests and benchmarks).
    #[command(hide = true)]
    Generate(generate::GenerateArgs),
}

const ANALYZE_EXAMPLES: &str = "Examples:
  perfgate analyze .logs/                       every *.log below .logs, recursively
  perfgate analyze 'ci-logs/**/*.log' --top 50  a glob (quote it)
  perfgate analyze run.log --catalog packages/ --json report.json --markdown report.md
  perfgate analyze telemetry.md frames.json     markdown telemetry and frames exports";

const CHECK_EXAMPLES: &str = "Examples:
  perfgate check .logs/                          compare with .perfgate/baseline.json
  perfgate check .logs/ --markdown comment.md    also write the PR comment
  perfgate check .logs/ --fail-on warning        warnings fail too

Exit codes: 0 pass (warnings included), 1 regression, 2 error.";

const PUBLISH_EXAMPLES: &str = "Examples:
  perfgate publish --report perfgate-report.json --pr 17    in a workflow_run job, with a write token
Exit codes: 0 (a publishing failure is a warning), 2 on error or with --fail-on-publish-error.";

const UPDATE_EXAMPLES: &str = "Examples:
  perfgate update-baseline .logs/                append this run (the last [baseline] history runs are kept)
  perfgate update-baseline .logs/ --reset        start the baseline over from this run
Commit the file: `git add .perfgate/baseline.json`.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Terminal,
    Markdown,
    Json,
    Html,
}

/// What to read and how.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Log files, directories (their *.log files, recursively) or globs. Default: `[sources]
    /// paths` of the config, else `.logs/*.log`.
    pub paths: Vec<String>,
    /// Configuration file. Default: ./perfgate.toml when present.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Adds a sequence catalog (a JSON file or a directory of them); repeatable.
    #[arg(long = "catalog", value_name = "PATH")]
    pub catalogs: Vec<PathBuf>,
    /// Root that handler source paths are resolved and shown relative to. Default: `.`.
    #[arg(long, value_name = "DIR")]
    pub source_root: Option<PathBuf>,
    /// Read every input as this format instead of detecting it per file.
    #[arg(long, value_enum)]
    pub format_in: Option<InputFormat>,
    /// Succeed even when nothing in the input was recognized.
    #[arg(long)]
    pub allow_empty: bool,
    /// Warn about an input file or directory that cannot be read, and go on with the others
    /// (default: an error, exit 2).
    #[arg(long)]
    pub skip_unreadable: bool,
}

/// What to write.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// What to print on stdout.
    #[arg(long, value_enum, default_value = "terminal")]
    pub format: OutputFormat,
    /// Also write the JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write the markdown report to FILE.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Also write the HTML report (one self-contained file: heatmap, table, drill-down) to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// How many handlers the heatmap shows. Default: 20.
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// Which statistic orders the heatmap. Default: avg.
    #[arg(long, value_enum)]
    pub sort: Option<SortKey>,
    /// Most executions listed per handler in the JSON report (then the slowest tenth plus a
    /// uniform sample). Default: 1000.
    #[arg(long, value_name = "N")]
    pub max_executions: Option<usize>,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Show what perfgate reads in LINE (a conductor message, or which `[[sources.pattern]]` /
    /// `[[sources.json]]` rule matched and what it extracted), then exit.
    #[arg(long, value_name = "LINE")]
    pub explain: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Only regressions (and over-budget, and missing/new handlers when configured) fail.
    Regression,
    /// Warnings fail too.
    Warning,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Baseline file. Default: `[baseline] path`, else .perfgate/baseline.json.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// What fails the check (exit 1).
    #[arg(long, value_enum, default_value = "regression")]
    pub fail_on: FailOn,
    /// Identifies this gate's report (the hidden `<!-- perfgate:ID -->` marker), for several
    /// gates in one repository.
    #[arg(long, value_name = "ID", default_value = "default")]
    pub comment_id: String,
    #[command(flatten)]
    pub github: GithubArgs,
}

/// Where and how to publish on GitHub (the Actions environment gives the defaults).
#[derive(Debug, Args)]
pub struct GithubArgs {
    /// When to post the sticky PR comment.
    #[arg(long, value_enum, default_value = "always")]
    pub comment: CommentMode,
    /// The pull request (default: from the event payload at $GITHUB_EVENT_PATH).
    #[arg(long, value_name = "N")]
    pub pr: Option<u64>,
    /// The repository, owner/name (default: $GITHUB_REPOSITORY).
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo: Option<String>,
    /// The head commit, for source links (default: the PR's head from the event payload).
    #[arg(long, value_name = "SHA")]
    pub sha: Option<String>,
    /// Login that writes perfgate's comments: a comment with our marker by anyone else is left
    /// alone.
    #[arg(long, value_name = "LOGIN", default_value = "github-actions[bot]")]
    pub comment_author: String,
    /// A failure to publish the comment exits 2 instead of being a warning.
    #[arg(long)]
    pub fail_on_publish_error: bool,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// A report written by `perfgate check --json FILE`.
    #[arg(long, value_name = "FILE")]
    pub report: PathBuf,
    #[command(flatten)]
    pub github: GithubArgs,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Baseline file. Default: `[baseline] path`, else .perfgate/baseline.json.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Start over: the baseline holds only this run (an unreadable old file is replaced).
    #[arg(long)]
    pub reset: bool,
    /// The commit the logs were produced from, recorded as provenance.
    #[arg(long, value_name = "SHA", env = "GITHUB_SHA")]
    pub commit: Option<String>,
    /// How long to wait for another `update-baseline` of the same file to finish.
    #[arg(long, value_name = "SECONDS", default_value = "120", value_parser = lock_timeout)]
    pub lock_timeout: std::time::Duration,
}

fn lock_timeout(v: &str) -> Result<std::time::Duration, String> {
    let s: f64 = v.parse().map_err(|_| format!("{v:?} is not a number of seconds"))?;
    std::time::Duration::try_from_secs_f64(s).map_err(|_| format!("{v:?}: expected a finite number of seconds, 0 or more"))
}

/// Runs a parsed command line in `cwd`, with the environment read through `env`; returns the
/// exit code.
pub fn run(cli: Cli, cwd: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<i32, Error> {
    match cli.command {
        Command::Analyze(args) => run_analyze(args, cwd),
        Command::Check(args) => run_check(args, cwd, env),
        Command::Publish(args) => run_publish(args, env),
        Command::Init(args) => crate::init::run(cwd, args.force),
        Command::UpdateBaseline(args) => run_update(args, cwd),
        Command::Generate(args) => generate::run(&args).map(|()| 0),
    }
}

/// Loads the config and runs the analysis the input arguments describe.
fn analyze_input(input: &InputArgs, output: Option<&OutputArgs>, cwd: &Path, hash_sources: bool) -> Result<(Config, Report), Error> {
    let config = Config::load(input.config.as_deref(), cwd)?;
    // Catalogs named on the command line come first: where two define the same sequence id,
    // the first one read wins.
    let mut catalog_paths = input.catalogs.clone();
    catalog_paths.extend(match &config.catalog_paths {
        Some(p) => p.clone(),
        None => crate::attribute::catalog::Catalog::discover(cwd),
    });
    let opts = AnalyzeOptions {
        paths: if input.paths.is_empty() { config.source_paths.clone() } else { input.paths.clone() },
        format: input.format_in.unwrap_or(config.format),
        catalog_paths,
        source_root: input.source_root.clone().unwrap_or_else(|| config.source_root.clone()),
        sort: output.and_then(|o| o.sort).unwrap_or(config.sort),
        max_executions: output.and_then(|o| o.max_executions).unwrap_or(config.max_executions),
        allow_empty: input.allow_empty,
        skip_unreadable: input.skip_unreadable,
        hash_sources,
        rules: config.rules.clone(),
    };
    let report = analyze::analyze(&opts)?;
    let mut stderr = std::io::stderr().lock();
    for w in &report.diagnostics.warnings {
        let _ = writeln!(stderr, "warning: {}", render::escape::terminal_text(w));
    }
    Ok((config, report))
}

/// The report files of `output` must not overwrite an input, the config, `extra` (the baseline a
/// check reads) or each other.
fn check_outputs(output: &OutputArgs, config: &Config, report: &Report, extra: &[(&str, &Path)]) -> Result<(), Error> {
    let outputs: Vec<(&str, &Path)> = [("--json", &output.json), ("--markdown", &output.markdown), ("--html", &output.html)]
        .into_iter()
        .filter_map(|(flag, p)| Some((flag, p.as_deref()?)))
        .collect();
    let mut protected: Vec<(&str, &Path)> = extra.to_vec();
    protected.extend(config.path.as_deref().map(|p| ("the config", p)));
    protected.extend(report.diagnostics.files.iter().filter(|f| f.path != crate::input::STDIN).map(|f| ("an input", Path::new(&f.path))));
    crate::output::check_targets(&outputs, &protected)
}

fn view(output: &OutputArgs, config: &Config) -> Result<View, Error> {
    let top = output.top.unwrap_or(config.top);
    if top == 0 {
        return Err(Error::Usage("--top must be at least 1".into()));
    }
    Ok(View { top, sort: output.sort.unwrap_or(config.sort), bands: config.bands })
}

fn print(text: &str) -> Result<(), Error> {
    crate::output::stdout(text)
}

fn run_analyze(args: AnalyzeArgs, cwd: &Path) -> Result<i32, Error> {
    if let Some(line) = &args.explain {
        let config = Config::load(args.input.config.as_deref(), cwd)?;
        print(&crate::parse::user::explain(&config.rules, line))?;
        return Ok(0);
    }
    let (config, report) = analyze_input(&args.input, Some(&args.output), cwd, false)?;
    let view = view(&args.output, &config)?;
    check_outputs(&args.output, &config, &report, &[])?;
    if let Some(path) = &args.output.json {
        crate::output::write(path, render::json::render(&report).as_bytes())?;
    }
    if let Some(path) = &args.output.markdown {
        crate::output::write(path, render::markdown::render(&report, &view).as_bytes())?;
    }
    if let Some(path) = &args.output.html {
        crate::output::write(path, render::html::render(&report, &view, None).as_bytes())?;
    }
    print(&match args.output.format {
        OutputFormat::Terminal => render::terminal::render(&report, &view),
        OutputFormat::Markdown => render::markdown::render(&report, &view),
        OutputFormat::Json => render::json::render(&report),
        OutputFormat::Html => render::html::render(&report, &view, None),
    })?;
    Ok(0)
}

fn baseline_path(flag: Option<&Path>, config: &Config) -> PathBuf {
    flag.map(Path::to_path_buf).unwrap_or_else(|| config.baseline_path.clone())
}

fn run_check(args: CheckArgs, cwd: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<i32, Error> {
    if args.comment_id.is_empty() || !args.comment_id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
        return Err(Error::Usage(format!("--comment-id {:?}: use letters, digits, '-', '_' or '.'", args.comment_id)));
    }
    let (config, report) = analyze_input(&args.input, Some(&args.output), cwd, false)?;
    let view = view(&args.output, &config)?;
    let path = baseline_path(args.baseline.as_deref(), &config);
    check_outputs(&args.output, &config, &report, &[("the baseline", &path)])?;
    let baseline = Baseline::load(&path)?.ok_or_else(|| Error::NoBaseline(path.clone()))?;
    let run = Run::from_report(&report, None, Vec::new());
    let comparison = gate::compare(&baseline, &run, &config.gate);
    nothing_compared(&comparison, &path, args.input.allow_empty)?;
    let context = github_context(&args.github, env)?;
    let links = context.clone();
    let link = move |path: &str, line: Option<u32>| links.blob_url(path, line);
    let check = render::check::CheckReport {
        id: &args.comment_id,
        comparison: &comparison,
        report: &report,
        source_link: Some(&link),
        run_url: context.run_url(),
    };
    if let Some(p) = &args.output.json {
        crate::output::write(p, render::check::json(&check, &view).as_bytes())?;
    }
    if let Some(p) = &args.output.markdown {
        crate::output::write(p, render::check::markdown(&check, &view).as_bytes())?;
    }
    if let Some(p) = &args.output.html {
        crate::output::write(p, render::html::render(&report, &view, Some(&comparison)).as_bytes())?;
    }
    print(&match args.output.format {
        OutputFormat::Terminal => render::check::terminal(&check, &view),
        OutputFormat::Markdown => render::check::markdown(&check, &view),
        OutputFormat::Json => render::check::json(&check, &view),
        OutputFormat::Html => render::html::render(&report, &view, Some(&comparison)),
    })?;
    let markdown = render::check::markdown(&check, &view);
    let published = publish_github(&context, &args.github, &args.comment_id, &markdown, newsworthy(&comparison));
    if context.in_actions {
        print(&publish::actions::annotations(&comparison))?;
    }
    // The job summary and the step outputs are outputs like the others: a failure to write them
    // is an error, not a verdict.
    if let Some(summary) = &context.step_summary {
        publish::actions::append(summary, &publish::actions::summary(&markdown))
            .map_err(|source| Error::Write { path: summary.clone(), source })?;
    }
    if let Some(output) = &context.output {
        publish::actions::append(output, &publish::actions::outputs(&comparison, args.output.json.as_deref()))
            .map_err(|source| Error::Write { path: output.clone(), source })?;
    }
    published?;
    Ok(match (comparison.outcome, args.fail_on) {
        (Outcome::Fail, _) | (Outcome::Warn, FailOn::Warning) => 1,
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

/// The GitHub context: the Actions environment, overridden by the flags.
fn github_context(args: &GithubArgs, env: &dyn Fn(&str) -> Option<String>) -> Result<Context, Error> {
    let mut context = Context::from_env(env);
    if let Some(r) = &args.repo {
        context.repo = Some(publish::split_repo(r).ok_or_else(|| Error::Usage(format!("--repo {r:?}: expected OWNER/NAME")))?);
    }
    if args.pr.is_some() {
        context.pr = args.pr;
    }
    if args.sha.is_some() {
        context.head_sha = args.sha.clone();
    }
    Ok(context)
}

/// Posts the sticky comment when there is a PR, a repository and a token. A failure is a
/// warning (the verdict stands), or exit 2 with `--fail-on-publish-error`.
fn publish_github(context: &Context, args: &GithubArgs, id: &str, markdown: &str, newsworthy: bool) -> Result<(), Error> {
    if args.comment == CommentMode::Never {
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
        marker: format!("<!-- perfgate:{id} -->"),
        author: args.comment_author.clone(),
        mode: args.comment,
        newsworthy,
        backoff: std::time::Duration::from_millis(env_backoff()),
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
        Err(f) if args.fail_on_publish_error => Err(Error::Publish(f.warning())),
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

fn run_publish(args: PublishArgs, env: &dyn Fn(&str) -> Option<String>) -> Result<i32, Error> {
    let text = std::fs::read(&args.report).map_err(|source| Error::Read { path: args.report.clone(), source })?;
    #[derive(serde::Deserialize)]
    struct Saved {
        id: String,
        outcome: Outcome,
        markdown: String,
    }
    let saved: Saved = serde_json::from_slice(&text)
        .map_err(|e| Error::Usage(format!("{}: not a report written by `perfgate check --json`: {e}", args.report.display())))?;
    if !saved.markdown.starts_with(&format!("<!-- perfgate:{} -->", saved.id)) {
        return Err(Error::Usage(format!("{}: the report's markdown does not carry its marker", args.report.display())));
    }
    let context = github_context(&args.github, env)?;
    if context.pr.is_none() {
        return Err(Error::Usage("no pull request: pass --pr N (a workflow_run event of a fork PR lists none)".into()));
    }
    if context.token.is_none() || context.repo.is_none() {
        return Err(Error::Usage("publishing needs GITHUB_TOKEN and GITHUB_REPOSITORY (or --repo)".into()));
    }
    publish_github(&context, &args.github, &saved.id, &saved.markdown, saved.outcome != Outcome::Pass)?;
    Ok(0)
}

fn run_update(args: UpdateArgs, cwd: &Path) -> Result<i32, Error> {
    let (config, report) = analyze_input(&args.input, None, cwd, true)?;
    let path = baseline_path(args.baseline.as_deref(), &config);
    let inputs: Vec<(&str, &Path)> =
        report.diagnostics.files.iter().filter(|f| f.path != crate::input::STDIN).map(|f| ("an input", Path::new(&f.path))).collect();
    crate::output::check_targets(&[("the baseline", &path)], &inputs)?;
    let sources: Vec<SourceInfo> = report
        .diagnostics
        .files
        .iter()
        .filter_map(|f| Some(SourceInfo { path: f.path.clone(), bytes: f.bytes, sha256: f.sha256.clone()? }))
        .collect();
    let sampled: Vec<&SourceInfo> = sources.iter().zip(&report.diagnostics.files).filter(|(_, f)| f.samples > 0).map(|(s, _)| s).collect();
    check_unique_inputs(&sampled)?;
    let run = Run::from_report(&report, args.commit.clone().filter(|c| !c.is_empty()), sources.clone());
    // Read, change and write under the lock: two updaters of one file never lose a run.
    let _lock = crate::output::lock(&path, args.lock_timeout)?;
    let old = if args.reset { None } else { Baseline::load(&path)? };
    if let Some(old) = &old
        && let Some(n) = already_recorded(old, &sources, &sampled, &path)?
    {
        eprintln!("perfgate: {}: these inputs are already the baseline's run {n} (same SHA-256): nothing appended", path.display());
        return Ok(0);
    }
    let base = old.clone().unwrap_or_else(|| Baseline::empty(config.history));
    let next = base.append(&run, config.history);
    next.write(&path)?;
    print(&render::check::baseline_changes(old.as_ref(), &next, &path))?;
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
