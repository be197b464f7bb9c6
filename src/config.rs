//! `perfgate.toml`: the raw file (serde, unknown keys rejected with their line) and its
//! validation into the settings a run uses. Every key has a default, so no file is required;
//! `config/perfgate.toml` in the repository documents each one.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::attribute::InputFormat;
use crate::error::Error;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    sources: RawSources,
    #[serde(default)]
    catalog: RawCatalog,
    #[serde(default)]
    report: RawReport,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSources {
    paths: Option<Vec<String>>,
    format: Option<InputFormat>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    paths: Option<Vec<PathBuf>>,
    source_root: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReport {
    top: Option<usize>,
    sort: Option<SortKey>,
    max_executions: Option<usize>,
    #[serde(default)]
    bands: RawBands,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBands {
    slow_ms: Option<f64>,
    medium_ms: Option<f64>,
    fast_ms: Option<f64>,
}

/// Which statistic orders the heatmap (slowest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SortKey {
    Avg,
    P95,
    Total,
    Count,
}

/// Heatmap severity bands on the average duration: slow > `slow_ms`, medium > `medium_ms`,
/// fast ≥ `fast_ms`, very fast below.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bands {
    pub slow_ms: f64,
    pub medium_ms: f64,
    pub fast_ms: f64,
}

impl Default for Bands {
    fn default() -> Self {
        Bands { slow_ms: 7.0, medium_ms: 5.0, fast_ms: 3.0 }
    }
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the file was read from (`None`: defaults only).
    pub path: Option<PathBuf>,
    pub source_paths: Vec<String>,
    pub format: InputFormat,
    /// `None`: discover `json-sequences/**/*.json` under the working directory.
    pub catalog_paths: Option<Vec<PathBuf>>,
    pub source_root: PathBuf,
    pub top: usize,
    pub sort: SortKey,
    pub max_executions: usize,
    pub bands: Bands,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: None,
            source_paths: vec![".logs/*.log".into()],
            format: InputFormat::Auto,
            catalog_paths: None,
            source_root: PathBuf::from("."),
            top: 20,
            sort: SortKey::Avg,
            max_executions: 1000,
            bands: Bands::default(),
        }
    }
}

impl Config {
    /// Reads `path` when given (it must exist), else `perfgate.toml` in `cwd` when present.
    pub fn load(path: Option<&Path>, cwd: &Path) -> Result<Config, Error> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None => {
                let p = cwd.join("perfgate.toml");
                if !p.is_file() {
                    return Ok(Config::default());
                }
                p
            }
        };
        let text =
            std::fs::read_to_string(&path).map_err(|e| Error::Config { path: path.clone(), message: format!("cannot read: {e}") })?;
        Config::parse(&text, &path)
    }

    /// Parses and validates the text of a config file; paths in it are relative to its folder.
    pub fn parse(text: &str, path: &Path) -> Result<Config, Error> {
        let err = |message: String| Error::Config { path: path.to_path_buf(), message };
        let raw: RawConfig = toml::from_str(text).map_err(|e| err(e.to_string().trim_end().to_owned()))?;
        let base = path.parent().unwrap_or(Path::new(""));
        let d = Config::default();
        let bands = Bands {
            slow_ms: raw.report.bands.slow_ms.unwrap_or(d.bands.slow_ms),
            medium_ms: raw.report.bands.medium_ms.unwrap_or(d.bands.medium_ms),
            fast_ms: raw.report.bands.fast_ms.unwrap_or(d.bands.fast_ms),
        };
        if !(bands.slow_ms >= bands.medium_ms && bands.medium_ms >= bands.fast_ms && bands.fast_ms >= 0.0) {
            return Err(err(format!(
                "report.bands: expected slow_ms ≥ medium_ms ≥ fast_ms ≥ 0, got {} / {} / {}",
                bands.slow_ms, bands.medium_ms, bands.fast_ms
            )));
        }
        let top = raw.report.top.unwrap_or(d.top);
        if top == 0 {
            return Err(err("report.top: must be at least 1".into()));
        }
        let rel = |p: &str| -> String {
            if Path::new(p).is_absolute() || base.as_os_str().is_empty() {
                p.to_owned()
            } else {
                base.join(p).to_string_lossy().into_owned()
            }
        };
        Ok(Config {
            path: Some(path.to_path_buf()),
            source_paths: raw.sources.paths.map(|v| v.iter().map(|p| rel(p)).collect()).unwrap_or(d.source_paths),
            format: raw.sources.format.unwrap_or(d.format),
            catalog_paths: raw.catalog.paths.map(|v| v.iter().map(|p| base.join(p)).collect()),
            source_root: raw.catalog.source_root.map(|p| base.join(p)).unwrap_or(d.source_root),
            top,
            sort: raw.report.sort.unwrap_or(d.sort),
            max_executions: raw.report.max_executions.unwrap_or(d.max_executions),
            bands,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_names_key_and_line() {
        let e = Config::parse("[report]\ntop = 5\nbogus = 1\n", Path::new("perfgate.toml")).unwrap_err().to_string();
        assert!(e.contains("perfgate.toml") && e.contains("bogus") && e.contains("line 3"), "{e}");
    }

    #[test]
    fn defaults_and_values() {
        let c = Config::parse("[report]\nsort = \"p95\"\n[report.bands]\nslow_ms = 10.0\n", Path::new("x/perfgate.toml")).unwrap();
        assert_eq!((c.sort, c.bands.slow_ms, c.top), (SortKey::P95, 10.0, 20));
        let e = Config::parse("[report.bands]\nfast_ms = 9.0\n", Path::new("p.toml")).unwrap_err().to_string();
        assert!(e.contains("report.bands"), "{e}");
    }
}
