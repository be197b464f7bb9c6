//! The baseline file: the model of what is committed to the repository (separate from the model
//! of a comparison, which lives in `gate`), and its reading and writing.
//!
//! Deterministic: handlers in sorted order, numbers rounded to microseconds, no timestamps, one
//! summary per line — the same input gives byte-identical files, and a diff shows one line per
//! handler and run that changed. Versioned by `"schema"`: a file of another schema, a foreign
//! JSON file or a truncated one is an error, never an empty baseline.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::measure::{Measurements, Samples};
use crate::stats::{self, Summary, round3, round6};

/// Schema 3 keys each handler by [`crate::attribute::HandlerKey::display`], which no two
/// handlers share; schema 2 keyed them by `Plugin.handler`, which plugin `api` with handler
/// `users.get` and plugin `api.users` with handler `get` shared. A schema-2 file whose keys are
/// all still their handlers' keys is read as it is (rewritten as 3 by the next update); one
/// with a key that two handlers could have shared is refused.
pub const SCHEMA: u64 = 3;
pub const QUANTILE_METHOD: &str = "linear interpolation between closest ranks, h = (n-1)q (Hyndman-Fan type 7, numpy default)";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub schema: u64,
    /// `perfgate <version>` that wrote the file.
    pub generator: String,
    pub quantiles: String,
    /// How many runs the file keeps.
    pub history: usize,
    /// The runs kept, oldest first.
    pub runs: Vec<RunInfo>,
    /// Per handler (`Plugin.handler`), in sorted order.
    pub handlers: BTreeMap<String, HandlerHistory>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunInfo {
    pub commit: Option<String>,
    pub samples: u64,
    pub sources: Vec<SourceInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceInfo {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandlerHistory {
    pub plugin: String,
    pub name: String,
    /// Over every run kept: counts summed; mean and standard deviation exact (pooled variance);
    /// min and max exact; percentiles the count-weighted mean of the runs' percentiles (the
    /// runs' samples are not kept).
    pub pooled: Summary,
    /// Aligned with [`Baseline::runs`]; `null` where the handler did not run.
    pub runs: Vec<Option<Summary>>,
}

/// Checks of a summary read from a file, and pooling of several runs' summaries.
mod summary {
    use super::*;

    /// Every duration finite and within [0, MAX_MS]; min ≤ p50 ≤ p90 ≤ p95 ≤ p99 ≤ max; the mean,
    /// and the logarithms' mean, between min and max (to the file's rounding).
    pub fn validate(s: &Summary) -> Result<(), String> {
        let durations = [
            ("mean", s.mean),
            ("stddev", s.stddev),
            ("min", s.min),
            ("max", s.max),
            ("p50", s.p50),
            ("p90", s.p90),
            ("p95", s.p95),
            ("p99", s.p99),
        ];
        for (key, v) in durations {
            if !stats::valid_ms(v) {
                return Err(format!("\"{key}\" is {}, not a duration (finite, 0 to {:e} ms)", stats::show(v), stats::MAX_MS));
            }
        }
        let order = [("min", s.min), ("p50", s.p50), ("p90", s.p90), ("p95", s.p95), ("p99", s.p99), ("max", s.max)];
        for w in order.windows(2) {
            if w[0].1 > w[1].1 {
                return Err(format!("\"{}\" ({}) is above \"{}\" ({})", w[0].0, w[0].1, w[1].0, w[1].1));
            }
        }
        // The mean of rounded values, rounded: within a rounding step of the range.
        const STEP: f64 = 0.0015;
        if !(s.min - STEP..=s.max + STEP).contains(&s.mean) {
            return Err(format!("\"mean\" ({}) is outside min..max ({}..{})", s.mean, s.min, s.max));
        }
        let (lo, hi) = (stats::log_duration(s.min), stats::log_duration(s.max));
        if !(s.log_mean.is_finite() && (lo - 0.02..=hi + 0.02).contains(&s.log_mean)) {
            return Err(format!("\"log_mean\" ({}) is outside ln(min + 0.1)..ln(max + 0.1) ({lo:.6}..{hi:.6})", s.log_mean));
        }
        if !(s.log_sd.is_finite() && s.log_sd >= 0.0) {
            return Err(format!("\"log_sd\" is {}, not a finite number, 0 or more", s.log_sd));
        }
        Ok(())
    }

    /// Pools several runs (see [`HandlerHistory::pooled`]).
    pub fn pool<'a>(runs: impl IntoIterator<Item = &'a Summary>) -> Option<Summary> {
        let runs: Vec<&Summary> = runs.into_iter().filter(|r| r.count > 0).collect();
        let n: u64 = runs.iter().map(|r| r.count).sum();
        if n == 0 {
            return None;
        }
        let nf = n as f64;
        let w = |f: fn(&Summary) -> f64| runs.iter().map(|r| r.count as f64 * f(r)).sum::<f64>() / nf;
        let mean = w(|r| r.mean);
        let ss: f64 = runs.iter().map(|r| (r.count as f64 - 1.0) * r.stddev.powi(2) + r.count as f64 * (r.mean - mean).powi(2)).sum();
        let log_mean = w(|r| r.log_mean);
        let log_ss: f64 =
            runs.iter().map(|r| (r.count as f64 - 1.0) * r.log_sd.powi(2) + r.count as f64 * (r.log_mean - log_mean).powi(2)).sum();
        Some(Summary {
            count: n,
            mean: round3(mean),
            stddev: round3(if n > 1 { (ss / (nf - 1.0)).sqrt() } else { 0.0 }),
            min: runs.iter().map(|r| r.min).fold(f64::INFINITY, f64::min),
            max: runs.iter().map(|r| r.max).fold(f64::NEG_INFINITY, f64::max),
            p50: round3(w(|r| r.p50)),
            p90: round3(w(|r| r.p90)),
            p95: round3(w(|r| r.p95)),
            p99: round3(w(|r| r.p99)),
            log_mean: round6(log_mean),
            log_sd: round6(if n > 1 { (log_ss / (nf - 1.0)).sqrt() } else { 0.0 }),
        })
    }
}

/// One run as the baseline records it and the gate judges it: per handler (`Plugin.handler`),
/// its identity and its samples, taken from the measurements.
#[derive(Debug, Clone, Default)]
pub struct Run {
    pub commit: Option<String>,
    pub sources: Vec<SourceInfo>,
    pub handlers: BTreeMap<String, RunHandler>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunHandler {
    pub plugin: String,
    pub name: String,
    pub samples: Samples,
}

impl Run {
    /// The handlers of `m` that have samples.
    pub fn of(m: &Measurements, commit: Option<String>, sources: Vec<SourceInfo>) -> Run {
        let handlers = m
            .handlers
            .iter()
            .filter_map(|(key, h)| {
                let samples = h.samples.clone()?;
                Some((h.display.clone(), RunHandler { plugin: key.plugin.clone(), name: key.name.clone(), samples }))
            })
            .collect();
        Run { commit, sources, handlers }
    }

    /// Adds handler `plugin.name` with `durations` (none: nothing added).
    pub fn add(&mut self, plugin: &str, name: &str, durations: Vec<f64>) {
        if let Some(samples) = Samples::new(durations) {
            let key = crate::attribute::HandlerKey { plugin: plugin.to_owned(), name: name.to_owned() }.display();
            self.handlers.insert(key, RunHandler { plugin: plugin.to_owned(), name: name.to_owned(), samples });
        }
    }
}

impl Baseline {
    pub fn empty(history: usize) -> Baseline {
        Baseline {
            schema: SCHEMA,
            generator: format!("perfgate {}", env!("CARGO_PKG_VERSION")),
            quantiles: QUANTILE_METHOD.to_owned(),
            history,
            runs: Vec::new(),
            handlers: BTreeMap::new(),
        }
    }

    /// Appends `run`, keeping the last `history` runs, and recomputes the pooled summaries.
    pub fn append(&self, run: &Run, history: usize) -> Baseline {
        let mut next = Baseline::empty(history);
        next.runs = self.runs.clone();
        next.runs.push(RunInfo {
            commit: run.commit.clone(),
            samples: run.handlers.values().map(|h| h.samples.summary().count).sum(),
            sources: run.sources.clone(),
        });
        let old_len = self.runs.len();
        let mut handlers: BTreeMap<String, HandlerHistory> = BTreeMap::new();
        for (key, h) in &self.handlers {
            let mut runs = h.runs.clone();
            runs.resize(old_len, None);
            handlers.insert(key.clone(), HandlerHistory { plugin: h.plugin.clone(), name: h.name.clone(), pooled: h.pooled, runs });
        }
        for (key, h) in &run.handlers {
            let entry = handlers.entry(key.clone()).or_insert_with(|| HandlerHistory {
                plugin: h.plugin.clone(),
                name: h.name.clone(),
                pooled: h_empty(),
                runs: vec![None; old_len],
            });
            entry.runs.push(Some(h.samples.summary().rounded()));
        }
        let drop = next.runs.len().saturating_sub(history);
        next.runs.drain(..drop);
        for (key, mut h) in handlers {
            h.runs.resize(old_len + 1, None);
            h.runs.drain(..drop);
            if let Some(pooled) = summary::pool(h.runs.iter().flatten()) {
                h.pooled = pooled;
                next.handlers.insert(key, h);
            }
        }
        next
    }

    /// Reads a baseline file. `Ok(None)` when it does not exist.
    pub fn load(path: &Path) -> Result<Option<Baseline>, Error> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::Baseline { path: path.to_path_buf(), message: format!("cannot read: {e}") }),
        };
        Baseline::parse(&bytes).map(Some).map_err(|message| Error::Baseline { path: path.to_path_buf(), message })
    }

    pub fn parse(bytes: &[u8]) -> Result<Baseline, String> {
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
            if e.is_eof() {
                format!("truncated or corrupt baseline (JSON ends early at line {}, column {})", e.line(), e.column())
            } else {
                format!("corrupt baseline: invalid JSON at line {}, column {}: {e}", e.line(), e.column())
            }
        })?;
        let schema = value.get("schema").and_then(serde_json::Value::as_u64);
        match schema {
            None => return Err("not a perfgate baseline (no numeric \"schema\" key)".into()),
            Some(s) if s > SCHEMA => {
                return Err(format!(
                    "baseline schema {s} was written by a newer perfgate; this perfgate ({}) reads schema {SCHEMA} — upgrade perfgate",
                    env!("CARGO_PKG_VERSION")
                ));
            }
            Some(s) if s < SCHEMA - 1 => {
                return Err(format!(
                    "baseline schema {s} is older than this perfgate supports ({SCHEMA}); recreate it with `perfgate update-baseline --reset`"
                ));
            }
            Some(_) => {}
        }
        let mut b: Baseline = serde_json::from_value(value).map_err(|e| format!("invalid baseline (schema {SCHEMA}): {e}"))?;
        for (key, h) in &b.handlers {
            let own = crate::attribute::HandlerKey { plugin: h.plugin.clone(), name: h.name.clone() }.display();
            if *key != own {
                return Err(if b.schema < SCHEMA {
                    format!(
                        "baseline schema {} keys plugin {:?} handler {:?} as {key:?}, a key another handler can share (its samples may be mixed): recreate it with `perfgate update-baseline --reset`",
                        b.schema, h.plugin, h.name
                    )
                } else {
                    format!(
                        "invalid baseline: handler {key:?} is plugin {:?} handler {:?}, whose key is {own:?}; fix the file or recreate it with `perfgate update-baseline --reset`",
                        h.plugin, h.name
                    )
                });
            }
        }
        b.schema = SCHEMA;
        b.validate().map_err(|e| format!("invalid baseline: {e}; fix the file or recreate it with `perfgate update-baseline --reset`"))?;
        Ok(b)
    }

    /// Checks what a comparison relies on: every value finite and in range, each summary's
    /// order statistics in order, the counts consistent between the runs and the pooled
    /// summaries. Errors name the handler, the run and the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.history == 0 || self.runs.len() > self.history {
            return Err(format!("\"history\" is {} but the file keeps {} runs", self.history, self.runs.len()));
        }
        let mut per_run = vec![0u64; self.runs.len()];
        for (key, h) in &self.handlers {
            if h.runs.len() != self.runs.len() {
                return Err(format!("handler {key:?} has {} runs, the file {}", h.runs.len(), self.runs.len()));
            }
            summary::validate(&h.pooled).map_err(|e| format!("handler {key:?} pooled: {e}"))?;
            let mut count = 0u64;
            for (i, r) in h.runs.iter().enumerate() {
                let Some(r) = r else { continue };
                summary::validate(r).map_err(|e| format!("handler {key:?} run {}: {e}", i + 1))?;
                if r.count == 0 {
                    return Err(format!("handler {key:?} run {}: \"count\" is 0 (a run without samples is null)", i + 1));
                }
                count = count.saturating_add(r.count);
                per_run[i] = per_run[i].saturating_add(r.count);
            }
            if count != h.pooled.count {
                return Err(format!("handler {key:?} pooled: \"count\" is {} but its runs hold {count} samples", h.pooled.count));
            }
        }
        for (i, (r, n)) in self.runs.iter().zip(per_run).enumerate() {
            if r.samples != n {
                return Err(format!("run {}: \"samples\" is {} but its handlers hold {n}", i + 1, r.samples));
            }
        }
        Ok(())
    }

    /// The file's text: pretty JSON with each summary on one line.
    pub fn to_json(&self) -> String {
        let q = |s: &str| serde_json::to_string(s).expect("string");
        let summary = |s: &Summary| serde_json::to_string(s).expect("summary");
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{{\n  \"schema\": {},\n  \"generator\": {},\n  \"quantiles\": {},\n  \"history\": {},",
            self.schema,
            q(&self.generator),
            q(&self.quantiles),
            self.history
        );
        out.push_str("  \"runs\": [");
        for (i, r) in self.runs.iter().enumerate() {
            out.push_str(if i == 0 { "\n" } else { ",\n" });
            let _ = write!(
                out,
                "    {{\"commit\": {}, \"samples\": {}, \"sources\": [",
                r.commit.as_deref().map_or("null".to_owned(), q),
                r.samples
            );
            for (j, s) in r.sources.iter().enumerate() {
                let _ = write!(out, "{}\n      {}", if j == 0 { "" } else { "," }, serde_json::to_string(s).expect("source"));
            }
            out.push_str(if r.sources.is_empty() { "]}" } else { "\n    ]}" });
        }
        out.push_str(if self.runs.is_empty() { "],\n" } else { "\n  ],\n" });
        out.push_str("  \"handlers\": {");
        for (i, (key, h)) in self.handlers.iter().enumerate() {
            out.push_str(if i == 0 { "\n" } else { ",\n" });
            let _ = writeln!(
                out,
                "    {}: {{\n      \"plugin\": {},\n      \"name\": {},\n      \"pooled\": {},",
                q(key),
                q(&h.plugin),
                q(&h.name),
                summary(&h.pooled)
            );
            out.push_str("      \"runs\": [");
            for (j, r) in h.runs.iter().enumerate() {
                let _ = write!(out, "{}\n        {}", if j == 0 { "" } else { "," }, r.as_ref().map_or("null".to_owned(), summary));
            }
            out.push_str(if h.runs.is_empty() { "]\n    }" } else { "\n      ]\n    }" });
        }
        out.push_str(if self.handlers.is_empty() { "}\n}\n" } else { "\n  }\n}\n" });
        out
    }

    /// Writes atomically (temporary file, then rename); a baseline that would not load again is
    /// never written.
    pub fn write(&self, path: &Path) -> Result<(), Error> {
        self.validate()
            .map_err(|e| Error::Baseline { path: path.to_path_buf(), message: format!("not written: the new baseline is invalid: {e}") })?;
        crate::output::write(path, self.to_json().as_bytes())
    }
}

fn h_empty() -> Summary {
    Summary { count: 0, mean: 0.0, stddev: 0.0, min: 0.0, max: 0.0, p50: 0.0, p90: 0.0, p95: 0.0, p99: 0.0, log_mean: 0.0, log_sd: 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(handlers: &[(&str, &[f64])]) -> Run {
        let mut run = Run {
            commit: Some("abc".into()),
            sources: vec![SourceInfo { path: "a.log".into(), bytes: 3, sha256: crate::input::sha256_hex(b"abc") }],
            handlers: BTreeMap::new(),
        };
        for (k, d) in handlers {
            run.add("P", &k[2..], d.to_vec());
        }
        run
    }

    #[test]
    fn append_keeps_history_and_aligns_runs() {
        let b = Baseline::empty(2).append(&run(&[("P.a", &[1.0, 2.0, 3.0])]), 2);
        let b = b.append(&run(&[("P.b", &[5.0])]), 2);
        assert_eq!(b.handlers["P.a"].runs.len(), 2);
        assert!(b.handlers["P.a"].runs[1].is_none());
        assert_eq!(b.handlers["P.b"].runs[0], None);
        let b = b.append(&run(&[("P.b", &[7.0])]), 2);
        assert_eq!(b.runs.len(), 2);
        assert!(!b.handlers.contains_key("P.a"), "a handler absent from every kept run is dropped");
        assert_eq!(b.handlers["P.b"].pooled.count, 2);
        assert_eq!(b.handlers["P.b"].pooled.mean, 6.0);
        assert_eq!(b.handlers["P.b"].pooled.stddev, round3(2f64.sqrt()));
        // The logarithms pool like the durations: over all samples of the kept runs.
        let logs = [5.1f64.ln(), 7.1f64.ln()];
        assert_eq!(b.handlers["P.b"].pooled.log_mean, round6((logs[0] + logs[1]) / 2.0));
        assert_eq!(b.handlers["P.b"].pooled.log_sd, round6((logs[1] - logs[0]).abs() / 2f64.sqrt()));
        // Round trip through the file format.
        assert_eq!(Baseline::parse(b.to_json().as_bytes()).unwrap(), b);
        assert_eq!(crate::input::sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn bad_files_are_errors() {
        let good = Baseline::empty(5).append(&run(&[("P.a", &[1.0])]), 5).to_json();
        assert!(Baseline::parse(&good.as_bytes()[..good.len() / 2]).unwrap_err().contains("truncated"));
        assert!(Baseline::parse(b"{\"handlers\": {}}").unwrap_err().contains("not a perfgate baseline"));
        assert!(Baseline::parse(b"[1,2]").unwrap_err().contains("not a perfgate baseline"));
        assert!(Baseline::parse(good.replace("\"schema\": 3", "\"schema\": 4").as_bytes()).unwrap_err().contains("newer perfgate"));
        assert!(Baseline::parse(good.replace("\"schema\": 3", "\"schema\": 1").as_bytes()).unwrap_err().contains("older"));
        // Schema 2, whose keys are still the handlers' own: read, as schema 3.
        assert_eq!(Baseline::parse(good.replace("\"schema\": 3", "\"schema\": 2").as_bytes()).unwrap().schema, 3);
        assert!(Baseline::parse(good.replace("\"count\"", "\"kount\"").as_bytes()).unwrap_err().contains("invalid baseline"));
        assert!(Baseline::parse(b"\x00\xff").unwrap_err().contains("corrupt"));
    }

    #[test]
    fn handlers_that_shared_a_key_are_kept_apart() {
        // Plugin `api` with `users.get`, plugin `api.users` with `get`: two handlers, two keys.
        let mut r = Run::default();
        r.add("api", "users.get", vec![1.0, 2.0]);
        r.add("api.users", "get", vec![30.0, 40.0]);
        r.add("", "api.users.get", vec![500.0]);
        let b = Baseline::empty(3).append(&r, 3);
        let keys: Vec<&str> = b.handlers.keys().map(String::as_str).collect();
        assert_eq!(keys, ["api.users.get", "api\\.users.get", "api\\.users\\.get"]);
        assert_eq!(b.handlers["api\\.users.get"].pooled.count, 2);
        assert_eq!(Baseline::parse(b.to_json().as_bytes()).unwrap(), b);
        // A schema-2 file that keyed `api.users`/`get` as `api.users.get` is refused, naming it.
        let old = b.to_json().replace("\"schema\": 3", "\"schema\": 2").replacen("\"api\\\\.users.get\"", "\"api.users.get2\"", 1);
        let e = Baseline::parse(old.replace("api.users.get2", "api.users.get").as_bytes()).unwrap_err();
        assert!(e.contains("duplicate") || e.contains("another handler can share"), "{e}");
        let e = Baseline::parse(old.as_bytes()).unwrap_err();
        assert!(e.contains("baseline schema 2 keys plugin \"api.users\" handler \"get\" as \"api.users.get2\""), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn no_two_handlers_share_a_key(a in "[a.\\\\]{0,4}", b in "[a.\\\\]{1,4}", c in "[a.\\\\]{0,4}", d in "[a.\\\\]{1,4}") {
            let key = |plugin: &str, name: &str| crate::attribute::HandlerKey { plugin: plugin.into(), name: name.into() }.display();
            proptest::prop_assert_eq!(key(&a, &b) == key(&c, &d), a == c && b == d);
        }
    }

    #[test]
    fn values_are_validated_on_load_and_before_writing() {
        let good = Baseline::empty(5).append(&run(&[("P.a", &[1.0, 2.0, 4.0])]), 5);
        let text = good.to_json();
        let bad = |from: &str, to: &str| {
            assert!(text.contains(from), "{from}");
            Baseline::parse(text.replacen(from, to, 1).as_bytes()).unwrap_err()
        };
        assert!(bad("\"samples\": 3", "\"samples\": 4").contains("run 1: \"samples\" is 4 but its handlers hold 3"));
        assert!(bad("\"history\": 5", "\"history\": 0").contains("\"history\" is 0"));
        assert!(bad("\"mean\":2.333", "\"mean\":9.0").contains("handler \"P.a\" pooled: \"mean\" (9) is outside min..max"));
        assert!(bad("\"log_mean\":", "\"log_mean\":-9,\"x\":").contains("unknown field"));
        let e = bad("\"p90\":3.6", "\"p90\":1e999");
        assert!(e.contains("corrupt baseline") && e.contains("number out of range"), "{e}");
        // A summary perfgate could not read again is never written.
        let mut broken = good.clone();
        broken.handlers.get_mut("P.a").unwrap().pooled.stddev = f64::INFINITY;
        let dir = tempfile::tempdir().unwrap();
        let e = broken.write(&dir.path().join("b.json")).unwrap_err().to_string();
        assert!(e.contains("not written") && e.contains("\"stddev\" is inf"), "{e}");
        assert!(!dir.path().join("b.json").exists());
    }
}
