//! The one error type at the edge. Every variant is "not a verdict", so every variant exits 2;
//! messages name the file and position (or the config key) that caused them.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub enum Error {
    /// A path given on the command line or in `[sources]` that does not exist / matched nothing.
    InputNotFound(String),
    /// An input file that could not be read.
    Read { path: PathBuf, source: std::io::Error },
    /// No input file at all.
    NoInput(String),
    /// Input files were read but nothing in them was recognized: (file, why) for each.
    NothingRecognized { files: Vec<(String, String)> },
    /// A sequence catalog file that is not valid JSON.
    Catalog { path: PathBuf, message: String },
    /// The configuration file is unreadable or invalid (message names key and line).
    Config { path: PathBuf, message: String },
    /// The baseline file is unreadable, corrupt, foreign or of another schema.
    Baseline { path: PathBuf, message: String },
    /// A history file (or its directory) that is unreadable, corrupt or of another schema.
    History { path: PathBuf, message: String },
    /// `check` without a baseline file.
    NoBaseline(PathBuf),
    /// A bad option value.
    Usage(String),
    /// Publishing to GitHub failed and `--fail-on-publish-error` was given.
    Publish(String),
    /// Writing a report failed.
    Write { path: PathBuf, source: std::io::Error },
    /// Another process held the lock of a file perfgate must read, change and write.
    Locked { path: PathBuf, waited: std::time::Duration },
}

impl Error {
    /// Exit code: everything here is an error, not a verdict.
    pub fn exit_code(&self) -> i32 {
        2
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InputNotFound(p) => {
                write!(f, "input not found: {} (no such file or directory, and no file matches it as a glob)", one_line(p))
            }
            Error::Read { path, source } => write!(f, "{}: cannot read: {source}", shown(path)),
            Error::NoInput(what) => write!(f, "no input files: {what}"),
            Error::NothingRecognized { files } => {
                write!(
                    f,
                    "nothing recognized in {} input file(s): no beat timing, markdown telemetry or frames export found (use --allow-empty to accept this)",
                    files.len()
                )?;

                for (path, why) in files {
                    write!(f, "\n  {}: {}", one_line(path), one_line(why))?;
                }
                write!(
                    f,
                    "\nLogs of an app not built on Musical Conductor? Describe their lines with a [[sources.pattern]] or [[sources.json]] rule in perfgate.toml (README: \"Any application's logs\"); `perfgate analyze --explain 'LINE'` shows what perfgate reads in one line."
                )?;
                Ok(())
            }
            Error::Catalog { path, message } => write!(f, "{}: invalid sequence catalog: {message}", shown(path)),
            Error::Config { path, message } => write!(f, "{}: {message}", shown(path)),
            Error::Baseline { path, message } => write!(f, "{}: {message}", shown(path)),
            Error::History { path, message } => write!(f, "{}: {message}", shown(path)),
            Error::NoBaseline(path) => {
                write!(f, "{}: no baseline; create it with `perfgate update-baseline` and commit it (or pass --baseline FILE)", shown(path))
            }
            Error::Usage(m) => write!(f, "{m}"),
            Error::Publish(m) => write!(f, "{m}"),
            Error::Write { path, source } => write!(f, "{}: cannot write: {source}", shown(path)),
            Error::Locked { path, waited } => write!(
                f,
                "{}: another perfgate update-baseline has held its lock for {} s; nothing was written (retry, or raise --lock-timeout)",
                shown(path),
                waited.as_secs_f64()
            ),
        }
    }
}

impl std::error::Error for Error {}

/// A file name as one line: a name is text a fork can choose, and a line break in it would start
/// a line of its own in the message (control characters become `�`).
fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { '\u{FFFD}' } else { c }).collect()
}

fn shown(p: &Path) -> String {
    one_line(&p.display().to_string())
}
