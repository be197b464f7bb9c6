//! The action's `perfgate check` step, `scripts/action-run.sh`, as action.yml runs it: inputs
//! as `INPUT_*` variables (empty when not given, as GitHub passes them), the real binary on the
//! PATH. An empty input passes no flag, so `perfgate.toml` decides, as `perfgate check` locally.

#[cfg(unix)]
use crate::support::{GITHUB_VARS, perfgate, stderr, stdout};
use std::path::Path;
#[cfg(unix)]
use std::path::PathBuf;
#[cfg(unix)]
use std::process::{Command, Output};

/// The action's inputs that name a flag, in the script's order.
#[cfg(unix)]
const INPUTS: [&str; 8] =
    ["INPUT_LOGS", "INPUT_CONFIG", "INPUT_BASELINE", "INPUT_COMMENT", "INPUT_COMMENT_ID", "INPUT_FAIL_ON", "INPUT_REPORT", "INPUT_HTML"];

/// Runs the script in `cwd` with `bin` first on the PATH, every input empty unless given, and
/// GitHub's variables of a push run (outputs and summary into `cwd`, no PR, no token).
#[cfg(unix)]
fn action(cwd: &Path, bin: &Path, inputs: &[(&str, &str)]) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/action-run.sh");
    let path =
        std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap()))).unwrap();
    let mut cmd = Command::new("bash");
    cmd.arg(script).current_dir(cwd).env("PATH", path).env_remove("NO_COLOR");
    for v in GITHUB_VARS {
        cmd.env_remove(v);
    }
    for v in INPUTS {
        cmd.env(v, "");
    }
    for (k, v) in inputs {
        cmd.env(k, v);
    }
    cmd.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", "push")
        .env("GITHUB_OUTPUT", cwd.join("github-output"))
        .env("GITHUB_STEP_SUMMARY", cwd.join("step-summary.md"));
    cmd.output().unwrap()
}

/// A directory holding `perfgate`: the real binary (a link to it) or a stand-in script.
#[cfg(unix)]
fn bin_dir(root: &Path, script: Option<&str>) -> PathBuf {
    let dir = root.join("bin");
    std::fs::create_dir_all(&dir).unwrap();
    match script {
        Some(s) => {
            std::fs::write(dir.join("perfgate"), s).unwrap();
            let ok = Command::new("chmod").arg("+x").arg(dir.join("perfgate")).status().unwrap();
            assert!(ok.success());
        }
        None => std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_perfgate"), dir.join("perfgate")).unwrap(),
    }
    dir
}

#[cfg(unix)]
fn bash() -> bool {
    let here = !cfg!(windows) && Command::new("bash").arg("--version").output().is_ok_and(|o| o.status.success());
    if !here {
        eprintln!("skipped: on Windows, or no bash");
    }
    here
}

/// Generated logs of the demo app (seed 5, clean) with `extra` generator flags: copies its logs
/// into `project/e2e-logs` and its catalog into `project/json-sequences`.
#[cfg(unix)]
fn logs(root: &Path, project: &Path, name: &str, extra: &[&str]) {
    let out = root.join(name);
    let mut args = vec!["generate", "--out", out.to_str().unwrap(), "--seed", "5", "--executions", "60", "--clean"];
    args.extend_from_slice(extra);
    let o = perfgate(root, &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let logs = project.join("e2e-logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::copy(out.join("logs/run-00.log"), logs.join("run.log")).unwrap();
    let catalog = project.join("json-sequences");
    if !catalog.exists() {
        std::fs::create_dir_all(&catalog).unwrap();
        for f in std::fs::read_dir(out.join("json-sequences/demo")).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, catalog.join(f.file_name().unwrap())).unwrap();
        }
    }
}

#[cfg(unix)]
#[test]
fn with_no_inputs_the_config_decides_the_baseline_and_the_logs() {
    if !bash() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join("perfgate.toml"), "[sources]\npaths = [\"e2e-logs/*.log\"]\n\n[baseline]\npath = \"perf/base.json\"\n")
        .unwrap();
    logs(dir.path(), &project, "gen", &[]);
    let o = perfgate(&project, &["update-baseline"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(project.join("perf/base.json").is_file());
    // What the action passed before: its own baseline default, which this repository has not.
    let old = perfgate(&project, &["check", "--baseline", ".perfgate/baseline.json"]);
    assert_eq!(old.status.code(), Some(2));
    assert!(stderr(&old).contains(".perfgate/baseline.json: no baseline"), "{}", stderr(&old));

    let bin = bin_dir(dir.path(), None);
    let o = action(&project, &bin, &[("INPUT_REPORT", "perfgate-report.json"), ("INPUT_HTML", "perfgate-report.html")]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    assert_eq!(
        std::fs::read_to_string(project.join("github-output")).unwrap(),
        "result=pass\nregressions=0\nreport=perfgate-report.json\n"
    );
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(project.join("perfgate-report.json")).unwrap()).unwrap();
    // The config's sources were read, and its baseline (one run) was the one compared with.
    let files: Vec<&str> =
        report["report"]["diagnostics"]["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(files.len(), 1);
    assert!(Path::new(files[0]).ends_with("e2e-logs/run.log"), "{files:?}");
    assert_eq!(report["report"]["summary"]["totalHandlers"].as_u64(), Some(17));
    assert_eq!(report["comparison"]["baselineRuns"].as_u64(), Some(1));
    assert_eq!(report["outcome"], "pass");
    assert!(project.join("perfgate-report.html").is_file());
    assert!(!project.join(".perfgate").exists() && !project.join(".logs").exists());

    // The same project with a handler twice as slow: the config's baseline fails it.
    logs(dir.path(), &project, "slow", &["--slow", "CanvasComponentPlugin.renderReact=2"]);
    let o = action(&project, &bin, &[]);
    assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
    assert_eq!(std::fs::read_to_string(project.join("github-output")).unwrap().lines().last(), Some("regressions=1"));
    assert!(stdout(&o).contains("CanvasComponentPlugin.renderReact"), "{}", stdout(&o));
}

#[cfg(unix)]
#[test]
fn a_flag_for_each_input_that_is_set_and_only_then() {
    if !bash() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // A stand-in perfgate that prints its arguments, one per line.
    let bin = bin_dir(dir.path(), Some("#!/bin/sh\nfor a in \"$@\"; do echo \"[$a]\"; done\n"));
    let none = action(dir.path(), &bin, &[]);
    assert_eq!(none.status.code(), Some(0), "{}", stderr(&none));
    assert_eq!(stdout(&none), "[check]\n");
    let all = action(
        dir.path(),
        &bin,
        &[
            ("INPUT_LOGS", "  .logs/*.log  shard 2/  "),
            ("INPUT_CONFIG", "ci/perfgate.toml"),
            ("INPUT_BASELINE", "perf/base line.json"),
            ("INPUT_COMMENT", "on-change"),
            ("INPUT_COMMENT_ID", "web"),
            ("INPUT_FAIL_ON", "warning"),
            ("INPUT_REPORT", "r.json"),
            ("INPUT_HTML", "r.html"),
        ],
    );
    assert_eq!(all.status.code(), Some(0), "{}", stderr(&all));
    assert_eq!(
        stdout(&all),
        "[check]\n[--config]\n[ci/perfgate.toml]\n[--baseline]\n[perf/base line.json]\n[--comment]\n[on-change]\n\
         [--comment-id]\n[web]\n[--fail-on]\n[warning]\n[--json]\n[r.json]\n[--html]\n[r.html]\n[.logs/*.log]\n[shard]\n[2/]\n"
    );
    // An input is data, never shell: `$(…)` and globs reach perfgate as they are.
    let hostile = action(dir.path(), &bin, &[("INPUT_BASELINE", "$(touch pwned)"), ("INPUT_LOGS", "*")]);
    assert_eq!(stdout(&hostile), "[check]\n[--baseline]\n[$(touch pwned)]\n[*]\n");
    assert!(!dir.path().join("pwned").exists());
    // The exit code is perfgate's.
    let bin = bin_dir(&dir.path().join("failing"), Some("#!/bin/sh\nexit 1\n"));
    assert_eq!(action(dir.path(), &bin, &[]).status.code(), Some(1));
}

/// action.yml: the inputs that name a config setting or a flag default to empty, each reaches
/// the script through `env:` (never interpolated into `run:`), and the check step runs the script.
#[test]
fn action_yml_defaults_are_empty_and_the_step_runs_the_script() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml")).unwrap();
    let inputs = &text[text.find("\ninputs:\n").unwrap()..text.find("\noutputs:\n").unwrap()];
    for input in ["logs", "config", "baseline", "comment", "comment-id", "fail-on"] {
        // The input's lines: its name, then the lines indented deeper.
        let block: Vec<&str> =
            inputs.lines().skip_while(|l| *l != format!("  {input}:")).skip(1).take_while(|l| l.starts_with("    ")).collect();
        assert!(block.contains(&"    default: \"\""), "{input}: {block:?}");
    }
    let step = &text[text.find("    - id: check\n").unwrap()..];
    for (var, input) in [
        ("INPUT_LOGS", "logs"),
        ("INPUT_CONFIG", "config"),
        ("INPUT_BASELINE", "baseline"),
        ("INPUT_COMMENT", "comment"),
        ("INPUT_COMMENT_ID", "comment-id"),
        ("INPUT_FAIL_ON", "fail-on"),
        ("INPUT_REPORT", "report"),
        ("INPUT_HTML", "html"),
    ] {
        assert!(step.contains(&format!("        {var}: ${{{{ inputs.{input} }}}}\n")), "{var}");
    }
    let run: Vec<&str> = step.lines().filter(|l| l.trim_start().starts_with("run:")).collect();
    assert_eq!(run, ["      run: bash \"$ACTION_PATH/scripts/action-run.sh\""]);
}
