//! Any application's logs, through `[[sources.pattern]]` and `[[sources.json]]` rules
//! (`fixtures/apps/perfgate.toml`): an access log (CRLF), a logfmt log, JSON lines.

use crate::support::*;

#[test]
fn three_log_shapes_with_mixed_units() {
    let dir = repo().join("fixtures/apps");
    let o = perfgate(&dir, &["analyze", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        handler_samples(&r),
        expected(&[
            ("api.GET /users/{id}", &[12.5, 9.5, 0.85]),
            ("api.POST /orders", &[1200.0]),
            ("api.GET /health", &[0.25]),
            ("mailer.email.send", &[120.0, 200.0]),
            ("thumbnail.render", &[45.5, 0.5]),
            ("users.users.get", &[12.5, 7.5]),
            ("orders.orders.create", &[30.0]),
            ("jobs.reindex", &[1500.0, 900.0]),
        ])
    );
    // Lines that are not JSON, lack the fields, or carry no valid duration are not samples.
    let files = r["diagnostics"]["files"].as_array().unwrap();
    let jsonl = files.iter().find(|f| f["path"].as_str().unwrap().ends_with("api.jsonl")).unwrap();
    assert_eq!((jsonl["lines"].as_u64(), jsonl["samples"].as_u64()), (Some(8), Some(5)));
    let h = r["handlers"].as_array().unwrap().iter().find(|h| h["name"] == "GET /users/{id}").unwrap();
    assert_eq!(h["mapping"], "pattern");
    assert_eq!(h["executionList"][0]["timestamp"], "2025-11-20T10:00:01.000Z");
    assert_eq!(h["executionList"][0]["source"], "pattern");
}

#[test]
fn explain_shows_the_rule_and_what_it_read() {
    let dir = repo().join("fixtures/apps");
    let o = perfgate(&dir, &["analyze", "--explain", "ts=x handler=email.send duration=120ms service=mailer"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "matched by the rule logfmt: handler \"email.send\", plugin \"mailer\", duration 120 ms, timestamp none\n");
    let o = perfgate(
        &dir,
        &["analyze", "--explain", "EventBus.ts:56 2025-10-31T21:15:22.362Z ⏱️ PerformanceTracker: Beat 1 completed in 4.20ms"],
    );
    assert_eq!(
        stdout(&o),
        "a Musical Conductor line: beat 1 completed in 4.2 ms (the PerformanceTracker's duration, preferred)\ntimestamp: 2025-10-31T21:15:22.362Z\n"
    );
    let o = perfgate(&dir, &["analyze", "--explain", " ❌ BeatExecutor: Beat 3 (control:panel:ui:init:schemas) failed: Error"]);
    assert!(stdout(&o).starts_with("a Musical Conductor line: beat 3 failed (event \"control:panel:ui:init:schemas\""), "{}", stdout(&o));
}

#[test]
fn the_gate_works_unchanged_on_user_logs() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["perfgate.toml", "access.log", "worker.log", "api.jsonl"] {
        std::fs::copy(repo().join("fixtures/apps").join(f), dir.path().join(f)).unwrap();
    }
    assert_eq!(perfgate(dir.path(), &["update-baseline"]).status.code(), Some(0));
    let o = perfgate(dir.path(), &["check", "--format", "markdown"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("`api.GET /users/{id}`"), "{}", stdout(&o));
}

#[test]
fn bad_rules_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.log"), "x\n").unwrap();
    for (toml, needle) in [
        (
            "[[sources.pattern]]\nregex = '(?P<handler>\\w+)'\n",
            "perfgate.toml: line 2: sources.pattern[1].regex: needs a named group (?P<duration>",
        ),
        ("[[sources.pattern]]\nregex = '(?P<handler>'\n", "sources.pattern[1].regex: invalid regular expression"),
        (
            "[[sources.pattern]]\nregex = '(?P<handler>\\w+) (?P<duration>\\d+)'\nunit = 'hours'\n",
            "line 3: sources.pattern[1].unit: unknown unit \"hours\"",
        ),
        ("[[sources.json]]\nhandler = 'h'\n", "missing field `duration`"),
    ] {
        std::fs::write(dir.path().join("perfgate.toml"), toml).unwrap();
        let o = perfgate(dir.path(), &["analyze", "a.log"]);
        assert_eq!(o.status.code(), Some(2), "{toml}");
        assert!(stderr(&o).contains(needle), "{needle}: {}", stderr(&o));
    }
}

/// README's `--explain` example, run as written in `fixtures/apps`, prints what README says.
#[test]
fn readme_explain_example_works_as_written() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let lines: Vec<&str> = readme.lines().collect();
    let at = lines.iter().position(|l| l.starts_with("cargo run --release -- analyze --explain '")).expect("the example");
    let line = lines[at].split_once("--explain '").unwrap().1.trim_end_matches('\'');
    let said = lines[at + 1].strip_prefix("# ").expect("its output, as a comment");
    let o = perfgate(&repo().join("fixtures/apps"), &["analyze", "--explain", line]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim_end(), said);
}
