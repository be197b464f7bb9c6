//! The reference extractions of `../shared/corpus/SOURCES.md`.

use crate::support::*;

#[test]
fn sample_telemetry_log_with_catalog() {
    let Some(corpus) = corpus("sample_telemetry_log_with_catalog") else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.json");
    let log = corpus.join("console/sample-telemetry.log");
    let o = perfgate(
        dir.path(),
        &["analyze", log.to_str().unwrap(), "--catalog", corpus.join("sequences").to_str().unwrap(), "--json", out.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = json(&out);
    assert_eq!(
        handler_samples(&r),
        expected(&[
            ("LibraryPlugin.loadComponents", &[4.2]),
            ("LibraryPlugin.notifyUi", &[5.2]),
            ("ControlPanelPlugin.initConfig", &[7.6]),
            ("ControlPanelPlugin.initResolver", &[8.5]),
            ("ControlPanelPlugin.loadSchemas", &[7.9]),
            ("ControlPanelPlugin.registerObservers", &[8.7]),
            ("ControlPanelPlugin.notifyReady", &[7.9]),
            ("ControlPanelPlugin.initMovement", &[8.0]),
        ])
    );
    let d = &r["diagnostics"];
    assert_eq!(
        (d["samples"].as_u64(), d["orphans"].as_u64(), d["failed"].as_u64(), d["incomplete"].as_u64()),
        (Some(8), Some(1), Some(0), Some(0))
    );
    assert_eq!(d["unmappedBeats"].as_u64(), Some(0));
    // Lines 2–3: one orphan completion, attributed through the catalog (its event is unique).
    let orphan = &r["orphans"][0];
    assert_eq!((orphan["line"].as_u64(), orphan["beat"].as_u64()), (Some(2), Some(2)));
    assert_eq!(orphan["handler"].as_str(), Some("LibraryPlugin.notifyUi"));
    assert_eq!(orphan["durationMs"].as_f64(), Some(4.7));
    let load = r["handlers"].as_array().unwrap().iter().find(|h| h["name"] == "loadComponents").unwrap();
    assert_eq!(load["executionList"][0]["requestId"].as_str(), Some("library-load-symphony-1761945322362-xmn12t3tr"));
    assert_eq!(load["executionList"][0]["line"].as_u64(), Some(38));
    assert_eq!(load["mapping"].as_str(), Some("catalog"));
    assert_eq!(r["summary"]["totalExecutions"].as_u64(), Some(8));
    assert_eq!(r["summary"]["slowestHandler"].as_str(), Some("registerObservers"));
    assert_eq!(r["summary"]["fastestHandler"].as_str(), Some("loadComponents"));
}

#[test]
fn sample_telemetry_log_without_catalog_uses_databaton_lines() {
    let Some(corpus) = corpus("sample_telemetry_log_without_catalog_uses_databaton_lines") else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.json");
    let log = corpus.join("console/sample-telemetry.log");
    let o = perfgate(dir.path(), &["analyze", log.to_str().unwrap(), "--json", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = json(&out);
    let names: Vec<(String, String)> = r["handlers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (format!("{}.{}", h["plugin"].as_str().unwrap(), h["name"].as_str().unwrap()), h["mapping"].as_str().unwrap().to_owned()))
        .collect();
    let mut names = names;
    names.sort();
    let expect = |n: &str, m: &str| (n.to_owned(), m.to_owned());
    assert_eq!(
        names,
        vec![
            expect("ControlPanelPlugin.control-panel-ui-init-symphony#3 control:panel:ui:init:schemas", "unmapped"),
            expect("ControlPanelPlugin.control-panel-ui-init-symphony#4 control:panel:ui:init:observers", "unmapped"),
            expect("ControlPanelPlugin.control-panel-ui-init-symphony#5 control:panel:ui:init:notify", "unmapped"),
            expect("ControlPanelPlugin.control-panel-ui-init-symphony#6 control:panel:ui:init:movement", "unmapped"),
            expect("ControlPanelPlugin.initConfig", "log"),
            expect("ControlPanelPlugin.initResolver", "log"),
            expect("LibraryPlugin.library-load-symphony#1 library:components:load", "unmapped"),
            expect("LibraryPlugin.library-load-symphony#2 library:components:notify-ui", "unmapped"),
        ]
    );
    assert_eq!(r["diagnostics"]["unmappedBeats"].as_u64(), Some(6));
    assert!(r["orphans"][0]["handler"].is_null(), "without a catalog the orphan stays unattributed");
}

#[test]
fn frames_export_yields_its_25_beats() {
    let Some(corpus) = corpus("frames_export_yields_its_25_beats") else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.json");
    let frames = corpus.join("telemetry-json/frames-web-variant-localhost-1762811808902.json");
    let o = perfgate(
        dir.path(),
        &["analyze", frames.to_str().unwrap(), "--catalog", corpus.join("sequences").to_str().unwrap(), "--json", out.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = json(&out);
    assert_eq!(
        handler_samples(&r),
        expected(&[
            ("HeaderThemePlugin.getCurrentTheme", &[81.7]),
            ("HeaderThemePlugin.notifyUi", &[46.3]),
            ("LibraryPlugin.loadComponents", &[35.5, 23.6]),
            ("LibraryPlugin.notifyUi", &[31.5, 20.9]),
            ("ControlPanelPlugin.initConfig", &[58.7]),
            ("ControlPanelPlugin.initResolver", &[65.0]),
            ("ControlPanelPlugin.loadSchemas", &[43.6]),
            ("ControlPanelPlugin.registerObservers", &[66.0]),
            ("ControlPanelPlugin.notifyReady", &[73.1]),
            ("ControlPanelPlugin.initMovement", &[52.4]),
            ("ControlPanelPlugin.generateFields", &[27.1]),
            ("ControlPanelPlugin.generateSections", &[29.9]),
            ("ControlPanelPlugin.renderView", &[22.5]),
            ("LibraryComponentPlugin.onDragStart", &[8.1]),
            ("LibraryComponentPlugin.publishCreateRequested", &[11.6]),
            ("CanvasComponentPlugin.resolveTemplate", &[10.7]),
            ("CanvasComponentPlugin.registerInstance", &[8.1]),
            ("CanvasComponentPlugin.createNode", &[9.1]),
            ("CanvasComponentPlugin.renderReact", &[8.3]),
            ("CanvasComponentPlugin.notifyUi", &[10.3]),
            ("CanvasComponentPlugin.enhanceLine", &[8.1]),
            ("HeaderThemePlugin.toggleTheme", &[8.7, 11.1]),
        ])
    );
    let d = &r["diagnostics"];
    assert_eq!(
        (d["samples"].as_u64(), d["orphans"].as_u64(), d["failed"].as_u64(), d["incomplete"].as_u64()),
        (Some(25), Some(0), Some(0), Some(0))
    );
    let theme = r["handlers"].as_array().unwrap().iter().find(|h| h["name"] == "getCurrentTheme").unwrap();
    assert_eq!(theme["executionList"][0]["timestamp"].as_str(), Some("2025-11-10T21:56:20.014Z"));
    assert_eq!(theme["executionList"][0]["requestId"].as_str(), Some("header-ui-theme-get-symphony-1762811779999-dk1n41nz7"));
}

#[test]
fn markdown_telemetry_yields_6_plus_1() {
    let Some(corpus) = corpus("markdown_telemetry_yields_6_plus_1") else { return };
    let dir = tempfile::tempdir().unwrap();
    let md = corpus.join("telemetry-md/canvas-create-telemetry-summary.md");
    let out = dir.path().join("out.json");
    let o = perfgate(dir.path(), &["analyze", md.to_str().unwrap(), "--json", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = json(&out);
    // Without a catalog: handlers as the report names them; the plugin of the section's other
    // beats fills in where a block omits it.
    assert_eq!(
        handler_samples(&r),
        expected(&[
            ("CanvasComponentPlugin.resolveTemplate", &[8.0]),
            ("CanvasComponentPlugin.registerInstance", &[7.3]),
            ("CanvasComponentPlugin.createNode", &[8.9]),
            ("CanvasComponentPlugin.renderReact", &[6.8]),
            ("CanvasComponentPlugin.notifyUi", &[8.4]),
            ("CanvasComponentPlugin.enhanceLine", &[7.5]),
            ("Library Component Drop#1 library:component:drop", &[10.2]),
        ])
    );
    // With the catalog the inline beat is named too.
    let Some(corpus) = crate::support::corpus("markdown") else { return };
    let o = perfgate(
        dir.path(),
        &["analyze", md.to_str().unwrap(), "--catalog", corpus.join("sequences").to_str().unwrap(), "--json", out.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0));
    let names: Vec<String> = handler_samples(&json(&out)).into_iter().map(|(n, _)| n).collect();
    assert!(names.contains(&"LibraryComponentPlugin.publishCreateRequested".to_owned()), "{names:?}");
}

#[test]
fn every_corpus_file_is_read_without_error() {
    let Some(corpus) = corpus("every_corpus_file_is_read_without_error") else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.json");
    let pattern = format!("{}/*/*.*", corpus.display());
    let o = perfgate(
        dir.path(),
        &["analyze", &pattern, "--catalog", corpus.join("sequences").to_str().unwrap(), "--json", out.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = json(&out);
    let files = r["diagnostics"]["files"].as_array().unwrap();
    assert_eq!(files.len(), 9);
    // Files without beat timings are named in a warning, not silently dropped.
    let err = stderr(&o);
    assert!(err.contains("telemetry-diagnostics-1762904455548-with-abs.json"), "{err}");
    assert!(err.contains("logs-README.md"), "{err}");
    assert_eq!(r["diagnostics"]["samples"].as_u64(), Some(8 + 25 + 7));
}
