//! The history of main and its trend through the binary: `update-baseline` records one run per
//! commit, `trend` finds the commit a handler got slower from, `accept` acknowledges it.

use crate::gate::generate;
use crate::support::*;

const TARGET: &str = "CanvasComponentPlugin.renderReact";

#[test]
fn a_step_is_found_at_its_commit_and_can_be_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for i in 1..=12 {
        let out = format!("r{i}");
        let slow = format!("{TARGET}=1.25");
        let extra: Vec<&str> = if i >= 7 { vec!["--slow", &slow] } else { vec![] };
        generate(d, &out, &i.to_string(), &extra);
        let o = perfgate(
            d,
            &[
                "update-baseline",
                &format!("{out}/logs"),
                "--catalog",
                &format!("{out}/json-sequences"),
                "--baseline",
                "baseline.json",
                "--commit",
                &format!("c{i:02}"),
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        // The history is kept beside the baseline.
        assert!(stdout(&o).contains(&format!("History history: {i} run{} (keeps 500).", if i == 1 { "" } else { "s" })), "{}", stdout(&o));
    }
    let files = std::fs::read_dir(d.join("history")).unwrap().count();
    assert_eq!(files, 12);
    let o = perfgate(
        d,
        &["trend", "--catalog", "r1/json-sequences", "--baseline", "baseline.json", "--json", "out.json", "--fail-on", "change"],
    );
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let r = json(&d.join("out.json"));
    let changes = r["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{changes:#?}");
    let c = &changes[0];
    assert_eq!((c["handler"].as_str(), c["commit"].as_str(), c["previousCommit"].as_str()), (Some(TARGET), Some("c07"), Some("c06")));
    assert_eq!(
        (c["direction"].as_str(), c["kind"].as_str(), c["runsBefore"].as_u64(), c["runsAfter"].as_u64()),
        (Some("slower"), Some("step"), Some(6), Some(6))
    );
    let ratio = c["ratio"].as_f64().unwrap();
    let [lo, hi] = [c["interval"][0].as_f64().unwrap(), c["interval"][1].as_f64().unwrap()];
    assert!(lo < ratio && ratio < hi && (1.15..1.35).contains(&ratio) && lo > 1.1 && hi < 1.4, "{c}");
    // Accepted, it no longer fails and stays visible with its reason.
    let o = perfgate(d, &["accept", TARGET, "--reason", "bigger canvas, by design", "--baseline", "baseline.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(std::fs::read_to_string(d.join("accepted.json")).unwrap().contains("\"reason\":\"bigger canvas, by design\""));
    let o = perfgate(d, &["trend", "--fail-on", "change", "--format", "markdown", "--baseline", "baseline.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(&format!("`{TARGET}` ×1.2")) && stdout(&o).contains("accepted: bigger canvas, by design"),
        "{}",
        stdout(&o)
    );
    // A handler without a change cannot be accepted.
    let o = perfgate(d, &["accept", "CanvasComponentPlugin.createNode", "--reason", "x", "--history", "history"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no change of it is detected"), "{}", stderr(&o));
    // The trend page: self-contained, the change's commit in its data.
    let o = perfgate(d, &["trend", "--html", "trend.html", "--history", "history"]);
    assert_eq!(o.status.code(), Some(0));
    let page = std::fs::read_to_string(d.join("trend.html")).unwrap();
    assert!(page.contains("default-src 'none'") && page.contains("\"commit\":\"c07\""));
    // A report written into the history would be read as a run: refused.
    let o = perfgate(d, &["trend", "--json", "history/x.json", "--baseline", "baseline.json"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn an_empty_history_begins_with_the_baselines_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for i in 1..=3 {
        generate(d, &format!("r{i}"), &i.to_string(), &[]);
    }
    // A baseline kept before the history existed.
    for i in 1..=2 {
        let o = perfgate(d, &["update-baseline", &format!("r{i}/logs"), "--commit", &format!("b{i}")]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    std::fs::remove_dir_all(d.join(".perfgate/history")).unwrap();
    let o = perfgate(d, &["update-baseline", "r3/logs", "--commit", "b3"]);
    assert!(stdout(&o).contains("History .perfgate/history: 3 runs (keeps 500), 2 of them seeded from the baseline."), "{}", stdout(&o));
    let mut names: Vec<String> =
        std::fs::read_dir(d.join(".perfgate/history")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names.len(), 3);
    assert!(names[0].ends_with("-b01-b1.json") && names[1].ends_with("-b02-b2.json") && names[2].ends_with("-b3.json"), "{names:?}");
    let o = perfgate(d, &["trend", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((r["runs"].as_u64(), r["changes"].as_array().map(Vec::len)), (Some(3), Some(0)));
}

#[test]
fn the_comment_shows_a_changed_handlers_recent_main_runs_and_this_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    record_main(d, 8);
    generate(d, "pr", "99", &["--slow", &format!("{TARGET}=1.5")]);
    let o = perfgate(
        d,
        &[
            "check",
            "pr/logs",
            "--catalog",
            "pr/json-sequences",
            "--baseline",
            "baseline.json",
            "--output",
            "markdown=comment.md",
            "--output",
            "json=check.json",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let r = json(&d.join("check.json"));
    let h = r["comparison"]["handlers"].as_array().unwrap().iter().find(|h| h["key"] == TARGET).expect("the target").clone();
    assert_eq!(h["verdict"], "regressed", "{h:#}");
    let recent: Vec<f64> = h["main"]["recent"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    let now = h["main"]["nowOnMain"].as_f64().unwrap();
    assert_eq!(recent.len(), 8, "{h:#}");
    let top = recent.iter().copied().fold(0.0, f64::max);
    assert!(now > 1.3 * top, "this run {now} against main's {recent:?}");
    // Its row in the comment: main's eight runs, then this one at the top of the scale.
    let comment = std::fs::read_to_string(d.join("comment.md")).unwrap();
    let row = comment.lines().find(|l| l.contains("renderReact") && l.contains("regressed")).expect("the target's row");
    let spark = row.split("main ").nth(1).expect("a sparkline").split(" → this run ").collect::<Vec<_>>();
    assert_eq!(spark[0].chars().count(), 8, "{row}");
    assert!(spark[1].starts_with('█'), "{row}");
    // An unchanged handler's row has none.
    let unchanged = comment.lines().filter(|l| l.contains("| unchanged")).collect::<Vec<_>>();
    assert!(!unchanged.is_empty() && unchanged.iter().all(|l| !l.contains("this run")), "{comment}");
}

#[test]
fn the_history_teaches_the_run_wide_rule_how_much_mains_runners_drift() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    record_main(d, 10);
    // Every handler 30% slower: under `drift_max_increase` (35%), which is all a baseline alone
    // knows of runners; far past what ten steady runs of main allow.
    generate(d, "pr", "99", &["--drift", "1.3"]);
    let check = |d: &std::path::Path| {
        perfgate(d, &["check", "pr/logs", "--catalog", "pr/json-sequences", "--baseline", "baseline.json", "--output", "json=check.json"])
    };
    let o = check(d);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let r = json(&d.join("check.json"));
    let drift = &r["comparison"]["drift"];
    assert_eq!(drift["verdict"], "regressed", "{drift:#}");
    assert_eq!(drift["main"]["runs"], 10, "{drift:#}");
    let factor = drift["main"]["factor"].as_f64().unwrap();
    let fail_above = drift["failAbove"].as_f64().unwrap();
    assert!((1.2..1.4).contains(&factor) && fail_above < 0.3, "{drift:#}");
    assert!(stdout(&o).contains("than main's usual (its runners vary by ±"), "{}", stdout(&o));
    // Without the history, the same run passes the run-wide rule.
    std::fs::remove_dir_all(d.join("history")).unwrap();
    let o = check(d);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let r = json(&d.join("check.json"));
    assert!(r["comparison"]["drift"]["main"].is_null() && r["comparison"]["drift"]["failAbove"].as_f64().unwrap() >= 0.35);
}

/// `runs` unchanged runs of main recorded in `d` (commits c01…), the history beside
/// `baseline.json`.
fn record_main(d: &std::path::Path, runs: usize) {
    for i in 1..=runs {
        let out = format!("r{i}");
        generate(d, &out, &i.to_string(), &[]);
        let (logs, catalog, commit) = (format!("{out}/logs"), format!("{out}/json-sequences"), format!("c{i:02}"));
        let o = perfgate(d, &["update-baseline", &logs, "--catalog", &catalog, "--baseline", "baseline.json", "--commit", &commit]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
}
