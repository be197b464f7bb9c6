//! `perfgate.toml`: the raw file (serde, unknown keys rejected with their line) and its
//! validation into the settings a run uses. Every key has a default, so no file is required;
//! `config/perfgate.toml` in the repository documents each one.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::Error;
use crate::input::InputFormat;
use crate::stats::Stat;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    sources: RawSources,
    #[serde(default)]
    catalog: RawCatalog,
    #[serde(default)]
    report: RawReport,
    #[serde(default)]
    gate: RawGate,
    #[serde(default)]
    baseline: RawBaseline,
    #[serde(default)]
    history: RawHistory,
}

/// Where the history of main is kept with the default baseline, and how many runs it keeps
/// (`history` owns the files).
pub const DEFAULT_HISTORY_DIR: &str = ".perfgate/history";
pub const DEFAULT_HISTORY_RETENTION: usize = 500;

/// The change-point detector's settings (`trend`; `[history]` in the file).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrendConfig {
    /// Probability that a trend of unchanged code reports any change (steps and creep share it).
    pub false_alarm_rate: f64,
    /// A creep is reported when its cumulative factor over the window passes `1 + max_increase`.
    pub max_increase: f64,
    /// A step smaller than this (relative) is not reported.
    pub min_step: f64,
    /// Runs on each side of a step, at least.
    pub min_segment: usize,
    /// The recent runs the creep's slope is fitted over.
    pub creep_window: usize,
    /// Executions a handler needs in a run to enter that run's runner shift.
    pub min_samples: usize,
    /// Handlers a run needs to estimate its runner shift.
    pub min_handlers: usize,
    /// Confidence of the intervals shown.
    pub confidence: f64,
}

impl Default for TrendConfig {
    fn default() -> Self {
        TrendConfig {
            false_alarm_rate: 0.005,
            max_increase: 0.10,
            min_step: 0.10,
            min_segment: 2,
            creep_window: 12,
            min_samples: 5,
            min_handlers: 10,
            confidence: 0.95,
        }
    }
}

/// `[history]`: the runs of main, one file each (see `history`), and what `trend` calls a change.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHistory {
    dir: Option<PathBuf>,
    retention: Option<usize>,
    /// The family-wise chance that a trend of unchanged handlers reports a change.
    false_alarm_rate: Option<String>,
    /// The smallest step and the cumulative creep that are changes.
    min_step: Option<String>,
    max_increase: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGate {
    stats: Option<Vec<String>>,
    warn_stats: Option<Vec<String>>,
    max_increase: Option<String>,
    min_increase_ms: Option<f64>,
    min_samples: Option<usize>,
    confidence: Option<f64>,
    false_alarm_rate: Option<String>,
    fail_on_missing: Option<bool>,
    fail_on_new: Option<bool>,
    drift_max_increase: Option<String>,
    drift_min_handlers: Option<usize>,
    #[serde(default, rename = "override")]
    overrides: Vec<RawOverride>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    #[serde(rename = "match")]
    pattern: String,
    ignore: Option<bool>,
    stats: Option<Vec<String>>,
    warn_stats: Option<Vec<String>>,
    max_increase: Option<String>,
    min_increase_ms: Option<f64>,
    min_samples: Option<usize>,
    budget: Option<OneOrMany>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBaseline {
    path: Option<PathBuf>,
    history: Option<usize>,
}

/// An absolute budget, k6-style: `p95 < 12ms`.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    pub stat: Stat,
    /// `<=` rather than `<`.
    pub inclusive: bool,
    pub limit_ms: f64,
    /// As written in the config.
    pub text: String,
}

impl Budget {
    /// Parses `STAT < VALUE[UNIT]` or `STAT <= VALUE[UNIT]` (units ms, s, us/µs; default ms).
    pub fn parse(text: &str) -> Result<Budget, String> {
        let t = text.trim();
        let (stat, rest, inclusive) = if let Some((a, b)) = t.split_once("<=") {
            (a, b, true)
        } else if let Some((a, b)) = t.split_once('<') {
            (a, b, false)
        } else {
            return Err(format!("cannot parse budget {text:?}: expected \"STAT < VALUE\" such as \"p95 < 12ms\""));
        };
        let stat = Stat::parse(stat.trim()).ok_or_else(|| {
            format!("cannot parse budget {text:?}: unknown statistic {:?} (typical, avg, p50, p90, p95, p99, max)", stat.trim())
        })?;
        let rest = rest.trim();
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let value: f64 =
            rest[..digits].parse().map_err(|_| format!("cannot parse budget {text:?}: {:?} is not a number", &rest[..digits]))?;
        let scale = match rest[digits..].trim() {
            "" | "ms" => 1.0,
            "s" => 1000.0,
            "us" | "µs" => 0.001,
            u => return Err(format!("cannot parse budget {text:?}: unknown unit {u:?} (ms, s, us)")),
        };
        if !value.is_finite() {
            return Err(format!("cannot parse budget {text:?}: {:?} is not a finite number", &rest[..digits]));
        }
        Ok(Budget { stat, inclusive, limit_ms: value * scale, text: t.to_owned() })
    }

    /// Whether `value` (ms) respects the budget.
    pub fn holds(&self, value: f64) -> bool {
        if self.inclusive { value <= self.limit_ms } else { value < self.limit_ms }
    }
}

/// The rule that applies to one handler (defaults with the first matching override applied).
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub ignore: bool,
    pub stats: Vec<Stat>,
    pub warn_stats: Vec<Stat>,
    /// Relative threshold as a fraction (0.10 = 10%).
    pub max_increase: f64,
    pub min_increase_ms: f64,
    pub min_samples: usize,
    pub budgets: Vec<Budget>,
}

#[derive(Debug, Clone)]
pub struct Override {
    pub pattern: glob::Pattern,
    pub ignore: Option<bool>,
    pub stats: Option<Vec<Stat>>,
    pub warn_stats: Option<Vec<Stat>>,
    pub max_increase: Option<f64>,
    pub min_increase_ms: Option<f64>,
    pub min_samples: Option<usize>,
    pub budgets: Option<Vec<Budget>>,
}

/// The gate's settings.
#[derive(Debug, Clone)]
pub struct GateConfig {
    pub defaults: Rule,
    pub overrides: Vec<Override>,
    /// Two-sided confidence level of the change's interval (shown; decides warnings).
    pub confidence: f64,
    /// Family-wise error level: the chance that a run of unchanged code fails any handler.
    pub false_alarm_rate: f64,
    pub fail_on_missing: bool,
    pub fail_on_new: bool,
    /// Warnings fail too (`--fail-on warning`; not a key of the file).
    pub fail_on_warning: bool,
    /// Run-wide shift (all handlers together) that fails the gate, as a fraction.
    pub drift_max_increase: f64,
    /// Handlers with enough samples needed to estimate the run-wide shift.
    pub drift_min_handlers: usize,
}

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig {
            defaults: Rule {
                ignore: false,
                stats: vec![Stat::Typical, Stat::P95],
                warn_stats: Vec::new(),
                max_increase: 0.10,
                min_increase_ms: 0.5,
                min_samples: 8,
                budgets: Vec::new(),
            },
            overrides: Vec::new(),
            confidence: 0.95,
            false_alarm_rate: 0.01,
            fail_on_missing: false,
            fail_on_new: false,
            fail_on_warning: false,
            drift_max_increase: 0.35,
            drift_min_handlers: 3,
        }
    }
}

impl GateConfig {
    /// The rule for a handler named `Plugin.handler`: the first override whose glob matches.
    pub fn rule_for(&self, name: &str) -> Rule {
        let mut rule = self.defaults.clone();
        if let Some(o) = self.overrides.iter().find(|o| o.pattern.matches(name)) {
            rule.ignore = o.ignore.unwrap_or(rule.ignore);
            if let Some(v) = &o.stats {
                rule.stats = v.clone();
            }
            if let Some(v) = &o.warn_stats {
                rule.warn_stats = v.clone();
            }
            rule.max_increase = o.max_increase.unwrap_or(rule.max_increase);
            rule.min_increase_ms = o.min_increase_ms.unwrap_or(rule.min_increase_ms);
            rule.min_samples = o.min_samples.unwrap_or(rule.min_samples);
            if let Some(b) = &o.budgets {
                rule.budgets = b.clone();
            }
        }
        rule
    }
}

/// `"25%"` → 0.25.
fn percent(key: &str, v: &str) -> Result<f64, String> {
    let n = v.trim().strip_suffix('%').ok_or_else(|| format!("{key}: expected a percentage such as \"10%\", got {v:?}"))?;
    let f: f64 = n.trim().parse().map_err(|_| format!("{key}: {v:?} is not a percentage"))?;
    if !(f.is_finite() && f >= 0.0) {
        return Err(format!("{key}: {v:?} must be zero or more"));
    }
    Ok(f / 100.0)
}

/// A number of milliseconds (or another non-negative quantity): finite and ≥ 0.
fn non_negative(key: &str, v: f64) -> Result<f64, String> {
    if v.is_finite() && v >= 0.0 { Ok(v) } else { Err(format!("{key}: expected a finite number, 0 or more, got {v}")) }
}

fn stat_list(key: &str, v: &[String], gateable: bool) -> Result<Vec<Stat>, String> {
    v.iter()
        .map(|s| {
            let st = Stat::parse(s).ok_or_else(|| format!("{key}: unknown statistic {s:?} (typical, avg, p50, p90, p95, p99)"))?;
            if gateable && st == Stat::Max {
                return Err(format!("{key}: \"max\" is a single observation and too noisy to compare with a baseline; use it in a budget"));
            }
            Ok(st)
        })
        .collect()
}

fn gate_config(raw: RawGate) -> Result<GateConfig, String> {
    let d = GateConfig::default();
    let confidence = raw.confidence.unwrap_or(d.confidence);
    if !(0.5..1.0).contains(&confidence) {
        return Err(format!("gate.confidence: expected a level between 0.5 and 1 (exclusive), got {confidence}"));
    }
    let false_alarm_rate = raw.false_alarm_rate.map(|v| percent("gate.false_alarm_rate", &v)).transpose()?.unwrap_or(d.false_alarm_rate);
    if !(false_alarm_rate > 0.0 && false_alarm_rate < 0.5) {
        return Err(format!("gate.false_alarm_rate: expected a rate above 0% and below 50%, got {}%", false_alarm_rate * 100.0));
    }
    let defaults = Rule {
        ignore: false,
        stats: raw.stats.map(|v| stat_list("gate.stats", &v, true)).transpose()?.unwrap_or(d.defaults.stats),
        warn_stats: raw.warn_stats.map(|v| stat_list("gate.warn_stats", &v, true)).transpose()?.unwrap_or(d.defaults.warn_stats),
        max_increase: raw.max_increase.map(|v| percent("gate.max_increase", &v)).transpose()?.unwrap_or(d.defaults.max_increase),
        min_increase_ms: raw
            .min_increase_ms
            .map(|v| non_negative("gate.min_increase_ms", v))
            .transpose()?
            .unwrap_or(d.defaults.min_increase_ms),
        min_samples: raw.min_samples.unwrap_or(d.defaults.min_samples).max(2),
        budgets: Vec::new(),
    };
    let mut overrides = Vec::new();
    for (i, o) in raw.overrides.into_iter().enumerate() {
        let key = |k: &str| format!("gate.override[{}].{k}", i + 1);
        let pattern = glob::Pattern::new(&o.pattern).map_err(|e| format!("{}: invalid glob {:?}: {e}", key("match"), o.pattern))?;
        let budgets = match o.budget {
            None => None,
            Some(OneOrMany::One(b)) => Some(vec![Budget::parse(&b).map_err(|e| format!("{}: {e}", key("budget")))?]),
            Some(OneOrMany::Many(v)) => {
                Some(v.iter().map(|b| Budget::parse(b).map_err(|e| format!("{}: {e}", key("budget")))).collect::<Result<_, _>>()?)
            }
        };
        overrides.push(Override {
            pattern,
            ignore: o.ignore,
            stats: o.stats.map(|v| stat_list(&key("stats"), &v, true)).transpose()?,
            warn_stats: o.warn_stats.map(|v| stat_list(&key("warn_stats"), &v, true)).transpose()?,
            max_increase: o.max_increase.map(|v| percent(&key("max_increase"), &v)).transpose()?,
            min_increase_ms: o.min_increase_ms.map(|v| non_negative(&key("min_increase_ms"), v)).transpose()?,
            min_samples: o.min_samples.map(|n| n.max(2)),
            budgets,
        });
    }
    Ok(GateConfig {
        defaults,
        overrides,
        confidence,
        false_alarm_rate,
        fail_on_missing: raw.fail_on_missing.unwrap_or(d.fail_on_missing),
        fail_on_new: raw.fail_on_new.unwrap_or(d.fail_on_new),
        fail_on_warning: d.fail_on_warning,
        drift_max_increase: raw
            .drift_max_increase
            .map(|v| percent("gate.drift_max_increase", &v))
            .transpose()?
            .unwrap_or(d.drift_max_increase),
        drift_min_handlers: raw.drift_min_handlers.unwrap_or(d.drift_min_handlers).max(1),
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSources {
    paths: Option<Vec<String>>,
    format: Option<InputFormat>,
    #[serde(default)]
    pattern: Vec<crate::parse::user::RawPattern>,
    #[serde(default)]
    json: Vec<crate::parse::user::RawJson>,
    max_handlers: Option<usize>,
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
    /// `"auto"`, or the `[report.bands]` table: read by [`bands_setting`], whose errors name
    /// the key and what to write instead.
    bands: Option<toml::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBands {
    slow_ms: Option<f64>,
    medium_ms: Option<f64>,
    fast_ms: Option<f64>,
}

/// Which statistic orders the heatmap (slowest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
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

/// `[report] bands`: the bands a report's heat is coloured by. Fixed (the `[report.bands]`
/// table; without one, the brief's 3/5/7 ms), or `bands = "auto"`: derived from each report's
/// own averages when it is rendered ([`BandsSetting::of`], in `render::bands`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BandsSetting {
    Fixed(Bands),
    Auto,
}

impl Default for BandsSetting {
    fn default() -> Self {
        BandsSetting::Fixed(Bands::default())
    }
}

/// The value of `[report] bands`: absent (the default bands), `"auto"`, or a table of
/// `slow_ms`, `medium_ms` and `fast_ms` (each defaulting to the brief's).
fn bands_setting(raw: Option<toml::Value>) -> Result<BandsSetting, String> {
    const INSTEAD: &str = "write bands = \"auto\" under [report] (bands from the run's own averages), or a [report.bands] \
table of slow_ms, medium_ms and fast_ms (the commented perfgate.toml that `perfgate init` writes shows both)";
    let table: RawBands = match raw {
        None => RawBands::default(),
        Some(toml::Value::String(s)) if s == "auto" => return Ok(BandsSetting::Auto),
        Some(toml::Value::Table(t)) => {
            toml::Value::Table(t).try_into().map_err(|e: toml::de::Error| format!("report.bands: {}", plain_types(e.message())))?
        }
        Some(other) => return Err(format!("report.bands: {other} is not a setting; {INSTEAD}")),
    };
    let d = Bands::default();
    let bands = Bands {
        slow_ms: table.slow_ms.unwrap_or(d.slow_ms),
        medium_ms: table.medium_ms.unwrap_or(d.medium_ms),
        fast_ms: table.fast_ms.unwrap_or(d.fast_ms),
    };
    for (key, v) in [("slow_ms", bands.slow_ms), ("medium_ms", bands.medium_ms), ("fast_ms", bands.fast_ms)] {
        non_negative(&format!("report.bands.{key}"), v)?;
    }
    if !(bands.slow_ms >= bands.medium_ms && bands.medium_ms >= bands.fast_ms && bands.fast_ms >= 0.0) {
        return Err(format!(
            "report.bands: expected slow_ms ≥ medium_ms ≥ fast_ms ≥ 0, got {} / {} / {}",
            bands.slow_ms, bands.medium_ms, bands.fast_ms
        ));
    }
    Ok(BandsSetting::Fixed(bands))
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
    pub bands: BandsSetting,
    pub gate: GateConfig,
    /// `[baseline] path`.
    pub baseline_path: PathBuf,
    /// `[baseline] history`: runs kept in the baseline.
    pub history: usize,
    /// `[history] dir`: the history of main, one file per run (default: `history/` beside the
    /// baseline; see [`Config::history_dir`]).
    pub history_dir: Option<PathBuf>,
    /// `[history] retention`: runs kept in it.
    pub history_retention: usize,
    /// `[history]`'s change-point settings.
    pub trend: TrendConfig,
    /// `[[sources.pattern]]`, `[[sources.json]]`: any application's logs.
    pub rules: crate::parse::user::UserRules,
    /// `[sources] max_handlers`: more distinct handlers in a run is an error (exit 2).
    pub max_handlers: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: None,
            source_paths: vec![".logs/**/*.log".into()],
            format: InputFormat::Auto,
            catalog_paths: None,
            source_root: PathBuf::from("."),
            top: 20,
            sort: SortKey::Avg,
            max_executions: 1000,
            bands: BandsSetting::default(),
            gate: GateConfig::default(),
            baseline_path: PathBuf::from(".perfgate/baseline.json"),
            history: 5,
            history_dir: None,
            history_retention: DEFAULT_HISTORY_RETENTION,
            trend: TrendConfig::default(),
            rules: crate::parse::user::UserRules::default(),
            max_handlers: 10_000,
        }
    }
}

impl Config {
    /// Reads `path` when given (it must exist), else the nearest `perfgate.toml` from `cwd` up to
    /// the repository's root (the first folder holding `.git`), so that perfgate finds the
    /// repository's config from any package of a monorepo. Paths in the file, and the defaults
    /// of the paths it leaves out (logs, baseline, source root), are relative to its folder.
    pub fn load(path: Option<&Path>, cwd: &Path) -> Result<Config, Error> {
        let (path, up) = match path {
            Some(p) => (p.to_path_buf(), 0),
            None => match find(cwd) {
                Some(found) => found,
                None => return Ok(Config::default()),
            },
        };
        let text =
            std::fs::read_to_string(&path).map_err(|e| Error::Config { path: path.clone(), message: format!("cannot read: {e}") })?;
        let mut config = Config::parse(&text, &path)?;
        if up > 0 {
            // Found above the working directory: what the file leaves out is the defaults of its
            // own folder, not of wherever perfgate runs.
            let d = Config::default();
            let dir = path.parent().unwrap_or(Path::new(""));
            if config.source_paths == d.source_paths {
                config.source_paths = d.source_paths.iter().map(|p| dir.join(p).to_string_lossy().into_owned()).collect();
            }
            if config.baseline_path == d.baseline_path {
                config.baseline_path = dir.join(&d.baseline_path);
            }
            if config.source_root == d.source_root {
                config.source_root = dir.to_path_buf();
            }
        }
        Ok(config)
    }

    /// Parses and validates the text of a config file; paths in it are relative to its folder.
    pub fn parse(text: &str, path: &Path) -> Result<Config, Error> {
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| Error::Config { path: path.to_path_buf(), message: plain_types(e.to_string().trim_end()) })?;
        // A value's error names its key; the line is found in the text.
        let err = |message: String| Error::Config { path: path.to_path_buf(), message: with_line(text, message) };
        let base = path.parent().unwrap_or(Path::new(""));
        let d = Config::default();
        let bands = bands_setting(raw.report.bands).map_err(err)?;
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
        let gate = gate_config(raw.gate).map_err(err)?;
        let rules = crate::parse::user::UserRules::compile(&raw.sources.pattern, &raw.sources.json).map_err(err)?;
        let max_handlers = raw.sources.max_handlers.unwrap_or(d.max_handlers);
        if max_handlers == 0 {
            return Err(err("sources.max_handlers: must be at least 1".into()));
        }
        let history = raw.baseline.history.unwrap_or(d.history);
        if history == 0 {
            return Err(err("baseline.history: must be at least 1".into()));
        }
        let retention = raw.history.retention.unwrap_or(d.history_retention);
        if retention == 0 {
            return Err(err("history.retention: must be at least 1".into()));
        }
        let mut trend = d.trend;
        if let Some(v) = &raw.history.false_alarm_rate {
            trend.false_alarm_rate = percent("history.false_alarm_rate", v).map_err(err)?;
            if !(trend.false_alarm_rate > 0.0 && trend.false_alarm_rate < 0.5) {
                return Err(err(format!("history.false_alarm_rate: {v:?} must be above 0% and below 50%")));
            }
        }
        if let Some(v) = &raw.history.min_step {
            trend.min_step = percent("history.min_step", v).map_err(err)?;
        }
        if let Some(v) = &raw.history.max_increase {
            trend.max_increase = percent("history.max_increase", v).map_err(err)?;
        }
        Ok(Config {
            history_dir: raw.history.dir.map(|p| base.join(p)),
            history_retention: retention,
            trend,
            max_handlers,
            rules,
            gate,
            history,
            baseline_path: raw.baseline.path.map(|p| base.join(p)).unwrap_or(d.baseline_path),
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

/// The nearest `perfgate.toml` from `cwd` up to the repository's root, with how many folders
/// up it is (named relative to `cwd` when above it: `../../perfgate.toml`).
fn find(cwd: &Path) -> Option<(PathBuf, usize)> {
    for (up, dir) in cwd.ancestors().enumerate() {
        if dir.join("perfgate.toml").is_file() {
            let path = if up == 0 { cwd.join("perfgate.toml") } else { PathBuf::from("../".repeat(up)).join("perfgate.toml") };
            return Some((path, up));
        }
        if dir.join(".git").exists() {
            return None;
        }
    }
    None
}

impl Config {
    /// The history of main kept with the baseline at `baseline`: `[history] dir`, else
    /// `history/` beside the baseline (`.perfgate/history` for the default baseline).
    pub fn history_dir(&self, baseline: &Path) -> PathBuf {
        self.history_dir.clone().unwrap_or_else(|| baseline.parent().unwrap_or(Path::new("")).join("history"))
    }
}

/// A TOML error in words a user of the file knows (`expected usize` → `expected a whole number,
/// 0 or more`), with the next step.
fn plain_types(message: &str) -> String {
    let mut m = message.to_owned();
    for (rust, plain) in [
        ("expected usize", "expected a whole number, 0 or more"),
        ("expected u64", "expected a whole number, 0 or more"),
        ("expected u32", "expected a whole number, 0 or more"),
        ("expected f64", "expected a number"),
        ("expected a boolean", "expected true or false"),
        ("expected a string", "expected a quoted string"),
        ("expected a sequence", "expected a list: [\"…\", \"…\"]"),
    ] {
        m = m.replace(rust, plain);
    }
    m.push_str("\n(every key, its type and its default are in the commented perfgate.toml that `perfgate init` writes)");
    m
}

/// `"gate.override[2].min_increase_ms: …"` → `"line 14: gate.override[2].min_increase_ms: …"`,
/// when the key (or, failing that, its table) is found in the file.
fn with_line(text: &str, message: String) -> String {
    let key = message.split_once(": ").map_or("", |(k, _)| k);
    match key_line(text, key) {
        Some(line) => format!("line {line}: {message}"),
        None => message,
    }
}

/// The 1-based line of `key` (`a.b[2].c`, arrays 1-based) in the TOML `text`, or of the
/// deepest table on its path that is there.
fn key_line(text: &str, key: &str) -> Option<usize> {
    use toml::de::{DeTable, DeValue};
    let root = DeValue::Table(DeTable::parse(text).ok()?.into_inner());
    let mut at = &root;
    let mut span = None;
    for part in key.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((n, i)) => (n, Some(i.trim_end_matches(']').parse::<usize>().ok()?.checked_sub(1)?)),
            None => (part, None),
        };
        let Some(mut next) = at.get(name) else { break };
        if let Some(i) = index {
            let Some(item) = next.get_ref().get(i) else { break };
            next = item;
        }
        span = Some(next.span());
        at = next.get_ref();
    }
    let start = span?.start;
    Some(text.as_bytes()[..start.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1)
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
    fn gate_rules_and_overrides() {
        let text = "[gate]\nmax_increase = \"25%\"\n[[gate.override]]\nmatch = \"CanvasComponentPlugin.renderReact\"\nmax_increase = \"10%\"\nbudget = \"p95 < 12ms\"\n[[gate.override]]\nmatch = \"*.notifyUi\"\nignore = true\n[[gate.override]]\nmatch = \"*\"\nbudget = [\"p99 <= 1s\", \"avg < 500us\"]\n";
        let c = Config::parse(text, Path::new("perfgate.toml")).unwrap();
        let r = c.gate.rule_for("CanvasComponentPlugin.renderReact");
        assert_eq!((r.max_increase, r.ignore, r.budgets[0].limit_ms), (0.10, false, 12.0));
        assert!(c.gate.rule_for("LibraryPlugin.notifyUi").ignore);
        let r = c.gate.rule_for("X.y");
        assert_eq!((r.max_increase, r.budgets.len(), r.budgets[0].limit_ms, r.budgets[1].limit_ms), (0.25, 2, 1000.0, 0.5));
        assert!(r.budgets[0].inclusive && r.budgets[0].holds(1000.0) && !r.budgets[1].holds(0.5));
    }

    #[test]
    fn gate_errors_name_the_key() {
        let e = |t: &str| Config::parse(t, Path::new("p.toml")).unwrap_err().to_string();
        assert!(
            e("[[gate.override]]\nmatch = \"a\"\nbudget = \"p95 < twelve\"\n")
                .contains("gate.override[1].budget: cannot parse budget \"p95 < twelve\"")
        );
        assert!(e("[gate]\nmax_increase = 0.25\n").contains("max_increase"));
        assert!(e("[gate]\nmax_increase = \"x%\"\n").contains("gate.max_increase"));
        assert!(e("[gate]\nstats = [\"p42\"]\n").contains("gate.stats: unknown statistic \"p42\""));
        assert!(e("[gate]\nstats = [\"max\"]\n").contains("use it in a budget"));
        assert!(e("[baseline]\nhistory = 0\n").contains("baseline.history"));
        assert!(e("[gate]\nfalse_alarm_rate = \"0%\"\n").contains("gate.false_alarm_rate: expected a rate above 0%"));
        assert!(e("[gate]\nfalse_alarm_rate = \"60%\"\n").contains("gate.false_alarm_rate"));
        assert!(e("[gate]\nfalse_alarm_rate = 0.01\n").contains("false_alarm_rate"));
        let c = Config::parse("[gate]\nfalse_alarm_rate = \"0.5%\"\nstats = [\"typical\"]\n", Path::new("p.toml")).unwrap();
        assert_eq!((c.gate.false_alarm_rate, c.gate.defaults.stats.clone()), (0.005, vec![Stat::Typical]));
        assert!(e("[[gate.override]]\nmatch = \"a\"\nfoo = 1\n").contains("foo"));
    }

    #[test]
    fn numbers_that_would_disable_the_gate_are_errors_with_their_line() {
        let e = |t: &str| Config::parse(t, Path::new("p.toml")).unwrap_err().to_string();
        for bad in ["nan", "inf", "-inf", "-5.0"] {
            let msg = e(&format!("[report]\ntop = 5\n\n[gate]\nmax_increase = \"10%\"\nmin_increase_ms = {bad}\n"));
            assert!(msg.contains("p.toml: line 6: gate.min_increase_ms: expected a finite number, 0 or more"), "{bad}: {msg}");
        }
        let msg = e("[gate]\n[[gate.override]]\nmatch = \"a\"\n[[gate.override]]\nmatch = \"b\"\nmin_increase_ms = nan\n");
        assert!(msg.contains("line 6: gate.override[2].min_increase_ms"), "{msg}");
        // Inline tables and dotted keys are found too.
        assert!(e("gate = { min_increase_ms = -1 }\n").contains("line 1: gate.min_increase_ms"));
        assert!(e("[report]\nbands.slow_ms = inf\n").contains("line 2: report.bands.slow_ms"));
        assert!(e("[report.bands]\nfast_ms = nan\n").contains("line 2: report.bands.fast_ms"));
        let huge = "9".repeat(400);
        assert!(e(&format!("[[gate.override]]\nmatch = \"a\"\nbudget = \"p95 < {huge}ms\"\n")).contains("line 3: gate.override[1].budget"));
        assert!(e("[gate]\nmax_increase = \"inf%\"\n").contains("line 2: gate.max_increase"));
        assert!(e("[gate]\nconfidence = nan\n").contains("line 2: gate.confidence"));
        assert!(e("[gate]\nmin_samples = -3\n").contains("line 2"));
        let c = Config::parse("[gate]\nmin_increase_ms = 0\n", Path::new("p.toml")).unwrap();
        assert_eq!(c.gate.defaults.min_increase_ms, 0.0);
    }

    #[test]
    fn defaults_and_values() {
        let c = Config::parse("[report]\nsort = \"p95\"\n[report.bands]\nslow_ms = 10.0\n", Path::new("x/perfgate.toml")).unwrap();
        assert_eq!((c.sort, c.bands, c.top), (SortKey::P95, BandsSetting::Fixed(Bands { slow_ms: 10.0, ..Bands::default() }), 20));
        let e = Config::parse("[report.bands]\nfast_ms = 9.0\n", Path::new("p.toml")).unwrap_err().to_string();
        assert!(e.contains("report.bands"), "{e}");
    }

    #[test]
    fn bands_are_the_briefs_by_default_or_auto_or_a_table() {
        let p = |t: &str| Config::parse(t, Path::new("p.toml")).map(|c| c.bands).map_err(|e| e.to_string());
        assert_eq!(p(""), Ok(BandsSetting::Fixed(Bands { slow_ms: 7.0, medium_ms: 5.0, fast_ms: 3.0 })));
        assert_eq!(p("[report]\ntop = 5\nbands = \"auto\"\n"), Ok(BandsSetting::Auto));
        assert_eq!(p("report = { bands = \"auto\" }\n"), Ok(BandsSetting::Auto));
        assert_eq!(
            p("[report.bands]\nslow_ms = 1500\nmedium_ms = 900\nfast_ms = 400\n"),
            Ok(BandsSetting::Fixed(Bands { slow_ms: 1500.0, medium_ms: 900.0, fast_ms: 400.0 }))
        );
        // A bad value names the key, its line and what to write instead; in the table, the key it
        // does not know or the type it expected, and where every key is.
        let next = "write bands = \"auto\" under [report] (bands from the run's own averages), or a [report.bands] table";
        let every = "every key, its type and its default are in the commented perfgate.toml";
        for (text, what, then) in [
            ("[report]\n\nbands = \"Auto\"\n", "line 3: report.bands: \"Auto\" is not a setting; ", next),
            ("[report]\nbands = 5\n", "line 2: report.bands: 5 is not a setting; ", next),
            (
                "[report.bands]\nslow = 9\n",
                "line 1: report.bands: unknown field `slow`, expected one of `slow_ms`, `medium_ms`, `fast_ms`",
                every,
            ),
            ("[report.bands]\nslow_ms = \"9ms\"\n", "line 1: report.bands: invalid type: string \"9ms\", expected a number", every),
        ] {
            let e = p(text).unwrap_err();
            assert!(e.contains(what) && e.contains(then), "{text:?}: {e}");
        }
    }
}
