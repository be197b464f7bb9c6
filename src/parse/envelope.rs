//! Envelope removal (LOG-FORMATS.md §3 step 2): the producers wrap the conductor's messages in
//! different prefixes — Chrome's source location, React DevTools' `installHook.js:1`, Cypress's
//! `[ts] LOG`, the analyser's `+2.385s │`, Serilog's `[date time offset] [LVL] Ctx:` — and in
//! the `%c` + CSS residue of `console.log` styling. This module owns only that peeling; what the
//! remaining message means is decided in [`super::conductor`].

use crate::timestamp;

/// A physical line with its envelope removed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peeled<'a> {
    /// Best timestamp of the line (inner > outer), converted only when asked for: most lines
    /// are not recognized and their timestamps never needed.
    stamp: Stamp<'a>,
    /// The message, with leading glyphs (emoji, `?`, mojibake, `%c`) removed, so that
    /// recognition can anchor on ASCII keywords. The trailing CSS residue is removed by
    /// [`strip_css_residue`] once a message is known to matter (it costs a regex search).
    pub message: &'a [u8],
}

/// A line's timestamp, not yet converted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stamp<'a> {
    None,
    /// An ISO-8601 `…Z` timestamp's text.
    Iso(&'a [u8]),
    Ms(i64),
}

impl<'a> Peeled<'a> {
    /// The line's timestamp, epoch milliseconds UTC.
    pub fn ts(&self) -> Option<i64> {
        self.stamp.ms()
    }

    /// [`Peeled::ts`], with the day of the last date converted kept in `days`.
    pub fn ts_with(&self, days: &mut timestamp::Days) -> Option<i64> {
        self.stamp.ms_with(days)
    }
}

impl Stamp<'_> {
    /// Epoch milliseconds UTC.
    pub fn ms(&self) -> Option<i64> {
        self.ms_with(&mut timestamp::Days::default())
    }

    /// [`Stamp::ms`], with the day of the last date converted kept in `days`.
    fn ms_with(&self, days: &mut timestamp::Days) -> Option<i64> {
        match *self {
            Stamp::None => None,
            Stamp::Iso(b) => timestamp::parse_iso_with(b, days).map(|t| t.0),
            Stamp::Ms(ms) => Some(ms),
        }
    }
}

/// Removes every envelope of LOG-FORMATS.md §2 from `line` (which has no `\r\n`).
pub fn peel(line: &[u8]) -> Peeled<'_> {
    let mut rest = line;
    let mut outer = Stamp::None;

    // Each step looks at the first byte before anything else: envelopes differ from line to line
    // (H13), and most steps do not apply to most lines.
    if line.first().is_some_and(|&b| b == b'+' || b.is_ascii_whitespace()) {
        rest = strip_analyser_prefix(rest);
    }
    if let Some(r) = rest.strip_prefix(b"Line ") {
        let digits = count_digits(r);
        if digits > 0 && r[digits..].starts_with(b": ") {
            rest = &r[digits + 2..];
        }
    }
    // Cypress: `[<ts>] (KIND )?` or `[KIND] `.
    if rest.first() == Some(&b'[') {
        if timestamp::is_iso_shape(&rest[1..]) {
            if rest.get(25) == Some(&b']') && rest.get(26) == Some(&b' ') {
                outer = Stamp::Iso(&rest[1..25]);
                rest = strip_level(&rest[27..]);
            }
        } else if let Some(r) = strip_bracketed_level(rest) {
            rest = r;
        } else if let Some((ms, r)) = strip_serilog(rest) {
            outer = ms.map_or(Stamp::None, Stamp::Ms);
            rest = r;
        }
    }
    rest = strip_source_location(rest);
    if rest.first() == Some(&b' ') {
        rest = &rest[1..];
    }
    let mut inner = Stamp::None;
    if timestamp::is_iso_shape(rest) {
        if rest.get(24) == Some(&b' ') {
            inner = Stamp::Iso(&rest[..24]);
            rest = &rest[25..];
        }
    } else if let Some(r) = rest.strip_prefix(b"... ") {
        // Guides elide the inner timestamp as `...`: "no inner ts".
        rest = r;
    }
    let message = skip_glyphs(rest);
    Peeled { stamp: if inner == Stamp::None { outer } else { inner }, message }
}

fn count_digits(s: &[u8]) -> usize {
    s.iter().take_while(|b| b.is_ascii_digit()).count()
}

/// `     +2.385s │ ` (the telemetry workbench's analyser output).
fn strip_analyser_prefix(line: &[u8]) -> &[u8] {
    let t = trim_start(line);
    if let Some(r) = t.strip_prefix(b"+") {
        let n = r.iter().take_while(|b| b.is_ascii_digit() || **b == b'.').count();
        if n > 0
            && let Some(r) = r[n..].strip_prefix("s │ ".as_bytes())
        {
            return r;
        }
    }
    line
}

fn strip_level(s: &[u8]) -> &[u8] {
    for lvl in [&b"LOG "[..], b"INFO ", b"WARN ", b"ERROR ", b"DEBUG "] {
        if let Some(r) = s.strip_prefix(lvl) {
            return r;
        }
    }
    s
}

fn strip_bracketed_level(s: &[u8]) -> Option<&[u8]> {
    for lvl in [&b"[LOG] "[..], b"[INFO] ", b"[WARN] ", b"[ERROR] ", b"[DEBUG] "] {
        if let Some(r) = s.strip_prefix(lvl) {
            return Some(r);
        }
    }
    None
}

/// Serilog file sink `[yyyy-MM-dd HH:mm:ss.fff zzz] [LVL] Ctx: ` and console sink
/// `[HH:mm:ss LVL] Ctx: `. Returns the timestamp (when it is a real one) and the message.
fn strip_serilog(s: &[u8]) -> Option<(Option<i64>, &[u8])> {
    let close = memchr::memchr(b']', s)?;
    let inside = &s[1..close];
    let after = s.get(close + 1..)?;
    let (ts, after_level) = if let Some(r) = after.strip_prefix(b" [") {
        // File sink: a separate `[LVL]`.
        let lvl = r.get(..4)?;
        if !(lvl[..3].iter().all(u8::is_ascii_uppercase) && lvl[3] == b']') {
            return None;
        }
        (timestamp::parse_serilog(inside), r.get(4..)?)
    } else {
        // Console sink: `[HH:mm:ss LVL]`.
        let n = inside.len();
        if n < 5 || inside[n - 4] != b' ' || !inside[n - 3..].iter().all(u8::is_ascii_uppercase) {
            return None;
        }
        (None, after)
    };
    let r = after_level.strip_prefix(b" ")?;
    // SourceContext is a dotted identifier followed by `: `.
    let ctx = r.iter().take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'`' | b'+')).count();
    let msg = r[ctx..].strip_prefix(b": ")?;
    Some((ts, msg))
}

/// Byte classes of the scans every line goes through (a table costs one load per byte).
const FILE_NAME: u8 = 1;
/// What precedes a message's keyword (see [`skip_glyphs`]), `%` aside.
const GLYPH: u8 = 2;
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-') {
            t[b] |= FILE_NAME;
        }
        if c.is_ascii_whitespace() || c == b'?' || c >= 0x80 {
            t[b] |= GLYPH;
        }
        b += 1;
    }
    t
};

/// Chrome's `File.ts:NN ` caller location (`EventBus.ts:56`, `installHook.js:1`).
fn strip_source_location(s: &[u8]) -> &[u8] {
    // A timestamp is no file name (its `2025-11-10T21` would be scanned as one).
    if s.first().is_some_and(u8::is_ascii_digit) && timestamp::is_iso_shape(s) {
        return s;
    }
    let name = run_of(s, FILE_NAME);
    if name == 0 || s.get(name) != Some(&b':') {
        return s;
    }
    let file = &s[..name];
    // `.ts`, `.tsx`, `.js`, `.jsx`, `.mjs` or `.cjs`, after a name.
    let ext_ok = match file.iter().rposition(|&b| b == b'.') {
        Some(dot) if dot > 0 => matches!(&file[dot + 1..], b"ts" | b"tsx" | b"js" | b"jsx" | b"mjs" | b"cjs"),
        _ => false,
    };
    if !ext_ok {
        return s;
    }
    let digits = count_digits(&s[name + 1..]);
    if digits == 0 {
        return s;
    }
    match s.get(name + 1 + digits) {
        Some(b' ') => &s[name + 2 + digits..],
        None => &s[name + 1 + digits..],
        _ => s,
    }
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &s[n..]
}

/// Skips what precedes the ASCII keyword of a message: white space (the ConductorLogger indent),
/// emoji (with or without variation selectors), their mojibake (`≡ƒÄ╝`, `Γ£à`), the `?`/`??`
/// a .NET console prints for lost emoji, and `%c` format directives. LOG-FORMATS.md §4: "a robust
/// parser should not depend on the emoji at all".
pub fn skip_glyphs(s: &[u8]) -> &[u8] {
    let mut i = 0;
    loop {
        i += run_of(&s[i..], GLYPH);
        if s.get(i) == Some(&b'%') && s.get(i + 1) == Some(&b'c') {
            i += 2;
        } else {
            break;
        }
    }
    &s[i..]
}

/// The number of leading bytes of `s` in the byte class `class` ([`FILE_NAME`] or [`GLYPH`]):
/// sixteen bytes at a time where the processor compares them at once (the runs every line
/// begins with are short: a file name, an emoji and a space), else byte by byte.
#[inline]
fn run_of(s: &[u8], class: u8) -> usize {
    let mut i = 0;
    #[cfg(target_arch = "x86_64")]
    while let Some(chunk) = s.get(i..).and_then(|r| r.first_chunk::<16>()) {
        let n = (!class_mask_16(chunk, class)).trailing_zeros() as usize;
        i += n;
        if n < 16 {
            return i;
        }
    }
    i + s[i..].iter().take_while(|b| CLASS[usize::from(**b)] & class != 0).count()
}

/// Bit `k` set when `chunk[k]` is in the byte class `class` (as [`CLASS`] says; SSE2, which
/// every x86-64 processor has). Bits 16 and up are clear.
#[cfg(target_arch = "x86_64")]
#[inline]
fn class_mask_16(chunk: &[u8; 16], class: u8) -> u32 {
    use std::arch::x86_64::*;
    // SAFETY: `chunk` is 16 readable bytes (an unaligned load reads exactly those), and SSE2 is
    // part of the x86-64 baseline, so the target enables it.
    unsafe {
        let v = _mm_loadu_si128(chunk.as_ptr().cast());
        let eq = |c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
        // `lo..=hi` (ASCII) by one signed comparison: the range is moved to the bottom of the
        // signed bytes.
        let within = |x: __m128i, lo: u8, hi: u8| {
            let shifted = _mm_add_epi8(x, _mm_set1_epi8(0x80u8.wrapping_sub(lo) as i8));
            _mm_cmplt_epi8(shifted, _mm_set1_epi8((0x80u8 + (hi - lo) + 1) as i8))
        };
        let m = if class == FILE_NAME {
            let letter = within(_mm_or_si128(v, _mm_set1_epi8(0x20)), b'a', b'z');
            let punct = _mm_or_si128(_mm_or_si128(eq(b'_'), eq(b'.')), eq(b'-'));
            _mm_or_si128(_mm_or_si128(within(v, b'0', b'9'), letter), punct)
        } else {
            // ASCII white space (`\t`, `\n`, form feed, `\r`, space: not the vertical tab),
            // `?`, and every non-ASCII byte (negative).
            let space = _mm_or_si128(_mm_or_si128(within(v, b'\t', b'\n'), within(v, 0x0C, b'\r')), eq(b' '));
            _mm_or_si128(_mm_or_si128(space, eq(b'?')), _mm_cmplt_epi8(v, _mm_setzero_si128()))
        };
        _mm_movemask_epi8(m) as u32
    }
}

/// Removes a trailing CSS residue `( (color|font-weight|background)[^;]*;)+$` and a final
/// `font-weight:bold` without `;` (Cypress joins the `%c` arguments with spaces, H15).
pub fn strip_css_residue(s: &[u8]) -> &[u8] {
    // Most messages end otherwise: one look at the last byte.
    if !s.last().is_some_and(|&b| b == b';' || b == b'd' || b.is_ascii_whitespace()) {
        return s;
    }
    let m = trim_end(s);
    for suffix in [&b" font-weight:bold"[..], b" font-weight: bold"] {
        if m.len() > suffix.len() && m.ends_with(suffix) {
            return trim_end(&m[..m.len() - suffix.len()]);
        }
    }
    match css_residue_start(m) {
        Some(start) if start > 0 => trim_end(&m[..start]),
        _ => m,
    }
}

/// Where the leftmost match of `( (color|font-weight|background)[^;]*;)+$` starts in `m`
/// (which ends without white space). Declarations end at a `;` and hold none, so they are
/// found from the end: the last one starts at the leftmost keyword after the `;` before the
/// final one, and the match reaches further left only while a declaration starts right after
/// the previous `;`.
fn css_residue_start(m: &[u8]) -> Option<usize> {
    fn declaration(s: &[u8]) -> bool {
        [&b" color"[..], b" font-weight", b" background"].iter().any(|k| s.starts_with(k))
    }
    let mut end = m.len().checked_sub(1).filter(|&i| m[i] == b';')?;
    let mut start = None;
    loop {
        let from = memchr::memrchr(b';', &m[..end]).map_or(0, |i| i + 1);
        let Some(at) = (from..end).find(|&i| m[i] == b' ' && declaration(&m[i..end])) else { return start };
        start = Some(at);
        if at != from || at == 0 {
            return start;
        }
        end = at - 1;
    }
}

fn trim_end(s: &[u8]) -> &[u8] {
    let n = s.iter().rev().take_while(|b| b.is_ascii_whitespace()).count();
    &s[..s.len() - n]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sixteen-byte scans agree with the table on every byte, at every position of a run.
    #[test]
    fn runs_agree_with_the_class_table() {
        for class in [FILE_NAME, GLYPH] {
            let by_table = |s: &[u8]| s.iter().take_while(|b| CLASS[usize::from(**b)] & class != 0).count();
            let member = (0..=255u8).find(|b| CLASS[usize::from(*b)] & class != 0).unwrap();
            for b in 0..=255u8 {
                for at in [0, 1, 7, 15, 16, 17, 31, 40] {
                    let mut s = vec![member; 48];
                    s[at] = b;
                    assert_eq!(run_of(&s, class), by_table(&s), "class {class}, byte {b:#x} at {at}");
                    assert_eq!(run_of(&s[..at + 1], class), by_table(&s[..at + 1]));
                }
            }
        }
    }

    fn msg(line: &str) -> String {
        String::from_utf8(strip_css_residue(peel(line.as_bytes()).message).to_vec()).unwrap()
    }

    #[test]
    fn chrome_prefix_with_inner_timestamp() {
        let p = peel("EventBus.ts:56 2025-11-10T21:56:16.932Z 🎼 EventBus: Using internal conductor (legacy mode)".as_bytes());
        assert_eq!(p.message, b"EventBus: Using internal conductor (legacy mode)");
        assert_eq!(p.ts(), Some(1_762_811_776_932));
    }

    #[test]
    fn react_devtools_and_plain_space_and_no_prefix() {
        assert_eq!(
            msg(
                "installHook.js:1 2025-11-13T13:19:34.329Z ⏱️ PerformanceTracker: Cleaned up failed movement Get Current Theme for Header UI Theme Get"
            ),
            "PerformanceTracker: Cleaned up failed movement Get Current Theme for Header UI Theme Get"
        );
        assert_eq!(msg(" ✅ Completed in 4.70ms"), "Completed in 4.70ms");
        assert_eq!(msg("EventBus.ts:329 🎼 EventBus: x"), "EventBus: x");
        assert_eq!(
            msg("2025-11-10T21:56:19.998Z 🎼 MusicalConductor.play: preserved 1 callback(s) for correlationId=mc-1762811779997-avzo8c"),
            "MusicalConductor.play: preserved 1 callback(s) for correlationId=mc-1762811779997-avzo8c"
        );
    }

    #[test]
    fn cypress_envelope_prefers_inner_timestamp_and_strips_css() {
        let p = peel(
            "[2025-11-17T16:40:45.055Z] LOG 2025-11-17T16:40:45.056Z %c✅ Completed in 8.90ms color: #28A745; font-weight: bold;"
                .as_bytes(),
        );
        assert_eq!(strip_css_residue(p.message), b"Completed in 8.90ms");
        assert_eq!(p.ts(), Some(timestamp::parse_iso(b"2025-11-17T16:40:45.056Z").unwrap().0));
        assert_eq!(
            msg(
                "[2025-11-17T16:40:45.056Z] LOG 2025-11-17T16:40:45.056Z 🎼 Sequence: Control Panel UI Render color: #007BFF; font-weight: bold;"
            ),
            "Sequence: Control Panel UI Render"
        );
        assert_eq!(msg("[2025-11-16T15:48:33.776Z] 🎼 Initializing new conductor instance..."), "Initializing new conductor instance...");
        assert_eq!(
            msg(
                "[INFO] %cDownload the React DevTools for a better development experience: https://react.dev/link/react-devtools font-weight:bold"
            ),
            "Download the React DevTools for a better development experience: https://react.dev/link/react-devtools"
        );
        assert_eq!(
            msg("[2025-11-17T16:40:45.063Z] LOG ... 🕐 Subscriber 0 sync execution took 6.80ms"),
            "Subscriber 0 sync execution took 6.80ms"
        );
    }

    #[test]
    fn analyser_and_quoted_line_prefixes() {
        assert_eq!(
            msg("     +2.385s │ EventBus.ts:56 2025-11-15T16:38:23.985Z ⏱️ PerformanceTracker: ✅ Beat 1: 15.20ms"),
            "PerformanceTracker: ✅ Beat 1: 15.20ms"
        );
        assert_eq!(
            msg(
                "Line 49: EventBus.ts:56 2025-11-13T20:29:59.096Z ✅ SequenceExecutor: Sequence \"Canvas Component Create\" completed in 37ms"
            ),
            "SequenceExecutor: Sequence \"Canvas Component Create\" completed in 37ms"
        );
    }

    #[test]
    fn serilog_file_and_console_sinks() {
        let p = peel(
            "[2025-11-09 14:30:46.789 -05:00] [INF] MusicalConductor.Avalonia.Logging.ConductorLogger: 🎼 Sequence started: x".as_bytes(),
        );
        assert_eq!(p.message, b"Sequence started: x");
        assert_eq!(p.ts(), timestamp::parse_iso(b"2025-11-09T19:30:46.789Z").map(|t| t.0));
        // Placeholder timestamps never crash and give no timestamp (H18).
        let p = peel("[2025-11-09 HH:mm:ss.fff -05:00] [INF] A.B: ✅ x".as_bytes());
        assert_eq!((p.ts(), p.message), (None, &b"x"[..]));
        let p = peel("[timestamp] [INF] MusicalConductor.Avalonia.Logging.ConductorLogger: 🎼     Beat: H".as_bytes());
        assert_eq!((p.ts(), p.message), (None, &b"Beat: H"[..]));
        assert_eq!(msg("[14:30:46 INF] RenderX.Shell: ✅ SequenceExecutor: x"), "SequenceExecutor: x");
    }

    #[test]
    fn lost_emoji_and_mojibake_are_skipped() {
        assert_eq!(
            msg("      ?? EventBus: Subscribed to \"a\" (1 total subscribers)"),
            "EventBus: Subscribed to \"a\" (1 total subscribers)"
        );
        assert_eq!(msg("Γ£à BeatExecutor: Beat 1 (a:b) completed in 3ms"), "BeatExecutor: Beat 1 (a:b) completed in 3ms");
    }

    #[test]
    fn css_residue_only_at_the_end_and_only_css() {
        assert_eq!(strip_css_residue(b"Sequence: A color: red;"), b"Sequence: A");
        assert_eq!(strip_css_residue(b"Sequence: A;"), b"Sequence: A;");
        assert_eq!(strip_css_residue(b"a; color: red; background: x;"), b"a;");
        assert_eq!(strip_css_residue(b"color: red;"), b"color: red;");
    }

    /// The declaration scan finds what the regex it replaces found, on residues built from the
    /// pieces that matter (keywords, `;`, spaces, other words) in every order up to six pieces.
    #[test]
    fn css_residue_scan_matches_the_regex() {
        let regex = regex::bytes::Regex::new(r"(?-u)(?: (?:color|font-weight|background)[^;]*;)+\s*$").unwrap();
        let pieces: [&[u8]; 7] = [b" color: red", b";", b" font-weight: bold", b" background", b"x", b" ", b"a;b"];
        let mut stack = vec![(Vec::new(), 0)];
        while let Some((s, n)) = stack.pop() {
            let m = trim_end(&s);
            let expected = if m.ends_with(b";") { regex.find(m).map(|f| f.start()) } else { None };
            assert_eq!(css_residue_start(m), expected, "{:?}", String::from_utf8_lossy(m));
            if n < 6 {
                for p in pieces {
                    stack.push(([&s[..], p].concat(), n + 1));
                }
            }
        }
    }
}
