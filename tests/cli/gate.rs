//! `check` and `update-baseline` end to end: exit codes, the baseline file's determinism and
//! atomicity, and snapshots of the reports.

use std::path::Path;

use crate::support::*;

/// Generated logs: `out/logs`, `out/json-sequences`.
pub(crate) fn generate(dir: &Path, out: &str, seed: &str, extra: &[&str]) {
    let mut args = vec!["generate", "--out", out, "--seed", seed, "--clean"];
    if !extra.contains(&"--executions") {
        args.extend_from_slice(&["--executions", "700"]);
    }
    args.extend_from_slice(extra);
    let o = perfgate(dir, &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// A directory with a 3-run baseline of the generated app.
pub(crate) fn with_baseline() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for seed in ["1", "2", "3"] {
        let out = format!("base{seed}");
        generate(dir.path(), &out, seed, &[]);
        let o = perfgate(dir.path(), &["update-baseline", &format!("{out}/logs"), "--commit", &format!("c{seed}")]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    dir
}

#[test]
fn pass_regression_and_fail_on_warning() {
    let dir = with_baseline();
    generate(dir.path(), "same", "4", &[]);
    let o = perfgate(dir.path(), &["check", "same/logs"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).starts_with("perfgate check: ✅ PASS"), "{}", stdout(&o));

    generate(dir.path(), "slow", "5", &["--slow", "CanvasComponentPlugin.renderReact=2"]);
    let o = perfgate(dir.path(), &["check", "slow/logs"]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("perfgate check: ❌ FAIL — 1 regressed"), "{out}");
    assert!(out.contains("❌ CanvasComponentPlugin.renderReact"), "{out}");
    // The statistical detail is for --explain: plain words by default.
    assert!(!out.contains("family-wise") && !out.contains("How this was decided"), "{out}");
    let o = perfgate(dir.path(), &["check", "slow/logs", "--explain"]);
    let explained = stdout(&o);
    let how = explained.split("How this was decided:\n").nth(1).expect("the detail section");
    assert!(how.starts_with("Run-wide shift: ") && how.contains("family-wise false-alarm rate of 0.01 (Holm)"), "{explained}");
    assert!(how.contains("  CanvasComponentPlugin.renderReact: typical +") && how.contains("family-wise p "), "{explained}");

    // An across-the-board slowdown fails through the run-wide rule, not per handler.
    generate(dir.path(), "all", "6", &["--slow", "*=1.6"]);
    let o = perfgate(dir.path(), &["check", "all/logs", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["outcome"], "fail");
    assert_eq!(r["comparison"]["drift"]["verdict"], "regressed");

    // A budget: the same unchanged run, but a p95 budget it cannot meet.
    std::fs::write(dir.path().join("perfgate.toml"), "[[gate.override]]\nmatch = \"CanvasComponentPlugin.*\"\nbudget = \"p95 < 1ms\"\n")
        .unwrap();
    let o = perfgate(dir.path(), &["check", "same/logs"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("over-budget — budget p95 < 1ms broken ("), "{}", stdout(&o));
    // The doubled handler judged on a warn-only statistic: a warning, which passes, and fails
    // with --fail-on warning.
    std::fs::write(dir.path().join("perfgate.toml"), "[gate]\nstats = []\nwarn_stats = [\"typical\"]\n").unwrap();
    let o = perfgate(dir.path(), &["check", "slow/logs"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).starts_with("perfgate check: ⚠️ PASS with warnings"), "{}", stdout(&o));
    assert!(stdout(&o).contains("⚠️ CanvasComponentPlugin.renderReact"), "{}", stdout(&o));
    let o = perfgate(dir.path(), &["check", "slow/logs", "--fail-on", "warning"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
}

#[test]
fn errors_exit_2() {
    let dir = with_baseline();
    generate(dir.path(), "run", "4", &[]);
    // No baseline.
    let o = perfgate(dir.path(), &["check", "run/logs", "--baseline", "none.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("none.json: no baseline; create it with `perfgate update-baseline`"), "{}", stderr(&o));
    // Bad config.
    std::fs::write(dir.path().join("bad.toml"), "[gate]\nmax_increase = \"ten percent\"\n").unwrap();
    let o = perfgate(dir.path(), &["check", "run/logs", "--config", "bad.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad.toml: line 2: gate.max_increase"), "{}", stderr(&o));
    // Corrupt, truncated, foreign and newer baselines.
    let good = std::fs::read_to_string(dir.path().join(".perfgate/baseline.json")).unwrap();
    for (name, text, needle) in [
        ("truncated.json", good[..good.len() / 2].to_owned(), "truncated"),
        ("foreign.json", "{\"name\": \"left-pad\", \"version\": \"1.0.0\"}".to_owned(), "not a perfgate baseline"),
        ("newer.json", good.replace("\"schema\": 3", "\"schema\": 7"), "newer perfgate"),
        ("binary.json", "\u{0}\u{1}garbage".to_owned(), "corrupt baseline"),
    ] {
        std::fs::write(dir.path().join(name), text).unwrap();
        let o = perfgate(dir.path(), &["check", "run/logs", "--baseline", name]);
        assert_eq!(o.status.code(), Some(2), "{name}");
        assert!(stderr(&o).contains(name) && stderr(&o).contains(needle), "{name}: {}", stderr(&o));
        // update-baseline refuses to append to it, too.
        let o = perfgate(dir.path(), &["update-baseline", "run/logs", "--baseline", name]);
        assert_eq!(o.status.code(), Some(2), "{name}");
    }
    let o = perfgate(dir.path(), &["check", "run/logs", "--comment-id", "a b"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn update_baseline_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), "run", "4", &[]);
    let bytes = |name: &str| {
        let o = perfgate(dir.path(), &["update-baseline", "run/logs", "--reset", "--baseline", name, "--commit", "abc"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        std::fs::read(dir.path().join(name)).unwrap()
    };
    let a = bytes("a.json");
    assert_eq!(a, bytes("b.json"));
    assert_eq!(a, bytes("a.json"), "--reset on the same input rewrites the same bytes");
    let text = String::from_utf8(a).unwrap();
    assert!(text.contains("\"commit\": \"abc\"") && text.contains("\"sha256\":") && text.contains("\"schema\": 3"));
    // Appending keeps `history` runs.
    std::fs::write(dir.path().join("perfgate.toml"), "[baseline]\npath = \"b.json\"\nhistory = 2\n").unwrap();
    for seed in ["5", "6", "7"] {
        generate(dir.path(), &format!("run{seed}"), seed, &[]);
        let o = perfgate(dir.path(), &["update-baseline", &format!("run{seed}/logs")]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(stdout(&o).contains("This run against the previous baseline, as `perfgate check` judges it:\n"), "{}", stdout(&o));
    }
    let b: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("b.json")).unwrap()).unwrap();
    assert_eq!(b["runs"].as_array().unwrap().len(), 2);
}

#[test]
fn an_interrupted_update_leaves_the_old_baseline_intact() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), "small", "1", &[]);
    let o = perfgate(dir.path(), &["update-baseline", "small/logs"]);
    assert_eq!(o.status.code(), Some(0));
    let old = std::fs::read(dir.path().join(".perfgate/baseline.json")).unwrap();
    let o = perfgate(dir.path(), &["generate", "--out", "big", "--seed", "2", "--bytes", "40000000"]);
    assert_eq!(o.status.code(), Some(0));
    for delay_ms in [5u64, 20, 60, 150, 400] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_perfgate"))
            .args(["update-baseline", "big/logs"])
            .current_dir(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let now = std::fs::read(dir.path().join(".perfgate/baseline.json")).unwrap();
        // Either untouched, or the complete new file: never a torn one.
        let text = String::from_utf8(now.clone()).unwrap();
        assert!(now == old || perfgate_baseline_is_valid(&text), "delay {delay_ms} ms left a torn baseline");
        if now != old {
            break;
        }
    }
    // The next write of the baseline removes what the killed writers left behind.
    generate(dir.path(), "next", "3", &[]);
    let o = perfgate(dir.path(), &["update-baseline", "next/logs"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let left: Vec<String> = std::fs::read_dir(dir.path().join(".perfgate"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "baseline.json" && n != "history")
        // Windows keeps the lock's sidecar (see `output::Lock`).
        .filter(|n| !(cfg!(windows) && n == ".baseline.json.lock"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

fn perfgate_baseline_is_valid(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| v["schema"] == 3 && v["runs"].as_array().is_some_and(|r| r.len() == 2))
}

#[test]
fn hostile_handler_names_are_escaped_in_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = String::new();
    for (i, name) in ["<script>alert(1)</script>", "@octocat", "<!--perfgate:default-->", "a|b", "`x`", "**bold**", "[link](http://x)"]
        .iter()
        .enumerate()
    {
        let seq = format!("Seq{i}");
        for _ in 0..3 {
            log.push_str(&format!(
                "⏱️ PerformanceTracker: Started timing beat 1 for {seq}\n✅ BeatExecutor: Beat 1 (e{i}:run) completed in 3ms\n"
            ));
        }
        log.push_str(&format!("🎽 DataBaton: x | seq={seq} beat=? event=e{i}:run handler={name} plugin=P{i}\n"));
    }
    std::fs::write(dir.path().join("hostile.log"), log).unwrap();
    let o = perfgate(dir.path(), &["update-baseline", "hostile.log"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = perfgate(dir.path(), &["check", "hostile.log", "--format", "markdown"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let md = stdout(&o);
    assert!(md.starts_with("<!-- perfgate:default -->\n"));
    assert_eq!(md.matches("<!--").count(), 1, "only our marker: {md}");
    assert!(!md.contains("<script>alert(1)</script>`") || md.contains("`P0.<script>alert(1)</script>`"), "{md}");
    for line in md.lines().filter(|l| l.contains("octocat") || l.contains("script") || l.contains("bold") || l.contains("link")) {
        // Every hostile name sits inside a code span.
        for hostile in ["@octocat", "<script>", "**bold**", "[link]"] {
            if let Some(at) = line.find(hostile) {
                let before = &line[..at];
                assert!(before.matches('`').count() % 2 == 1, "{hostile} outside a code span: {line}");
            }
        }
    }
    assert!(md.contains("`P3.a\\|b`"), "{md}");
    assert!(md.contains("`` P4.`x` ``"), "{md}");
}

#[test]
fn markdown_fits_the_comment_limit() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = String::new();
    for i in 0..1500 {
        log.push_str(&format!("⏱️ PerformanceTracker: Started timing beat 1 for Sequence number {i} with a long name\n✅ BeatExecutor: Beat 1 (event:{i}:run) completed in 3ms\n"));
    }
    std::fs::write(dir.path().join("many.log"), &log).unwrap();
    assert_eq!(perfgate(dir.path(), &["update-baseline", "many.log"]).status.code(), Some(0));
    let o = perfgate(dir.path(), &["check", "many.log", "--format", "markdown"]);
    let md = stdout(&o);
    assert!(md.chars().count() <= 65_536, "{}", md.chars().count());
    assert!(md.contains("least severe rows omitted to fit the comment's 65536-character limit"), "{}", &md[..500]);
}

fn snapshot_dir() -> (tempfile::TempDir, Vec<&'static str>) {
    let dir = with_baseline();
    generate(dir.path(), "slow", "5", &["--slow", "CanvasComponentPlugin.renderReact=2"]);
    (dir, vec!["check", "slow/logs", "--top", "5"])
}

#[test]
fn snapshot_markdown_and_json() {
    let (dir, mut args) = snapshot_dir();
    args.extend_from_slice(&["--format", "markdown"]);
    let o = perfgate(dir.path(), &args);
    assert_eq!(o.status.code(), Some(1));
    insta::assert_snapshot!("check_markdown", stdout(&o));
    let o = perfgate(dir.path(), &["check", "slow/logs", "--format", "json", "--max-executions", "3"]);
    let mut v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // The comparison and the summary; the full report's execution lists are covered elsewhere.
    v["report"] = v["report"]["summary"].clone();
    insta::assert_snapshot!("check_json", serde_json::to_string_pretty(&v).unwrap());
    let o = perfgate(dir.path(), &["check", "slow/logs", "--top", "5"]);
    insta::assert_snapshot!("check_terminal", stdout(&o));
}

/// A suite shaped like a real one (80 handlers called 4–130 times per run, σ 0.3–0.8, every run
/// on a runner of its own speed, the hard cases of the grammar mixed in): three baseline runs,
/// then an unchanged run (passes) and a run with one handler twice as slow (fails on it) — and
/// the same against a one-run baseline, a team's first day.
#[test]
fn real_shaped_suite_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let suite = |out: &str, seed: &str, drift: &str, extra: &[&str]| {
        let mut args = vec!["generate", "--out", out, "--seed", seed, "--suite", "80", "--executions", "1000", "--drift", drift];
        args.extend_from_slice(extra);
        let o = perfgate(dir.path(), &args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    };
    for (seed, drift) in [("1", "0.95"), ("2", "1.08"), ("3", "1.0")] {
        let out = format!("base{seed}");
        suite(&out, seed, drift, &[]);
        let o = perfgate(dir.path(), &["update-baseline", &format!("{out}/logs")]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        if seed == "1" {
            let o = perfgate(dir.path(), &["update-baseline", &format!("{out}/logs"), "--baseline", "one.json"]);
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        }
    }
    // The regression's target: a handler with 40–80 executions per run, as most are.
    let truth = json(&dir.path().join("base1/truth.json"));
    let target = truth["samples"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, v)| (40..=80).contains(&v.as_array().unwrap().len()))
        .map(|(k, _)| k.clone())
        .expect("a handler with 40–80 samples");
    suite("same", "4", "0.97", &[]);
    suite("slow", "5", "1.04", &["--slow", &format!("{target}=2")]);
    let verdicts = |args: &[&str]| {
        let o = perfgate(dir.path(), args);
        let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", stderr(&o)));
        let regressed: Vec<String> = r["comparison"]["handlers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h["verdict"] == "regressed")
            .map(|h| h["key"].as_str().unwrap().to_owned())
            .collect();
        let insufficient_from_ten = r["comparison"]["handlers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h["verdict"] == "insufficient" && h["baseCount"].as_u64() >= Some(10) && h["nowCount"].as_u64() >= Some(10))
            .count();
        (o.status.code(), regressed, insufficient_from_ten, r)
    };
    let (code, regressed, insufficient, r) = verdicts(&["check", "same/logs", "--format", "json"]);
    assert_eq!((code, regressed.len(), insufficient), (Some(0), 0, 0), "{:#}", r["comparison"]["drift"]);
    let (code, regressed, insufficient, r) = verdicts(&["check", "slow/logs", "--format", "json"]);
    assert_eq!((code, regressed.clone(), insufficient), (Some(1), vec![target.clone()], 0), "{:#}", r["comparison"]["drift"]);
    // The verdict explains itself: the statistic, its numbers, the family it was tested in.
    let h = r["comparison"]["handlers"].as_array().unwrap().iter().find(|h| h["key"] == target.as_str()).unwrap();
    let typical = h["stats"].as_array().unwrap().iter().find(|s| s["stat"] == "typical").unwrap();
    assert_eq!(typical["verdict"], "regressed");
    assert!(typical["change"].as_f64().unwrap() > 0.5 && typical["lower"].as_f64().unwrap() > 0.1, "{typical:#}");
    assert!(typical["adjustedP"].as_f64().unwrap() <= 0.01 && typical["threshold"] == 0.1, "{typical:#}");
    // Reasons are data: the deciding statistic, and its reason with the numbers it rests on.
    assert_eq!(h["reason"], serde_json::json!({"kind": "statistic", "stat": "typical"}), "{h:#}");
    assert_eq!((h["severity"].as_str(), typical["reason"]["kind"].as_str()), (Some("fail"), Some("pastThreshold")), "{h:#}");
    assert_eq!(typical["reason"]["family"]["adjustedP"], typical["adjustedP"], "{typical:#}");
    assert_eq!(typical["reason"]["floorMs"], 0.5, "{typical:#}");
    assert_eq!(r["comparison"]["family"]["level"], 0.01);
    // A team's first day: one baseline run.
    let (code, regressed, _, _) = verdicts(&["check", "slow/logs", "--format", "json", "--baseline", "one.json"]);
    assert_eq!((code, regressed), (Some(1), vec![target.clone()]));
    let (code, regressed, _, _) = verdicts(&["check", "same/logs", "--format", "json", "--baseline", "one.json"]);
    assert_eq!((code, regressed.len()), (Some(0), 0));
}

/// A CommonMark/GFM reading of a report: every table row has the header's number of cells (in
/// the source: unescaped pipes), every handler cell is a code span, `<details>` are balanced.
fn assert_well_formed(markdown: &str) {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let pipes = |s: &str| s.char_indices().filter(|&(i, c)| c == '|' && (i == 0 || s.as_bytes()[i - 1] != b'\\')).count();
    let (mut header, mut tables, mut opened, mut closed) = (None, 0, 0, 0);
    for (event, range) in Parser::new_ext(markdown, Options::ENABLE_TABLES).into_offset_iter() {
        match event {
            Event::Start(Tag::Table(_)) => tables += 1,
            Event::Start(Tag::TableHead) => header = Some(pipes(markdown[range].lines().next().unwrap())),
            Event::Start(Tag::TableRow) => {
                let row = &markdown[range];
                assert_eq!(Some(pipes(row)), header, "row with another number of cells: {row}");
            }
            Event::End(TagEnd::Table) => header = None,
            Event::Html(h) | Event::InlineHtml(h) => {
                opened += h.matches("<details>").count();
                closed += h.matches("</details>").count();
            }
            _ => {}
        }
    }
    assert!(tables >= 2, "{markdown}");
    assert_eq!(opened, closed, "unbalanced <details>: {markdown}");
}

#[test]
fn a_reviewer_sees_what_changed_first() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // One handler twice as slow and one twice as fast, both of the 40–80-execution kind.
    let mid = suite_baseline(d);
    let (slow, fast) = (&mid[0], &mid[1]);
    suite(d, "now", "4", &["--slow", &format!("{slow}=2"), "--slow", &format!("{fast}=0.5")]);
    let o = perfgate(d, &["check", "now/logs", "--format", "markdown"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let md = stdout(&o);
    assert_well_formed(&md);
    let rows: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("| ❌ ") || l.starts_with("| ✅ ") || l.starts_with("| ➖ ") || l.starts_with("| ❔ "))
        .collect();
    assert!(rows[0].starts_with(&format!("| ❌ | `{slow}` | ")) && rows[0].contains(" | typical +"), "{md}");
    assert!(rows[1].starts_with(&format!("| ✅ | `{fast}` | ")) && rows[1].contains(" | typical -"), "{md}");
    let folded_at = md.find("more handlers: ").expect("the rest is folded");
    assert!(md.find(&format!("`{fast}`")).unwrap() < folded_at, "the improvement is not folded");
    assert!(md[..folded_at].matches("| ➖ ").count() == 0 && md[..folded_at].matches("| ❔ ").count() == 0, "{md}");
    insta::assert_snapshot!("review_markdown", md);
    assert_plain_words(&md);
    // The regression in plain words, its change the one base → now gives, the runner stated.
    assert!(rows[0].contains(" | typical +120.5% \\(+124.9% net of the runner's -2.3%\\) | "), "{}", rows[0]);
    assert!(rows[0].ends_with(" | regressed: 2.2× slower \\(+120%\\), very likely real |"), "{}", rows[0]);
    // The detail is folded under "How this was decided".
    let how = md.split_once("<summary>How this was decided</summary>").expect("how this was decided").1;
    assert!(how.split_once("</details>").unwrap().0.contains("family-wise p 9e-10 ≤ 0.01 \\(81 tests\\)"), "{md}");
    // An unchanged row whose interval lies wholly above zero says so.
    assert!(md.contains("| ➖ | `SuiteArea25Plugin.step2Area25` | 3.56 → 4.83 | typical +35.4% | 35 / 9 | maybe slower: could be chance, with 81 tests in this run |"), "{md}");
    // The brief's bars, folded, each with its handler's change.
    let bars =
        md.split_once("<summary>Slowest handlers now, with their change</summary>").expect("bars").1.split_once("</details>").unwrap().0;
    let first_bar = bars.lines().find(|l| l.starts_with("- ")).unwrap();
    assert!(first_bar.contains(" ██████████ ") && first_bar.contains("avg (") && first_bar.contains(" · "), "{first_bar}");
    // Colours only when asked (stdout is a pipe here), never with --color never.
    let painted = stdout(&perfgate(d, &["check", "now/logs", "--color", "always"]));
    assert!(painted.contains("\x1b[31mFAIL\x1b[0m") && painted.contains("\x1b[31mregressed\x1b[0m"), "{painted}");
    assert!(painted.contains("\x1b[32mimproved\x1b[0m"), "{painted}");
    for args in [&["check", "now/logs"][..], &["check", "now/logs", "--color", "never"]] {
        assert!(!stdout(&perfgate(d, args)).contains('\x1b'), "{args:?}");
    }
    let o = perfgate(d, &["check", "now/logs", "--top", "5"]);
    insta::assert_snapshot!("review_terminal", stdout(&o));
    assert_plain_words(&stdout(&o));
    assert!(stdout(&o).contains("regressed — 2.2× slower (+120%), very likely real\n"), "{}", stdout(&o));
}

/// Lines of the `t` pattern: `n` durations per handler, log-normal around each handler's median.
/// No statistical detail in the rows a reviewer reads first, no word said twice in a row, no
/// `17 more: 17 unchanged`, no `1 files`.
fn assert_plain_words(text: &str) {
    let (plain, _) = text.split_once("<summary>How this was decided</summary>").unwrap_or((text, ""));
    let after = text.split_once("<summary>How this was decided</summary>").map_or("", |(_, r)| r.split_once("</details>").unwrap().1);
    for part in [plain, after] {
        assert!(!part.contains("family-wise"), "{part}");
    }
    for line in text.lines() {
        let words: Vec<&str> = line.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
        for w in words.windows(2) {
            assert!(!(w[0] == w[1] && w[0].chars().all(char::is_alphabetic)), "{:?} twice in: {line}", w[0]);
        }
        for w in words.windows(4) {
            assert!(!(w[1] == "more" && w[0] == w[2] && w[0].chars().all(|c| c.is_ascii_digit())), "stutter in: {line}");
        }
        for noun in ["files", "lines", "handlers", "executions", "samples", "runs", "rows", "completions", "tests"] {
            assert!(!line.contains(&format!(" 1 {noun}")) && !line.starts_with(&format!("1 {noun}")), "1 {noun} in: {line}");
        }
    }
}

fn pattern_log(handlers: &[(&str, f64)], n: usize, seed: u64) -> String {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut unit = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let mut out = String::new();
    for _ in 0..n {
        for (h, median) in handlers {
            let z = (-2.0 * unit().ln()).sqrt() * (std::f64::consts::TAU * unit()).cos();
            out.push_str(&format!("handler={h} duration={:.3}ms\n", median * (0.2 * z).exp()));
        }
    }
    out
}

/// The gate decides each handler's severity once: under every combination of
/// `fail_on_missing`, `fail_on_new`, a broken budget and `--fail-on warning`, the exit code, the
/// headline, each row's mark (markdown and terminal), the annotation level and the
/// `result`/`regressions` outputs agree.
#[test]
fn every_output_reads_one_severity() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let steady = [("a", 5.0), ("b", 5.0), ("c", 5.0), ("d", 5.0)];
    let mut base = steady.to_vec();
    base.extend([("w", 5.0), ("m", 5.0)]);
    // The candidate: w doubled (judged on a warn-only statistic: a warning), m gone, n new.
    let mut now = steady.to_vec();
    now.extend([("w", 10.0), ("n", 5.0)]);
    for seed in 1..=3 {
        std::fs::write(d.join(format!("base{seed}.log")), pattern_log(&base, 200, seed)).unwrap();
    }
    std::fs::write(d.join("now.log"), pattern_log(&now, 200, 9)).unwrap();
    let rule = "[[sources.pattern]]\nname = \"t\"\nregex = 'handler=(?P<handler>\\S+) duration=(?P<duration>[\\d.]+)ms'\nplugin = \"P\"\n";
    std::fs::write(d.join("perfgate.toml"), rule).unwrap();
    for seed in 1..=3 {
        let o = perfgate(d, &["update-baseline", &format!("base{seed}.log")]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    for bits in 0..16u8 {
        let [fail_missing, fail_new, budget, fail_warning] = [0, 1, 2, 3].map(|i| bits & (1 << i) != 0);
        let mut config = format!("[gate]\nfail_on_missing = {fail_missing}\nfail_on_new = {fail_new}\n{rule}");
        config.push_str("[[gate.override]]\nmatch = \"P.w\"\nstats = []\nwarn_stats = [\"typical\"]\n");
        if budget {
            config.push_str("[[gate.override]]\nmatch = \"P.b\"\nbudget = \"p95 < 1ms\"\n");
        }
        std::fs::write(d.join("perfgate.toml"), config).unwrap();
        let outputs = d.join(format!("outputs{bits}"));
        let mut args = vec!["check", "now.log", "--markdown", "comment.md", "--color", "never"];
        if fail_warning {
            args.extend(["--fail-on", "warning"]);
        }
        let o = perfgate_env(d, &args, &[("GITHUB_ACTIONS", "true"), ("GITHUB_OUTPUT", outputs.to_str().unwrap())]);
        let (out, md) = (stdout(&o), std::fs::read_to_string(d.join("comment.md")).unwrap());
        let case = format!("fail_on_missing {fail_missing}, fail_on_new {fail_new}, budget {budget}, --fail-on warning {fail_warning}");
        // What each handler's severity must be.
        let fails = [("P.w", fail_warning, true), ("P.m", fail_missing, true), ("P.n", fail_new, false), ("P.b", budget, false)];
        let failing = fails.iter().filter(|(_, f, _)| *f).count();
        assert_eq!(o.status.code(), Some(i32::from(failing > 0)), "{case}\n{out}{}", stderr(&o));
        let headline = if failing > 0 { "## ❌ perfgate: FAIL" } else { "## ⚠️ perfgate: PASS with warnings" };
        assert!(md.contains(&format!("\n{headline} — ")), "{case}\n{md}");
        let written = std::fs::read_to_string(&outputs).unwrap();
        let result = if failing > 0 { "fail" } else { "warn" };
        assert!(written.starts_with(&format!("result={result}\nregressions={failing}\n")), "{case}\n{written}");
        for (key, fail, warns) in fails {
            let (mark, level) = match (fail, warns) {
                (true, _) => ("❌", Some("error")),
                (false, true) => ("⚠️", Some("warning")),
                (false, false) => (if key == "P.n" { "🆕" } else { "➖" }, None),
            };
            assert!(md.contains(&format!("| {mark} | `{key}` |")), "{case}: {key} {mark}\n{md}");
            assert!(out.lines().any(|l| l.starts_with(&format!("{mark} {key} "))), "{case}: {key} {mark}\n{out}");
            let title = format!(" title=perfgate%3A {key}::{key} ");
            let annotated: Vec<&str> = out.lines().filter(|l| l.contains(&title)).collect();
            match level {
                Some(level) => assert!(annotated.len() == 1 && annotated[0].starts_with(&format!("::{level} ")), "{case}: {key}\n{out}"),
                None => assert!(annotated.is_empty(), "{case}: {key}\n{out}"),
            }
        }
        // No annotation repeats the verdict in its reason.
        assert!(!out.contains("missing: missing") && !out.contains("new: new"), "{case}\n{out}");
    }
}
