//! Failing closed, second round: an output never overwrites anything the run reads, and what a
//! run without samples does to the baseline.

use std::path::Path;

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
