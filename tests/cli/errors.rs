//! Bad input: a clear message naming the file (and position), exit 2, no panic.

use crate::support::*;

fn fails_with(args: &[&str], cwd: &std::path::Path, needles: &[&str]) {
    let o = perfgate(cwd, args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "stdout: {}\nstderr: {err}", stdout(&o));
    for n in needles {
        assert!(err.contains(n), "{n:?} not in: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn nonexistent_path() {
    let dir = tempfile::tempdir().unwrap();
    fails_with(&["analyze", "nope.log"], dir.path(), &["input not found: nope.log"]);
    fails_with(&["analyze", "logs/*.log"], dir.path(), &["input not found: logs/*.log"]);
    // No PATH and no `.logs/`: the default source matches nothing.
    fails_with(&["analyze"], dir.path(), &[".logs/**/*.log"]);
}

#[test]
fn empty_and_binary_input() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.log"), b"").unwrap();
    let junk: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(dir.path().join("junk.log"), junk).unwrap();
    fails_with(&["analyze", "empty.log", "junk.log"], dir.path(), &["nothing recognized", "empty.log", "junk.log"]);
    let o = perfgate(dir.path(), &["analyze", "empty.log", "--allow-empty"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("no handler executions found"));
}

#[test]
fn an_unreadable_file_is_an_error_unless_skipped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("good.log"),
        " ⏱️ PerformanceTracker: Started timing beat 1 for A\n ✅ BeatExecutor: Beat 1 (a:b) completed in 3ms\n",
    )
    .unwrap();
    // A regular file whose read fails (EIO), even for root.
    let bad = "/proc/self/mem";
    if !std::path::Path::new(bad).is_file() {
        println!("an_unreadable_file_is_an_error_unless_skipped: skipped: no {bad}");
        return;
    }
    // The gate must not pass on the files that happen to be readable.
    fails_with(&["analyze", "good.log", bad], dir.path(), &["/proc/self/mem: cannot read"]);
    let o = perfgate(dir.path(), &["analyze", "good.log", bad, "--format", "json", "--skip-unreadable"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning: /proc/self/mem: cannot read"), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["diagnostics"]["samples"].as_u64(), Some(1));
    // Only unreadable files: an error even when skipping.
    fails_with(&["analyze", bad, "--skip-unreadable"], dir.path(), &["/proc/self/mem", "cannot read"]);
}

#[test]
fn directory_without_logs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    fails_with(&["analyze", "empty"], dir.path(), &["no input files", "empty contains no *.log file"]);
}

#[test]
fn malformed_catalog_names_file_and_position() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("run.log"), " ⏱️ PerformanceTracker: Started timing beat 1 for A\n").unwrap();
    let cat = dir.path().join("json-sequences");
    std::fs::create_dir(&cat).unwrap();
    std::fs::write(cat.join("broken.json"), "{\n  \"id\": \"x\",\n  \"movements\": [\n}").unwrap();
    fails_with(&["analyze", "run.log"], dir.path(), &["broken.json", "line 4, column 1", "invalid sequence catalog"]);
}

#[test]
fn bad_config_names_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("run.log"), " ⏱️ PerformanceTracker: Started timing beat 1 for A\n").unwrap();
    std::fs::write(dir.path().join("perfgate.toml"), "[report]\ntop = 5\ncolour = true\n").unwrap();
    fails_with(&["analyze", "run.log"], dir.path(), &["perfgate.toml", "colour", "line 3"]);
    fails_with(&["analyze", "run.log", "--config", "missing.toml"], dir.path(), &["missing.toml", "cannot read"]);
}

#[test]
fn bad_flags_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let o = perfgate(dir.path(), &["analyze", "--sort", "median"]);
    assert_eq!(o.status.code(), Some(2));
    let o = perfgate(dir.path(), &["analyze", "x.log", "--top", "0"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn invalid_frames_json_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("frames.json"), "{\"frames\": [ {\"ts\": 1, ").unwrap();
    fails_with(&["analyze", "frames.json"], dir.path(), &["frames.json", "not a valid frames export", "line 1"]);
}

#[test]
fn example_config_is_valid_and_documents_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("run.log"),
        " ⏱️ PerformanceTracker: Started timing beat 1 for A\n ✅ BeatExecutor: Beat 1 (a:b) completed in 3ms\n",
    )
    .unwrap();
    let config = repo().join("config/perfgate.toml");
    let o = perfgate(dir.path(), &["analyze", "run.log", "--config", config.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let default = perfgate(dir.path(), &["analyze", "run.log"]);
    assert_eq!(stdout(&o), stdout(&default));
}
