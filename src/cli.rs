//! Command-line arguments (clap derive) and their validation into a run. The binary calls
//! [`run`] and turns its result into the exit code.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::analyze::{self, AnalyzeOptions};
use crate::attribute::InputFormat;
use crate::config::{Config, SortKey};
use crate::error::Error;
use crate::generate;
use crate::render::{self, View};

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
    /// Write realistic, seeded synthetic logs with their ground truth (tests and benchmarks).
    #[command(hide = true)]
    Generate(generate::GenerateArgs),
}

const ANALYZE_EXAMPLES: &str = "Examples:
  perfgate analyze .logs/                       every *.log below .logs, recursively
  perfgate analyze 'ci-logs/**/*.log' --top 50  a glob (quote it)
  perfgate analyze run.log --catalog packages/ --json report.json --markdown report.md
  perfgate analyze telemetry.md frames.json     markdown telemetry and frames exports";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Terminal,
    Markdown,
    Json,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
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
    /// What to print on stdout.
    #[arg(long, value_enum, default_value = "terminal")]
    pub format: OutputFormat,
    /// Also write the JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write the markdown report to FILE.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// How many handlers the heatmap shows. Default: 20.
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// Which statistic orders the heatmap. Default: avg.
    #[arg(long, value_enum)]
    pub sort: Option<SortKey>,
    /// Read every input as this format instead of detecting it per file.
    #[arg(long, value_enum)]
    pub format_in: Option<InputFormat>,
    /// Most executions listed per handler in the JSON report (then the slowest tenth plus a
    /// uniform sample). Default: 1000.
    #[arg(long, value_name = "N")]
    pub max_executions: Option<usize>,
    /// Succeed even when nothing in the input was recognized.
    #[arg(long)]
    pub allow_empty: bool,
}

/// Runs a parsed command line in `cwd`; returns the exit code of a verdict-free run.
pub fn run(cli: Cli, cwd: &Path) -> Result<i32, Error> {
    match cli.command {
        Command::Analyze(args) => run_analyze(args, cwd),
        Command::Generate(args) => generate::run(&args).map(|()| 0),
    }
}

fn run_analyze(args: AnalyzeArgs, cwd: &Path) -> Result<i32, Error> {
    let config = Config::load(args.config.as_deref(), cwd)?;
    let mut catalog_paths = match &config.catalog_paths {
        Some(p) => p.clone(),
        None => analyze::default_catalog(cwd),
    };
    catalog_paths.extend(args.catalogs.iter().cloned());
    let top = args.top.unwrap_or(config.top);
    if top == 0 {
        return Err(Error::Usage("--top must be at least 1".into()));
    }
    let sort = args.sort.unwrap_or(config.sort);
    let opts = AnalyzeOptions {
        paths: if args.paths.is_empty() { config.source_paths.clone() } else { args.paths.clone() },
        format: args.format_in.unwrap_or(config.format),
        catalog_paths,
        source_root: args.source_root.clone().unwrap_or_else(|| config.source_root.clone()),
        sort,
        max_executions: args.max_executions.unwrap_or(config.max_executions),
        allow_empty: args.allow_empty,
    };
    let report = analyze::analyze(&opts)?;
    let view = View { top, sort, bands: config.bands };
    let mut stderr = std::io::stderr().lock();
    for w in &report.diagnostics.warnings {
        let _ = writeln!(stderr, "warning: {}", render::escape::terminal(w));
    }
    if let Some(path) = &args.json {
        crate::atomic::write(path, render::json::render(&report).as_bytes())?;
    }
    if let Some(path) = &args.markdown {
        crate::atomic::write(path, render::markdown::render(&report, &view).as_bytes())?;
    }
    let out = match args.format {
        OutputFormat::Terminal => render::terminal::render(&report, &view),
        OutputFormat::Markdown => render::markdown::render(&report, &view),
        OutputFormat::Json => render::json::render(&report),
    };
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth reporting.
    let _ = stdout.write_all(out.as_bytes()).and_then(|()| stdout.flush());
    Ok(0)
}
