//! Failing closed, second round: an output never overwrites anything the run reads, and what a
//! run without samples does to the baseline.

use std::path::Path;

use crate::gate::generate;
use crate::support::*;

/// A copy of the fixtures (logs, catalogs, handler sources) in a scratch directory.
fn fixtures() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let copy = |from: &Path, to: &Path| {
        let status = std::process::Command::new("cp").arg("-R").arg(from).arg(to).status().unwrap();
        assert!(status.success());
    };
    std::fs::create_dir(dir.path().join("fixtures")).unwrap();
    for sub in ["logs", "packages"] {
        copy(&repo().join("fixtures").join(sub), &dir.path().join("fixtures"));
    }
    dir
}

#[cfg(unix)]
#[test]
fn no_output_overwrites_a_catalog_a_source_or_the_config() {
    let dir = fixtures();
    let d = dir.path();
    std::fs::write(d.join("perfgate.toml"), "[report]\ntop = 5\n").unwrap();
    let catalog = "fixtures/packages/library/json-sequences/library/library-load.json";
    let source = "fixtures/packages/canvas-component/src/symphonies/create/create.react.stage-crew.ts";
    let before: Vec<Vec<u8>> = [catalog, source, "perfgate.toml"].iter().map(|p| std::fs::read(d.join(p)).unwrap()).collect();
    for (args, needle) in [
        (&["analyze", "fixtures/logs", "--json", catalog][..], "the same file as a catalog"),
        (&["analyze", "fixtures/logs", "--output", &format!("markdown={source}")][..], "the same file as a handler's source file"),
        (
            &[
                "analyze",
                "fixtures/logs",
                "--catalog",
                "fixtures/packages/library/json-sequences",
                "--json",
                "fixtures/packages/library/json-sequences/new.json",
            ][..],
            "inside the catalog directory",
        ),
        (
            &["update-baseline", "fixtures/logs", "--baseline", "perfgate.toml"][..],
            "the baseline perfgate.toml: the same file as the config",
        ),
        (&["update-baseline", "fixtures/logs", "--baseline", catalog][..], "the same file as a catalog"),
    ] {
        let o = perfgate(d, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{needle}: {}", stderr(&o));
    }
    let after: Vec<Vec<u8>> = [catalog, source, "perfgate.toml"].iter().map(|p| std::fs::read(d.join(p)).unwrap()).collect();
    assert_eq!(before, after);
    assert!(!d.join("fixtures/packages/library/json-sequences/new.json").exists());
    // Elsewhere, the same outputs are written.
    let o = perfgate(d, &["analyze", "fixtures/logs", "--json", "report.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_run_without_samples_appends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("a.log"),
        " ⏱️ PerformanceTracker: Started timing beat 1 for A\n ✅ BeatExecutor: Beat 1 (a:b) completed in 3ms\n",
    )
    .unwrap();
    std::fs::write(d.join("empty.log"), "nothing a parser knows\n").unwrap();
    assert_eq!(perfgate(d, &["update-baseline", "a.log"]).status.code(), Some(0));
    let before = std::fs::read(d.join(".perfgate/baseline.json")).unwrap();
    for args in [&["update-baseline", "empty.log", "--allow-empty"][..], &["update-baseline", "empty.log", "--allow-empty", "--reset"][..]]
    {
        let o = perfgate(d, args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(stderr(&o).contains("this run has no samples: nothing appended"), "{}", stderr(&o));
        assert_eq!(std::fs::read(d.join(".perfgate/baseline.json")).unwrap(), before, "{args:?}");
    }
}

#[cfg(unix)]
#[test]
fn init_writes_directory_names_as_toml_strings() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A directory whose name closes the comment's string and adds keys of its own.
    let evil = "app\"\n[gate]\nfail_on_new = true\nmax_increase = \"900%\"\n#";
    let seqs = d.join(evil).join("json-sequences");
    std::fs::create_dir_all(&seqs).unwrap();
    std::fs::write(seqs.join("s.json"), r#"{"id": "s", "name": "S", "movements": []}"#).unwrap();
    let o = perfgate(d, &["init"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(d.join("perfgate.toml")).unwrap();
    let config: toml::Table = text.parse().unwrap();
    assert_eq!((config["gate"]["fail_on_new"].as_bool(), config["gate"]["max_increase"].as_str()), (Some(false), Some("10%")), "{text}");
    assert!(text.contains(r#"#   "app\"\n[gate]\nfail_on_new = true\nmax_increase = \"900%\"\n#/json-sequences","#), "{text}");
    // And perfgate loads the file it wrote.
    let o = perfgate(d, &["analyze", "--explain", "x"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// Plugin `api` with handler `users.get` and plugin `api.users` with handler `get` were one key:
/// the baseline kept one of them and a ×3 regression of the other passed.
#[test]
fn handlers_whose_names_join_alike_are_judged_apart() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("perfgate.toml"),
        "[[sources.json]]\nhandler = \"route\"\nduration = \"ms\"\nplugin_field = \"svc\"\nfiles = \"*.jsonl\"\n",
    )
    .unwrap();
    let lines = |slow: f64, seed: u64| {
        let mut out = String::new();
        for i in 0..60u64 {
            let j = 1.0 + 0.1 * (((i * 13 + seed * 7) % 17) as f64 / 16.0 - 0.5);
            out.push_str(&format!("{{\"svc\": \"api\", \"route\": \"users.get\", \"ms\": {:.3}}}\n", 5.0 * j));
            out.push_str(&format!("{{\"svc\": \"api.users\", \"route\": \"get\", \"ms\": {:.3}}}\n", 5.0 * slow * j));
            for k in 0..4 {
                out.push_str(&format!("{{\"svc\": \"other\", \"route\": \"h{k}\", \"ms\": {:.3}}}\n", 3.0 * j));
            }
        }
        out
    };
    for seed in 1..=3 {
        std::fs::write(d.join(format!("base{seed}.jsonl")), lines(1.0, seed)).unwrap();
        assert_eq!(perfgate(d, &["update-baseline", &format!("base{seed}.jsonl")]).status.code(), Some(0));
    }
    std::fs::write(d.join("now.jsonl"), lines(3.0, 9)).unwrap();
    let o = perfgate(d, &["check", "now.jsonl", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let verdicts: Vec<(String, String)> = r["comparison"]["handlers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["plugin"] != "other")
        .map(|h| (h["key"].as_str().unwrap().to_owned(), h["verdict"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(verdicts, [("api\\.users.get".to_owned(), "regressed".to_owned()), ("api.users.get".to_owned(), "unchanged".to_owned())]);
}

/// From any package of a monorepo: the repository's perfgate.toml is found (not above the
/// repository), its defaults are of its own folder, and `.logs/` is read recursively.
#[test]
fn the_config_is_found_from_a_package_of_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::create_dir_all(root.join("packages/library/src")).unwrap();
    std::fs::create_dir_all(root.join(".logs/cypress")).unwrap();
    std::fs::write(
        root.join("perfgate.toml"),
        "[[sources.pattern]]\nname = \"t\"\nregex = 'handler=(?P<handler>\\S+) duration=(?P<duration>[\\d.]+)ms'\nplugin = \"P\"\n",
    )
    .unwrap();
    std::fs::write(root.join(".logs/cypress/run.log"), "handler=a duration=3ms\nhandler=a duration=5ms\n").unwrap();
    // A config above the repository is not the repository's.
    std::fs::write(dir.path().join("perfgate.toml"), "[report]\ntop = 0\n").unwrap();
    let package = root.join("packages/library/src");
    let o = perfgate(&package, &["update-baseline"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let baseline = std::fs::read_to_string(root.join(".perfgate/baseline.json")).unwrap();
    assert!(baseline.contains("\"P.a\"") && baseline.contains("\"count\":2"), "{baseline}");
    assert!(!package.join(".perfgate").exists());
    let o = perfgate(&package, &["check", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["report"]["diagnostics"]["files"][0]["path"], "../../../.logs/cypress/run.log");
    // Outside any repository, the nearest config above is used as before.
    let outside = dir.path().join("elsewhere");
    std::fs::create_dir(&outside).unwrap();
    let o = perfgate(&outside, &["analyze", "--allow-empty"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("report.top: must be at least 1"), "{}", stderr(&o));
}

/// An error says what to do next: logs of another app point at the user rules, a compressed log
/// at the command that feeds it to perfgate, a config type error names the type in plain words.
#[test]
fn errors_name_the_next_step() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("app.log"), "GET /users/42 200 handled in 12.5 ms\n").unwrap();
    let gz = std::process::Command::new("gzip").arg("-c").arg(d.join("app.log")).output().unwrap().stdout;
    std::fs::write(d.join("app.log.gz"), gz).unwrap();
    let o = perfgate(d, &["analyze", "app.log", "app.log.gz"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("[[sources.pattern]]") && err.contains("--explain"), "{err}");
    assert!(err.contains("app.log.gz: nothing recognized: the file looks compressed; decompress it into perfgate: `gzip -dc app.log.gz | perfgate analyze -`"), "{err}");
    std::fs::write(d.join("perfgate.toml"), "[report]\ntop = \"x\"\n").unwrap();
    let o = perfgate(d, &["analyze", "app.log"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("expected a whole number, 0 or more") && !stderr(&o).contains("usize"), "{}", stderr(&o));
}

/// From a package of a monorepo, the catalogs of the whole repository name the handlers.
#[test]
fn catalogs_are_found_from_anywhere_in_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join(".git")).unwrap();
    generate(root, "app", "1", &[]);
    let package = root.join("packages/library");
    std::fs::create_dir_all(&package).unwrap();
    let o = perfgate(&package, &["analyze", "../../app/logs", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let d = &r["diagnostics"];
    assert!(d["catalog"]["sequences"].as_u64().is_some_and(|n| n > 0), "{d}");
    assert_eq!(d["unmappedBeats"].as_u64(), Some(0), "{d}");
}
