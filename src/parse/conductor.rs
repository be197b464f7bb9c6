//! The Musical Conductor's messages (LOG-FORMATS.md §1.1–1.3 and the C# templates of §2(c)),
//! recognized on the message left after [`super::envelope::peel`]. Recognition anchors on ASCII
//! keywords (`PerformanceTracker: `, `BeatExecutor: `…), never on emoji, and checks the first
//! byte before anything else so that the many lines that carry nothing cost almost nothing.

use super::{Event, HandlerLine, txt};

/// Recognizes one message. `None` for everything perfgate does not need — including
/// subscriptions (`EventBus: Subscribed to "musical-conductor:beat:started"`, C23/H22), which
/// are not beats, and analyser rewrites such as `PerformanceTracker: ✅ Beat 1: 15.20ms` (H21).
pub fn recognize(msg: &[u8]) -> Option<Event<'_>> {
    let first = *msg.first()?;
    if !matches!(first, b'P' | b'B' | b'C' | b'D' | b'E' | b'M' | b'R' | b'S') {
        return None;
    }
    // Cypress prints `%c` arguments literally: a CSS residue may end any message (H15).
    let msg = super::envelope::strip_css_residue(msg);
    match first {
        b'P' => {
            if let Some(r) = msg.strip_prefix(b"PerformanceTracker: ") {
                performance_tracker(r)
            } else if let Some(r) = msg.strip_prefix(b"PluginInterfaceFacade.play(): ") {
                let (plugin, id) = split(r, b" -> ")?;
                Some(Event::PlayRequested { plugin: txt(plugin), sequence_id: txt(token(id)) })
            } else {
                None
            }
        }
        b'B' => {
            if let Some(r) = msg.strip_prefix(b"BeatExecutor: Beat ") {
                beat_executor(r)
            } else if let Some(r) = msg.strip_prefix(b"Beat ") {
                // C14 `Beat N Started: TITLE (EVENT)`.
                let (beat, r) = number(r)?;
                let r = r.strip_prefix(b" Started: ")?;
                let (title, event) = paren_suffix(r)?;
                Some(Event::BeatDescribed { beat, title: txt(title), event: txt(event) })
            } else {
                None
            }
        }
        b'C' => {
            let r = msg.strip_prefix(b"Completed in ")?;
            Some(Event::CompletedCopy { ms: ms(r) })
        }
        b'D' => data_baton(msg.strip_prefix(b"DataBaton: ")?),
        b'E' => {
            if let Some(r) = msg.strip_prefix(b"ExecutionQueue: ") {
                if let Some(r) = r.strip_prefix(b"Now executing \"") {
                    return Some(Event::ExecutionStarted { name: txt(r.strip_suffix(b"\"")?) });
                }
                let r = r.strip_prefix(b"Marked \"")?;
                let (name, _) = split(r, b"\" as completed")?;
                Some(Event::SequenceEnded { name: txt(name) })
            } else {
                let r = msg.strip_prefix(b"Event: ")?;
                Some(Event::BeatEvent { event: txt(token(r)) })
            }
        }
        b'M' => {
            if let Some(r) = msg.strip_prefix(b"MovementExecutor: Movement \"") {
                if find(r, b"\" completed successfully").is_some() {
                    Some(Event::MovementEnded)
                } else if find(r, b"\" failed").is_some() {
                    Some(Event::MovementFailed)
                } else {
                    None
                }
            } else if msg.starts_with(b"Movement completed in ") {
                Some(Event::MovementEnded)
            } else if msg.starts_with(b"Movement failed") {
                Some(Event::MovementFailed)
            } else if let Some(r) = msg.strip_prefix(b"MusicalConductor.play ENTRY: pluginId=") {
                let (plugin, r) = split(r, b", sequenceId=")?;
                Some(Event::PlayRequested { plugin: txt(plugin), sequence_id: txt(token(r)) })
            } else {
                None
            }
        }
        b'R' => {
            let r = msg.strip_prefix(b"Request ID: ")?;
            Some(Event::RequestId { request: txt(token(r)) })
        }
        b'S' => {
            if let Some(r) = msg.strip_prefix(b"SequenceExecutor: ") {
                sequence_executor(r)
            } else if let Some(r) = msg.strip_prefix(b"SequenceOrchestrator: Sequence \"") {
                let (name, r) = split(r, b"\" (id: ")?;
                let (id, _) = split(r, b") queued successfully")?;
                Some(Event::SequenceBound { name: txt(name), id: txt(id) })
            } else {
                None
            }
        }
        _ => None,
    }
}

fn performance_tracker(r: &[u8]) -> Option<Event<'_>> {
    if let Some(r) = r.strip_prefix(b"Started timing beat ") {
        let (beat, r) = number(r)?;
        let sequence = r.strip_prefix(b" for ")?;
        return Some(Event::BeatStarted { sequence: txt(sequence), beat });
    }
    if let Some(r) = r.strip_prefix(b"Beat state transitioned to FAILED - ") {
        // `{SequenceName}:{Beat}`.
        let colon = memchr::memrchr(b':', r)?;
        let (beat, _) = number(&r[colon + 1..])?;
        return Some(Event::BeatFailed { beat: Some(beat), event: None, sequence: Some(txt(&r[..colon])) });
    }
    if let Some(r) = r.strip_prefix(b"Cleaned up failed beat ") {
        let (beat, r) = number(r)?;
        let sequence = r.strip_prefix(b" for ")?;
        return Some(Event::BeatFailed { beat: Some(beat), event: None, sequence: Some(txt(sequence)) });
    }
    if let Some(r) = r.strip_prefix(b"Beat ") {
        let (beat, r) = number(r)?;
        let r = r.strip_prefix(b" completed in ")?;
        return Some(Event::PerfCompleted { beat, ms: ms(r) });
    }
    if r.starts_with(b"Movement ") && find(r, b" completed in ").is_some() {
        return Some(Event::MovementEnded);
    }
    None
}

/// After `BeatExecutor: Beat `.
fn beat_executor(r: &[u8]) -> Option<Event<'_>> {
    let (beat, r) = number(r)?;
    if r.starts_with(b" failed") {
        return Some(Event::BeatFailed { beat: Some(beat), event: None, sequence: None });
    }
    let r = r.strip_prefix(b" (")?;
    if let Some((event, rest)) = split(r, b") completed in ") {
        return Some(Event::ExecCompleted { beat, event: txt(event), ms: ms(rest) });
    }
    let (event, _) = split(r, b") failed")?;
    Some(Event::BeatFailed { beat: Some(beat), event: Some(txt(event)), sequence: None })
}

/// The duration after `completed in `, in milliseconds: `NaN` when it is not one with its
/// unit (`3msg`, `4 min`, `1,23.4ms`), so that the tracker rejects the line and counts it.
#[inline]
fn ms(r: &[u8]) -> f64 {
    super::duration_ms(r).0
}

/// After `SequenceExecutor: ` — the TypeScript T7 and the .NET host's templates.
fn sequence_executor(r: &[u8]) -> Option<Event<'_>> {
    if let Some(r) = r.strip_prefix(b"Sequence \"") {
        if let Some((name, _)) = split(r, b"\" completed in ") {
            return Some(Event::SequenceEnded { name: txt(name) });
        }
        let (name, _) = split(r, b"\" failed")?;
        return Some(Event::SequenceFailed { name: txt(name) });
    }
    if let Some(r) = r.strip_prefix(b"Beat ") {
        let (beat, r) = number(r)?;
        let r = r.strip_prefix(b" (")?;
        let (event, rest) = split(r, b") completed in ")?;
        return Some(Event::ExecCompleted { beat, event: txt(event), ms: ms(rest) });
    }
    if let Some(r) = r.strip_prefix(b"Executing beat ") {
        let (beat, r) = number(r)?;
        let (_, event) = paren_suffix(r)?;
        return Some(Event::HostBeatStarted { beat, event: txt(event) });
    }
    if let Some(r) = r.strip_prefix(b"Error executing beat ") {
        let (beat, r) = number(r)?;
        let event = paren_suffix(r).map(|(_, e)| txt(e));
        return Some(Event::BeatFailed { beat: Some(beat), event, sequence: None });
    }
    if let Some(r) = r.strip_prefix(b"Executing sequence \"") {
        let (name, _) = split(r, b"\" with ")?;
        return Some(Event::ExecutionNamed { name: txt(name) });
    }
    if let Some(r) = r.strip_prefix(b"Starting sequence execution: ") {
        let (id, rest) = match split(r, b" (") {
            Some((id, rest)) => (id, rest),
            None => (token(r), &b""[..]),
        };
        let request = field(rest, b"RequestId=", b",)").map(txt);
        let plugin = field(rest, b"PluginId=", b",)").map(txt);
        return Some(Event::HostExecutionStarted { sequence_id: txt(id), request, plugin });
    }
    None
}

/// C17/C18: `<changes> | seq=S beat=B event=E handler=H[ plugin=P req=R preview=…]`. Only the
/// handler-level form (`beat=?`, `handler=<name>`) says something the beat lines do not.
fn data_baton(r: &[u8]) -> Option<Event<'_>> {
    let at = find(r, b"| seq=")?;
    let r = &r[at + 6..];
    let (sequence, r) = split(r, b" beat=")?;
    let (beat, r) = split(r, b" event=")?;
    // The beat-level line (`beat=N … handler=?`), as common as the handler lines, never names
    // the handler: it is left before the rest is read.
    if beat != b"?" {
        return None;
    }
    let (event, r) = split(r, b" handler=")?;
    let handler = token(r);
    if handler == b"?" || handler.is_empty() {
        return None;
    }
    let rest = &r[handler.len()..];
    let plugin = field(rest, b" plugin=", b" ").map(txt);
    let request = field(rest, b" req=", b" ").map(txt);
    Some(Event::HandlerSeen(Box::new(HandlerLine { sequence: txt(sequence), event: txt(event), handler: txt(handler), plugin, request })))
}

/// Value of `key` in `s`, up to the first byte of `stops` (or the end).
fn field<'a>(s: &'a [u8], key: &[u8], stops: &[u8]) -> Option<&'a [u8]> {
    let at = find(s, key)? + key.len();
    let v = &s[at..];
    let end = v.iter().position(|b| stops.contains(b)).unwrap_or(v.len());
    (end > 0).then(|| &v[..end])
}

/// First occurrence of `needle` (non-empty) in a short haystack: a line is too short for
/// `memmem`'s searcher set-up to pay off.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(p) = memchr::memchr(needle[0], &hay[from..]) {
        let at = from + p;
        if hay[at..].starts_with(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Last occurrence of `needle` (non-empty) in a short haystack.
fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let mut end = hay.len();
    while let Some(at) = memchr::memrchr(needle[0], &hay[..end]) {
        if hay[at..].starts_with(needle) {
            return Some(at);
        }
        end = at;
    }
    None
}

/// A leading unsigned integer and what follows it.
fn number(s: &[u8]) -> Option<(u32, &[u8])> {
    let n = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if n == 0 || n > 9 {
        return None;
    }
    let v = s[..n].iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
    Some((v, &s[n..]))
}

/// The first `needle`-separated split.
fn split<'a>(s: &'a [u8], needle: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
    let at = find(s, needle)?;
    Some((&s[..at], &s[at + needle.len()..]))
}

/// `TEXT (INNER)` at the end of `s` → (TEXT, INNER), split at the last ` (`.
fn paren_suffix(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let s = s.strip_suffix(b")")?;
    let at = rfind(s, b" (")?;
    Some((&s[..at], &s[at + 2..]))
}

/// Up to the first white space.
fn token(s: &[u8]) -> &[u8] {
    let end = s.iter().position(u8::is_ascii_whitespace).unwrap_or(s.len());
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::super::envelope::peel;
    use super::*;

    fn ev(line: &str) -> Option<Event<'static>> {
        let line: &'static str = Box::leak(line.to_owned().into_boxed_str());
        recognize(peel(line.as_bytes()).message)
    }

    #[test]
    fn timing_lines_t1_to_t4() {
        assert_eq!(
            ev(" ⏱️ PerformanceTracker: Started timing beat 1 for Library Load"),
            Some(Event::BeatStarted { sequence: "Library Load".into(), beat: 1 })
        );
        assert_eq!(ev(" ⏱️ PerformanceTracker: Beat 1 completed in 81.70ms"), Some(Event::PerfCompleted { beat: 1, ms: 81.7 }));
        assert_eq!(
            ev("   ✅ BeatExecutor: Beat 2 (library:components:notify-ui) completed in 5ms"),
            Some(Event::ExecCompleted { beat: 2, event: "library:components:notify-ui".into(), ms: 5.0 })
        );
        assert_eq!(
            ev("[2025-11-17T16:40:45.055Z] LOG 2025-11-17T16:40:45.055Z %c✅ Completed in 8.90ms color: #28A745; font-weight: bold;"),
            Some(Event::CompletedCopy { ms: 8.9 })
        );
    }

    #[test]
    fn subscriptions_and_analyser_rewrites_are_not_beats() {
        // H22, C23.
        assert_eq!(ev("EventBus.ts:56 2025-11-17T20:22:33.840Z 📡 EventBus: Subscribed to \"musical-conductor:beat:started\""), None);
        assert_eq!(ev("📡 EventBus: Subscribed to \"beat-completed\" (1 total subscribers)"), None);
        // H21.
        assert_eq!(ev("     +2.385s │ EventBus.ts:56 2025-11-15T16:38:23.985Z ⏱️ PerformanceTracker: ✅ Beat 1: 15.20ms"), None);
        // §1.4: not beat durations.
        assert_eq!(ev("🕐 [EVENTBUS] Subscriber 0 sync execution took 6.80ms"), None);
        assert_eq!(ev("📊 StatisticsManager: Recorded sequence execution (0.00ms)"), None);
        // H8: stale wording after a successful movement.
        assert_eq!(ev("⏱️ PerformanceTracker: Cleaned up failed movement Get Current Theme for Header UI Theme Get"), None);
    }

    #[test]
    fn context_lines() {
        assert_eq!(
            ev(" 🎼 PluginInterfaceFacade.play(): LibraryPlugin -> library-load-symphony"),
            Some(Event::PlayRequested { plugin: "LibraryPlugin".into(), sequence_id: "library-load-symphony".into() })
        );
        assert_eq!(ev(" 🎼 ExecutionQueue: Now executing \"Library Load\""), Some(Event::ExecutionStarted { name: "Library Load".into() }));
        assert_eq!(
            ev(
                " 🎼 SequenceOrchestrator: Sequence \"Control Panel UI Init (Batched)\" (id: control-panel-ui-init-batched-symphony) queued successfully"
            ),
            Some(Event::SequenceBound {
                name: "Control Panel UI Init (Batched)".into(),
                id: "control-panel-ui-init-batched-symphony".into()
            })
        );
        assert_eq!(
            ev(" 🆔 Request ID: library-load-symphony-1761945322362-xmn12t3tr"),
            Some(Event::RequestId { request: "library-load-symphony-1761945322362-xmn12t3tr".into() })
        );
        assert_eq!(
            ev(" 🎵 Beat 1 Started: Load Components (library:components:load)"),
            Some(Event::BeatDescribed { beat: 1, title: "Load Components".into(), event: "library:components:load".into() })
        );
        assert_eq!(
            ev(
                "EventBus.ts:56 2025-11-15T21:59:20.793Z 🎼 MusicalConductor.play ENTRY: pluginId=LibraryComponentPlugin, sequenceId=library-component-drop-symphony at 2025-11-15T21:59:20.793Z (perf=23444.10ms)"
            ),
            Some(Event::PlayRequested { plugin: "LibraryComponentPlugin".into(), sequence_id: "library-component-drop-symphony".into() })
        );
        assert_eq!(
            ev(" ✅ SequenceExecutor: Sequence \"Library Load\" completed in 13ms"),
            Some(Event::SequenceEnded { name: "Library Load".into() })
        );
        assert_eq!(
            ev(" 🎼 ExecutionQueue: Marked \"Library Load\" as completed (Total completed: 2)"),
            Some(Event::SequenceEnded { name: "Library Load".into() })
        );
    }

    #[test]
    fn data_baton_handler_lines_only() {
        assert_eq!(
            ev(
                " 🎽 DataBaton: +configLoaded | seq=Control Panel UI Init beat=? event=control:panel:ui:init:config handler=initConfig plugin=ControlPanelPlugin req=control-panel-ui-init-symphony-1761945322375-2h54kylvp preview={\"configLoaded\":true}"
            ),
            Some(Event::HandlerSeen(Box::new(HandlerLine {
                sequence: "Control Panel UI Init".into(),
                event: "control:panel:ui:init:config".into(),
                handler: "initConfig".into(),
                plugin: Some("ControlPanelPlugin".into()),
                request: Some("control-panel-ui-init-symphony-1761945322375-2h54kylvp".into()),
            })))
        );
        assert_eq!(
            ev(" 🎽 DataBaton: No changes | seq=Header UI Theme Get beat=? event=app:ui:theme:notify handler=notifyUi"),
            Some(Event::HandlerSeen(Box::new(HandlerLine {
                sequence: "Header UI Theme Get".into(),
                event: "app:ui:theme:notify".into(),
                handler: "notifyUi".into(),
                plugin: None,
                request: None,
            })))
        );
        // The beat-level line never names the handler.
        assert_eq!(ev(" 🎽 DataBaton: No changes | seq=Library Load beat=1 event=library:components:load handler=?"), None);
    }

    #[test]
    fn failure_lines() {
        assert_eq!(
            ev("❌ BeatExecutor: Beat 3 (canvas:component:create) failed: Error: boom"),
            Some(Event::BeatFailed { beat: Some(3), event: Some("canvas:component:create".into()), sequence: None })
        );
        assert_eq!(
            ev("❌ BeatExecutor: Beat 3 failed after 3 retry attempts, aborting sequence"),
            Some(Event::BeatFailed { beat: Some(3), event: None, sequence: None })
        );
        assert_eq!(
            ev("❌ SequenceExecutor: Sequence \"Canvas Component Create\" failed at movement 0, beat 2:"),
            Some(Event::SequenceFailed { name: "Canvas Component Create".into() })
        );
        assert_eq!(ev("%c❌ Movement failed: boom"), Some(Event::MovementFailed));
    }

    #[test]
    fn dotnet_templates_with_decimal_comma() {
        assert_eq!(
            ev(
                "[2025-11-09 14:30:46.789 -05:00] [INF] MusicalConductor.Core.SequenceExecutor: 🎼 SequenceExecutor: Starting sequence execution: control-panel-css-create-symphony (RequestId=control-panel-css-create-symphony-1762716646789-ab12cd, PluginId=ControlPanelPlugin)"
            ),
            Some(Event::HostExecutionStarted {
                sequence_id: "control-panel-css-create-symphony".into(),
                request: Some("control-panel-css-create-symphony-1762716646789-ab12cd".into()),
                plugin: Some("ControlPanelPlugin".into()),
            })
        );
        assert_eq!(
            ev(
                "[2025-11-09 14:30:46.790 -05:00] [INF] X.SequenceExecutor: 🥁 SequenceExecutor: Executing beat 1 (control:panel:css:create)"
            ),
            Some(Event::HostBeatStarted { beat: 1, event: "control:panel:css:create".into() })
        );
        assert_eq!(
            ev(
                "[2025-11-09 14:30:46.802 +01:00] [INF] X.SequenceExecutor: ✅ SequenceExecutor: Beat 1 (control:panel:css:create) completed in 12,3456ms"
            ),
            Some(Event::ExecCompleted { beat: 1, event: "control:panel:css:create".into(), ms: 12.3456 })
        );
        assert_eq!(
            ev("[10:00:00 DBG] X.PerformanceTracker: ⏱️ PerformanceTracker: Beat 1 completed in 12,35ms"),
            Some(Event::PerfCompleted { beat: 1, ms: 12.35 })
        );
    }
}
