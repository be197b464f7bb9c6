//! Line recognition: turns the lines of a decoded input into typed [`Event`]s, each with its
//! location. It never decides what the events *mean* for a beat — that is the tracker's job
//! (`crate::attribute::tracker`) — and it reads no file: `crate::input` decodes the bytes,
//! detects the format and hands lines (or a whole document) over. One module per log family:
//!
//! - [`envelope`]: the prefixes wrapped around messages (Chrome, Cypress, Serilog, analysers);
//! - [`conductor`]: the Musical Conductor's messages (LOG-FORMATS.md §1, TypeScript and C#);
//! - [`user`]: any application's lines, through the `[[sources.pattern]]` and `[[sources.json]]`
//!   rules of `perfgate.toml` (tried after the conductor's recognition);
//! - [`markdown`]: markdown telemetry blocks (§2(d)), which carry whole beats;
//! - [`build`]: the build-pipeline symphony's console (`[BEAT N] Starting: …`), whole beats too;
//! - [`player`]: a sequence player's `report.json` (§2(e).4);
//! - [`frames`]: the frames JSON export (§2(e).1), whose `raw` messages are re-parsed.
//!
//! Shared here: [`lines`] (LF and CRLF), [`number`] and [`duration_ms`] (a duration and its unit) and [`txt`]
//! (lossy text).

pub mod build;
pub mod conductor;
pub mod envelope;
pub mod frames;
pub mod markdown;
pub mod player;
pub mod user;

use std::borrow::Cow;

/// Text taken from a log line: borrowed when the bytes are valid UTF-8, repaired (U+FFFD) when not.
pub type Txt<'a> = Cow<'a, str>;

/// Reads log bytes as text, lossily (invalid bytes become U+FFFD, never an error).
#[inline]
pub fn txt(b: &[u8]) -> Txt<'_> {
    // Names in logs are almost always ASCII: a word-at-a-time check, inlined, is much cheaper on
    // a short string than a call to the full validation.
    if b.is_ascii() {
        // SAFETY: ASCII bytes are valid UTF-8.
        return Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(b) });
    }
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
    /// A user rule's `normalize[N]` made a handler name longer than [`user::MAX_NAME`] bytes:
    /// an error, never a sample (the reader stops at it).
    NameTooLong { rule: Txt<'a>, normalize: usize, len: usize },
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

/// A report read line by line (markdown telemetry, the build console): its beats come out as
/// [`Event::Reported`], some only once a later line (or the end) closes them.
pub trait LineReport {
    /// Feeds one line; `emit` receives each beat it ends.
    fn line(&mut self, no: u32, line: &[u8], emit: &mut dyn FnMut(Event<'static>));
    /// Ends the input: emits what is still pending.
    fn finish(&mut self, emit: &mut dyn FnMut(Event<'static>));
}

/// A beat as a telemetry report states it (owned: it is assembled from several lines).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReportedBeat {
    /// Display name of the sequence section the beat belongs to.
    pub sequence: Option<String>,
    /// The section's request id (`- **Request ID**: …`).
    pub request: Option<String>,
    /// The sequence's id, when the report states it (a sequence player's `sequenceId`).
    pub sequence_id: Option<String>,
    /// Beats of one sequence run share it where the report names no sequence: a markdown
    /// block of `- Beat N (Title)` lines (a block per run), a build console (one per file).
    pub group: u32,
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
            Event::PerfCompleted { beat, ms } => {
                format!("beat {beat} completed in {} (the PerformanceTracker's duration, preferred)", shown(*ms))
            }
            Event::ExecCompleted { beat, event, ms } => {
                format!(
                    "beat {beat} ({event:?}) completed in {} (the BeatExecutor's duration, used when the tracker's is missing)",
                    shown(*ms)
                )
            }
            Event::CompletedCopy { ms } => format!("a copy of the last completion ({}), never a sample of its own", shown(*ms)),
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
            Event::Sample { handler, plugin, ms, .. } => format!("handler {handler:?} (plugin {}) took {}", opt(plugin), shown(*ms)),
            Event::HandlerSeen(h) => format!("handler {:?} runs event {:?} of sequence {:?}", h.handler, h.event, h.sequence),
            Event::NameTooLong { rule, normalize, len } => format!(
                "an error: {rule}.normalize[{normalize}] made the handler name {len} bytes long, more than {} bytes",
                user::MAX_NAME
            ),
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

    /// Whether the line carries a beat duration (the "timing lines" of the diagnostics).
    pub fn is_timing(&self) -> bool {
        match self {
            Event::PerfCompleted { .. } | Event::ExecCompleted { .. } | Event::CompletedCopy { .. } => true,
            Event::Reported(r) => r.ms.is_some(),
            Event::Sample { .. } => true,
            _ => false,
        }
    }
}

/// A duration as `--explain` says it: `NaN` is one the parsers could not read.
fn shown(ms: f64) -> String {
    if ms.is_nan() {
        "an unreadable duration (rejected: a number and its unit, ms, s or µs, expected)".to_owned()
    } else {
        format!("{ms} ms")
    }
}

/// Where an event or sample came from: an input file (index into the run's file list) and a
/// 1-based line number (for frames JSON: the 1-based ordinal of the event in the export).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub file: u32,
    pub line: u32,
}

/// Reads a number as logs print it, at the start of `s`: digits with one `.` or `,` decimal
/// separator (H19: .NET renders `{Duration}` with the current culture's separator), or digits
/// grouped in threes (`1,234.50`, `1.234,50`, `1,234,567`: the grouping separator differs from
/// the decimal one, which comes last). A separator not followed by a digit ends the number
/// (`5.ms` is 5). Returns the value and the bytes read; `None` when `s` does not start with a
/// digit, or when its digits and separators are not one number (`1,23.4`, `1.2.3`): such a
/// number is rejected, never read as the part of it that looks like one.
pub fn number(s: &[u8]) -> Option<(f64, usize)> {
    let mut end = 0;
    // The run of digits and separators, a separator only when a digit follows it.
    while end < s.len() {
        match s[end] {
            b'0'..=b'9' => end += 1,
            b'.' | b',' if s.get(end + 1).is_some_and(u8::is_ascii_digit) && end > 0 => end += 1,
            _ => break,
        }
    }
    if end == 0 {
        return None;
    }
    let run = &s[..end];
    // The decimal separator: the last separator, unless every separator is the same one and
    // there are several (then they all group); the others must group in threes.
    let seps = run.iter().filter(|b| !b.is_ascii_digit()).count();
    let last = run.iter().rposition(|b| !b.is_ascii_digit());
    let decimal = match last {
        None => None,
        Some(at) if seps == 1 => Some(at),
        Some(at) => {
            let group = if run[..at].iter().any(|&b| !b.is_ascii_digit() && b != run[at]) { Some(at) } else { None };
            let grouping = if group.is_some() { run[..at].iter().find(|b| !b.is_ascii_digit()).copied() } else { Some(run[at]) };
            let grouped = &run[..group.unwrap_or(end)];
            let mut parts = grouped.split(|b| Some(*b) == grouping);
            let first = parts.next().map_or(0, <[u8]>::len);
            if !(1..=3).contains(&first) || !parts.all(|p| p.len() == 3 && p.iter().all(u8::is_ascii_digit)) {
                return None;
            }
            group
        }
    };
    // The digits, as an integer (exact below 2^53) divided by a power of ten (exact up to
    // 10^22): the correctly rounded value, as parsing the text gives it.
    let (mut m, mut frac, mut digits) = (0u64, 0i32, 0usize);
    for (i, &b) in run.iter().enumerate() {
        if b.is_ascii_digit() {
            m = m.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
            digits += 1;
            frac += i32::from(decimal.is_some_and(|d| i > d));
        }
    }
    if digits <= 16 && m < 1 << 53 {
        return Some((m as f64 / 10f64.powi(frac), end));
    }
    let mut buf = [0u8; 64];
    if run.len() > buf.len() {
        // Longer than any duration: not finite as far as the statistics go (rejected there).
        return Some((f64::INFINITY, end));
    }
    let mut n = 0;
    for (i, &b) in run.iter().enumerate() {
        if b.is_ascii_digit() || Some(i) == decimal {
            buf[n] = if b.is_ascii_digit() { b } else { b'.' };
            n += 1;
        }
    }
    let v: f64 = std::str::from_utf8(&buf[..n]).ok()?.parse().ok()?;
    Some((v, end))
}

/// A duration unit, as a factor to milliseconds (LOG-FORMATS.md: the conductor prints `ms`; a
/// producer that prints seconds or microseconds says so).
pub fn unit_factor(unit: &[u8]) -> Option<f64> {
    match unit {
        b"ns" => Some(1e-6),
        // `us`, `µs` (micro sign, C2 B5), `μs` (Greek mu, CE BC).
        b"us" | [0xC2, 0xB5, b's'] | [0xCE, 0xBC, b's'] => Some(1e-3),
        b"ms" => Some(1.0),
        b"s" => Some(1000.0),
        _ => None,
    }
}

/// Reads a duration with its unit at the start of `s` (`81.70ms`, `12,3456ms`, `2.44s`,
/// `750µs`, `12.5 ms`), in milliseconds, and the bytes read; `NaN` (with what was read) when
/// `s` holds no such duration: no number, digits that are not one number (`1,23.4`), no unit or
/// one that is unknown (`4 min`), or a unit glued to more letters (`3msg`). The caller keeps the
/// `NaN` as the event's duration, so that the tracker rejects the event and counts it with its
/// line; nothing is ever read as a number of milliseconds it is not.
pub fn duration_ms(s: &[u8]) -> (f64, usize) {
    let Some((v, mut n)) = number(s) else { return (f64::NAN, 0) };
    if matches!(s.get(n), Some(b'.' | b',')) && s.get(n + 1).is_some_and(u8::is_ascii_alphabetic) {
        // `5.ms`: a separator with no decimals.
        n += 1;
    }
    let at = n + usize::from(s.get(n) == Some(&b' '));
    // The unit: the letters that follow (µ and μ are two bytes each).
    let mut end = at;
    while end < s.len() {
        if s[end].is_ascii_alphanumeric() || s[end] == b'_' {
            end += 1;
        } else if s[end..].starts_with("µ".as_bytes()) || s[end..].starts_with("μ".as_bytes()) {
            end += 2;
        } else {
            break;
        }
    }
    match unit_factor(&s[at..end]) {
        Some(f) => (v * f, end),
        None => (f64::NAN, n),
    }
}

/// Splits a physical buffer into lines: yields (1-based line number, line without `\n`/`\r\n`).
/// The line breaks are found 64 bytes at a time, as a bit mask (one compare per byte that the
/// compiler turns into vector instructions), so that a line costs a few instructions to find
/// rather than a search of its own: lines are short and most say nothing.
pub fn lines(buf: &[u8]) -> Lines<'_> {
    Lines { buf, pos: 0, chunk: 0, mask: newline_mask(buf), no: 0 }
}

/// The iterator of [`lines`].
pub struct Lines<'a> {
    buf: &'a [u8],
    /// Where the next line starts.
    pos: usize,
    /// The 64-byte chunk whose breaks `mask` holds.
    chunk: usize,
    /// The line breaks of the chunk not yet yielded: bit `i` is `buf[chunk + i] == b'\n'`.
    mask: u64,
    no: u32,
}

/// Bit `i` set when `s[i]` (of the first 64 bytes) is a line break.
#[inline]
fn newline_mask(s: &[u8]) -> u64 {
    match s.first_chunk::<64>() {
        Some(chunk) => newline_mask_64(chunk),
        None => s.iter().enumerate().fold(0u64, |m, (i, &b)| m | (u64::from(b == b'\n') << i)),
    }
}

/// SSE2 (every x86-64 processor has it): four 16-byte compares, each turned into 16 bits.
#[cfg(target_arch = "x86_64")]
#[inline]
fn newline_mask_64(chunk: &[u8; 64]) -> u64 {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
    let mut mask = 0u64;
    for (i, part) in chunk.chunks_exact(16).enumerate() {
        // SAFETY: `part` is 16 readable bytes (an unaligned load reads exactly those), and SSE2
        // is part of the x86-64 baseline, so the target enables it.
        let bits = unsafe { _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(part.as_ptr().cast()), _mm_set1_epi8(b'\n' as i8))) };
        mask |= u64::from(bits as u16) << (16 * i);
    }
    mask
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn newline_mask_64(chunk: &[u8; 64]) -> u64 {
    newline_mask_words(chunk)
}

/// Elsewhere: eight bytes at a time in a word; a byte's high bit says it is a line break,
/// exactly (no borrow crosses bytes), and one multiplication gathers the eight bits.
#[cfg(any(test, not(target_arch = "x86_64")))]
#[inline]
fn newline_mask_words(chunk: &[u8; 64]) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let mut mask = 0u64;
    for (i, word) in chunk.chunks_exact(8).enumerate() {
        let t = u64::from_le_bytes(word.try_into().expect("8 bytes")) ^ 0x0A0A_0A0A_0A0A_0A0A;
        let zero = !(((t & LOW7).wrapping_add(LOW7)) | t) & !LOW7;
        mask |= ((zero >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * i);
    }
    mask
}

impl<'a> Iterator for Lines<'a> {
    type Item = (u32, &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<(u32, &'a [u8])> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let end = loop {
            if self.mask != 0 {
                let at = self.chunk + self.mask.trailing_zeros() as usize;
                self.mask &= self.mask - 1;
                break at;
            }
            self.chunk += 64;
            if self.chunk >= self.buf.len() {
                break self.buf.len();
            }
            self.mask = newline_mask(&self.buf[self.chunk..]);
        };
        let mut line = &self.buf[self.pos..end];
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        self.pos = end + 1;
        self.no = self.no.saturating_add(1);
        Some((self.no, line))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        /// The 64-byte masks split as a search for each line break does, wherever the breaks
        /// fall (chunk edges, runs of breaks, `\r\n`, no final break, over 64 bytes a line).
        #[test]
        fn lines_split_as_a_search_does(
            text in proptest::collection::vec(proptest::prop_oneof![
                4 => proptest::prelude::Just(b'x'), 2 => proptest::prelude::Just(b'\n'), 1 => proptest::prelude::Just(b'\r'), 1 => proptest::prelude::any::<u8>()
            ], 0..300),
        ) {
            let mut expected = Vec::new();
            let mut pos = 0;
            while pos < text.len() {
                let end = text[pos..].iter().position(|&b| b == b'\n').map_or(text.len(), |i| pos + i);
                let line = &text[pos..end];
                expected.push((expected.len() as u32 + 1, line.strip_suffix(b"\r").unwrap_or(line)));
                pos = end + 1;
            }
            let got: Vec<(u32, &[u8])> = lines(&text).collect();
            proptest::prop_assert_eq!(got, expected);
        }

        /// The word-at-a-time mask (processors without SSE2) is the plain one.
        #[test]
        fn word_masks_are_exact(chunk in proptest::collection::vec(proptest::prop_oneof![
            proptest::prelude::Just(b'\n'), proptest::prelude::Just(b'\x0b'), proptest::prelude::Just(0x8a_u8), proptest::prelude::any::<u8>()
        ], 64)) {
            let chunk: &[u8; 64] = chunk.as_slice().try_into().unwrap();
            let plain = chunk.iter().enumerate().fold(0u64, |m, (i, &b)| m | (u64::from(b == b'\n') << i));
            proptest::prop_assert_eq!(newline_mask_words(chunk), plain);
            proptest::prop_assert_eq!(newline_mask_64(chunk), plain);
        }
    }

    proptest::proptest! {
        /// The integer fast path reads what parsing the text reads.
        #[test]
        fn durations_read_as_parsing_does(int in 0u64..100_000_000, frac in 0u64..100_000_000, digits in 0usize..9, comma in proptest::bool::ANY) {
            let frac = format!("{frac:08}");
            let text = if digits == 0 { format!("{int}ms") } else { format!("{int}{}{}ms", if comma { ',' } else { '.' }, &frac[..digits]) };
            let expected: f64 = text.trim_end_matches("ms").replace(',', ".").parse().unwrap();
            proptest::prop_assert_eq!(duration_ms(text.as_bytes()).0.to_bits(), expected.to_bits(), "{}", text);
        }

        /// Any bytes: a duration is read whole or not at all, never a panic.
        #[test]
        fn any_bytes_read_or_rejected(s in proptest::collection::vec(proptest::prop_oneof![
            proptest::prelude::Just(b'1'), proptest::prelude::Just(b','), proptest::prelude::Just(b'.'), proptest::prelude::Just(b'm'), proptest::prelude::Just(b's'), proptest::prelude::any::<u8>()
        ], 0..20)) {
            let (ms, n) = duration_ms(&s);
            proptest::prop_assert!(n <= s.len());
            proptest::prop_assert!(ms.is_nan() || ms >= 0.0);
        }
    }

    #[test]
    fn durations_with_their_unit() {
        let ms = |s: &str| duration_ms(s.as_bytes()).0;
        assert_eq!(ms("4.20ms"), 4.2);
        assert_eq!(ms("12,3456ms"), 12.3456);
        assert_eq!(ms("5ms"), 5.0);
        assert_eq!(ms("5.ms"), 5.0);
        assert_eq!(ms("81.70ms (cached)"), 81.7);
        assert_eq!(ms("12.5 ms"), 12.5);
        assert_eq!(ms("2.44s"), 2440.0);
        assert_eq!(ms("750µs"), 0.75);
        assert_eq!(ms("750μs"), 0.75);
        assert_eq!(ms("750us"), 0.75);
        assert_eq!(ms("1,234.50ms"), 1234.5);
        assert_eq!(ms("1.234,50ms"), 1234.5);
        assert_eq!(ms("1,234,567ms"), 1_234_567.0);
        assert_eq!(duration_ms(b"13ms (3/3 beats)"), (13.0, 4));
        for bad in ["3msg", "4 min", "4", "ms", "1,23.4ms", "1.2.3ms", "12,34,5ms", "1,234.5.6ms", "5 seconds", "NaNms", "-5ms", "5ms_x"] {
            assert!(ms(bad).is_nan(), "{bad}: {}", ms(bad));
        }
        assert_eq!(number(b"1,234.50"), Some((1234.5, 8)));
        assert_eq!(number(b"5."), Some((5.0, 1)));
    }

    #[test]
    fn lines_strip_crlf_and_count() {
        let v: Vec<_> = lines(b"a\r\nb\n\nc").collect();
        assert_eq!(v, vec![(1, &b"a"[..]), (2, b"b"), (3, b""), (4, b"c")]);
    }
}
