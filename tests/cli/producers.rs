//! The framework's other producers (LOG-FORMATS.md §2(d)–(f)): the build-pipeline symphony
//! console as PowerShell captures it, the sequence player's reports, markdown that names beats
//! by title — each attributed through the fixtures' catalog (`fixtures/packages`, with an
//! orchestration symphony) and, where none is found, named by title.

use crate::support::*;

/// The build console as the producer wrote it (UTF-8): two movements whose beat numbers
/// restart, a failed beat (the `FAILED:` line wrapped by PowerShell and its NativeCommandError
/// block, then the `❌ Beat failed:` repeat), an event object over two lines, a third movement
/// with a `[BEAT undefined]`.
const BUILD: &str = "\
🎼 Build Pipeline Symphony: starting
✅ Movement 1: Validation & Verification
[BEAT 1] Starting: Load Build Context
🎵 [2025-11-27T02:56:07.298Z] Movement 1, Beat 1: Loading build configuration and environment
📍 EVENT: build:context:loaded { environment: 'development',
  node: 'v20.11.0' }
[BEAT 1] Completed: 4ms | Status: success | SLA: compliant | Shape: stable
[BEAT 2] Starting: Validate Orchestration Domains
🎵 [2025-11-27T02:56:07.302Z] Movement 1, Beat 2: Validating orchestration domains
node.exe : [BEAT 2] FAILED: orchestration-domains.json not found
At line:1 char:1
+ node scripts/orchestrate-build-symphony-with-telemetry.js > final-tel ...
+ ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    + CategoryInfo          : NotSpecified: ([BEAT 2] FAILED...ains.json not found:String) [], RemoteException
    + FullyQualifiedErrorId : NativeCommandError
❌ Beat failed: Validate Orchestration Domains
✅ Movement 2: Build
[BEAT 1] Starting: Build components
🎵 [2025-11-27T02:56:07.310Z] Movement 2, Beat 1: Building 12 packages
[BEAT 1] Completed: 1250ms | Status: success | SLA: breach | Shape: drift
[BEAT 2] Starting: Bundle
[BEAT 2] Completed: 380.5ms | Status: success | SLA: compliant | Shape: stable
✅ Movement 3: Verification
[BEAT 1] Starting: Verify Artifacts
[BEAT 1] Completed: 2ms | Status: success | SLA: compliant | Shape: stable
[BEAT undefined] Starting: Run Tests
[BEAT undefined] Completed: 5400ms | Status: success | SLA: compliant | Shape: stable
✅ Build complete: 7036ms ═══
";

/// CP437 (the Windows console's code page), bytes 0x80–0xFF.
const CP437: &str =
    "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{a0}";

/// What `node … > out.txt` in PowerShell leaves: the UTF-8 bytes shown as CP437, CRLF line
/// ends, saved as UTF-16LE with a byte-order mark.
fn powershell_capture(text: &str) -> Vec<u8> {
    let high: Vec<char> = CP437.chars().collect();
    let shown: String = text.bytes().map(|b| if b < 0x80 { char::from(b) } else { high[usize::from(b - 0x80)] }).collect();
    let shown = shown.replace('\n', "\r\n");
    let mut out = vec![0xFF, 0xFE];
    out.extend(shown.encode_utf16().flat_map(u16::to_le_bytes));
    out
}

const CAPTURE: &str = "fixtures/producers/build-symphony.txt";

/// The committed capture is this generator's output (`PERFGATE_BLESS=1` rewrites it).
#[test]
fn the_committed_build_capture_is_generated() {
    let bytes = powershell_capture(BUILD);
    let path = repo().join(CAPTURE);
    if std::env::var_os("PERFGATE_BLESS").is_some() {
        std::fs::write(&path, &bytes).unwrap();
    }
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "{CAPTURE} differs from the generator's output (PERFGATE_BLESS=1 rewrites it)");
    // What the producer printed is not what the capture holds.
    let shown = String::from_utf16(&bytes[2..].chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect::<Vec<_>>()).unwrap();
    assert!(shown.contains("Γ£à Movement 1") && shown.contains("≡ƒÄ╡ [2025") && shown.contains("\r\n"), "{shown}");
}

fn failed(report: &serde_json::Value) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = report["handlers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["failed"].as_u64().unwrap_or(0) > 0)
        .map(|h| (format!("{}.{}", h["plugin"].as_str().unwrap(), h["name"].as_str().unwrap()), h["failed"].as_u64().unwrap()))
        .collect();
    v.sort();
    v
}

#[test]
fn a_build_capture_yields_its_samples_and_failure_through_the_orchestration_catalog() {
    let r = analyze_in(&repo(), &[CAPTURE]);
    assert_eq!(
        handler_samples(&r),
        expected(&[
            ("orchestration.build.context#loadBuildContext", &[4.0]),
            ("orchestration.validation.domains#validateOrchestrationDomains", &[]),
            ("orchestration.build.components#buildComponents", &[1250.0]),
            // The catalog's beat has no handler: named by the sequence and its title.
            ("orchestration.build-pipeline-symphony#2 Bundle", &[380.5]),
            ("orchestration.verify.artifacts#verifyArtifacts", &[2.0]),
            ("orchestration.verify.tests#runTests", &[5400.0]),
        ])
    );
    assert_eq!(failed(&r), [("orchestration.validation.domains#validateOrchestrationDomains".to_owned(), 1)]);
    let d = &r["diagnostics"];
    assert_eq!((d["samples"].as_u64(), d["failed"].as_u64(), d["incomplete"].as_u64()), (Some(5), Some(1), Some(0)), "{d}");
    let file = &d["files"][0];
    assert_eq!((file["format"].as_str(), file["encoding"].as_str()), (Some("build"), Some("utf16-le")), "{file}");
}

#[test]
fn without_a_catalog_build_beats_are_named_by_their_titles_without_mojibake() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("build.txt"), powershell_capture(BUILD)).unwrap();
    let r = analyze_in(dir.path(), &["build.txt"]);
    assert_eq!(
        handler_samples(&r),
        expected(&[
            ("?#1 Load Build Context", &[4.0]),
            ("?#2 Validate Orchestration Domains", &[]),
            ("?#1 Build components", &[1250.0]),
            ("?#2 Bundle", &[380.5]),
            ("?#1 Verify Artifacts", &[2.0]),
            ("?#2 Run Tests", &[5400.0]),
        ])
    );
    assert_eq!(failed(&r), [(".?#2 Validate Orchestration Domains".to_owned(), 1)]);
    // The markdown and HTML carry the titles as written: no `Γ£à`, `≡ƒ` left anywhere.
    let o = perfgate(dir.path(), &["analyze", "build.txt", "--format", "markdown"]);
    let text = stdout(&o);
    assert!(text.contains("Load Build Context") && !text.contains('Γ') && !text.contains('≡'), "{text}");
}

#[test]
fn a_sequence_player_report_gives_one_sample_per_beat_through_the_catalog() {
    let r = analyze_in(&repo(), &["fixtures/producers/report-canvas-component-create.json"]);
    assert_eq!(
        handler_samples(&r),
        expected(&[
            // `resolve-template` is the catalog's `canvas:component:resolve-template` (H24) …
            ("CanvasComponentPlugin.resolveTemplate", &[14.0]),
            ("CanvasComponentPlugin.registerInstance", &[6.0]),
            // … and `create-node` matches no event suffix (`canvas:component:create`): beat 3.
            ("CanvasComponentPlugin.createNode", &[212.0]),
            ("CanvasComponentPlugin.renderReact", &[350.0]),
            ("CanvasComponentPlugin.notifyUi", &[6.0]),
        ])
    );
    assert_eq!(r["diagnostics"]["files"][0]["format"], "player-report");
    // A report perfgate cannot read is said so, with the beat that made it so.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("report.json"), r#"{"sequenceId": "s", "beats": [{"beat": 1, "duration": "12ms"}]}"#).unwrap();
    let o = perfgate(dir.path(), &["analyze", "report.json", "--format", "json"]);
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    let problem = r["diagnostics"]["files"][0]["problem"].as_str().map(str::to_owned).unwrap_or_else(|| stderr(&o));
    assert!(problem.contains("s: beats[0]: duration \"12ms\" is not a number"), "{problem}");
}

#[test]
fn a_block_of_titles_maps_to_the_one_sequence_that_holds_them_all() {
    let r = analyze_in(&repo(), &["fixtures/producers/diagnosis-titles.md"]);
    assert_eq!(
        handler_samples(&r),
        expected(&[
            // Lines with a note or a flag after the duration are kept.
            ("CanvasComponentPlugin.resolveTemplate", &[8.0, 7.0]),
            ("CanvasComponentPlugin.registerInstance", &[3.0]),
            ("CanvasComponentPlugin.createNode", &[12.5]),
            // The named section's `render-react` is the catalog's `canvas:component:render-react`.
            ("CanvasComponentPlugin.renderReact", &[2950.0, 41.0, 38.5]),
            ("CanvasComponentPlugin.notifyUi", &[1.0]),
            // `Notify UI` alone is beat 2 of several sequences.
            ("?#2 Notify UI", &[2.0]),
        ])
    );
}

/// HANDLER-MAPPING.md §4 steps 2–4: the `handlers` map of the `handlersPath` module names the
/// function — through an alias of an import, a spread of another module's map, a re-export
/// chain, an inline method, a re-exported map — where the text rule would find a class method
/// of the same name (`generateSections`) or two `notifyUi`s.
#[test]
fn handler_sources_follow_the_plugins_handlers_map() {
    let r = analyze_in(&repo(), &["fixtures/logs/plain-console.log", "fixtures/logs/cypress-e2e.log", "fixtures/logs/dotnet-host.log"]);
    let mut sources: Vec<(String, Option<String>, Option<u64>)> = r["handlers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["name"].as_str().unwrap().to_owned(), h["sourceFile"].as_str().map(str::to_owned), h["sourceLine"].as_u64()))
        .collect();
    sources.sort();
    let ui = "fixtures/packages/control-panel/src/symphonies/ui";
    let at = |name: &str, file: &str, line: u64| (name.to_owned(), Some(file.to_owned()), Some(line));
    assert_eq!(
        sources,
        [
            at("createCssClass", "fixtures/packages/control-panel/src/symphonies/css/css.stage-crew.ts", 1),
            at("generateFields", &format!("{ui}/ui.render.stage-crew.ts"), 3),
            at("generateSections", &format!("{ui}/ui.render.stage-crew.ts"), 8),
            at("initConfig", &format!("{ui}/ui.stage-crew.ts"), 1),
            at("initResolver", &format!("{ui}/ui.stage-crew.ts"), 5),
            at("loadSchemas", &format!("{ui}/ui.symphony.ts"), 10),
            at("notifyUi", "fixtures/packages/control-panel/src/symphonies/css/css.stage-crew.ts", 5),
            at("renderView", &format!("{ui}/view/render.ts"), 3),
        ]
    );
}

/// A diagnosis report's block of beat titles that abbreviate the catalog's (`Render React` for
/// `Render React Component`, `Enhance Line` for `Enhance Line (Advanced)`) maps to the sequence
/// whose beat numbers agree (all six beats stayed unmapped); a block that two sequences fit
/// (`Resolve`) stays unmapped, and the warning says which sequences fit and where.
#[test]
fn a_block_of_abbreviated_titles_maps_when_the_numbers_agree() {
    let dir = repo().join("fixtures/telemetry/abbreviated");
    let o = perfgate(&dir, &["analyze", "diagnosis.md", "--catalog", "catalog", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        handler_samples(&r),
        expected(&[
            ("CanvasComponentPlugin.resolveTemplate", &[8.0]),
            ("CanvasComponentPlugin.registerInstance", &[3.0]),
            ("CanvasComponentPlugin.createNode", &[12.5]),
            ("CanvasComponentPlugin.renderReact", &[2950.0, 41.0]),
            ("CanvasComponentPlugin.notifyUi", &[1.0]),
            ("CanvasComponentPlugin.enhanceLine", &[4.0, 2.0]),
            ("?#1 Resolve", &[3.0]),
        ])
    );
    let warnings: Vec<&str> = r["diagnostics"]["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert_eq!(
        warnings,
        [
            "diagnosis.md:22: a block of beat titles that several catalog sequences fit (canvas-component-create-symphony, canvas-component-import-symphony): left unmapped; a `#### N. Name Sequence` heading above it, or the catalog's full titles, would say which"
        ]
    );
}
