//! Our hand-written fixtures (`fixtures/`): one per envelope and encoding, with the catalog and
//! handler sources of a small demo app. Run from the repository root, as the README does, so
//! the default catalog discovery (`**/json-sequences/**/*.json`) finds `fixtures/packages`.

use crate::support::*;

fn analyze(files: &[&str]) -> serde_json::Value {
    analyze_in(&repo(), files)
}

fn samples(files: &[&str]) -> Vec<(String, Vec<f64>)> {
    handler_samples(&analyze(files))
}

#[test]
fn chrome_devtools_prefixes_with_source_files() {
    let r = analyze(&["fixtures/logs/chrome-devtools.log"]);
    assert_eq!(
        handler_samples(&r),
        expected(&[
            ("CanvasComponentPlugin.resolveTemplate", &[5.1]),
            ("CanvasComponentPlugin.registerInstance", &[3.2]),
            ("CanvasComponentPlugin.createNode", &[7.8]),
            ("CanvasComponentPlugin.renderReact", &[12.4]),
            ("CanvasComponentPlugin.notifyUi", &[2.1]),
            ("LibraryPlugin.loadComponents", &[4.3]),
            ("LibraryPlugin.notifyUi", &[2.2]),
            ("LibraryComponentPlugin.onDragStart", &[8.1]),
        ])
    );
    let source = |name: &str, plugin: &str| {
        let h = r["handlers"].as_array().unwrap().iter().find(|h| h["name"] == name && h["plugin"] == plugin).unwrap();
        (h["sourceFile"].as_str().map(str::to_owned), h["sourceLine"].as_u64())
    };
    let p = |s: &str, l: u64| (Some(format!("fixtures/packages/{s}")), Some(l));
    assert_eq!(source("renderReact", "CanvasComponentPlugin"), p("canvas-component/src/symphonies/create/create.react.stage-crew.ts", 4));
    assert_eq!(source("createNode", "CanvasComponentPlugin"), p("canvas-component/src/symphonies/create/create.stage-crew.ts", 5));
    // Defined in create/ and select/: the directory named like the sequence file wins.
    assert_eq!(source("notifyUi", "CanvasComponentPlugin"), p("canvas-component/src/symphonies/create/create.notify.ts", 1));
    // Inline methods of an object literal.
    assert_eq!(source("loadComponents", "LibraryPlugin"), p("library/src/symphonies/load.symphony.ts", 3));
    assert_eq!(source("notifyUi", "LibraryPlugin"), p("library/src/symphonies/load.symphony.ts", 7));
    // Workspace layout: the catalog under `public/`, the handler in the package `handlersPath` names.
    assert_eq!(
        source("onDragStart", "LibraryComponentPlugin"),
        (Some("fixtures/workspace/domains/renderx-web/runtime/library-component/src/symphonies/drag.symphony.ts".to_owned()), Some(3))
    );
    let render = r["handlers"].as_array().unwrap().iter().find(|h| h["name"] == "renderReact").unwrap();
    assert_eq!(render["executionList"][0]["timestamp"].as_str(), Some("2025-11-15T21:59:20.815Z"));
    assert_eq!(render["executionList"][0]["line"].as_u64(), Some(31));
    assert_eq!(render["kinds"], serde_json::json!(["stage-crew"]));
}

#[test]
fn plain_console_with_orphan_and_failure() {
    let r = analyze(&["fixtures/logs/plain-console.log"]);
    assert_eq!(
        handler_samples(&r),
        expected(&[
            ("ControlPanelPlugin.initConfig", &[6.1]),
            ("ControlPanelPlugin.initResolver", &[7.2]),
            ("ControlPanelPlugin.loadSchemas", &[])
        ])
    );
    let d = &r["diagnostics"];
    assert_eq!((d["samples"].as_u64(), d["failed"].as_u64(), d["orphans"].as_u64()), (Some(2), Some(1), Some(1)));
    let schemas = r["handlers"].as_array().unwrap().iter().find(|h| h["name"] == "loadSchemas").unwrap();
    assert_eq!(schemas["issues"][0]["status"].as_str(), Some("failed"));
    assert_eq!(schemas["issues"][0]["line"].as_u64(), Some(30));
    assert!(schemas["timing"].is_null());
}

#[test]
fn cypress_with_css_residue() {
    assert_eq!(
        samples(&["fixtures/logs/cypress-e2e.log"]),
        expected(&[
            ("ControlPanelPlugin.generateFields", &[8.1]),
            ("ControlPanelPlugin.generateSections", &[8.9]),
            ("ControlPanelPlugin.renderView", &[6.8])
        ])
    );
}

#[test]
fn utf16le_powershell_capture_with_lost_emoji() {
    let r = analyze(&["fixtures/logs/windows-powershell.log"]);
    assert_eq!(handler_samples(&r), expected(&[("HeaderThemePlugin.toggleTheme", &[8.7, 11.1])]));
    assert_eq!(r["diagnostics"]["files"][0]["encoding"].as_str(), Some("utf16-le"));
}

#[test]
fn utf16be_with_bom() {
    let r = analyze(&["fixtures/logs/utf16be.log"]);
    assert_eq!(handler_samples(&r), expected(&[("LibraryPlugin.loadComponents", &[3.9])]));
    assert_eq!(r["diagnostics"]["files"][0]["encoding"].as_str(), Some("utf16-be"));
}

#[test]
fn utf8_bom_and_crlf() {
    let r = analyze(&["fixtures/logs/utf8-bom-crlf.log"]);
    assert_eq!(handler_samples(&r), expected(&[("HeaderThemePlugin.getCurrentTheme", &[3.4]), ("HeaderThemePlugin.notifyUi", &[1.2])]));
    assert_eq!(r["diagnostics"]["files"][0]["encoding"].as_str(), Some("utf8-bom"));
}

#[test]
fn dotnet_host_serilog_with_decimal_comma() {
    let r = analyze(&["fixtures/logs/dotnet-host.log"]);
    assert_eq!(handler_samples(&r), expected(&[("ControlPanelPlugin.createCssClass", &[12.346]), ("ControlPanelPlugin.notifyUi", &[1.5])]));
    assert_eq!(r["diagnostics"]["failed"].as_u64(), Some(1));
    let css = r["handlers"].as_array().unwrap().iter().find(|h| h["name"] == "createCssClass").unwrap();
    // Local time with offset, reported in UTC.
    assert_eq!(css["executionList"][0]["timestamp"].as_str(), Some("2025-11-09T19:30:46.791Z"));
}

#[test]
fn markdown_and_frames_exports() {
    let r = analyze(&["fixtures/telemetry/canvas-create.md"]);
    assert_eq!(
        handler_samples(&r),
        expected(&[
            ("CanvasComponentPlugin.resolveTemplate", &[6.0]),
            ("CanvasComponentPlugin.registerInstance", &[2.9]),
            ("CanvasComponentPlugin.createNode", &[9.4]),
            ("CanvasComponentPlugin.renderReact", &[]),
            ("Library Component Drop#1 library:component:drop", &[10.2]),
        ])
    );
    assert_eq!(r["diagnostics"]["failed"].as_u64(), Some(1), "the quoted console line is not parsed");
    assert_eq!(
        samples(&["fixtures/telemetry/frames.json"]),
        expected(&[("LibraryPlugin.loadComponents", &[36.5]), ("LibraryPlugin.notifyUi", &[21.9])])
    );
}

#[test]
fn readme_command_prints_the_heatmap() {
    let o = perfgate(&repo(), &["analyze", "fixtures/logs", "fixtures/telemetry/*"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("Handler Performance Heatmap\n"), "{out}");
    assert!(out.contains("🔴 LibraryPlugin.loadComponents"), "{out}");
    assert!(out.contains("ms avg (2 executions)"), "{out}");
    assert!(out.contains("Legend:\n🔴 Slow (>7ms)\n🟠 Medium (5-7ms)\n🟡 Fast (3-5ms)\n🟢 Very Fast (<3ms)"), "{out}");
    assert!(out.contains("Diagnostics: 9 files"), "{out}");
}

#[test]
fn top_and_sort_options() {
    let o = perfgate(&repo(), &["analyze", "fixtures/logs", "--top", "3", "--sort", "count"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    let rows: Vec<&str> = out.lines().filter(|l| l.contains(" executions)") || l.contains(" execution)")).collect();
    assert_eq!(rows.len(), 3, "{out}");
    assert!(rows[0].contains("(2 executions)"), "{out}");
    assert!(out.contains("16 more handlers; --top N shows more"));
}

#[test]
fn markdown_report_file() {
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("report.md");
    let o = perfgate(&repo(), &["analyze", "fixtures/logs", "--markdown", md.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(text.contains("| 🔴 | `renderReact` | `CanvasComponentPlugin` | 1 | 12.40 |"), "{text}");
    assert!(text.contains("`fixtures/packages/canvas-component/src/symphonies/create/create.react.stage-crew.ts:4`"), "{text}");
    // The counts are the folded section's summary, said once, plurals right.
    let summary = "<details><summary>Diagnostics: 7 files, 178 lines, 125 recognized (46 timing lines) → 20 samples, 2 failed, 0 incomplete, 1 orphan completion (1 attributed), 0 unmapped beats; catalog: 11 sequences from 16 files</summary>\n\n| File |";
    assert!(text.contains(summary), "{text}");
    assert_eq!(text.matches("Diagnostics").count(), 1, "{text}");
}

/// `-` reads the standard input (here a pipe, read as a stream, front to back): the same
/// samples as the file itself. A gzip'd log can so be read with `zcat run.log.gz | perfgate
/// analyze -`.
#[test]
fn standard_input_is_read_as_a_stream() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let log = "fixtures/logs/chrome-devtools.log";
    let mut child = Command::new(env!("CARGO_BIN_EXE_perfgate"))
        .args(["analyze", "-", "--format", "json"])
        .current_dir(repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let bytes = std::fs::read(repo().join(log)).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&bytes));
    let o = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let piped: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let from_file = analyze(&[log]);
    assert!(!handler_samples(&from_file).is_empty());
    assert_eq!(handler_samples(&piped), handler_samples(&from_file));
    assert_eq!(piped["diagnostics"]["lines"], from_file["diagnostics"]["lines"]);
    assert_eq!(piped["diagnostics"]["files"][0]["bytes"], from_file["diagnostics"]["files"][0]["bytes"]);
}

/// The separator a runner's shell writes: `fixtures\logs` on Windows. Reports name the files
/// with `/` on every system, so a report (and a `files = "…"` rule) reads the same everywhere.
#[test]
fn native_paths_are_reported_with_slashes() {
    let sep = std::path::MAIN_SEPARATOR;
    let dir = format!("fixtures{sep}logs");
    let windows = format!("fixtures{sep}logs{sep}windows-powershell.log");
    let r = analyze(&[&dir, &windows]);
    let names: Vec<&str> = r["diagnostics"]["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 7, "{names:?}");
    assert!(names.iter().all(|n| n.starts_with("fixtures/logs/") && !n.contains('\\')), "{names:?}");
    assert_eq!(r, analyze(&["fixtures/logs"]));
}
