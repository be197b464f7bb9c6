//! The history of main: one small JSON file per run recorded on the main branch, in a directory
//! (default [`DEFAULT_DIR`]), read back in run order. It owns the file format, appending with
//! retention, loading with errors that name the file, and seeding a history from the runs an
//! existing baseline keeps. Reading a trend out of it is [`crate::trend`]'s.
//!
//! **Why one file per run.** Every merge to main appends a file and never rewrites one, so two
//! branches that both record runs merge without conflict, a review sees one new file, and no
//! server is needed. A file is named `<UTC time>-<short commit>.json`
//! (`20261203T093710123Z-1a2b3c4.json`, to the millisecond), so lexical order is run order; runs seeded from a baseline
//! (no time known) are `00000000T000000Z-b01-<commit>.json`, before every timed run, in the
//! baseline's order. Retention keeps the newest [`DEFAULT_RETENTION`] files (the oldest are
//! deleted after a successful append).
//!
//! **What a run keeps per handler** (`Plugin.handler`, the baseline's key, grouped under its
//! plugin so the plugin's name is written once), one line `"name":[n,m,s,p50,p95,h]` (the
//! file's `"fields"`): `n` the executions, `m` and `s` the mean and sample standard deviation
//! of `ln(ms + c)` (`stats::LOG_OFFSET_MS`; 4 and 3 decimals: a relative 10⁻⁴ on the typical
//! duration, far below any run's sampling error), `p50`/`p95` in ms (3 significant digits,
//! ±0.5%), and `h`, a sparse histogram on the log scale: bucket
//! `b = ⌊2·log₂(ms + c)⌋` (half an octave, ×1.41 per bucket) — `h = [b₀, count(b₀), count(b₀+1),
//! …]` from the first to the last non-empty bucket. With `m`, `s` and `n` a run is a sufficient
//! summary for the trend's normal model on the log scale (`gate`'s model); the histogram keeps
//! the shape for the trend page (and any later tail or mixture test) at ≈ 30 bytes.
//! The run's `shift` is the runner shift the check estimated for it (log scale), when known.
//!
//! Deterministic bytes: handlers sorted, numbers rounded, one handler per line. Measured size
//! (test `a_run_of_100_handlers_fits_in_8_kb`): 6.7 KB on average (at most 6.9 KB) for 100
//! handlers with RenderX-length keys (34 characters) and 2–1,000 executions each — about
//! 3.4 MB for the default 500 runs.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::baseline::{Baseline, Run};
use crate::error::Error;
use crate::stats::{self, Summary};

pub const SCHEMA: u64 = 1;
/// Where the history lives, relative to the repository.
pub const DEFAULT_DIR: &str = crate::config::DEFAULT_HISTORY_DIR;
/// How many runs the directory keeps.
pub const DEFAULT_RETENTION: usize = crate::config::DEFAULT_HISTORY_RETENTION;
/// Histogram buckets per doubling of `ms + c`.
pub const BUCKETS_PER_OCTAVE: f64 = 2.0;
const BUCKET_RULE: &str = "floor(2*log2(ms+0.1))";
const FIELDS: &str = "n,m,s,p50,p95,h";

/// One run of main, as its file holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub commit: Option<String>,
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`; `None` for a run seeded from a baseline.
    pub time: Option<String>,
    /// For a run seeded from a baseline: its position there (1 = oldest).
    pub seeded: Option<u32>,
    /// The runner shift the check estimated for this run (log scale), when known.
    pub shift: Option<f64>,
    /// Per handler key (`Plugin.handler`, as the baseline has it).
    pub handlers: BTreeMap<String, HandlerRun>,
}

/// One handler in one run.
#[derive(Debug, Clone, PartialEq)]
pub struct HandlerRun {
    pub plugin: String,
    pub name: String,
    pub count: u64,
    /// Mean and sample standard deviation of `ln(ms + c)`.
    pub log_mean: f64,
    pub log_sd: f64,
    pub p50: f64,
    pub p95: f64,
    /// Sparse log-bucket histogram: first bucket index and the counts from it on (empty when
    /// the run was seeded from a baseline, which keeps no samples).
    pub histogram: Histogram,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Histogram {
    pub first: i32,
    pub counts: Vec<u64>,
}

impl Histogram {
    /// The bucket of a duration (ms).
    pub fn bucket(ms: f64) -> i32 {
        (BUCKETS_PER_OCTAVE * (ms.max(0.0) + stats::LOG_OFFSET_MS).log2()).floor() as i32
    }

    /// The durations (ms) bounding bucket `b`: `[lower, upper)`.
    pub fn bounds(b: i32) -> (f64, f64) {
        let at = |b: i32| (2f64.powf(f64::from(b) / BUCKETS_PER_OCTAVE) - stats::LOG_OFFSET_MS).max(0.0);
        (at(b), at(b + 1))
    }

    pub fn of(sorted: &[f64]) -> Histogram {
        let (Some(&lo), Some(&hi)) = (sorted.first(), sorted.last()) else { return Histogram::default() };
        let first = Histogram::bucket(lo);
        let mut counts = vec![0u64; (Histogram::bucket(hi) - first + 1).max(1) as usize];
        for &x in sorted {
            counts[(Histogram::bucket(x) - first) as usize] += 1;
        }
        Histogram { first, counts }
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// The file's shape on disk.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    v: u64,
    commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seeded: Option<u32>,
    shift: Option<f64>,
    bucket: String,
    fields: String,
    plugins: BTreeMap<String, BTreeMap<String, RawHandler>>,
}

/// A handler's line: `[n, m, s, p50, p95, [b₀, counts…]]` (the file's `"fields"`).
#[derive(Serialize, Deserialize)]
struct RawHandler(u64, f64, f64, f64, f64, Vec<i64>);

/// The handler key the baseline uses: `Plugin.handler`, or the bare name without a plugin.
pub fn key(plugin: &str, name: &str) -> String {
    crate::attribute::HandlerKey { plugin: plugin.to_owned(), name: name.to_owned() }.display()
}

fn round_to(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    let r = (x * f).round() / f;
    if r == 0.0 { 0.0 } else { r }
}

/// `x` to `digits` significant digits (durations: 4).
fn significant(x: f64, digits: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return 0.0;
    }
    round_to(x, digits - 1 - x.abs().log10().floor() as i32)
}

impl HandlerRun {
    fn of(plugin: &str, name: &str, s: &Summary, histogram: Histogram) -> HandlerRun {
        HandlerRun {
            plugin: plugin.to_owned(),
            name: name.to_owned(),
            count: s.count,
            log_mean: round_to(s.log_mean, 4),
            log_sd: round_to(s.log_sd, 3),
            p50: significant(s.p50, 3),
            p95: significant(s.p95, 3),
            histogram,
        }
    }

    /// The typical duration (geometric mean, `stats`), ms.
    pub fn typical(&self) -> f64 {
        stats::from_log(self.log_mean)
    }
}

impl Entry {
    /// The run `run` of commit `commit` at `time_ms` (epoch milliseconds), with the runner shift
    /// the check estimated for it.
    pub fn of(run: &Run, commit: Option<&str>, time_ms: i64, shift: Option<f64>) -> Entry {
        let handlers = run
            .handlers
            .iter()
            .map(|(k, h)| (k.clone(), HandlerRun::of(&h.plugin, &h.name, h.samples.summary(), Histogram::of(h.samples.sorted()))))
            .collect();
        Entry {
            commit: commit.map(str::to_owned),
            time: Some(crate::timestamp::format_iso(time_ms)),
            seeded: None,
            shift: shift.map(|s| round_to(s, 4)),
            handlers,
        }
    }

    /// `<UTC time>-<short commit>.json`; see the module doc.
    pub fn file_name(&self) -> String {
        let sha: String = self.commit.as_deref().unwrap_or("nocommit").chars().filter(char::is_ascii_alphanumeric).take(7).collect();
        let sha = if sha.is_empty() { "nocommit".to_owned() } else { sha.to_ascii_lowercase() };
        match (&self.time, self.seeded) {
            (Some(t), _) => {
                // To the millisecond: runs recorded in one second still sort in run order.
                let digits: String = t.chars().filter(char::is_ascii_digit).take(17).collect();
                format!("{}T{}Z-{sha}.json", &digits[..8.min(digits.len())], &digits[8.min(digits.len())..])
            }
            (None, seeded) => format!("00000000T000000Z-b{:02}-{sha}.json", seeded.unwrap_or(0)),
        }
    }

    /// The file's text: one handler per line, plugins and handlers sorted.
    pub fn to_json(&self) -> String {
        let q = |s: &str| serde_json::to_string(s).expect("string");
        let num = |x: f64| serde_json::to_string(&x).expect("number");
        let mut out = format!("{{\"v\":{SCHEMA},\"commit\":{}", self.commit.as_deref().map_or("null".to_owned(), q));
        if let Some(t) = &self.time {
            let _ = write!(out, ",\"time\":{}", q(t));
        }
        if let Some(s) = self.seeded {
            let _ = write!(out, ",\"seeded\":{s}");
        }
        let _ = write!(
            out,
            ",\"shift\":{},\"fields\":{},\"bucket\":{},\n\"plugins\":{{",
            self.shift.map_or("null".to_owned(), num),
            q(FIELDS),
            q(BUCKET_RULE)
        );
        let mut plugins: BTreeMap<&str, Vec<&HandlerRun>> = BTreeMap::new();
        for h in self.handlers.values() {
            plugins.entry(&h.plugin).or_default().push(h);
        }
        for (i, (plugin, handlers)) in plugins.iter_mut().enumerate() {
            handlers.sort_by(|a, b| a.name.cmp(&b.name));
            let _ = write!(out, "{}\n{}:{{", if i == 0 { "" } else { "}," }, q(plugin));
            for (j, h) in handlers.iter().enumerate() {
                let _ = write!(
                    out,
                    "{}\n{}:[{},{},{},{},{},[",
                    if j == 0 { "" } else { "," },
                    q(&h.name),
                    h.count,
                    num(h.log_mean),
                    num(h.log_sd),
                    num(h.p50),
                    num(h.p95)
                );
                if !h.histogram.counts.is_empty() {
                    let _ = write!(out, "{}", h.histogram.first);
                    for c in &h.histogram.counts {
                        let _ = write!(out, ",{c}");
                    }
                }
                out.push_str("]]");
            }
        }
        out.push_str(if plugins.is_empty() { "}}\n" } else { "}\n}}\n" });
        out
    }

    /// Reads a file's text; the error says what is wrong (the caller names the file).
    pub fn parse(bytes: &[u8]) -> Result<Entry, String> {
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
            if e.is_eof() {
                format!("truncated history file (JSON ends early at line {}, column {})", e.line(), e.column())
            } else {
                format!("invalid JSON at line {}, column {}: {e}", e.line(), e.column())
            }
        })?;
        match value.get("v").and_then(serde_json::Value::as_u64) {
            None => return Err("not a perfgate history run (no numeric \"v\" key)".into()),
            Some(v) if v > SCHEMA => {
                return Err(format!(
                    "history schema {v} was written by a newer perfgate; this perfgate ({}) reads schema {SCHEMA} — upgrade perfgate",
                    env!("CARGO_PKG_VERSION")
                ));
            }
            Some(v) if v < SCHEMA => return Err(format!("history schema {v} is older than this perfgate reads ({SCHEMA})")),
            Some(_) => {}
        }
        let raw: RawEntry = serde_json::from_value(value).map_err(|e| format!("invalid history run (schema {SCHEMA}): {e}"))?;
        if raw.fields != FIELDS {
            return Err(format!("fields {:?}, this perfgate writes and reads {FIELDS:?}", raw.fields));
        }
        if raw.bucket != BUCKET_RULE {
            return Err(format!("histogram buckets {:?}, this perfgate writes and reads {BUCKET_RULE:?}", raw.bucket));
        }
        if let Some(t) = &raw.time
            && crate::timestamp::parse_iso(t.as_bytes()).is_none_or(|(_, len)| len != t.len())
        {
            return Err(format!("\"time\" is {t:?}, not YYYY-MM-DDTHH:MM:SS.mmmZ"));
        }
        if raw.shift.is_some_and(|s| !s.is_finite() || s.abs() > 10.0) {
            return Err(format!("\"shift\" is {}, not a runner shift (log scale, |shift| ≤ 10)", raw.shift.unwrap_or_default()));
        }
        let mut handlers = BTreeMap::new();
        for (plugin, names) in raw.plugins {
            for (name, h) in names {
                let key = key(&plugin, &name);
                let histogram = validate(&h).map_err(|e| format!("handler {key:?}: {e}"))?;
                let run =
                    HandlerRun { plugin: plugin.clone(), name, count: h.0, log_mean: h.1, log_sd: h.2, p50: h.3, p95: h.4, histogram };
                if handlers.insert(key.clone(), run).is_some() {
                    return Err(format!("handler {key:?} appears twice"));
                }
            }
        }
        Ok(Entry { commit: raw.commit, time: raw.time, seeded: raw.seeded, shift: raw.shift, handlers })
    }
}

/// What the trend relies on: a count, finite logarithms in range, ordered percentiles, a
/// histogram holding the count.
fn validate(raw: &RawHandler) -> Result<Histogram, String> {
    let RawHandler(n, m, s, p50, p95, h) = raw;
    let (n, m, s, p50, p95) = (*n, *m, *s, *p50, *p95);
    if n == 0 {
        return Err("\"n\" is 0 (a handler without executions is left out)".into());
    }
    // ln(0 + 0.1) … ln(MAX_MS + 0.1), with the file's rounding.
    let (lo, hi) = (stats::log_duration(0.0) - 1e-3, stats::log_duration(stats::MAX_MS) + 1e-3);
    if !(lo..=hi).contains(&m) {
        return Err(format!("\"m\" is {}, not the mean of ln(ms + 0.1) ({lo:.3} to {hi:.3})", stats::show(m)));
    }
    if !(s.is_finite() && (0.0..=hi - lo).contains(&s)) {
        return Err(format!("\"s\" is {}, not a standard deviation of ln(ms + 0.1)", stats::show(s)));
    }
    for (k, v) in [("p50", p50), ("p95", p95)] {
        if !stats::valid_ms(v) {
            return Err(format!("\"{k}\" is {}, not a duration (finite, 0 to {:e} ms)", stats::show(v), stats::MAX_MS));
        }
    }
    if p50 > p95 {
        return Err(format!("\"p50\" ({p50}) is above \"p95\" ({p95})"));
    }
    let Some((&first, counts)) = h.split_first() else { return Ok(Histogram::default()) };
    let first = i32::try_from(first).ok().filter(|b| b.abs() <= 200).ok_or_else(|| format!("\"h\" starts at bucket {first}"))?;
    let counts: Vec<u64> =
        counts.iter().map(|&c| u64::try_from(c).map_err(|_| format!("\"h\" has a negative count ({c})"))).collect::<Result<_, _>>()?;
    let histogram = Histogram { first, counts };
    if histogram.total() != n {
        return Err(format!("\"h\" holds {} executions but \"n\" is {n}", histogram.total()));
    }
    Ok(histogram)
}

/// The runs of main, oldest first.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub entries: Vec<Entry>,
    /// The file of each entry (empty for a history built in memory).
    pub files: Vec<PathBuf>,
}

impl History {
    pub fn new(entries: Vec<Entry>) -> History {
        History { entries, files: Vec::new() }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The history files of `dir`, in run (lexical) order. A missing directory has none.
fn files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let read = match std::fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::History { path: dir.to_path_buf(), message: format!("cannot read the history directory: {e}") }),
    };
    let mut out = Vec::new();
    for entry in read {
        let entry =
            entry.map_err(|e| Error::History { path: dir.to_path_buf(), message: format!("cannot list the history directory: {e}") })?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // Hidden and temporary files (an interrupted atomic write) are not runs.
        if name.ends_with(".json") && !name.starts_with('.') && path.is_file() {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// Reads every run of `dir` (none when it does not exist). An unreadable or invalid file is an
/// error naming it.
pub fn load(dir: &Path) -> Result<History, Error> {
    let files = files(dir)?;
    let mut entries = Vec::with_capacity(files.len());
    for path in &files {
        let bytes = std::fs::read(path).map_err(|e| Error::History { path: path.clone(), message: format!("cannot read: {e}") })?;
        let entry = Entry::parse(&bytes).map_err(|message| Error::History {
            path: path.clone(),
            message: format!("{message}; fix or delete this run's file (the history keeps working without it)"),
        })?;
        entries.push(entry);
    }
    Ok(History { entries, files })
}

/// Writes `entry` into `dir` (created if needed) atomically, then deletes the oldest files
/// beyond `retention`. Returns the new file's path. A file of the same name (the same commit
/// at the same second) is replaced.
pub fn append(dir: &Path, entry: &Entry, retention: usize) -> Result<PathBuf, Error> {
    if retention == 0 {
        return Err(Error::Usage("history retention must be at least 1 run".into()));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::History { path: dir.to_path_buf(), message: format!("cannot create the history directory: {e}") })?;
    let path = dir.join(entry.file_name());
    crate::output::write(&path, entry.to_json().as_bytes())?;
    let all = files(dir)?;
    for old in &all[..all.len().saturating_sub(retention)] {
        std::fs::remove_file(old).map_err(|e| Error::History {
            path: old.clone(),
            message: format!("cannot delete (beyond the retention of {retention} runs): {e}"),
        })?;
    }
    Ok(path)
}

/// A change someone said was intended (`perfgate accept`): it stops failing `trend --fail-on
/// change` and the check's history test, and stays visible with its reason. Kept in
/// `accepted.json` beside the history directory (reviewable in a PR, like the baseline).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acceptance {
    /// `Plugin.handler`.
    pub handler: String,
    /// The first commit at the new level (the change's `commit`).
    pub commit: Option<String>,
    pub reason: String,
    /// After / before, as the trend measured it when it was accepted.
    pub ratio: Option<f64>,
}

/// Where the acceptances of the history in `dir` are kept: `accepted.json` beside it.
pub fn accepted_path(dir: &Path) -> PathBuf {
    dir.with_file_name("accepted.json")
}

/// The acceptances in `path` (none when it does not exist).
pub fn load_accepted(path: &Path) -> Result<Vec<Acceptance>, Error> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::History { path: path.to_path_buf(), message: format!("cannot read: {e}") }),
    };
    serde_json::from_slice(&bytes).map_err(|e| Error::History {
        path: path.to_path_buf(),
        message: format!("not a list of accepted changes (line {}, column {}): {e}; fix it or take the entry out", e.line(), e.column()),
    })
}

/// Writes `list` (sorted by handler and commit, one entry per line: a diff shows one line).
pub fn write_accepted(path: &Path, list: &[Acceptance]) -> Result<(), Error> {
    let mut list = list.to_vec();
    list.sort_by(|a, b| (&a.handler, &a.commit).cmp(&(&b.handler, &b.commit)));
    let mut out = String::from("[");
    for (i, a) in list.iter().enumerate() {
        out.push_str(if i == 0 { "\n  " } else { ",\n  " });
        out.push_str(&serde_json::to_string(a).expect("an acceptance serializes"));
    }
    out.push_str(if list.is_empty() { "]\n" } else { "\n]\n" });
    crate::output::write(path, out.as_bytes())
}

/// The runs an existing baseline keeps, oldest first, as history entries: no time and no
/// histogram (the baseline keeps neither), `seeded` their position. Percentiles and moments
/// are the baseline's.
pub fn bootstrap(baseline: &Baseline) -> Vec<Entry> {
    (0..baseline.runs.len())
        .map(|i| {
            let handlers = baseline
                .handlers
                .iter()
                .filter_map(|(k, h)| {
                    let s = h.runs.get(i)?.as_ref().filter(|s| s.count > 0)?;
                    Some((k.clone(), HandlerRun::of(&h.plugin, &h.name, s, Histogram::default())))
                })
                .collect();
            Entry {
                commit: baseline.runs[i].commit.clone(),
                time: None,
                seeded: Some(u32::try_from(i + 1).unwrap_or(u32::MAX)),
                shift: None,
                handlers,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// 100 handlers with RenderX-length names under 12 plugins; executions 1,000 for 5, 10–100
    /// for 70, 2–10 for 25; log-normal durations.
    fn realistic_run(rng: &mut Rng) -> Run {
        let words = ["Canvas", "Component", "Control", "Panel", "Library", "Export", "Header", "Theme", "Selection", "Drag"];
        let verbs = ["create", "render", "notify", "resolve", "collect", "register", "load", "update", "query", "publish"];
        let mut run = Run::default();
        for h in 0..100 {
            let plugin = format!("{}{}Plugin", words[h % 12 % 10], words[(h % 12 + 3) % 10]);
            // Names like RenderX's (`createNode`, `notifyUi`, `collectCssClasses`): 13 letters on
            // average, their keys 34 (the fixtures' RenderX keys: 34.4).
            let name = format!("{}{}", verbs[h % 10], words[(h / 10) % 10]);
            let n = if h < 5 {
                1000
            } else if h < 75 {
                rng.log_uniform(10.0, 100.0) as usize
            } else {
                rng.log_uniform(2.0, 10.0) as usize
            };
            let (median, sigma) = (rng.log_uniform(1.0, 20.0), 0.3 + 0.5 * rng.unit());
            run.add(&plugin, &name, (0..n).map(|_| ((median * (sigma * rng.normal()).exp()) * 100.0).round() / 100.0).collect());
        }
        run
    }

    #[test]
    fn a_run_of_100_handlers_fits_in_8_kb() {
        let mut rng = Rng::new(7);
        let sizes: Vec<usize> = (0..20)
            .map(|_| Entry::of(&realistic_run(&mut rng), Some("0123456789abcdef"), 1_796_290_630_000, Some(0.0123)).to_json().len())
            .collect();
        let mean = sizes.iter().sum::<usize>() as f64 / sizes.len() as f64;
        let max = *sizes.iter().max().unwrap();
        println!("bytes per run of 100 handlers: mean {mean:.0}, max {max}");
        if std::env::var_os("SHOW").is_some() {
            println!("{}", Entry::of(&realistic_run(&mut Rng::new(7)), Some("0123456"), 0, None).to_json());
        }
        assert!(max <= 8 * 1024, "{sizes:?}");
        assert!(mean >= 5000.0, "the measurement is of a real-sized run: {mean}");
    }

    #[test]
    fn entry_round_trips_with_deterministic_bytes() {
        let mut run = Run::default();
        run.add("P", "a", vec![1.0, 2.0, 3.0, 40.0]);
        run.add("P", "b", vec![0.0]);
        run.add("", "bare", vec![5.5, 6.5]);
        let e = Entry::of(&run, Some("1a2b3c4d5e6f"), 1_796_290_630_000, Some(-0.012_345));
        let text = e.to_json();
        assert_eq!(
            text,
            "{\"v\":1,\"commit\":\"1a2b3c4d5e6f\",\"time\":\"2026-12-03T09:37:10.000Z\",\"shift\":-0.0123,\
             \"fields\":\"n,m,s,p50,p95,h\",\"bucket\":\"floor(2*log2(ms+0.1))\",\n\
             \"plugins\":{\n\
             \"\":{\n\"bare\":[2,1.8049,0.116,6.0,6.45,[4,1,1]]},\n\
             \"P\":{\n\"a\":[4,1.415,1.577,2.5,34.4,[0,1,0,1,1,0,0,0,0,0,0,1]],\n\
             \"b\":[1,-2.3026,0.0,0.0,0.0,[-7,1]]}\n}}\n"
        );
        assert_eq!(e.file_name(), "20261203T093710000Z-1a2b3c4.json");
        let back = Entry::parse(text.as_bytes()).unwrap();
        assert_eq!(back, e);
        assert_eq!(back.to_json(), text);
        assert_eq!(back.handlers["bare"].plugin, "");
        assert_eq!(back.handlers["P.a"].name, "a");
        // The bucket of 1 ms is ⌊2·log₂ 1.1⌋ = 0; bounds invert it.
        assert_eq!(Histogram::bucket(1.0), 0);
        let (lo, hi) = Histogram::bounds(0);
        assert!((lo - 0.9).abs() < 1e-12 && (hi - (2f64.sqrt() - 0.1)).abs() < 1e-12);
    }

    #[test]
    fn bad_files_are_errors_naming_the_file() {
        let mut run = Run::default();
        run.add("P", "a", vec![1.0, 2.0]);
        let good = Entry::of(&run, Some("abc"), 0, None).to_json();
        let bad = |from: &str, to: &str| {
            assert!(good.contains(from), "{from}");
            Entry::parse(good.replacen(from, to, 1).as_bytes()).unwrap_err()
        };
        assert!(Entry::parse(&good.as_bytes()[..good.len() / 2]).unwrap_err().contains("truncated"));
        assert!(bad("\"v\":1", "\"v\":2").contains("newer perfgate"));
        assert!(bad("\"v\":1", "\"w\":1").contains("not a perfgate history run"));
        assert!(bad("[2,", "[3,").contains("handler \"P.a\": \"h\" holds 2 executions but \"n\" is 3"));
        assert!(bad("[2,", "[0,").contains("\"n\" is 0"));
        assert!(bad(",1.5,", ",99,").contains("\"p50\" (99) is above \"p95\""));
        assert!(bad(",1.5,", ",1e999,").contains("number out of range"));
        assert!(bad(",1.5,", ",").contains("invalid history run"));
        assert!(bad("\"shift\"", "\"x\":1,\"shift\"").contains("unknown field"));
        assert!(bad("1970-01-01T00:00:00.000Z", "yesterday").contains("\"time\""));

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("20260101T000000Z-abc.json"), &good).unwrap();
        std::fs::write(dir.path().join("20260102T000000Z-def.json"), good.replace("\"shift\"", "\"shiftt\"")).unwrap();
        let e = load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("20260102T000000Z-def.json") && e.contains("unknown field") && e.contains("fix or delete"), "{e}");
        assert_eq!(load(&dir.path().join("none")).unwrap().len(), 0);
    }

    #[test]
    fn append_orders_by_name_and_prunes_the_oldest() {
        let dir = tempfile::tempdir().unwrap();
        let hist = dir.path().join(".perfgate/history");
        let mut run = Run::default();
        run.add("P", "a", vec![1.0, 2.0]);
        let mut baseline = Baseline::empty(3);
        for c in ["b1", "b2"] {
            let mut r = run.clone();
            r.commit = Some(c.into());
            baseline = baseline.append(&r, 3);
        }
        for e in bootstrap(&baseline) {
            append(&hist, &e, 3).unwrap();
        }
        // Runs at 1, 2 and 3 minutes past the epoch, appended out of order: the names order them.
        for (t, c) in [(120_000, "c2"), (60_000, "c1"), (180_000, "c3")] {
            append(&hist, &Entry::of(&run, Some(c), t, Some(0.0)), 3).unwrap();
        }
        let h = load(&hist).unwrap();
        let commits: Vec<_> = h.entries.iter().map(|e| e.commit.clone().unwrap()).collect();
        assert_eq!(commits, ["c1", "c2", "c3"], "{:?}", h.files);
        // Before the pruning, the seeded runs came first.
        let dir2 = tempfile::tempdir().unwrap();
        for e in bootstrap(&baseline) {
            append(dir2.path(), &e, 10).unwrap();
        }
        append(dir2.path(), &Entry::of(&run, Some("c1"), 60_000, None), 10).unwrap();
        let h = load(dir2.path()).unwrap();
        let names: Vec<_> = h.files.iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["00000000T000000Z-b01-b1.json", "00000000T000000Z-b02-b2.json", "19700101T000100000Z-c1.json"]);
        assert_eq!(h.entries[1].handlers["P.a"].count, 2);
        assert_eq!(h.entries[1].handlers["P.a"].histogram, Histogram::default());
        assert_eq!(h.entries[1].handlers["P.a"].log_mean, round_to(baseline.handlers["P.a"].runs[1].unwrap().log_mean, 4));
    }
}
