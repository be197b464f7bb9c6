//! Helpers for the integration tests: run the real binary, find the shared corpus.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The GitHub Actions variables perfgate reads: cleared for every run, so that the tests behave
/// the same inside and outside Actions.
pub const GITHUB_VARS: [&str; 12] = [
    "GITHUB_ACTIONS",
    "GITHUB_EVENT_NAME",
    "GITHUB_EVENT_PATH",
    "GITHUB_REPOSITORY",
    "GITHUB_SHA",
    "GITHUB_API_URL",
    "GITHUB_SERVER_URL",
    "GITHUB_RUN_ID",
    "GITHUB_TOKEN",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_OUTPUT",
    "PERFGATE_RETRY_MS",
];

pub fn perfgate(cwd: &Path, args: &[&str]) -> Output {
    perfgate_env(cwd, args, &[])
}

/// Runs perfgate with the given environment variables (and no other GitHub ones).
pub fn perfgate_env(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_perfgate"));
    cmd.args(args).current_dir(cwd).env_remove("NO_COLOR");
    for v in GITHUB_VARS {
        cmd.env_remove(v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run perfgate")
}

/// The JSON report of `analyze FILES` run in `cwd` (which must succeed).
pub fn analyze_in(cwd: &Path, files: &[&str]) -> serde_json::Value {
    let mut args = vec!["analyze"];
    args.extend_from_slice(files);
    args.extend_from_slice(&["--format", "json"]);
    let o = perfgate(cwd, &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/corpus`, or `None` (with a note) when this checkout has no corpus beside it.
pub fn corpus(test: &str) -> Option<PathBuf> {
    let p = repo().join("../shared/corpus");
    if p.is_dir() {
        Some(p.canonicalize().unwrap())
    } else {
        println!("{test}: skipped: ../shared/corpus is absent");
        None
    }
}

pub fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("report written")).expect("valid JSON")
}

/// (display name, durations in log order) of every handler.
pub fn handler_samples(report: &serde_json::Value) -> Vec<(String, Vec<f64>)> {
    let mut v: Vec<(String, Vec<f64>)> = report["handlers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let plugin = h["plugin"].as_str().unwrap();
            let name = h["name"].as_str().unwrap();
            let display = if plugin.is_empty() { name.to_owned() } else { format!("{plugin}.{name}") };
            let ms = h["executionList"].as_array().unwrap().iter().map(|e| e["durationMs"].as_f64().unwrap()).collect();
            (display, ms)
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// Expected (display name, durations) pairs, sorted like [`handler_samples`].
pub fn expected(items: &[(&str, &[f64])]) -> Vec<(String, Vec<f64>)> {
    let mut out: Vec<(String, Vec<f64>)> = items.iter().map(|(n, ms)| ((*n).to_owned(), ms.to_vec())).collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// A run of a real-shaped suite (`generate --suite 84 --executions 1000`) in `d`: `out/logs`,
/// `out/json-sequences`, `out/truth.json`.
pub fn suite(d: &Path, out: &str, seed: &str, extra: &[&str]) {
    let mut args = vec!["generate", "--out", out, "--seed", seed, "--suite", "84", "--executions", "1000"];
    args.extend_from_slice(extra);
    let o = perfgate(d, &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// Three runs of [`suite`] (`base1`…`base3`, commits `1110000`…) as the baseline in `d`; the
/// suite's handlers of 40–80 executions a run.
pub fn suite_baseline(d: &Path) -> Vec<String> {
    for seed in ["1", "2", "3"] {
        suite(d, &format!("base{seed}"), seed, &[]);
        let o = perfgate(d, &["update-baseline", &format!("base{seed}/logs"), "--commit", &format!("{seed}{seed}{seed}0000")]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let truth = json(&d.join("base1/truth.json"));
    truth["samples"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| (40..=80).contains(&v.as_array().unwrap().len()))
        .map(|(k, _)| k.clone())
        .collect()
}
