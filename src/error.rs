//! The one error type at the edge. Every variant is "not a verdict", so every variant exits 2;
//! messages name the file and position (or the config key) that caused them.

use std::fmt;
use std::path::PathBuf;

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
            Error::InputNotFound(p) => write!(f, "input not found: {p} (no such file or directory, and no file matches it as a glob)"),
            Error::Read { path, source } => write!(f, "{}: cannot read: {source}", path.display()),
            Error::NoInput(what) => write!(f, "no input files: {what}"),
            Error::NothingRecognized { files } => {
                write!(
                    f,
                    "nothing recognized in {} input file(s): no beat timing, markdown telemetry or frames export found (use --allow-empty to accept this)",
                    files.len()
                )?;
                for (path, why) in files {
                    write!(f, "\n  {path}: {why}")?;
                }
                Ok(())
            }
            Error::Catalog { path, message } => write!(f, "{}: invalid sequence catalog: {message}", path.display()),
            Error::Config { path, message } => write!(f, "{}: {message}", path.display()),
            Error::Baseline { path, message } => write!(f, "{}: {message}", path.display()),
            Error::History { path, message } => write!(f, "{}: {message}", path.display()),
            Error::NoBaseline(path) => write!(
                f,
                "{}: no baseline; create it with `perfgate update-baseline` and commit it (or pass --baseline FILE)",
                path.display()
            ),
            Error::Usage(m) => write!(f, "{m}"),
            Error::Publish(m) => write!(f, "{m}"),
            Error::Write { path, source } => write!(f, "{}: cannot write: {source}", path.display()),
            Error::Locked { path, waited } => write!(
                f,
                "{}: another perfgate update-baseline has held its lock for {} s; nothing was written (retry, or raise --lock-timeout)",
                path.display(),
                waited.as_secs_f64()
            ),
        }
    }
}

impl std::error::Error for Error {}
