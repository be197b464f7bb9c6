//! The build-pipeline symphony console (LOG-FORMATS.md §2(f)), as PowerShell captures it
//! (decoded and its CP437 mojibake repaired before it gets here):
//!
//! ```text
//! ✅ Movement 1: Validation & Verification
//! [BEAT 1] Starting: Load Build Context
//! 🎵 [2025-11-27T02:56:07.298Z] Movement 1, Beat 1: Loading build configuration and environment
//! [BEAT 1] Completed: 0ms | Status: success | SLA: compliant | Shape: stable
//! node.exe : [BEAT 2] FAILED: orchestration-domains.json not found
//! ❌ Beat failed: Validate Orchestration Domains
//! ```
//!
//! Beats are named by their title and numbered within their movement (H2: the numbers restart
//! in every movement; a number at or below the last one without a `Movement N` line between
//! starts the next movement). `[BEAT undefined]` (a producer bug) is numbered by its position
//! in the movement. A `Status` other than `success` and a `FAILED:` line fail the beat; a
//! `❌ Beat failed: Title` line fails the open beat of that title (it repeats a `FAILED:` line
//! otherwise). A beat started and never ended is incomplete. One file is one run of the
//! pipeline: every beat is reported in group 1.

use std::collections::BTreeMap;

use super::{Event, LineReport, ReportedBeat, duration_ms};

#[derive(Debug, Default)]
pub struct BuildParser {
    movement: u32,
    /// A `Movement N` line came since the last beat started.
    announced: bool,
    last_number: u32,
    /// Beats started in the current movement.
    position: u32,
    /// Open beats by number in the movement: (title, line of the start).
    open: BTreeMap<u32, (String, u32)>,
    /// The number `[BEAT undefined]` beats got, in order of their start.
    undefined: Vec<u32>,
}

/// Whether `text` holds a `[BEAT N] Starting|Completed|FAILED` line.
pub fn looks_like_build(text: &[u8]) -> bool {
    memchr::memmem::find_iter(text, b"[BEAT ").any(|at| {
        let rest = &text[at + 6..];
        let n = rest.iter().take_while(|b| b.is_ascii_alphanumeric()).count();
        let rest = &rest[n..];
        n > 0 && (rest.starts_with(b"] Starting: ") || rest.starts_with(b"] Completed: ") || rest.starts_with(b"] FAILED: "))
    })
}

impl LineReport for BuildParser {
    fn line(&mut self, no: u32, line: &[u8], emit: &mut dyn FnMut(Event<'static>)) {
        let text = String::from_utf8_lossy(line);
        let t = text.trim();
        if let Some(at) = t.find("[BEAT ") {
            // `node.exe : [BEAT 2] FAILED: …` — PowerShell's wrapping of the standard error.
            let before = t[..at].trim_end();
            if before.is_empty() || before.ends_with(" :") {
                self.beat_line(no, &t[at + 6..], emit);
            }
            return;
        }
        if let Some(title) = after(t, "Beat failed: ") {
            let failed = self.open.iter().find(|(_, (open, _))| open.eq_ignore_ascii_case(title)).map(|(&n, _)| n);
            if let Some(n) = failed
                && let Some((title, _)) = self.open.remove(&n)
            {
                emit(beat(n, title, None, true, no));
            }
            return;
        }
        if let Some(m) = movement_of(t)
            && m != self.movement
        {
            self.end_movement(emit);
            self.movement = m;
            self.announced = true;
        }
    }

    /// Open beats are incomplete.
    fn finish(&mut self, emit: &mut dyn FnMut(Event<'static>)) {
        self.end_movement(emit);
    }
}

impl BuildParser {
    fn end_movement(&mut self, emit: &mut dyn FnMut(Event<'static>)) {
        for (n, (title, line)) in std::mem::take(&mut self.open) {
            emit(beat(n, title, None, false, line));
        }
        self.position = 0;
        self.last_number = 0;
        self.undefined.clear();
    }

    /// `N] Starting: Title`, `N] Completed: Xms | Status: s | …`, `N] FAILED: message`.
    fn beat_line(&mut self, no: u32, rest: &str, emit: &mut dyn FnMut(Event<'static>)) {
        let Some((number, rest)) = rest.split_once("] ") else { return };
        let number = match number {
            "undefined" => None,
            n => match n.parse::<u32>() {
                Ok(n) => Some(n),
                Err(_) => return,
            },
        };
        if let Some(title) = rest.strip_prefix("Starting: ") {
            if let Some(n) = number
                && n <= self.last_number
                && !self.announced
            {
                // The numbers restarted without a `Movement N` line: the next movement.
                let next = self.movement + 1;
                self.end_movement(emit);
                self.movement = next;
            }
            self.announced = false;
            self.position += 1;
            let n = number.unwrap_or(self.position);
            if number.is_none() {
                self.undefined.push(n);
            }
            self.last_number = n;
            if let Some((title, line)) = self.open.insert(n, (title.trim().to_owned(), no)) {
                emit(beat(n, title, None, false, line));
            }
            return;
        }
        let n = match number {
            Some(n) => n,
            None => match self.undefined.iter().rev().find(|n| self.open.contains_key(n)) {
                Some(&n) => n,
                None => return,
            },
        };
        let (ms, failed) = if let Some(done) = rest.strip_prefix("Completed: ") {
            let mut fields = done.split('|').map(str::trim);
            // `Xms` alone in its field: anything else is a duration rejected (and counted).
            let ms = fields.next().map(|d| match duration_ms(d.as_bytes()) {
                (ms, n) if n == d.len() => ms,
                _ => f64::NAN,
            });
            let status = fields.find_map(|f| f.strip_prefix("Status:")).map(str::trim);
            let failed = status.is_some_and(|s| !s.eq_ignore_ascii_case("success"));
            (if failed { None } else { ms }, failed)
        } else if rest.starts_with("FAILED: ") {
            (None, true)
        } else {
            // Neither: the beat stays open.
            return;
        };
        let title = self.open.remove(&n).map(|(t, _)| t).unwrap_or_default();
        emit(beat(n, title, ms, failed, no));
    }
}

fn beat(n: u32, title: String, ms: Option<f64>, failed: bool, line: u32) -> Event<'static> {
    Event::Reported(Box::new(ReportedBeat {
        group: 1,
        beat: n,
        title: (!title.is_empty()).then_some(title),
        ms,
        failed,
        line,
        ..ReportedBeat::default()
    }))
}

/// The text after `marker` (with anything before it: an emoji, a prefix).
fn after<'t>(t: &'t str, marker: &str) -> Option<&'t str> {
    t.find(marker).map(|at| t[at + marker.len()..].trim())
}

/// `✅ Movement 1: Validation & Verification`, `🎵 [ts] Movement 3, Beat 15: …` → the movement.
fn movement_of(t: &str) -> Option<u32> {
    let at = t.find("Movement ")?;
    let rest = &t[at + 9..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let n = rest[..digits].parse().ok()?;
    matches!(rest.as_bytes().get(digits), Some(b':' | b',')).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (beat, title, ms, failed, line) of each beat reported.
    type Reported = (u32, Option<String>, Option<f64>, bool, u32);

    fn parse(text: &str) -> Vec<Reported> {
        let mut p = BuildParser::default();
        let mut out = Vec::new();
        let mut emit = |e: Event<'static>| {
            if let Event::Reported(b) = e {
                out.push((b.beat, b.title, b.ms, b.failed, b.line));
            }
        };
        for (no, line) in text.lines().enumerate() {
            p.line(no as u32 + 1, line.as_bytes(), &mut emit);
        }
        p.finish(&mut emit);
        out
    }

    fn t(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    #[test]
    fn beats_restart_fail_and_stay_open() {
        let got = parse(
            "✅ Movement 1: Validation & Verification\n\
             [BEAT 1] Starting: Load Build Context\n\
             🎵 [2025-11-27T02:56:07.298Z] Movement 1, Beat 1: Loading build configuration\n\
             📍 EVENT: build:context:loaded { environment: 'development' }\n\
             [BEAT 1] Completed: 0ms | Status: success | SLA: compliant | Shape: stable\n\
             [BEAT 2] Starting: Validate Orchestration Domains\n\
             node.exe : [BEAT 2] FAILED: orchestration-domains.json not found\n\
             ❌ Beat failed: Validate Orchestration Domains\n\
             ✅ Movement 2: Build\n\
             [BEAT 1] Starting: Build components\n\
             [BEAT 1] Completed: 1250ms | Status: success | SLA: breach | Shape: drift\n\
             [BEAT 1] Starting: Bundle\n\
             [BEAT 1] Completed: 12.5ms | Status: failure | SLA: compliant | Shape: stable\n\
             [BEAT undefined] Starting: Copy assets\n\
             [BEAT undefined] Completed: 7ms | Status: success | SLA: compliant | Shape: stable\n\
             [BEAT 3] Starting: Publish\n",
        );
        assert_eq!(
            got,
            [
                (1, t("Load Build Context"), Some(0.0), false, 5),
                (2, t("Validate Orchestration Domains"), None, true, 7),
                (1, t("Build components"), Some(1250.0), false, 11),
                // Beat 1 again without a movement line: movement 3, whose second beat is undefined.
                (1, t("Bundle"), None, true, 13),
                (2, t("Copy assets"), Some(7.0), false, 15),
                (3, t("Publish"), None, false, 16),
            ]
        );
    }

    proptest::proptest! {
        /// Every beat started ends exactly once (completed, failed, incomplete or started
        /// again), whatever the order of the lines, and nothing panics.
        #[test]
        fn every_started_beat_ends_once(
            lines in proptest::collection::vec(
                "(\\[BEAT ([0-9]{1,2}|undefined|x)\\] (Starting: [A-Za-z]{1,6}|Completed: [0-9.]{1,4}ms \\| Status: (success|failure)|FAILED: [a-z]{0,5})|(node.exe : )?\\[BEAT [0-9]\\] FAILED: x|(✅ )?Movement [0-9]: [A-Za-z]{0,6}|❌ Beat failed: [A-Za-z]{1,6}|.{0,12})",
                0..40,
            ),
        ) {
            let text = lines.join("\n");
            let starts = lines.iter().filter(|l| l.contains("] Starting: ") && !l.contains("[BEAT x]")).count();
            let got = parse(&text);
            proptest::prop_assert_eq!(got.iter().filter(|b| b.1.is_some()).count(), starts, "{:?}", got);
        }
    }

    #[test]
    fn a_failure_by_title_alone_fails_the_open_beat() {
        let got = parse("[BEAT 1] Starting: Build components\nsome output\n❌ Beat failed: Build components\n");
        assert_eq!(got, [(1, t("Build components"), None, true, 3)]);
        // A line of the beat that neither completes nor fails it leaves its start where it was.
        assert_eq!(parse("[BEAT 1] Starting: Bundle\n[BEAT 1] Progress: 50%\n"), [(1, t("Bundle"), None, false, 1)]);
        assert!(looks_like_build(b"x\r\n[BEAT 1] Starting: A\r\n"));
        assert!(looks_like_build(b"[BEAT undefined] Completed: 1ms"));
        assert!(!looks_like_build(b"[BEAT] Starting: A\n[BEAT 1]Starting"));
    }
}
