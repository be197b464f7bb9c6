//! Command-line arguments (clap derive) and their validation into runs of the library. The
//! binary calls [`run`] and exits with the code it returns: 0 success (or a passing check),
//! 1 a failing check, 2 an error.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::analyze::AnalyzeOptions;
use crate::config::{Config, SortKey};
use crate::error::Error;
use crate::generate;
use crate::input::InputFormat;
use crate::pipeline::{self, OutputFile};
use crate::publish::{self, Context, Publisher, github::CommentMode, github::GitHub};
use crate::render::{self, Exporter, View};

#[derive(Debug, Parser)]
#[command(name = "perfgate", version = env!("PERFGATE_VERSION"), about = "Per-handler performance statistics and gate for Musical Conductor (RenderX) logs")]
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
    /// Change points along the history of main: per handler, the commits from which it got
    /// slower (or faster), a step or a creep, with the ratio and its interval.
    #[command(after_long_help = TREND_EXAMPLES)]
    Trend(TrendArgs),
    /// Record that a handler's detected change is intended: it stops failing and stays visible
    /// with its reason (in accepted.json beside the history; commit it).
    Accept(AcceptArgs),
    /// Analyze and append the run to the baseline file (written atomically); print what changed.
    #[command(name = "update-baseline", after_long_help = UPDATE_EXAMPLES)]
    UpdateBaseline(UpdateArgs),
    /// Write realistic, seeded synthetic logs with their ground truth (tests and benchmarks).
    #[command(hide = true)]
    Generate(generate::GenerateArgs),
    /// Print the completion script for a shell: `perfgate completions bash > /etc/bash_completion.d/perfgate`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `perfgate man > perfgate.1`.
    #[command(hide = true)]
    Man,
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

const TREND_EXAMPLES: &str = "Examples:
  perfgate trend                                  changes along .perfgate/history
  perfgate trend --html trend.html --markdown \"$GITHUB_STEP_SUMMARY\"
  perfgate trend --fail-on change                 exit 1 on a slower change nobody accepted (main's workflow)
  perfgate accept CanvasComponentPlugin.renderReact --reason \"virtualized list: slower first paint, by design\"

Exit codes: 0 (or no unaccepted slower change with --fail-on change), 1 such a change, 2 error.";

const UPDATE_EXAMPLES: &str = "Examples:
  perfgate update-baseline .logs/                append this run (the last [baseline] history runs are kept)
  perfgate update-baseline .logs/ --reset        start the baseline over from this run
Commit the file: `git add .perfgate/baseline.json`.";

/// A report format's name, from the formats [`render::EXPORTERS`] lists.
fn format_name(v: &str) -> Result<&'static dyn Exporter, String> {
    render::exporter(v).ok_or_else(|| format!("unknown format {v:?} (one of: {})", format_names().join(", ")))
}

fn format_names() -> Vec<&'static str> {
    render::EXPORTERS.iter().map(|e| e.name()).collect()
}

/// `FORMAT=FILE` of `--output`.
fn format_file(v: &str) -> Result<(&'static dyn Exporter, PathBuf), String> {
    let (name, path) = v.split_once('=').ok_or_else(|| format!("{v:?}: expected FORMAT=FILE, e.g. markdown=comment.md"))?;
    if path.is_empty() {
        return Err(format!("{v:?}: no file after '='"));
    }
    Ok((format_name(name)?, PathBuf::from(path)))
}

#[derive(Clone)]
struct Format(&'static dyn Exporter);

impl std::fmt::Debug for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.name())
    }
}

#[derive(Clone)]
struct FormatFile(&'static dyn Exporter, PathBuf);

impl std::fmt::Debug for FormatFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.0.name(), self.1.display())
    }
}

/// `--format-in`: how every input is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatIn {
    /// By extension and content: `.md` → markdown, a JSON object with `frames` → frames, JSON
    /// with `sequenceId` and `beats` → a sequence player's report, `[BEAT N] Starting:` lines →
    /// the build-pipeline console, anything else → console.
    Auto,
    /// Console captures in any envelope (Chrome, DevTools, Cypress, Serilog, .NET console).
    Console,
    /// Markdown telemetry reports.
    Markdown,
    /// The frames JSON export.
    Frames,
    /// A sequence player's report (`{"sequenceId", "beats": […]}`).
    PlayerReport,
    /// The build-pipeline symphony console (`[BEAT N] Starting: …`).
    Build,
}

impl From<FormatIn> for InputFormat {
    fn from(f: FormatIn) -> InputFormat {
        match f {
            FormatIn::Auto => InputFormat::Auto,
            FormatIn::Console => InputFormat::Console,
            FormatIn::Markdown => InputFormat::Markdown,
            FormatIn::Frames => InputFormat::Frames,
            FormatIn::PlayerReport => InputFormat::PlayerReport,
            FormatIn::Build => InputFormat::Build,
        }
    }
}

/// `--sort`: which statistic orders the heatmap (slowest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Sort {
    Avg,
    P95,
    Total,
    Count,
}

impl From<Sort> for SortKey {
    fn from(s: Sort) -> SortKey {
        match s {
            Sort::Avg => SortKey::Avg,
            Sort::P95 => SortKey::P95,
            Sort::Total => SortKey::Total,
            Sort::Count => SortKey::Count,
        }
    }
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

/// `--comment`: when to post the sticky PR comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Comment {
    /// Create or update the comment on every run.
    Always,
    /// Create it only when something regressed or warned; once it exists, keep it updated.
    OnChange,
    /// Never comment.
    Never,
}

impl From<Comment> for CommentMode {
    fn from(c: Comment) -> CommentMode {
        match c {
            Comment::Always => CommentMode::Always,
            Comment::OnChange => CommentMode::OnChange,
            Comment::Never => CommentMode::Never,
        }
    }
}

/// What to read and how.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Log files, directories (their *.log files, recursively) or globs. Default: `[sources]
    /// paths` of the config, else `.logs/**/*.log`.
    pub paths: Vec<String>,
    /// Configuration file. Default: the nearest perfgate.toml from here up to the repository's
    /// root.
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
    pub format_in: Option<FormatIn>,
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
    /// What to print on stdout: terminal, markdown, json or html.
    #[arg(long, default_value = "terminal", value_parser = |v: &str| format_name(v).map(Format), value_name = "FORMAT")]
    format: Format,
    /// Also write the report in FORMAT to FILE (any format: `--output markdown=comment.md`);
    /// repeatable. `--json`, `--markdown` and `--html` are short for it.
    #[arg(long = "output", value_name = "FORMAT=FILE", value_parser = |v: &str| format_file(v).map(|(e, p)| FormatFile(e, p)))]
    outputs: Vec<FormatFile>,
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
    pub sort: Option<Sort>,
    /// Colours on the terminal: `auto` when stdout is a terminal and `NO_COLOR` is not set.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: Color,
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
    /// After the terminal report, how each verdict was decided: the run-wide shift, the
    /// family-wise test, and per changed handler its statistic net of the runner with its
    /// interval, thresholds and p-value (the markdown folds the same under "How this was
    /// decided"; the JSON has every number).
    #[arg(long)]
    pub explain: bool,
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
    pub comment: Comment,
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
    /// A failure to publish the comment (or an unreadable event payload) exits 2 instead of
    /// being a warning.
    #[arg(long)]
    pub fail_on_publish_error: bool,
    /// The longest the PR comment may take, retries included; then it is a publishing failure.
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = publish_timeout)]
    pub publish_timeout: std::time::Duration,
}

fn publish_timeout(v: &str) -> Result<std::time::Duration, String> {
    let d = lock_timeout(v)?;
    if d.is_zero() {
        return Err(format!("{v:?}: expected a number of seconds above 0"));
    }
    Ok(d)
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// A report written by `perfgate check --json FILE`.
    #[arg(long, value_name = "FILE")]
    pub report: PathBuf,
    #[command(flatten)]
    pub github: GithubArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TrendFailOn {
    /// A slower change (step or creep) that nobody accepted fails (exit 1).
    Change,
    /// Report only.
    Never,
}

/// Where the history of main is.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Configuration file. Default: the nearest perfgate.toml from here up to the repository's
    /// root.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The history of main. Default: `[history] dir`, else history/ beside the baseline.
    #[arg(long, value_name = "DIR")]
    pub history: Option<PathBuf>,
    /// The baseline the history is kept with (its runs begin an empty history). Default:
    /// `[baseline] path`.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
}

impl HistoryArgs {
    /// The config, the history's folder and the baseline's path.
    fn resolve(&self, cwd: &Path) -> Result<(Config, PathBuf, PathBuf), Error> {
        let config = Config::load(self.config.as_deref(), cwd)?;
        let baseline = baseline_path(self.baseline.as_deref(), &config);
        let history = self.history.clone().unwrap_or_else(|| config.history_dir(&baseline));
        Ok((config, history, baseline))
    }
}

#[derive(Debug, Args)]
pub struct TrendArgs {
    #[command(flatten)]
    pub at: HistoryArgs,
    /// Accepted for the same command line as `check`; the trend reads no logs or catalogs.
    #[arg(long = "catalog", value_name = "PATH", hide = true)]
    pub catalogs: Vec<PathBuf>,
    /// What to print on stdout: terminal, markdown, json or html.
    #[arg(long, value_enum, default_value = "terminal")]
    pub format: TrendFormat,
    /// Also write the JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write the markdown (for the job summary) to FILE.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Also write the HTML trend page to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// When to exit 1.
    #[arg(long, value_enum, default_value = "never")]
    pub fail_on: TrendFailOn,
    /// The repository's web address, for commit links. Default: from the Actions environment.
    #[arg(long, value_name = "URL")]
    pub repo_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TrendFormat {
    Terminal,
    Markdown,
    Json,
    Html,
}

#[derive(Debug, Args)]
pub struct AcceptArgs {
    /// The handler, as the trend names it (`Plugin.handler`).
    pub handler: String,
    /// Why the change is intended (shown wherever the change is).
    #[arg(long)]
    pub reason: String,
    /// The change's first commit. Default: the handler's latest detected change.
    #[arg(long, value_name = "SHA")]
    pub commit: Option<String>,
    #[command(flatten)]
    pub at: HistoryArgs,
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
    /// The commit the logs were produced from, recorded as provenance (in the baseline and the
    /// history). Default: $GITHUB_SHA, else `git rev-parse HEAD`.
    #[arg(long, value_name = "SHA", env = "GITHUB_SHA")]
    pub commit: Option<String>,
    /// How long to wait for another `update-baseline` of the same file to finish.
    #[arg(long, value_name = "SECONDS", default_value = "120", value_parser = lock_timeout)]
    pub lock_timeout: std::time::Duration,
}

/// Where catalogs are looked for when the config names none: the repository's root (the nearest
/// folder holding `.git`), else `cwd`.
/// An absolute log path or glob inside the working directory, relative to it (`/home/runner/
/// work/app/app/.logs/e2e/*.log` → `.logs/e2e/*.log`): it names the same files, and the
/// reports then give log locations as a reviewer finds them in the repository rather than as
/// paths of the CI machine. Anything else as it is.
fn under(cwd: &Path, path: &str) -> String {
    match Path::new(path).strip_prefix(cwd) {
        Ok(rel) if Path::new(path).is_absolute() && cwd.is_absolute() => {
            if rel.as_os_str().is_empty() {
                ".".to_owned()
            } else {
                rel.to_string_lossy().into_owned()
            }
        }
        _ => path.to_owned(),
    }
}

fn catalog_root(cwd: &Path) -> PathBuf {
    cwd.ancestors().find(|d| d.join(".git").exists()).unwrap_or(cwd).to_path_buf()
}

/// `git rev-parse HEAD` in `cwd`, when it names a commit (the history's default commit).
fn head_commit(cwd: &Path) -> Option<String> {
    let out =
        std::process::Command::new("git").args(["rev-parse", "HEAD"]).current_dir(cwd).stderr(std::process::Stdio::null()).output().ok()?;
    let sha = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && sha.len() >= 7 && sha.bytes().all(|b| b.is_ascii_hexdigit())).then_some(sha)
}

fn lock_timeout(v: &str) -> Result<std::time::Duration, String> {
    let s: f64 = v.parse().map_err(|_| format!("{v:?} is not a number of seconds"))?;
    std::time::Duration::try_from_secs_f64(s).map_err(|_| format!("{v:?}: expected a finite number of seconds, 0 or more"))
}

/// Runs a parsed command line in `cwd`, with the environment read through `env`; returns the
/// exit code.
pub fn run(cli: Cli, cwd: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<i32, Error> {
    match cli.command {
        Command::Analyze(args) => {
            if let Some(line) = &args.explain {
                let config = Config::load(args.input.config.as_deref(), cwd)?;
                crate::output::stdout(&crate::parse::user::explain(&config.rules, line))?;
                return Ok(0);
            }
            let input = input(&args.input, Some(&args.output), cwd, false)?;
            let output = output(&args.output, &input.config, env)?;
            pipeline::analyze(&input, &output)
        }
        Command::Check(args) => pipeline::check(&check(args, cwd, env)?),
        Command::Publish(args) => pipeline::publish(&pipeline::Publish { report: args.report.clone(), github: github(&args.github, env)? }),
        Command::Init(args) => crate::init::run(cwd, args.force),
        Command::Trend(args) => {
            let (config, history, baseline) = args.at.resolve(cwd)?;
            let (context, _) = Context::from_env(env);
            let repo_url = args.repo_url.clone().or_else(|| {
                let (owner, name) = context.repo.as_ref()?;
                Some(format!("{}/{owner}/{name}", context.server_url.trim_end_matches('/')))
            });
            let format = match args.format {
                TrendFormat::Terminal => pipeline::TrendFormat::Terminal,
                TrendFormat::Markdown => pipeline::TrendFormat::Markdown,
                TrendFormat::Json => pipeline::TrendFormat::Json,
                TrendFormat::Html => pipeline::TrendFormat::Html,
            };
            pipeline::trend(&pipeline::TrendOptions {
                history,
                baseline,
                format,
                json: args.json.clone(),
                markdown: args.markdown.clone(),
                html: args.html.clone(),
                fail_on_change: args.fail_on == TrendFailOn::Change,
                repo_url,
                config: config.trend,
            })
        }
        Command::Accept(args) => {
            let (config, history, _) = args.at.resolve(cwd)?;
            pipeline::accept(&history, &args.handler, args.commit.as_deref(), &args.reason, &config.trend)
        }
        Command::UpdateBaseline(args) => {
            let input = input(&args.input, None, cwd, true)?;
            pipeline::update_baseline(&pipeline::Update {
                baseline: baseline_path(args.baseline.as_deref(), &input.config),
                reset: args.reset,
                commit: args.commit.clone().filter(|c| !c.is_empty()).or_else(|| head_commit(cwd)),
                lock_timeout: args.lock_timeout,
                time_ms: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
                input,
            })
        }
        Command::Generate(args) => generate::run(&args).map(|()| 0),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "perfgate", &mut out);
            crate::output::stdout(&String::from_utf8_lossy(&out))?;
            Ok(0)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
                .render(&mut out)
                .map_err(|e| Error::Usage(format!("man page: {e}")))?;
            crate::output::stdout(&String::from_utf8_lossy(&out))?;
            Ok(0)
        }
    }
}

/// The config and what to read, from the input flags (and the output flags that shape the
/// measurements).
fn input(input: &InputArgs, output: Option<&OutputArgs>, cwd: &Path, hash_sources: bool) -> Result<pipeline::Input, Error> {
    let config = Config::load(input.config.as_deref(), cwd)?;
    // Catalogs named on the command line come first: where two define the same sequence id,
    // the first one read wins.
    let mut catalog_paths = input.catalogs.clone();
    catalog_paths.extend(match &config.catalog_paths {
        Some(p) => p.clone(),
        // The repository's catalogs, wherever in it perfgate runs (a package of a monorepo).
        None => crate::attribute::catalog::Catalog::discover(&catalog_root(cwd)),
    });
    let analyze = AnalyzeOptions {
        paths: if input.paths.is_empty() { &config.source_paths } else { &input.paths }.iter().map(|p| under(cwd, p)).collect(),
        format: input.format_in.map_or(config.format, InputFormat::from),
        catalog_paths,
        source_root: input.source_root.clone().unwrap_or_else(|| config.source_root.clone()),
        max_executions: output.and_then(|o| o.max_executions).unwrap_or(config.max_executions),
        allow_empty: input.allow_empty,
        skip_unreadable: input.skip_unreadable,
        hash_sources,
        rules: config.rules.clone(),
        max_handlers: config.max_handlers,
        // The drill-down selection is shown by the HTML and JSON reports only.
        drill: output.is_some_and(|o| {
            let shows = |name: &str| matches!(name, "html" | "json");
            o.json.is_some() || o.html.is_some() || shows(o.format.0.name()) || o.outputs.iter().any(|FormatFile(f, _)| shows(f.name()))
        }),
    };
    Ok(pipeline::Input { config, analyze })
}

fn output(output: &OutputArgs, config: &Config, env: &dyn Fn(&str) -> Option<String>) -> Result<pipeline::Output, Error> {
    let top = output.top.unwrap_or(config.top);
    if top == 0 {
        return Err(Error::Usage("--top must be at least 1".into()));
    }
    let mut files = Vec::new();
    for (flag, path) in [("--json", &output.json), ("--markdown", &output.markdown), ("--html", &output.html)] {
        if let Some(path) = path {
            let format = render::exporter(flag.trim_start_matches('-')).expect("a listed format");
            files.push(OutputFile { flag: flag.to_owned(), path: path.clone(), format });
        }
    }
    for FormatFile(format, path) in &output.outputs {
        files.push(OutputFile { flag: format!("--output {}", format.name()), path: path.clone(), format: *format });
    }
    Ok(pipeline::Output {
        stdout: output.format.0,
        files,
        view: View {
            top,
            sort: output.sort.map_or(config.sort, SortKey::from),
            bands: config.bands,
            explain: false,
            color: match output.color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => {
                    use std::io::IsTerminal as _;
                    std::io::stdout().is_terminal() && env("NO_COLOR").is_none_or(|v| v.is_empty())
                }
            },
        },
    })
}

fn baseline_path(flag: Option<&Path>, config: &Config) -> PathBuf {
    flag.map(Path::to_path_buf).unwrap_or_else(|| config.baseline_path.clone())
}

fn check(args: CheckArgs, cwd: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<pipeline::Check, Error> {
    if !pipeline::valid_id(&args.comment_id) {
        return Err(Error::Usage(format!("--comment-id {:?}: use letters, digits, '-', '_' or '.'", args.comment_id)));
    }
    let mut input = input(&args.input, Some(&args.output), cwd, false)?;
    input.config.gate.fail_on_warning = args.fail_on == FailOn::Warning;
    let mut output = output(&args.output, &input.config, env)?;
    output.view.explain = args.explain;
    // The publishers of a check: each target a line.
    let publishers: Vec<Box<dyn Publisher>> = vec![Box::new(github(&args.github, env)?)];
    Ok(pipeline::Check {
        baseline: baseline_path(args.baseline.as_deref(), &input.config),
        comment_id: args.comment_id,
        publishers,
        input,
        output,
    })
}

/// The GitHub publisher: the Actions environment, overridden by the flags.
fn github(args: &GithubArgs, env: &dyn Fn(&str) -> Option<String>) -> Result<GitHub, Error> {
    let (mut context, problem) = Context::from_env(env);
    // An event payload that cannot be read leaves the run without its PR: say so, or stop.
    if let Some(problem) = problem {
        if args.fail_on_publish_error {
            return Err(Error::Publish(render::escape::terminal(&problem)));
        }
        eprintln!("warning: {}", render::escape::terminal(&problem));
    }
    if let Some(r) = &args.repo {
        context.repo = Some(publish::split_repo(r).ok_or_else(|| Error::Usage(format!("--repo {r:?}: expected OWNER/NAME")))?);
    }
    if args.pr.is_some() {
        context.pr = args.pr;
    }
    if args.sha.is_some() {
        context.head_sha = args.sha.clone();
    }
    // Base delay between retries of the GitHub API (`PERFGATE_RETRY_MS`, for tests).
    let retry = env("PERFGATE_RETRY_MS").and_then(|v| v.parse().ok()).unwrap_or(1000);
    Ok(GitHub::new(
        context,
        args.comment.into(),
        args.comment_author.clone(),
        args.fail_on_publish_error,
        std::time::Duration::from_millis(retry),
        args.publish_timeout,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn absolute_log_paths_inside_the_working_directory_are_read_relative_to_it() {
        let cwd = Path::new("/home/runner/work/app/app");
        assert_eq!(under(cwd, "/home/runner/work/app/app/.logs/e2e/*.log"), ".logs/e2e/*.log");
        assert_eq!(under(cwd, "/home/runner/work/app/app/.logs/a.log"), ".logs/a.log");
        assert_eq!(under(cwd, "/home/runner/work/app/app"), ".");
        // Outside it, relative already, the standard input, or a name that only starts alike: as given.
        for p in ["/var/log/app.log", "/home/runner/work/app/app2/a.log", ".logs/**/*.log", "../x.log", "-"] {
            assert_eq!(under(cwd, p), p);
        }
    }

    /// The generator's defaults that tests start from are the command line's.
    #[test]
    fn generator_test_defaults_are_the_command_lines() {
        let cli = Cli::try_parse_from(["perfgate", "generate", "--out", "x"]).unwrap();
        let Command::Generate(args) = cli.command else { panic!("generate") };
        assert_eq!(format!("{args:?}"), format!("{:?}", generate::GenerateArgs::writing_to(Path::new("x"))));
    }
}
