//! Every report, byte for byte: the SHA-256 of each output of `analyze`, `check` and
//! `update-baseline` on the fixtures, on generated logs and on the corpus, recorded in
//! `golden.txt` before the code behind them was restructured. A change of any byte of any
//! report fails here; a deliberate one is recorded with `PERFGATE_BLESS=1 cargo test golden`
//! (and the diff of `golden.txt` shows which outputs moved).

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::*;

const GOLDEN: &str = "tests/cli/golden.txt";

fn digest(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Outputs by case name: `(sha256, length)`.
#[derive(Default)]
struct Outputs(BTreeMap<String, (String, usize)>);

impl Outputs {
    fn record(&mut self, name: &str, bytes: &[u8]) {
        assert!(!bytes.is_empty(), "{name}: empty output");
        self.0.insert(name.to_owned(), (digest(bytes), bytes.len()));
    }

    /// Runs perfgate in `cwd`, records stdout; the exit code must be `code`.
    fn run(&mut self, name: &str, cwd: &Path, args: &[&str], code: i32) {
        let o = perfgate(cwd, args);
        assert_eq!(o.status.code(), Some(code), "{name}: {}", stderr(&o));
        self.record(name, &o.stdout);
    }

    /// The four formats of one command.
    fn formats(&mut self, name: &str, cwd: &Path, args: &[&str], code: i32) {
        for format in ["terminal", "markdown", "json", "html"] {
            let mut a = args.to_vec();
            a.extend_from_slice(&["--format", format]);
            self.run(&format!("{name} {format}"), cwd, &a, code);
        }
    }
}

fn fixtures(out: &mut Outputs) {
    let repo = repo();
    out.formats(
        "fixtures analyze",
        &repo,
        &["analyze", "fixtures/logs", "fixtures/telemetry/canvas-create.md", "fixtures/telemetry/frames.json"],
        0,
    );
    out.formats(
        "fixtures apps",
        &repo,
        &[
            "analyze",
            "--config",
            "fixtures/apps/perfgate.toml",
            "fixtures/apps/access.log",
            "fixtures/apps/api.jsonl",
            "fixtures/apps/worker.log",
        ],
        0,
    );
}

fn generated(out: &mut Outputs) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let generate = |args: &[&str]| {
        let o = perfgate(d, args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    };
    for seed in ["1", "2", "3"] {
        generate(&["generate", "--out", &format!("base{seed}"), "--seed", seed, "--executions", "300"]);
        out.run(&format!("generated update-baseline {seed}"), d, &["update-baseline", &format!("base{seed}/logs"), "--commit", seed], 0);
    }
    out.record("generated baseline", &std::fs::read(d.join(".perfgate/baseline.json")).unwrap());
    generate(&["generate", "--out", "slow", "--seed", "5", "--executions", "300", "--slow", "CanvasComponentPlugin.renderReact=2"]);
    out.formats("generated check slow", d, &["check", "slow/logs"], 1);
    out.formats("generated analyze slow", d, &["analyze", "slow/logs", "--top", "5"], 0);
    // A real-shaped suite: 80 handlers of 5–130 executions, one doubled, one halved.
    for (seed, drift) in [("1", "0.95"), ("2", "1.08")] {
        generate(&[
            "generate",
            "--out",
            &format!("suite{seed}"),
            "--seed",
            seed,
            "--suite",
            "80",
            "--executions",
            "1000",
            "--drift",
            drift,
        ]);
        out.run(
            &format!("suite update-baseline {seed}"),
            d,
            &["update-baseline", &format!("suite{seed}/logs"), "--baseline", "suite.json"],
            0,
        );
    }
    out.record("suite baseline", &std::fs::read(d.join("suite.json")).unwrap());
    generate(&["generate", "--out", "suite-now", "--seed", "4", "--suite", "80", "--executions", "1000", "--drift", "1.03"]);
    out.formats("suite check", d, &["check", "suite-now/logs", "--baseline", "suite.json"], 0);
}

fn corpus_cases(out: &mut Outputs) -> bool {
    let Some(corpus) = corpus("every_report_is_byte_identical (corpus part)") else { return false };
    out.formats("corpus analyze", &corpus, &["analyze", "*/*.*", "--catalog", "sequences"], 0);
    true
}

#[test]
fn every_report_is_byte_identical() {
    let mut out = Outputs::default();
    fixtures(&mut out);
    generated(&mut out);
    let with_corpus = corpus_cases(&mut out);
    let path = repo().join(GOLDEN);
    let recorded: BTreeMap<String, (String, usize)> = std::fs::read_to_string(&path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let mut parts = l.rsplitn(3, ' ');
            let (len, sha, name) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
            (name.to_owned(), (sha.to_owned(), len.parse().unwrap()))
        })
        .collect();
    if std::env::var_os("PERFGATE_BLESS").is_some() {
        let mut all = recorded.clone();
        if !with_corpus {
            all.retain(|k, _| k.starts_with("corpus"));
        } else {
            all.clear();
        }
        all.extend(out.0.clone());
        let mut text = String::from("# Reports of tests/cli/golden.rs: case, SHA-256, bytes. Rewritten by PERFGATE_BLESS=1.\n");
        for (name, (sha, len)) in &all {
            text.push_str(&format!("{name} {sha} {len}\n"));
        }
        std::fs::write(&path, text).unwrap();
        return;
    }
    let mut moved = Vec::new();
    for (name, got) in &out.0 {
        match recorded.get(name) {
            Some(want) if want == got => {}
            Some(want) => moved.push(format!("{name}: {} bytes, was {}", got.1, want.1)),
            None => moved.push(format!("{name}: not recorded")),
        }
    }
    let missing: Vec<&String> = recorded.keys().filter(|k| !out.0.contains_key(*k) && (with_corpus || !k.starts_with("corpus"))).collect();
    assert!(moved.is_empty() && missing.is_empty(), "outputs changed: {moved:#?}\nno longer produced: {missing:?}");
}
