//! Line recognition: turns the bytes of one input file into typed [`Event`]s, each with its
//! location. It never decides what the events *mean* for a beat — that is the tracker's job
//! (`crate::attribute::tracker`). One module per log family:
//!
//! - [`envelope`]: the prefixes wrapped around messages (Chrome, Cypress, Serilog, analysers);
//! - [`conductor`]: the Musical Conductor's messages (LOG-FORMATS.md §1, TypeScript and C#);
//! - [`markdown`]: markdown telemetry blocks (§2(d)), which carry whole beats;
//! - [`frames`]: the frames JSON export (§2(e).1), whose `raw` messages are re-parsed.

pub mod conductor;
pub mod envelope;
pub mod frames;
pub mod markdown;
pub mod user;

use std::borrow::Cow;

/// Text taken from a log line: borrowed when the bytes are valid UTF-8, repaired (U+FFFD) when not.
pub type Txt<'a> = Cow<'a, str>;

/// Reads log bytes as text, lossily (invalid bytes become U+FFFD, never an error).
pub fn txt(b: &[u8]) -> Txt<'_> {
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(b),
    }
}

/// One thing a log line says, borrowed from the line.
#[derive(Debug, Clone, PartialEq)]
// `BeatEvent` is the line that names a beat's event, not an event about events.
#[allow(clippy::enum_variant_names)]
pub enum Event<'a> {
    /// C3 `PluginInterfaceFacade.play(): P -> ID` / C2 `play ENTRY: pluginId=P, sequenceId=ID`.
    PlayRequested { plugin: Txt<'a>, sequence_id: Txt<'a> },
    /// C5 `ExecutionQueue: Now executing "NAME"`.
    ExecutionStarted { name: Txt<'a> },
    /// .NET `SequenceExecutor: Starting sequence execution: ID (RequestId=R, PluginId=P)`.
    HostExecutionStarted { sequence_id: Txt<'a>, request: Option<Txt<'a>>, plugin: Option<Txt<'a>> },
    /// .NET `SequenceExecutor: Executing sequence "NAME" with N beats`: names the current execution.
    ExecutionNamed { name: Txt<'a> },
    /// C6 `SequenceOrchestrator: Sequence "NAME" (id: ID) queued successfully`.
    SequenceBound { name: Txt<'a>, id: Txt<'a> },
    /// C11 `Request ID: <id>-<13 digits>-<rand>`.
    RequestId { request: Txt<'a> },
    /// T1 `PerformanceTracker: Started timing beat N for NAME`.
    BeatStarted { sequence: Txt<'a>, beat: u32 },
    /// .NET `SequenceExecutor: Executing beat N (BeatId)`: a beat of the current execution.
    HostBeatStarted { beat: u32, event: Txt<'a> },
    /// C14 `Beat N Started: TITLE (EVENT)`.
    BeatDescribed { beat: u32, title: Txt<'a>, event: Txt<'a> },
    /// C15 `Event: EVENT` (repeats the current beat's event).
    BeatEvent { event: Txt<'a> },
    /// T2 `PerformanceTracker: Beat N completed in X.XXms` (float, preferred).
    PerfCompleted { beat: u32, ms: f64 },
    /// T3 `BeatExecutor: Beat N (EVENT) completed in Nms` (integer, fallback), or the .NET
    /// `SequenceExecutor: Beat N (BeatId) completed in D ms`.
    ExecCompleted { beat: u32, event: Txt<'a>, ms: f64 },
    /// T4 `Completed in X.XXms`: EventLogger's copy of T2, never a sample of its own.
    CompletedCopy { ms: f64 },
    /// Failure of a beat: `❌ BeatExecutor: Beat N (EVENT) failed`, `Beat N failed after 3 retry
    /// attempts`, .NET `Error executing beat N (ID)`, `Beat state transitioned to FAILED - SEQ:N`.
    BeatFailed { beat: Option<u32>, event: Option<Txt<'a>>, sequence: Option<Txt<'a>> },
    /// T5/T6/C19: a movement ended; beats still open in it never completed.
    MovementEnded,
    /// `❌ MovementExecutor: Movement "X" failed`: open beats of the movement failed.
    MovementFailed,
    /// T7 / C5 `Marked "NAME" as completed` / .NET `Sequence "NAME" completed in`.
    SequenceEnded { name: Txt<'a> },
    /// `❌ SequenceExecutor: Sequence "NAME" failed at movement M, beat B`.
    SequenceFailed { name: Txt<'a> },
    /// A whole beat stated by a report rather than by the conductor (markdown telemetry §2(d)):
    /// its sequence section, beat number, event or title, duration, and the handler if named.
    Reported(Box<ReportedBeat>),
    /// A sample read by a user rule (`[[sources.pattern]]`, `[[sources.json]]`): a whole beat,
    /// its handler stated, its timestamp the one the rule captured.
    Sample { handler: Txt<'a>, plugin: Option<Txt<'a>>, ms: f64, ts: Option<i64> },
    /// C17/C18 handler-level DataBaton line (`beat=? … handler=<name>`); boxed, as it is rare
    /// and large (events are buffered per block).
    HandlerSeen(Box<HandlerLine<'a>>),
}

/// A handler-level DataBaton line.
#[derive(Debug, Clone, PartialEq)]
pub struct HandlerLine<'a> {
    pub sequence: Txt<'a>,
    pub event: Txt<'a>,
    pub handler: Txt<'a>,
    pub plugin: Option<Txt<'a>>,
    pub request: Option<Txt<'a>>,
}

/// A beat as a telemetry report states it (owned: it is assembled from several lines).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReportedBeat {
    /// Display name of the sequence section the beat belongs to.
    pub sequence: Option<String>,
    /// The section's request id (`- **Request ID**: …`).
    pub request: Option<String>,
    pub beat: u32,
    pub event: Option<String>,
    pub title: Option<String>,
    /// `None`: the report names the beat but gives no duration (incomplete).
    pub ms: Option<f64>,
    pub failed: bool,
    pub handler: Option<String>,
    pub plugin: Option<String>,
    /// The line that gave the duration (else the beat's header line).
    pub line: u32,
}

impl Event<'_> {
    /// Whether the tracker uses the line's timestamp for this event (converting one costs more
    /// than recognizing most lines, so the others never convert theirs).
    pub fn needs_ts(&self) -> bool {
        matches!(
            self,
            Event::BeatStarted { .. }
                | Event::HostBeatStarted { .. }
                | Event::PerfCompleted { .. }
                | Event::ExecCompleted { .. }
                | Event::CompletedCopy { .. }
                | Event::BeatFailed { .. }
                | Event::Reported(_)
                | Event::Sample { .. }
        )
    }

    /// Whether the line carries a beat duration (the "timing lines" of the diagnostics).
    /// What the line says, in words (`perfgate analyze --explain`).
    pub fn describe(&self) -> String {
        let opt = |v: &Option<Txt<'_>>| v.as_deref().map_or("?".to_owned(), |s| format!("{s:?}"));
        match self {
            Event::PlayRequested { plugin, sequence_id } => format!("plugin {plugin:?} asks to play sequence {sequence_id:?}"),
            Event::ExecutionStarted { name } => format!("an execution of sequence {name:?} starts"),
            Event::HostExecutionStarted { sequence_id, request, plugin } => {
                format!("an execution of sequence {sequence_id:?} starts (request {}, plugin {})", opt(request), opt(plugin))
            }
            Event::ExecutionNamed { name } => format!("the current execution is of sequence {name:?}"),
            Event::SequenceBound { name, id } => format!("sequence {name:?} has the id {id:?}"),
            Event::RequestId { request } => format!("the current execution's request id is {request:?}"),
            Event::BeatStarted { sequence, beat } => format!("beat {beat} of sequence {sequence:?} starts"),
            Event::HostBeatStarted { beat, event } => format!("beat {beat} ({event:?}) of the current execution starts"),
            Event::BeatDescribed { beat, title, event } => format!("beat {beat} is {title:?}, event {event:?}"),
            Event::BeatEvent { event } => format!("the current beat's event is {event:?}"),
            Event::PerfCompleted { beat, ms } => format!("beat {beat} completed in {ms} ms (the PerformanceTracker's duration, preferred)"),
            Event::ExecCompleted { beat, event, ms } => {
                format!("beat {beat} ({event:?}) completed in {ms} ms (the BeatExecutor's duration, used when the tracker's is missing)")
            }
            Event::CompletedCopy { ms } => format!("a copy of the last completion ({ms} ms), never a sample of its own"),
            Event::BeatFailed { beat, event, sequence } => format!(
                "beat {} failed (event {}, sequence {}): never a sample",
                beat.map_or("?".to_owned(), |b| b.to_string()),
                opt(event),
                opt(sequence)
            ),
            Event::MovementEnded => "the movement ended: its beats still open are incomplete".to_owned(),
            Event::MovementFailed => "the movement failed: its beats still open failed".to_owned(),
            Event::SequenceEnded { name } => format!("sequence {name:?} ended"),
            Event::SequenceFailed { name } => format!("sequence {name:?} failed"),
            Event::Reported(b) => format!(
                "a reported beat {} ({}) of {}: {}",
                b.beat,
                b.event.as_deref().or(b.title.as_deref()).unwrap_or("?"),
                b.sequence.as_deref().unwrap_or("?"),
                b.ms.map_or("no duration".to_owned(), |ms| format!("{ms} ms"))
            ),
            Event::Sample { handler, plugin, ms, .. } => format!("handler {handler:?} (plugin {}) took {ms} ms", opt(plugin)),
            Event::HandlerSeen(h) => format!("handler {:?} runs event {:?} of sequence {:?}", h.handler, h.event, h.sequence),
        }
    }

    /// The duration the event carries.
    pub fn duration(&self) -> Option<f64> {
        match self {
            Event::PerfCompleted { ms, .. } | Event::ExecCompleted { ms, .. } | Event::CompletedCopy { ms } => Some(*ms),
            Event::Sample { ms, .. } => Some(*ms),
            Event::Reported(r) => r.ms,
            _ => None,
        }
    }

    pub fn is_timing(&self) -> bool {
        match self {
            Event::PerfCompleted { .. } | Event::ExecCompleted { .. } | Event::CompletedCopy { .. } => true,
            Event::Reported(r) => r.ms.is_some(),
            Event::Sample { .. } => true,
            _ => false,
        }
    }
}

/// Where an event or sample came from: an input file (index into the run's file list) and a
/// 1-based line number (for frames JSON: the 1-based ordinal of the event in the export).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub file: u32,
    pub line: u32,
}

/// Reads a duration: digits with an optional `.` or `,` decimal separator (H19: .NET renders
/// `{Duration}` with the current culture's separator).
pub fn parse_ms(s: &[u8]) -> Option<f64> {
    let int = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if int == 0 {
        return None;
    }
    let mut end = int;
    if matches!(s.get(int), Some(b'.' | b',')) {
        let frac = s[int + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
        if frac > 0 {
            end = int + 1 + frac;
        }
    }
    let mut buf = [0u8; 40];
    if end > buf.len() {
        return None;
    }
    buf[..end].copy_from_slice(&s[..end]);
    if end > int {
        buf[int] = b'.';
    }
    std::str::from_utf8(&buf[..end]).ok()?.parse().ok().filter(|v: &f64| v.is_finite())
}

/// Splits a physical buffer into lines: yields (1-based line number, line without `\n`/`\r\n`).
pub fn lines(buf: &[u8]) -> impl Iterator<Item = (u32, &[u8])> {
    let mut pos = 0;
    let mut no = 0u32;
    std::iter::from_fn(move || {
        if pos >= buf.len() {
            return None;
        }
        let end = memchr::memchr(b'\n', &buf[pos..]).map_or(buf.len(), |i| pos + i);
        let mut line = &buf[pos..end];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        pos = end + 1;
        no = no.saturating_add(1);
        Some((no, line))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_with_point_or_comma() {
        assert_eq!(parse_ms(b"4.20ms"), Some(4.2));
        assert_eq!(parse_ms(b"12,3456ms"), Some(12.3456));
        assert_eq!(parse_ms(b"5ms"), Some(5.0));
        assert_eq!(parse_ms(b"5.ms"), Some(5.0));
        assert_eq!(parse_ms(b"ms"), None);
    }

    #[test]
    fn lines_strip_crlf_and_count() {
        let v: Vec<_> = lines(b"a\r\nb\n\nc").collect();
        assert_eq!(v, vec![(1, &b"a"[..]), (2, b"b"), (3, b""), (4, b"c")]);
    }
}
