//! Failing closed: what perfgate does with outputs that are links, devices and FIFOs, with
//! values that cannot be durations, with edited baselines, unreadable inputs, inputs named twice
//! and updaters that race. Each case here once passed the gate or destroyed data.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::gate::{generate, with_baseline};
use crate::support::*;

const LOG: &str = " ⏱️ PerformanceTracker: Started timing beat 1 for A\n ✅ BeatExecutor: Beat 1 (a:b) completed in 3ms\n";

fn code(o: &std::process::Output) -> Option<i32> {
    o.status.code()
}

#[cfg(unix)]
fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

#[cfg(unix)]
#[test]
fn outputs_are_written_through_links_fifos_and_devices() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.log"), LOG).unwrap();
    // A symbolic link stays a link; its target gets the report.
    std::fs::create_dir(d.join("reports")).unwrap();
    std::fs::write(d.join("reports/real.json"), "old").unwrap();
    std::os::unix::fs::symlink("reports/real.json", d.join("link.json")).unwrap();
    let o = perfgate(d, &["analyze", "a.log", "--json", "link.json"]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    assert!(std::fs::symlink_metadata(d.join("link.json")).unwrap().file_type().is_symlink());
    assert!(std::fs::read_to_string(d.join("reports/real.json")).unwrap().contains("A#1"));

    // A FIFO stays a FIFO; its reader gets the JSON.
    let fifo = d.join("out.fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let o = perfgate(d, &["analyze", "a.log", "--json", "out.fifo"]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    let got = reader.join().unwrap();
    assert!(serde_json::from_str::<serde_json::Value>(&got).is_ok(), "{got}");
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());

    // A device node (root only: mknod) stays a device; so does /dev/null for everyone.
    if is_root() {
        let null = d.join("null");
        assert!(Command::new("mknod").arg(&null).args(["c", "1", "3"]).status().unwrap().success());
        let o = perfgate(d, &["analyze", "a.log", "--json", "null", "--html", "null"]);
        assert_eq!(code(&o), Some(0), "{}", stderr(&o));
        assert!(std::fs::symlink_metadata(&null).unwrap().file_type().is_char_device());
    } else {
        println!("outputs_are_written_through_links_fifos_and_devices: mknod part skipped: not root");
    }
    let o = perfgate(d, &["analyze", "a.log", "--json", "/dev/null"]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    assert!(std::fs::symlink_metadata("/dev/null").unwrap().file_type().is_char_device());

    // The baseline through a link: the link stays, the target holds the runs.
    std::os::unix::fs::symlink("reports/base.json", d.join("base-link.json")).unwrap();
    let o = perfgate(d, &["update-baseline", "a.log", "--baseline", "base-link.json"]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    assert!(std::fs::symlink_metadata(d.join("base-link.json")).unwrap().file_type().is_symlink());
    assert!(std::fs::read_to_string(d.join("reports/base.json")).unwrap().contains("\"schema\": 3"));
    let o = perfgate(d, &["check", "a.log", "--baseline", "base-link.json"]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
}

#[test]
fn a_write_error_is_exit_2_and_a_closed_pipe_is_not() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.log"), LOG).unwrap();
    if Path::new("/dev/full").exists() {
        for args in [&["analyze", "a.log"][..], &["update-baseline", "a.log", "--baseline", "b.json"]] {
            let o = Command::new(env!("CARGO_BIN_EXE_perfgate"))
                .args(args)
                .current_dir(dir.path())
                .stdout(std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap())
                .output()
                .unwrap();
            assert_eq!(code(&o), Some(2), "{args:?}: {}", stderr(&o));
            assert!(stderr(&o).contains("<stdout>: cannot write") && stderr(&o).contains("No space left"), "{}", stderr(&o));
        }
        let o = perfgate(dir.path(), &["analyze", "a.log", "--markdown", "/dev/full"]);
        assert_eq!(code(&o), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("/dev/full: cannot write"), "{}", stderr(&o));
    } else {
        println!("a_write_error_is_exit_2_and_a_closed_pipe_is_not: /dev/full part skipped: no /dev/full");
    }
    // `perfgate … | head -0`: the reader went away; the verdict stands (exit 0), no error.
    let mut child = Command::new(env!("CARGO_BIN_EXE_perfgate"))
        .args(["analyze", "a.log", "--format", "json"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("error"), "{}", stderr(&o));
}

const JSON_RULE: &str = "[[sources.json]]\nhandler = \"h\"\nduration = \"ms\"\nplugin = \"App\"\n";

#[test]
fn durations_that_are_not_numbers_are_counted_and_never_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("perfgate.toml"), JSON_RULE).unwrap();
    let mut lines: Vec<String> = (0..20).map(|i| format!("{{\"h\":\"a\",\"ms\":{}.5}}", 1 + i % 3)).collect();
    lines.insert(3, "{\"h\":\"a\",\"ms\":1e308}".into());
    lines.insert(7, "{\"h\":\"a\",\"ms\":1e400}".into());
    lines.insert(9, "{\"h\":\"a\",\"ms\":-5}".into());
    lines.insert(11, "{\"h\":\"a\",\"ms\":\"NaN\"}".into());
    lines.insert(12, "{\"h\":\"a\",\"ms\":\"inf\"}".into());
    std::fs::write(d.join("j.log"), lines.join("\n") + "\n").unwrap();
    let o = perfgate(d, &["update-baseline", "j.log", "--json", "x"]);
    assert_eq!(code(&o), Some(2), "update-baseline has no --json: {}", stderr(&o));
    let o = perfgate(d, &["analyze", "j.log", "--format", "json"]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("j.log: 5 duration(s) skipped: not a finite number between 0 and 1e9 ms (j.log:4: 1e308 ms, j.log:8: inf ms, j.log:10: -5 ms, …)"),
        "{err}"
    );
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((r["diagnostics"]["rejected"].as_u64(), r["diagnostics"]["samples"].as_u64()), (Some(5), Some(20)));
    assert_eq!(r["diagnostics"]["files"][0]["rejected"].as_u64(), Some(5));
    // The baseline written from it is one perfgate reads, and a check against it passes.
    let o = perfgate(d, &["update-baseline", "j.log"]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(d.join(".perfgate/baseline.json")).unwrap();
    assert!(!text.contains("e308") && !text.contains("\"stddev\":null") && text.contains("\"count\":20,"), "{text}");
    let o = perfgate(d, &["check", "j.log"]);
    assert_eq!(code(&o), Some(0), "{}{}", stdout(&o), stderr(&o));
}

#[test]
fn config_numbers_that_would_disable_the_gate_are_errors() {
    let dir = with_baseline();
    let d = dir.path();
    generate(d, "slow", "5", &["--slow", "CanvasComponentPlugin.renderReact=2"]);
    let o = perfgate(d, &["check", "slow/logs"]);
    assert_eq!(code(&o), Some(1), "the regression fails with the defaults: {}", stdout(&o));
    for bad in ["nan", "inf", "-5.0"] {
        std::fs::write(d.join("perfgate.toml"), format!("[gate]\nmin_increase_ms = {bad}\n")).unwrap();
        let o = perfgate(d, &["check", "slow/logs"]);
        assert_eq!(code(&o), Some(2), "{bad}: {}", stdout(&o));
        assert!(stderr(&o).contains("perfgate.toml: line 2: gate.min_increase_ms: expected a finite number, 0 or more"), "{}", stderr(&o));
    }
}

/// Replaces the first `"key": value` of handler `name`'s pooled summary.
fn edit_pooled(text: &str, name: &str, key: &str, value: &str) -> String {
    let at = text.find(&format!("\"{name}\": {{")).unwrap();
    let pooled = at + text[at..].find("\"pooled\": {").unwrap();
    let k = pooled + text[pooled..].find(&format!("\"{key}\":")).unwrap();
    let end = k + text[k..].find([',', '}']).unwrap();
    format!("{}\"{key}\":{value}{}", &text[..k], &text[end..])
}

#[test]
fn an_edited_baseline_is_an_error_naming_the_handler_and_key() {
    let dir = with_baseline();
    let d = dir.path();
    generate(d, "slow", "5", &["--slow", "CanvasComponentPlugin.renderReact=2"]);
    let good = std::fs::read_to_string(d.join(".perfgate/baseline.json")).unwrap();
    let h = "CanvasComponentPlugin.renderReact";
    for (key, value, needle) in [
        ("p95", "-7.46", "\"p95\" is -7.46, not a duration"),
        ("p95", "1e308", "\"p95\" is 1e308, not a duration"),
        ("min", "99999", "\"min\" (99999) is above \"p50\""),
        ("count", "3", "\"count\" is 3 but its runs hold"),
        ("log_sd", "-1", "\"log_sd\" is -1"),
    ] {
        let edited = edit_pooled(&good, h, key, value);
        assert_ne!(edited, good);
        std::fs::write(d.join("edited.json"), &edited).unwrap();
        let o = perfgate(d, &["check", "slow/logs", "--baseline", "edited.json"]);
        assert_eq!(code(&o), Some(2), "{key}={value}: {}", stdout(&o));
        let err = stderr(&o);
        assert!(err.contains("edited.json: invalid baseline: handler \"CanvasComponentPlugin.renderReact\" pooled: "), "{err}");
        assert!(err.contains(needle), "{needle}: {err}");
        let o = perfgate(d, &["update-baseline", "slow/logs", "--baseline", "edited.json"]);
        assert_eq!(code(&o), Some(2), "update-baseline does not build on it either");
        assert_eq!(std::fs::read_to_string(d.join("edited.json")).unwrap(), edited, "left as it was");
    }
}

#[test]
fn concurrent_updaters_lose_no_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("perfgate.toml"), "[baseline]\nhistory = 10\n").unwrap();
    let seeds = ["11", "12", "13", "14", "15", "16"];
    for s in seeds {
        generate(d, &format!("r{s}"), s, &["--executions", "60"]);
    }
    for round in 0..2 {
        let _ = std::fs::remove_file(d.join(".perfgate/baseline.json"));
        let children: Vec<_> = seeds
            .iter()
            .map(|s| {
                Command::new(env!("CARGO_BIN_EXE_perfgate"))
                    .args(["update-baseline", &format!("r{s}/logs"), "--commit", s])
                    .current_dir(d)
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            let o = c.wait_with_output().unwrap();
            assert_eq!(code(&o), Some(0), "round {round}: {}", stderr(&o));
        }
        let b = json(&d.join(".perfgate/baseline.json"));
        let mut commits: Vec<&str> = b["runs"].as_array().unwrap().iter().map(|r| r["commit"].as_str().unwrap()).collect();
        commits.sort();
        assert_eq!(commits, seeds, "round {round}: every run is in the baseline");
    }
    // A holder that does not let go: the waiting updater gives up with a clear error.
    let lock = std::fs::File::create(d.join(".perfgate/.baseline.json.lock")).unwrap();
    lock.lock().unwrap();
    let before = std::fs::read(d.join(".perfgate/baseline.json")).unwrap();
    generate(d, "r17", "17", &["--executions", "60"]);
    let o = perfgate(d, &["update-baseline", "r17/logs", "--lock-timeout", "0.3"]);
    assert_eq!(code(&o), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("another perfgate update-baseline has held its lock for 0.3 s; nothing was written"), "{}", stderr(&o));
    assert_eq!(std::fs::read(d.join(".perfgate/baseline.json")).unwrap(), before);
}

#[cfg(unix)]
#[test]
fn an_unreadable_input_fails_the_check() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir(d.join("logs")).unwrap();
    std::fs::write(d.join("logs/a.log"), LOG).unwrap();
    let o = perfgate(d, &["update-baseline", "logs", "--baseline", "base.json"]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    std::fs::write(d.join("logs/b.log"), LOG.replace("3ms", "30ms")).unwrap();
    std::fs::set_permissions(d.join("logs/b.log"), std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::create_dir(d.join("logs/sealed")).unwrap();
    std::fs::write(d.join("logs/sealed/c.log"), LOG).unwrap();
    std::fs::set_permissions(d.join("logs/sealed"), std::fs::Permissions::from_mode(0o000)).unwrap();
    for p in ["logs", "base.json", "logs/a.log"] {
        std::fs::set_permissions(d.join(p), std::fs::Permissions::from_mode(if p == "logs" { 0o755 } else { 0o644 })).unwrap();
    }
    // Root reads everything: the check runs as an unprivileged user then (nobody, 65534).
    let run = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_perfgate"));
        cmd.args(args).current_dir(d);
        for v in GITHUB_VARS {
            cmd.env_remove(v);
        }
        if is_root() {
            cmd.uid(65534).gid(65534);
        }
        cmd.output().unwrap()
    };
    let o = run(&["check", "logs/a.log", "logs/b.log", "--baseline", "base.json"]);
    assert_eq!(code(&o), Some(2), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("logs/b.log: cannot read: Permission denied"), "{}", stderr(&o));
    // A directory below an input directory that cannot be listed: an error too.
    std::fs::set_permissions(d.join("logs/b.log"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = run(&["check", "logs", "--baseline", "base.json"]);
    assert_eq!(code(&o), Some(2), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("logs/sealed: cannot read: Permission denied"), "{}", stderr(&o));
    // --skip-unreadable says so and goes on.
    let o = run(&["check", "logs", "--baseline", "base.json", "--skip-unreadable"]);
    assert!(stderr(&o).contains("warning: logs/sealed: cannot read"), "{}", stderr(&o));
    assert_ne!(code(&o), Some(2), "{}", stderr(&o));
    std::fs::set_permissions(d.join("logs/sealed"), std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn one_file_named_three_ways_is_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.log"), LOG).unwrap();
    let abs = d.join("a.log").canonicalize().unwrap();
    let o = perfgate(d, &["analyze", "a.log", "./a.log", abs.to_str().unwrap(), ".", "*.log", "--format", "json"]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["diagnostics"]["samples"].as_u64(), Some(1));
    assert_eq!(r["diagnostics"]["files"].as_array().unwrap().len(), 1);
    assert_eq!(r["diagnostics"]["files"][0]["path"], "a.log", "named by its first spelling");
}

#[test]
fn a_log_already_in_the_baseline_is_not_counted_twice() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    generate(d, "r1", "1", &["--executions", "60"]);
    generate(d, "r2", "2", &["--executions", "60"]);
    let o = perfgate(d, &["update-baseline", "r1/logs"]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    let path = d.join(".perfgate/baseline.json");
    let once = std::fs::read(&path).unwrap();
    // The same update again (a re-run job): nothing appended, said so, success.
    let o = perfgate(d, &["update-baseline", "r1/logs"]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("these inputs are already the baseline's run 1 (same SHA-256): nothing appended"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&path).unwrap(), once);
    // The old log among new ones: its samples would count twice.
    let o = perfgate(d, &["update-baseline", "r1/logs", "r2/logs"]);
    assert_eq!(code(&o), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("in the baseline's run 1: its samples would count twice; nothing was written"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&path).unwrap(), once);
    // A copy of a log beside it in one run.
    std::fs::copy(d.join("r2/logs/run-00.log"), d.join("copy.log")).unwrap();
    let o = perfgate(d, &["update-baseline", "r2/logs", "copy.log"]);
    assert_eq!(code(&o), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("copy.log: same content (SHA-256"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&path).unwrap(), once);
    let o = perfgate(d, &["update-baseline", "r2/logs"]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    assert_eq!(json(&path)["runs"].as_array().unwrap().len(), 2);
}

#[test]
fn many_distinct_handlers_get_a_normalize_hint() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("perfgate.toml"), JSON_RULE).unwrap();
    let lines: String = (0..2001).map(|i| format!("{{\"h\":\"GET /users/{i}\",\"ms\":1.5}}\n")).collect();
    std::fs::write(d.join("wide.log"), lines).unwrap();
    let o = perfgate(d, &["analyze", "wide.log", "--top", "3"]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning: 2001 distinct handlers (such as App.GET /users/"), "{}", stderr(&o));
    assert!(stderr(&o).contains("[[sources.pattern.normalize]]"), "{}", stderr(&o));
    // Normalized, the same log is one handler and no warning.
    std::fs::write(d.join("perfgate.toml"), format!("{JSON_RULE}[[sources.json.normalize]]\nmatch = '/\\d+'\nreplace = '/{{id}}'\n"))
        .unwrap();
    let o = perfgate(d, &["analyze", "wide.log", "--format", "json"]);
    assert!(!stderr(&o).contains("distinct handlers"), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["handlers"].as_array().unwrap().len(), 1);
    assert_eq!(r["handlers"][0]["name"], "GET /users/{id}");
}

#[test]
fn an_output_never_overwrites_an_input_the_config_or_the_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.log"), LOG).unwrap();
    std::fs::write(d.join("perfgate.toml"), "[report]\ntop = 5\n").unwrap();
    let o = perfgate(d, &["update-baseline", "a.log"]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    let base = std::fs::read(d.join(".perfgate/baseline.json")).unwrap();
    for (args, needle) in [
        (&["analyze", "a.log", "--json", "./a.log"][..], "--json ./a.log: the same file as an input"),
        (&["analyze", "a.log", "--html", "perfgate.toml"][..], "--html perfgate.toml: the same file as the config"),
        (&["analyze", "a.log", "--json", "r.json", "--markdown", "r.json"][..], "--markdown r.json: the same file as --json"),
        (&["check", "a.log", "--markdown", ".perfgate/baseline.json"][..], "the same file as the baseline"),
        (&["update-baseline", "a.log", "--baseline", "a.log"][..], "the baseline a.log: the same file as an input"),
    ] {
        let o = perfgate(d, args);
        assert_eq!(code(&o), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{needle}: {}", stderr(&o));
    }
    assert_eq!(std::fs::read_to_string(d.join("a.log")).unwrap(), LOG);
    assert_eq!(std::fs::read_to_string(d.join("perfgate.toml")).unwrap(), "[report]\ntop = 5\n");
    assert_eq!(std::fs::read(d.join(".perfgate/baseline.json")).unwrap(), base);
    assert!(!d.join("r.json").exists());
    // Devices may be named twice.
    let null = if cfg!(windows) { "NUL" } else { "/dev/null" };
    let o = perfgate(d, &["analyze", "a.log", "--json", null, "--markdown", null]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
}

#[test]
fn a_check_with_no_handler_in_common_with_the_baseline_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.log"), LOG).unwrap();
    std::fs::write(d.join("b.log"), LOG.replace("for A", "for B")).unwrap();
    let o = perfgate(d, &["update-baseline", "a.log"]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    let o = perfgate(d, &["check", "b.log"]);
    assert_eq!(code(&o), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("no handler of this run is in the baseline (1 new, 1 missing): nothing was compared"), "{}", stderr(&o));
    let o = perfgate(d, &["check", "a.log", "b.log"]);
    assert_eq!(code(&o), Some(0), "one in common: a verdict: {}", stderr(&o));
    // A run whose beats all failed has no samples: nothing compared either.
    std::fs::write(
        d.join("failed.log"),
        LOG.replace("✅ BeatExecutor: Beat 1 (a:b) completed in 3ms", "❌ BeatExecutor: Beat 1 (a:b) failed: boom"),
    )
    .unwrap();
    let o = perfgate(d, &["check", "failed.log"]);
    assert_eq!(code(&o), Some(2), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("this run has no samples of any baseline handler (1 missing)"), "{}", stderr(&o));
    // A run without samples (accepted with --allow-empty) makes no baseline: nothing to judge by.
    std::fs::write(d.join("empty.log"), "").unwrap();
    let o = perfgate(d, &["update-baseline", "empty.log", "--allow-empty", "--baseline", "empty.json"]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    assert!(!d.join("empty.json").exists());
    let o = perfgate(d, &["check", "a.log", "--baseline", "empty.json"]);
    assert_eq!(code(&o), Some(2), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("empty.json: no baseline"), "{}", stderr(&o));
}

/// A glob under a directory holding links to `.` and `..` (and a link to a sibling directory)
/// ends, reads each directory once — the loops followed no further, said in one warning — and
/// gives the samples of the same tree without the links (`'d/**/*.log'` never ended).
#[cfg(unix)]
#[test]
fn a_glob_through_directory_loops_ends_and_reads_each_file_once() {
    let log = std::fs::read(repo().join("fixtures/logs/plain-console.log")).unwrap();
    let other = std::fs::read(repo().join("fixtures/logs/chrome-devtools.log")).unwrap();
    let tree = |root: &Path| {
        std::fs::create_dir_all(root.join("d/sub/deeper")).unwrap();
        std::fs::write(root.join("d/a.log"), &log).unwrap();
        std::fs::write(root.join("d/sub/deeper/b.log"), &other).unwrap();
    };
    let plain = tempfile::tempdir().unwrap();
    tree(plain.path());
    let looped = tempfile::tempdir().unwrap();
    tree(looped.path());
    let d = looped.path().join("d");
    std::os::unix::fs::symlink(".", d.join("self")).unwrap();
    std::os::unix::fs::symlink("..", d.join("sub/up")).unwrap();
    std::os::unix::fs::symlink("../..", d.join("sub/deeper/upup")).unwrap();
    std::os::unix::fs::symlink("../d", d.join("again")).unwrap();
    let run = |cwd: &Path| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_perfgate"))
            .args(["analyze", "d/**/*.log", "--json", "out.json"])
            .current_dir(cwd)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            if start.elapsed() > std::time::Duration::from_secs(60) {
                child.kill().unwrap();
                panic!("the glob never ended");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        (json(&cwd.join("out.json")), stderr(&o))
    };
    let (want, quiet) = run(plain.path());
    let (got, warned) = run(looped.path());
    assert!(!quiet.contains("warning"), "{quiet}");
    assert!(handler_samples(&want).len() >= 2, "{want}");
    assert_eq!(handler_samples(&got), handler_samples(&want));
    let paths = |r: &serde_json::Value| -> Vec<String> {
        r["diagnostics"]["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(paths(&got), ["d/a.log", "d/sub/deeper/b.log"]);
    assert_eq!(paths(&want), paths(&got));
    assert_eq!(warned.matches("warning").count(), 1, "{warned}");
    assert!(warned.contains("d/**/*.log") && warned.contains("read once"), "{warned}");
}

/// Durations are read with their unit: `2.44s` is 2,440 ms, `750µs` 0.75 ms, `1,234.50ms`
/// (grouped digits) 1,234.5 ms; a number glued to letters (`3msg`), an unknown unit (`4 min`)
/// or digits grouped wrongly (`1,23.4ms`) is rejected and counted with its line — never read as
/// a number of milliseconds it is not (a tenfold slowdown written in seconds passed).
#[test]
fn durations_are_read_with_their_unit_or_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for (beat, took) in ["2.44s", "1,234.50ms", "3msg", "750µs", "4 min", "12.5 ms", "1,23.4ms", "2500us", "7ms"].iter().enumerate() {
        let beat = beat + 1;
        text.push_str(&format!(
            " ⏱️ PerformanceTracker: Started timing beat {beat} for Library Load\n ⏱️ PerformanceTracker: Beat {beat} completed in {took}\n"
        ));
    }
    std::fs::write(dir.path().join("u.log"), text).unwrap();
    let o = perfgate(dir.path(), &["analyze", "u.log", "--json", "out.json"]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    let r = json(&dir.path().join("out.json"));
    let mut got: Vec<(u64, f64)> = r["handlers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|h| {
            h["executionList"].as_array().unwrap().iter().map(|e| (e["beat"].as_u64().unwrap(), e["durationMs"].as_f64().unwrap()))
        })
        .collect();
    got.sort_by_key(|g| g.0);
    assert_eq!(got, [(1, 2440.0), (2, 1234.5), (4, 0.75), (6, 12.5), (8, 2.5), (9, 7.0)]);
    assert_eq!(r["diagnostics"]["rejected"].as_u64(), Some(3));
    let err = stderr(&o);
    assert!(err.contains("u.log: 3 duration(s) skipped"), "{err}");
    for line in [6, 10, 14] {
        assert!(err.contains(&format!("u.log:{line}: unreadable")), "{line}: {err}");
    }
    // `--explain` says so too.
    let o = perfgate(dir.path(), &["analyze", "--explain", " ⏱️ PerformanceTracker: Beat 1 completed in 3msg"]);
    assert!(stdout(&o).contains("beat 1 completed in an unreadable duration (rejected"), "{}", stdout(&o));
    let o = perfgate(dir.path(), &["analyze", "--explain", " ⏱️ PerformanceTracker: Beat 1 completed in 2.44s"]);
    assert!(stdout(&o).contains("beat 1 completed in 2440 ms"), "{}", stdout(&o));
}

/// Names that carry ids make a handler per execution: past `[sources] max_handlers` the run
/// stops (exit 2) at the first beat of the handler that passed it, in one file or across files,
/// and says how to fold the ids out; the default bound is 10,000.
#[test]
fn too_many_distinct_handlers_stop_the_run_at_the_line_that_passed_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let wide =
        |from: usize, n: usize| -> String { (from..from + n).map(|i| format!("{{\"h\":\"GET /users/{i}\",\"ms\":1.5}}\n")).collect() };
    std::fs::write(d.join("perfgate.toml"), format!("[sources]\nmax_handlers = 50\n{JSON_RULE}")).unwrap();
    std::fs::write(d.join("wide.log"), wide(0, 200)).unwrap();
    let o = perfgate(d, &["analyze", "wide.log"]);
    assert_eq!(code(&o), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("wide.log:51: more than 50 distinct handlers (the next one: \"App.GET /users/50\")"), "{err}");
    assert!(err.contains("[[sources.pattern.normalize]]") && err.contains("max_handlers"), "{err}");
    // Across files: 30 in each, the second's 21st passes the bound.
    std::fs::write(d.join("a.log"), wide(0, 30)).unwrap();
    std::fs::write(d.join("b.log"), wide(30, 30)).unwrap();
    let o = perfgate(d, &["analyze", "a.log", "b.log"]);
    assert_eq!(code(&o), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("b.log:21: more than 50 distinct handlers"), "{}", stderr(&o));
    // Normalized, the same log is one handler.
    std::fs::write(
        d.join("perfgate.toml"),
        format!("[sources]\nmax_handlers = 50\n{JSON_RULE}[[sources.json.normalize]]\nmatch = '/\\d+'\nreplace = '/{{id}}'\n"),
    )
    .unwrap();
    let o = perfgate(d, &["analyze", "wide.log"]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    // The default bound.
    std::fs::write(d.join("perfgate.toml"), JSON_RULE).unwrap();
    std::fs::write(d.join("wider.log"), wide(0, 10_001)).unwrap();
    let o = perfgate(d, &["analyze", "wider.log"]);
    assert_eq!(code(&o), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("wider.log:10001: more than 10000 distinct handlers"), "{}", stderr(&o));
    std::fs::write(d.join("perfgate.toml"), format!("[sources]\nmax_handlers = 0\n{JSON_RULE}")).unwrap();
    let o = perfgate(d, &["analyze", "wide.log"]);
    assert_eq!(code(&o), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("sources.max_handlers: must be at least 1"), "{}", stderr(&o));
}

/// Chained `normalize` rules once expanded a 10-character name to megabytes: a rule that can
/// only blow names up is a config error naming it, and a rewritten name longer than 1,024 bytes
/// stops the run naming the rule and the line.
#[test]
fn a_normalize_rule_cannot_blow_a_name_up() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.log"), "{\"h\":\"GET /users\",\"ms\":1.5}\n{\"h\":\"GET /users/1\",\"ms\":1.5}\n").unwrap();
    let rule = |m: &str, r: &str| format!("[[sources.json.normalize]]\nmatch = '{m}'\nreplace = '{r}'\n");
    std::fs::write(d.join("perfgate.toml"), format!("{JSON_RULE}{}{}", rule("/\\d+", "/{id}"), rule("x*", "ab"))).unwrap();
    let o = perfgate(d, &["analyze", "a.log"]);
    assert_eq!(code(&o), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("sources.json[1].normalize[2].match: \"x*\" matches the empty string"), "{}", stderr(&o));
    std::fs::write(d.join("perfgate.toml"), format!("{JSON_RULE}{}", rule("u", &"u".repeat(1025)))).unwrap();
    let o = perfgate(d, &["analyze", "a.log"]);
    assert_eq!(code(&o), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("sources.json[1].normalize[1].replace: 1025 bytes"), "{}", stderr(&o));
    // Anchors insert once: allowed.
    std::fs::write(d.join("perfgate.toml"), format!("{JSON_RULE}{}", rule("^", "v2 "))).unwrap();
    let o = perfgate(d, &["analyze", "a.log", "--format", "json"]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    // Each doubles the name (`GET /users`): 10, 20, … 640, 1280 bytes at the seventh.
    let doubling: String = (0..8).map(|_| rule("(.+)", "$1$1")).collect();
    std::fs::write(d.join("perfgate.toml"), format!("{JSON_RULE}{doubling}")).unwrap();
    let o = perfgate(d, &["analyze", "a.log"]);
    assert_eq!(code(&o), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("a.log:1: the rule sources.json[1]: its normalize[7] made a handler name of 1280 bytes, more than 1024 bytes"),
        "{}",
        stderr(&o)
    );
}
