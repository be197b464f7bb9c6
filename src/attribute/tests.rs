//! The hard cases of LOG-FORMATS.md §5 as tests of the tracker and the attribution.

use super::catalog::{Catalog, CatalogBeat, Sequence};
use super::source::SourceIndex;
use super::tracker::{BeatOutcome, TimedBy};
use super::*;

fn trace(text: &str) -> FileTrace {
    read::read_bytes(text.as_bytes(), Some("log"), InputFormat::Console, 0).trace
}

fn samples(t: &FileTrace) -> Vec<(u32, Option<&str>, f64, TimedBy)> {
    t.beats
        .iter()
        .filter_map(|b| match b.outcome {
            BeatOutcome::Sample { ms, source } => Some((b.beat, b.event.as_deref(), ms, source)),
            _ => None,
        })
        .collect()
}

fn outcomes(t: &FileTrace) -> Vec<BeatOutcome> {
    t.beats.iter().map(|b| b.outcome).collect()
}

const LIBRARY_LOAD: &str = " 🎼 PluginInterfaceFacade.play(): LibraryPlugin -> library-load-symphony
 🎼 ExecutionQueue: Now executing \"Library Load\"
 🆔 Request ID: library-load-symphony-1761945322362-xmn12t3tr
 ⏱️ PerformanceTracker: Started timing beat 1 for Library Load
 🎵 Beat 1 Started: Load Components (library:components:load)
 ⏱️ PerformanceTracker: Beat 1 completed in 4.20ms
 ✅ Completed in 4.20ms
 ✅ BeatExecutor: Beat 1 (library:components:load) completed in 4ms
 ⏱️ PerformanceTracker: Started timing beat 2 for Library Load
 ✅ BeatExecutor: Beat 2 (library:components:notify-ui) completed in 5ms
 ⏱️ PerformanceTracker: Beat 2 completed in 5.20ms
 ✅ Completed in 5.20ms
 ✅ SequenceExecutor: Sequence \"Library Load\" completed in 13ms
";

#[test]
fn h1_one_sample_per_beat_float_preferred_in_either_order() {
    let t = trace(LIBRARY_LOAD);
    assert_eq!(
        samples(&t),
        vec![
            (1, Some("library:components:load"), 4.2, TimedBy::PerformanceTracker),
            (2, Some("library:components:notify-ui"), 5.2, TimedBy::PerformanceTracker),
        ]
    );
    assert_eq!(t.timing_lines, 6);
    assert!(t.orphans.is_empty());
    let info = &t.executions[0];
    assert_eq!(info.id.as_deref(), Some("library-load-symphony"));
    assert_eq!(info.plugin.as_deref(), Some("LibraryPlugin"));
    assert_eq!(info.request.as_deref(), Some("library-load-symphony-1761945322362-xmn12t3tr"));
}

#[test]
fn memory_per_beat_stays_small() {
    // The tracker keeps one record per beat until the end of its file: keep it compact.
    assert!(std::mem::size_of::<BeatRecord>() <= 80, "{}", std::mem::size_of::<BeatRecord>());
    assert!(std::mem::size_of::<Execution>() <= 96, "{}", std::mem::size_of::<Execution>());
}

#[test]
fn h1_integer_fallback_when_the_float_is_missing() {
    let t = trace("⏱️ PerformanceTracker: Started timing beat 1 for A\n✅ BeatExecutor: Beat 1 (a:b) completed in 7ms\n");
    assert_eq!(samples(&t), vec![(1, Some("a:b"), 7.0, TimedBy::BeatExecutor)]);
}

#[test]
fn h2_beat_numbers_restart_per_execution() {
    let t = trace(&format!("{LIBRARY_LOAD}{LIBRARY_LOAD}"));
    assert_eq!(samples(&t).len(), 4);
    let execs: Vec<u32> = t.beats.iter().map(|b| b.execution).collect();
    assert_eq!(execs, vec![0, 0, 1, 1]);
}

#[test]
fn h3_duplicate_beat_numbers_inside_one_sequence() {
    let t = trace(
        "🎼 ExecutionQueue: Now executing \"Canvas Component Export\"
⏱️ PerformanceTracker: Started timing beat 3 for Canvas Component Export
⏱️ PerformanceTracker: Beat 3 completed in 1.50ms
✅ BeatExecutor: Beat 3 (canvas:component:collect-css) completed in 2ms
⏱️ PerformanceTracker: Started timing beat 3 for Canvas Component Export
⏱️ PerformanceTracker: Beat 3 completed in 2.50ms
✅ BeatExecutor: Beat 3 (canvas:component:collect-layout) completed in 3ms
",
    );
    let s = samples(&t);
    assert_eq!(s.len(), 2);
    assert_eq!((s[0].1, s[0].2, s[1].1, s[1].2), (Some("canvas:component:collect-css"), 1.5, Some("canvas:component:collect-layout"), 2.5));
    // The catalog disambiguates the two beat 3s by event.
    let mut catalog = catalog_of(&[(
        "canvas-component-export-symphony",
        "Canvas Component Export",
        "CanvasComponentExportPlugin",
        &[(3, "canvas:component:collect-css", "collectCssClasses"), (3, "canvas:component:collect-layout", "collectLayoutData")],
    )]);
    let a = run(&t, &mut catalog);
    let names: Vec<String> = a.handlers.keys().map(HandlerKey::display).collect();
    assert_eq!(names, vec!["CanvasComponentExportPlugin.collectCssClasses", "CanvasComponentExportPlugin.collectLayoutData"]);
}

#[test]
fn h4_capture_starts_and_ends_mid_beat() {
    let t = trace(
        " ✅ Completed in 4.70ms
 ✅ BeatExecutor: Beat 2 (library:components:notify-ui) completed in 5ms
 ⏱️ PerformanceTracker: Movement Load completed in 12.80ms
 ⏱️ PerformanceTracker: Started timing beat 1 for Library Load
",
    );
    assert!(samples(&t).is_empty());
    assert_eq!(t.orphans.len(), 1, "T4 and T3 of one beat make one orphan");
    let o = &t.orphans[0];
    assert_eq!(
        (o.beat, o.event.as_deref(), o.ms, o.source),
        (Some(2), Some("library:components:notify-ui"), 4.7, TimedBy::PerformanceTracker)
    );
    assert_eq!(outcomes(&t), vec![BeatOutcome::Incomplete]);
    // The orphan is attributed only because the catalog makes its event unambiguous.
    let mut catalog =
        catalog_of(&[("library-load-symphony", "Library Load", "LibraryPlugin", &[(2, "library:components:notify-ui", "notifyUi")])]);
    let a = run(&t, &mut catalog);
    assert_eq!(a.orphans[0].handler.as_ref().map(HandlerKey::display).as_deref(), Some("LibraryPlugin.notifyUi"));
    assert_eq!((a.counts.samples, a.counts.orphans, a.counts.incomplete), (0, 1, 1));
    let a = run(&t, &mut Catalog::default());
    assert_eq!(a.orphans[0].handler, None);
}

#[test]
fn h6_failed_and_incomplete_beats_are_never_samples() {
    let t = trace(
        "🎼 ExecutionQueue: Now executing \"Canvas Component Create\"
⏱️ PerformanceTracker: Started timing beat 1 for Canvas Component Create
⏱️ PerformanceTracker: Beat 1 completed in 3.00ms
⏱️ PerformanceTracker: Started timing beat 2 for Canvas Component Create
⏱️ PerformanceTracker: Started timing beat 3 for Canvas Component Create
❌ BeatExecutor: Beat 3 (canvas:component:create) failed: TypeError: x is undefined
    at createNode (create.stage-crew.ts:39:5)
❌ SequenceExecutor: Sequence \"Canvas Component Create\" failed at movement 0, beat 3:
",
    );
    assert_eq!(
        outcomes(&t),
        vec![BeatOutcome::Sample { ms: 3.0, source: TimedBy::PerformanceTracker }, BeatOutcome::Incomplete, BeatOutcome::Failed]
    );
    assert_eq!(t.beats[2].event.as_deref(), Some("canvas:component:create"));
}

#[test]
fn h8_stale_failed_movement_wording_is_not_a_failure() {
    let t = trace(
        "⏱️ PerformanceTracker: Started timing beat 1 for Header UI Theme Get
⏱️ PerformanceTracker: Beat 1 completed in 81.70ms
✅ BeatExecutor: Beat 1 (app:ui:theme:get) completed in 82ms
⏱️ PerformanceTracker: Cleaned up failed movement Get Current Theme for Header UI Theme Get
",
    );
    assert_eq!(samples(&t), vec![(1, Some("app:ui:theme:get"), 81.7, TimedBy::PerformanceTracker)]);
}

#[test]
fn h10_handler_lines_after_completion_under_batched_name_match_by_event_and_request() {
    let t = trace(
        "🎼 PluginInterfaceFacade.play(): ControlPanelPlugin -> control-panel-ui-init-symphony
🎼 ExecutionQueue: Now executing \"Control Panel UI Init\"
🆔 Request ID: control-panel-ui-init-symphony-1762811780233-4djgxprzu
⏱️ PerformanceTracker: Started timing beat 1 for Control Panel UI Init
🎵 Beat 1 Started: Init Config (control:panel:ui:init:config)
⏱️ PerformanceTracker: Beat 1 completed in 58.70ms
✅ BeatExecutor: Beat 1 (control:panel:ui:init:config) completed in 58ms
⏱️ PerformanceTracker: Started timing beat 2 for Control Panel UI Init
🎵 Beat 2 Started: Init Resolver (control:panel:ui:init:resolver)
⏱️ PerformanceTracker: Beat 2 completed in 65.00ms
✅ SequenceExecutor: Sequence \"Control Panel UI Init\" completed in 130ms
🎽 DataBaton: +configLoaded | seq=Control Panel UI Init (Batched) beat=? event=control:panel:ui:init:config handler=initConfig plugin=ControlPanelPlugin req=control-panel-ui-init-symphony-1762811780233-4djgxprzu preview={\"a|b seq=x\":1}
🎽 DataBaton: ~resolver | seq=Control Panel UI Init (Batched) beat=? event=control:panel:ui:init:resolver handler=initResolver plugin=ControlPanelPlugin req=some-other-symphony-1762811780233-zzzzzz preview={}
",
    );
    let a = run(&t, &mut Catalog::default());
    let keys: Vec<(String, Mapping)> = a.handlers.iter().map(|(k, d)| (k.display(), d.mapping)).collect();
    assert_eq!(
        keys,
        vec![
            ("ControlPanelPlugin.control-panel-ui-init-symphony#2 control:panel:ui:init:resolver".to_owned(), Mapping::Unmapped),
            ("ControlPanelPlugin.initConfig".to_owned(), Mapping::Log),
        ],
        "the resolver hint belongs to another request and is not used"
    );
    assert_eq!(a.counts.unmapped, 1);
}

#[test]
fn h11_h12_same_handler_in_many_plugins_and_same_event_in_two_sequences() {
    let mut catalog = catalog_of(&[
        ("library-load-symphony", "Library Load", "LibraryPlugin", &[(2, "library:components:notify-ui", "notifyUi")]),
        ("header-ui-theme-get-symphony", "Header UI Theme Get", "HeaderThemePlugin", &[(2, "app:ui:theme:notify", "notifyUi")]),
        (
            "control-panel-ui-init-symphony",
            "Control Panel UI Init",
            "ControlPanelPlugin",
            &[(1, "control:panel:ui:init:config", "initConfig")],
        ),
        (
            "control-panel-ui-init-batched-symphony",
            "Control Panel UI Init (Batched)",
            "ControlPanelPlugin",
            &[(1, "control:panel:ui:init:config", "initConfig")],
        ),
    ]);
    let t = trace(
        "⏱️ PerformanceTracker: Started timing beat 2 for Library Load
⏱️ PerformanceTracker: Beat 2 completed in 5.00ms
⏱️ PerformanceTracker: Started timing beat 2 for Header UI Theme Get
⏱️ PerformanceTracker: Beat 2 completed in 6.00ms
⏱️ PerformanceTracker: Started timing beat 1 for Some Unknown Name
✅ BeatExecutor: Beat 1 (control:panel:ui:init:config) completed in 7ms
",
    );
    let a = run(&t, &mut catalog);
    let names: Vec<String> = a.handlers.keys().map(HandlerKey::display).collect();
    assert_eq!(names, vec!["ControlPanelPlugin.initConfig", "HeaderThemePlugin.notifyUi", "LibraryPlugin.notifyUi"]);
}

#[test]
fn h13_h14_h15_mixed_envelopes_in_one_file() {
    let t = trace(
        "EventBus.ts:56 2025-11-10T21:56:20.154Z 🎼 ExecutionQueue: Now executing \"Library Load\"\r
installHook.js:1 2025-11-10T21:56:20.159Z ⏱️ PerformanceTracker: Started timing beat 1 for Library Load\r
EventLogger.ts:139 🎵 Beat 1 Started: Load Components (library:components:load)\r
 {sequence: 'Library Load', movement: 'Movement 1', beat: 1, type: 'UNKNOWN', timing: 'immediate', …}\r
[2025-11-17T16:40:45.055Z] LOG 2025-11-10T21:56:20.194Z ⏱️ PerformanceTracker: Beat 1 completed in 35.50ms\r
[2025-11-17T16:40:45.055Z] LOG 2025-11-10T21:56:20.195Z %c✅ Completed in 35.50ms color: #28A745; font-weight: bold;\r
 2025-11-10T21:56:20.196Z ✅ BeatExecutor: Beat 1 (library:components:load) completed in 36ms\r
",
    );
    assert_eq!(samples(&t), vec![(1, Some("library:components:load"), 35.5, TimedBy::PerformanceTracker)]);
    assert_eq!(t.beats[0].ts, crate::timestamp::parse_iso(b"2025-11-10T21:56:20.159Z").map(|x| x.0));
    assert_eq!(t.beats[0].at.line, 5);
}

#[test]
fn h22_subscriptions_are_not_beat_starts() {
    let t = trace(
        "📡 EventBus: Subscribed to \"musical-conductor:beat:started\" (1 total subscribers)
📡 EventBus: Subscribed to \"beat-completed\" (1 total subscribers)
",
    );
    assert!(t.beats.is_empty());
    assert_eq!(t.recognized, 0);
}

#[test]
fn dotnet_host_beats_with_decimal_comma() {
    let t = trace(
        "[2025-11-09 14:30:46.789 +01:00] [INF] MusicalConductor.Core.SequenceExecutor: 🎼 SequenceExecutor: Starting sequence execution: control-panel-css-create-symphony (RequestId=control-panel-css-create-symphony-1762695046789-ab12cd, PluginId=ControlPanelPlugin)
[2025-11-09 14:30:46.790 +01:00] [INF] MusicalConductor.Core.SequenceExecutor: 🎵 SequenceExecutor: Executing sequence \"Control Panel CSS Create\" with 2 beats
[2025-11-09 14:30:46.791 +01:00] [INF] MusicalConductor.Core.SequenceExecutor: 🥁 SequenceExecutor: Executing beat 1 (control:panel:css:create)
[2025-11-09 14:30:46.803 +01:00] [INF] MusicalConductor.Core.SequenceExecutor: ✅ SequenceExecutor: Beat 1 (control:panel:css:create) completed in 12,3456ms
[2025-11-09 14:30:46.804 +01:00] [INF] MusicalConductor.Core.SequenceExecutor: 🥁 SequenceExecutor: Executing beat 2 (control:panel:css:notify)
[2025-11-09 14:30:46.805 +01:00] [ERR] MusicalConductor.Core.SequenceExecutor: ❌ SequenceExecutor: Error executing beat 2 (control:panel:css:notify)
System.InvalidOperationException: boom
   at RenderX.Handlers.Notify()
[2025-11-09 14:30:46.806 +01:00] [INF] MusicalConductor.Core.SequenceExecutor: ✅ SequenceExecutor: Sequence \"Control Panel CSS Create\" completed in 15,2ms (1/2 beats)
",
    );
    assert_eq!(samples(&t), vec![(1, Some("control:panel:css:create"), 12.3456, TimedBy::BeatExecutor)]);
    assert_eq!(outcomes(&t)[1], BeatOutcome::Failed);
    let info = &t.executions[0];
    assert_eq!((info.name.as_deref(), info.plugin.as_deref()), (Some("Control Panel CSS Create"), Some("ControlPanelPlugin")));
}

/// (id, name, plugin, beats as (number, event, handler)).
type SequenceSpec<'a> = (&'a str, &'a str, &'a str, &'a [(u32, &'a str, &'a str)]);

fn catalog_of(seqs: &[SequenceSpec<'_>]) -> Catalog {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (id, name, plugin, beats) in seqs {
        let seq = Sequence {
            id: (*id).into(),
            name: (*name).into(),
            plugin: (*plugin).into(),
            path: dir.path().join(format!("{id}.json")),
            handlers_path: None,
            beats: beats
                .iter()
                .map(|(n, e, h)| CatalogBeat { beat: *n, event: (*e).into(), title: None, handler: Some((*h).into()), kind: None })
                .collect(),
        };
        let json = serde_json::json!({
            "pluginId": seq.plugin, "id": seq.id, "name": seq.name,
            "movements": [{"id": "m", "name": "M", "beats": seq.beats.iter().map(|b| serde_json::json!({"beat": b.beat, "event": b.event, "handler": b.handler})).collect::<Vec<_>>()}]
        });
        std::fs::write(&seq.path, json.to_string()).unwrap();
        paths.push(seq.path);
    }
    Catalog::load(&paths).unwrap()
}

fn run(t: &FileTrace, catalog: &mut Catalog) -> Attribution {
    let sources = std::sync::Mutex::new(SourceIndex::new(std::path::Path::new(".")));
    let mut a = Attributor::new(catalog, &sources, usize::MAX);
    a.add(t.clone());
    a.finish()
}

mod any_bytes {
    use super::*;
    use proptest::prelude::*;

    fn fragments() -> impl Strategy<Value = Vec<u8>> {
        // Real line shapes cut and recombined with arbitrary bytes, so the parser's interesting
        // paths are reached, not only its early exits.
        let pieces = prop::sample::select(vec![
            "⏱️ PerformanceTracker: Started timing beat ",
            "⏱️ PerformanceTracker: Beat ",
            " completed in ",
            "✅ BeatExecutor: Beat ",
            "✅ Completed in ",
            "🎼 ExecutionQueue: Now executing \"",
            "🎽 DataBaton: x | seq=",
            " beat=? event=",
            " handler=",
            "**Beat ",
            "- **Duration**: ",
            "EventBus.ts:56 ",
            "[2025-11-17T16:40:45.055Z] LOG ",
            "[2025-11-09 14:30:46.789 -05:00] [INF] A.B: ",
            "SequenceExecutor: Beat ",
            "\n",
            "\r\n",
            "1",
            "12,5ms",
            "(",
            ")",
            "\"",
            "{\"frames\":[{\"ts\":\"x\",\"events\":[{\"raw\":\"",
        ]);
        prop::collection::vec(prop_oneof![pieces.prop_map(|s| s.as_bytes().to_vec()), prop::collection::vec(any::<u8>(), 0..8)], 0..60)
            .prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn never_panics_on_any_bytes(bytes in fragments(), raw in prop::collection::vec(any::<u8>(), 0..256)) {
            for input in [&bytes, &raw] {
                let (text, _) = crate::input::decode(input.clone());
                for format in [InputFormat::Auto, InputFormat::Console, InputFormat::Markdown, InputFormat::Frames] {
                    let traced = read::read_bytes(&text, Some("log"), format, 0);
                    let a = run(&traced.trace, &mut Catalog::default());
                    let total = a.counts.samples + a.counts.failed + a.counts.incomplete;
                    prop_assert_eq!(total, traced.trace.beats.len() as u64);
                    for d in a.handlers.values() {
                        for ms in &d.durations {
                            prop_assert!(ms.is_finite() && *ms >= 0.0);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn a_duration_out_of_range_is_rejected_where_it_is_read() {
    // Beat 1's float is absurd (an overflowed counter, 10¹² ms): its integer copy stands. Beat
    // 2's only duration is: the beat is never a sample. Both lines are counted with their line.
    let t = trace(
        " ⏱️ PerformanceTracker: Started timing beat 1 for Library Load
 ⏱️ PerformanceTracker: Beat 1 completed in 1000000000000.00ms
 ✅ BeatExecutor: Beat 1 (library:components:load) completed in 4ms
 ⏱️ PerformanceTracker: Started timing beat 2 for Library Load
 ✅ BeatExecutor: Beat 2 (library:components:notify-ui) completed in 99999999999999999999999ms
 ⏱️ PerformanceTracker: Started timing beat 3 for Library Load
 ⏱️ PerformanceTracker: Beat 3 completed in 1000000000.00ms
",
    );
    assert_eq!(
        samples(&t),
        vec![(1, Some("library:components:load"), 4.0, TimedBy::BeatExecutor), (3, None, 1e9, TimedBy::PerformanceTracker)]
    );
    assert_eq!(t.rejected.count, 2);
    assert_eq!(t.rejected.first, vec![(2, 1e12), (5, 1e23)]);
    assert_eq!(outcomes(&t)[1], BeatOutcome::Incomplete);
}

/// A handler named otherwise than by the catalog is found by the parts of its name: they match
/// the name they write, and only it.
#[test]
fn names_by_parts_match_the_names_they_write() {
    let unmapped = Name::Unmapped { sequence: "Library Load #2", beat: 12, what: "lib:load two" };
    assert_eq!(unmapped.to_owned(), "Library Load #2#12 lib:load two");
    assert!(unmapped.is("Library Load #2#12 lib:load two"));
    for other in [
        "Library Load #2#012 lib:load two",
        "Library Load #2#1 lib:load two",
        "Library Load #2#12 lib:load",
        "Library Load #2#12",
        "",
        "#12 lib:load two",
        "Library Load #2#+12 lib:load two",
    ] {
        assert!(!unmapped.is(other), "{other}");
    }
    assert!(Name::Unmapped { sequence: "S", beat: 0, what: "?" }.is("S#0 ?"));
    assert!(Name::Whole("initConfig").is("initConfig") && !Name::Whole("initConfig").is("initConfig2"));
    assert_ne!(Name::Whole("S#1 e").hash("P"), unmapped.hash("P"));
    assert_eq!(unmapped.hash("P"), Name::Unmapped { sequence: "Library Load #2", beat: 12, what: "lib:load two" }.hash("P"));
    assert_ne!(unmapped.hash("P"), unmapped.hash("Q"));
}

/// The handler lines of an event are looked up, not read, when they all name one handler and
/// plugin; the answer is the one reading them gives, for a request id or none, as lines come
/// and leave the window.
#[test]
fn handler_lines_looked_up_answer_as_read() {
    use super::hints::Hints;
    use super::tracker::HandlerHint;
    fn read<'h>(hints: &'h Hints, event: &str, request: Option<&str>) -> Option<(&'h str, Option<&'h str>)> {
        let lines = hints.of_event(event)?.lines();
        let mut matching = lines.filter(|h| request.is_none() || h.request.is_none() || h.request.as_deref() == request);
        let first = matching.clone().next()?;
        if matching.clone().any(|h| h.handler != first.handler) {
            return None;
        }
        Some((&*first.handler, matching.find_map(|h| h.plugin.as_deref())))
    }
    let hint = |handler: &str, plugin: Option<&str>, request: Option<&str>| HandlerHint {
        event: "e".into(),
        handler: handler.into(),
        plugin: plugin.map(Into::into),
        request: request.map(Into::into),
    };
    let lines = [
        hint("h", Some("P"), Some("r1")),
        hint("h", Some("P"), Some("r2")),
        hint("h", Some("P"), None),
        hint("h", None, Some("r3")),
        hint("g", Some("P"), Some("r4")),
        hint("h", Some("P"), Some("r5")),
        hint("h", Some("P"), Some("r5")),
    ];
    let mut hints = Hints::default();
    for (tag, line) in lines.into_iter().enumerate() {
        hints.push(tag as u64, line);
        for request in [None, Some("r1"), Some("r2"), Some("r3"), Some("r4"), Some("r5"), Some("r9")] {
            let looked_up = hinted(&hints, "e", request).map(|(h, p)| (&**h, p.map(|p| &**p)));
            assert_eq!(looked_up, read(&hints, "e", request), "{tag}: {request:?}");
        }
        assert_eq!(hinted(&hints, "other", None), None);
    }
    for tag in 0..8 {
        hints.drop_before(tag);
        for request in [None, Some("r1"), Some("r3"), Some("r5"), Some("r9")] {
            let looked_up = hinted(&hints, "e", request).map(|(h, p)| (&**h, p.map(|p| &**p)));
            assert_eq!(looked_up, read(&hints, "e", request), "dropped before {tag}, {request:?}");
        }
    }
}

/// Many handlers share the drill-down budget: each keeps its share (its slowest first) and says
/// it was capped, and the executions kept by all of them stay within the budget while the log
/// is read, not only at the end.
#[test]
fn many_handlers_share_the_drill_down_budget() {
    let (handlers, per_handler, budget) = (200u32, 50u32, 4_000);
    let mut log = String::new();
    // Handler after handler: the first ones keep all theirs until the later ones come.
    for h in 0..handlers {
        for i in 0..per_handler {
            let ms = (i * 7 % per_handler) + 1;
            log.push_str(&format!(
                "⏱️ PerformanceTracker: Started timing beat 1 for A\n✅ BeatExecutor: Beat 1 (ev:{h}) completed in {ms}ms\n"
            ));
        }
    }
    let catalog = Catalog::default();
    let sources = std::sync::Mutex::new(SourceIndex::new(std::path::Path::new(".")));
    let mut a = Attributor::new(&catalog, &sources, 1000).with_drill_budget(budget);
    let mut t = trace(&log);
    let mut most = 0;
    for chunk in std::mem::take(&mut t.beats).chunks(500).rev() {
        let mut part = t.clone();
        part.beats = chunk.to_vec();
        a.add(part);
        most = most.max(a.slots.iter().map(|s| s.data.drill.len()).sum::<usize>());
    }
    assert!(most <= budget * 4 / 3 + 1000, "{most} kept while reading");
    let out = a.finish();
    assert_eq!(out.handlers.len(), handlers as usize);
    let cap = drill::cap(1000, budget, handlers as usize);
    assert_eq!(cap, 20);
    let mut kept = 0;
    for (key, data) in &out.handlers {
        let list = data.drill.kept();
        kept += list.len();
        // Its slowest and its sample may share an execution.
        assert!((cap - cap / 10..=cap).contains(&list.len()), "{}: {}", key.display(), list.len());
        assert_eq!((data.drill.capped(), data.drill.truncated()), (Some(cap), true), "{}", key.display());
        // The slowest tenth: 50 ms and 49 ms.
        let mut ms: Vec<f64> = list.iter().map(|e| e.ms).collect();
        ms.sort_by(f64::total_cmp);
        assert_eq!(ms[ms.len() - 2..], [49.0, 50.0], "{}", key.display());
    }
    assert!(kept <= budget, "{kept}");
}
