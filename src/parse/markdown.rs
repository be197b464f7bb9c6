//! Markdown telemetry (LOG-FORMATS.md §2(d)): `**Beat N: event**` blocks with `- **Duration**:`,
//! `- **Status**:` and `- **Handler**: name (Plugin)` fields, the inline `- **Beat N (event)**:
//! 10.20ms` form and the `- Beat N (Title): 8ms` variant. The sequence of a block is the
//! enclosing `#### N. <Name> Sequence` heading, its request id the section's `- **Request ID**:`.
//! Console lines quoted inside a markdown file are quotes (H20) and are not parsed here.

use super::{Event, LineReport, ReportedBeat, duration_ms};

#[derive(Debug, Default)]
pub struct MarkdownParser {
    /// (heading level, sequence name) of the current section.
    section: Option<(usize, String)>,
    request: Option<String>,
    block: Option<ReportedBeat>,
    /// Inside a ``` or ~~~ fence: quoted material (H20), not telemetry.
    fence: Option<&'static str>,
    /// The block of consecutive `- Beat N (Title)` lines (one sequence run each) and whether
    /// the last line was one of them.
    group: u32,
    in_titles: bool,
}

impl LineReport for MarkdownParser {
    fn line(&mut self, no: u32, line: &[u8], emit: &mut dyn FnMut(Event<'static>)) {
        let text = String::from_utf8_lossy(line);
        let t = text.trim_end();
        let in_titles = std::mem::take(&mut self.in_titles);
        let fence = t.trim_start();
        for marker in ["```", "~~~"] {
            if fence.starts_with(marker) {
                match self.fence {
                    None => {
                        self.flush(emit);
                        self.fence = Some(marker);
                    }
                    Some(open) if open == marker => self.fence = None,
                    Some(_) => {}
                }
                return;
            }
        }
        if self.fence.is_some() {
            return;
        }
        if let Some(level) = heading_level(t) {
            self.flush(emit);
            let title = t[level..].trim();
            if let Some(name) = sequence_heading(title) {
                self.section = Some((level, name));
                self.request = None;
            } else if self.section.as_ref().is_some_and(|(l, _)| level <= *l) {
                self.section = None;
                self.request = None;
            }
            return;
        }
        let trimmed = t.trim_start();
        if let Some(rest) = trimmed.strip_prefix("**Beat ") {
            // `**Beat N: event**( trailing)?`
            self.flush(emit);
            if let Some((n, rest)) = leading_number(rest)
                && let Some(rest) = rest.strip_prefix(": ")
                && let Some(end) = rest.find("**")
            {
                let name = rest[..end].trim();
                let mut beat = self.new_beat(n, no);
                set_event_or_title(&mut beat, name);
                self.block = Some(beat);
            }
            return;
        }
        if let Some(rest) = trimmed.strip_prefix("- **") {
            if let Some((key, value)) = rest.split_once("**: ") {
                self.field(no, key, value.trim(), emit);
            }
            return;
        }
        if let Some(rest) = trimmed.strip_prefix("- Beat ") {
            // `- Beat 1 (Resolve Template): 8ms`, maybe with a note after the duration.
            if let Some((n, rest)) = leading_number(rest)
                && let Some(rest) = rest.strip_prefix(" (")
                && let Some((name, dur)) = rest.split_once("): ")
                && let Some(ms) = duration(dur)
            {
                if !in_titles {
                    self.group += 1;
                }
                self.in_titles = true;
                let mut beat = self.new_beat(n, no);
                set_event_or_title(&mut beat, name);
                beat.group = if beat.sequence.is_none() { self.group } else { 0 };
                beat.ms = Some(ms);
                emit(Event::Reported(Box::new(beat)));
            }
            return;
        }
        if trimmed.is_empty() {
            self.flush(emit);
        }
    }

    fn finish(&mut self, emit: &mut dyn FnMut(Event<'static>)) {
        self.flush(emit);
    }
}

impl MarkdownParser {
    fn new_beat(&self, beat: u32, line: u32) -> ReportedBeat {
        ReportedBeat {
            sequence: self.section.as_ref().map(|(_, n)| n.clone()),
            request: self.request.clone(),
            beat,
            line,
            ..ReportedBeat::default()
        }
    }

    fn field(&mut self, no: u32, key: &str, value: &str, emit: &mut dyn FnMut(Event<'static>)) {
        if let Some(rest) = key.strip_prefix("Beat ") {
            // Inline form `- **Beat 1 (library:component:drop)**: 10.20ms`.
            self.flush(emit);
            if let Some((n, rest)) = leading_number(rest)
                && let Some(name) = rest.strip_prefix(" (").and_then(|r| r.strip_suffix(')'))
                && let Some(ms) = duration(value)
            {
                let mut beat = self.new_beat(n, no);
                set_event_or_title(&mut beat, name);
                beat.ms = Some(ms);
                emit(Event::Reported(Box::new(beat)));
            }
            return;
        }
        if key == "Request ID" && self.block.is_none() {
            self.request = Some(value.split_whitespace().next().unwrap_or_default().to_owned());
            return;
        }
        let Some(block) = self.block.as_mut() else { return };
        match key {
            "Duration" => {
                block.ms = duration(value);
                block.line = no;
            }
            "Status" => block.failed = value.contains('❌') || value.to_ascii_lowercase().contains("fail"),
            "Handler" => {
                // `name( (Plugin))?` — the plugin is optional.
                let mut parts = value.splitn(2, ' ');
                let name = parts.next().unwrap_or_default();
                if is_identifier(name) {
                    block.handler = Some(name.to_owned());
                    block.plugin = parts
                        .next()
                        .and_then(|p| p.trim().strip_prefix('(')?.strip_suffix(')'))
                        .filter(|p| is_identifier(p))
                        .map(str::to_owned);
                }
            }
            _ => {}
        }
    }

    fn flush(&mut self, emit: &mut dyn FnMut(Event<'static>)) {
        if let Some(beat) = self.block.take() {
            emit(Event::Reported(Box::new(beat)));
        }
    }
}

fn heading_level(t: &str) -> Option<usize> {
    let n = t.bytes().take_while(|b| *b == b'#').count();
    (1..=6).contains(&n).then_some(n).filter(|n| t[*n..].starts_with(' '))
}

/// `2. Canvas Component Create Sequence` → `Canvas Component Create`.
fn sequence_heading(title: &str) -> Option<String> {
    let title = match leading_number(title) {
        Some((_, rest)) => rest.strip_prefix(". ").unwrap_or(rest),
        None => title,
    };
    let name = title.strip_suffix(" Sequence")?.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

fn leading_number(s: &str) -> Option<(u32, &str)> {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    let v = s.get(..n)?.parse().ok()?;
    Some((v, &s[n..]))
}

/// `8.00ms`, `8ms`, `10.20 ms`, `2.44s`, and what may follow them: a note, a flag (`12ms ⚠️
/// slow`, `8ms (cached)`). `None` when the value does not start with a number (no duration
/// stated); `NaN` (rejected and counted by the tracker) when the number has no unit, an unknown
/// one or one glued to letters (`8msg`, `8 seconds`).
fn duration(v: &str) -> Option<f64> {
    let v = v.trim_start();
    v.starts_with(|c: char| c.is_ascii_digit()).then(|| duration_ms(v.as_bytes()).0)
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
}

/// An event looks like `canvas:component:create` (`[a-z0-9:.-]+`); anything else is a title.
fn set_event_or_title(beat: &mut ReportedBeat, name: &str) {
    let is_event =
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b':' | b'.' | b'-' | b'_'));
    if is_event {
        beat.event = Some(name.to_owned());
    } else {
        beat.title = Some(name.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<ReportedBeat> {
        let mut p = MarkdownParser::default();
        let mut out = Vec::new();
        let mut emit = |e: Event<'static>| {
            if let Event::Reported(b) = e {
                out.push(*b);
            }
        };
        for (no, line) in text.lines().enumerate() {
            p.line(no as u32 + 1, line.as_bytes(), &mut emit);
        }
        p.finish(&mut emit);
        out
    }

    #[test]
    fn blocks_inline_and_title_forms() {
        let beats = parse(
            "#### 1. Library Component Drop Sequence\n- **Duration**: 12ms\n- **Beat 1 (library:component:drop)**: 10.20ms\n\n\
             #### 2. Canvas Component Create Sequence\n- **Request ID**: canvas-component-create-symphony-1763013998567-xxohmk2no\n\n\
             ##### Beat Execution Details:\n\n**Beat 4: canvas:component:render-react** ⭐ KEY PERFORMANCE FIX\n- **Timing**: after-beat (500ms delay)\n\
             - **Duration**: 6.80ms\n- **Status**: ✅ Completed\n- **Handler**: renderReact\n\n**Beat 1: canvas:component:resolve-template**\n\
             - **Duration**: 8.00ms\n- **Handler**: resolveTemplate (CanvasComponentPlugin)\n\n### Other\n  - Beat 1 (Resolve Template): 8ms\n",
        );
        assert_eq!(beats.len(), 4);
        assert_eq!(beats[0].sequence.as_deref(), Some("Library Component Drop"));
        assert_eq!((beats[0].beat, beats[0].event.as_deref(), beats[0].ms), (1, Some("library:component:drop"), Some(10.2)));
        assert_eq!(beats[1].sequence.as_deref(), Some("Canvas Component Create"));
        assert_eq!(beats[1].request.as_deref(), Some("canvas-component-create-symphony-1763013998567-xxohmk2no"));
        assert_eq!(
            (beats[1].beat, beats[1].ms, beats[1].handler.as_deref(), beats[1].plugin.as_deref()),
            (4, Some(6.8), Some("renderReact"), None)
        );
        assert_eq!((beats[2].handler.as_deref(), beats[2].plugin.as_deref()), (Some("resolveTemplate"), Some("CanvasComponentPlugin")));
        assert_eq!((beats[3].sequence.as_deref(), beats[3].title.as_deref(), beats[3].ms), (None, Some("Resolve Template"), Some(8.0)));
    }

    #[test]
    fn title_blocks_and_trailing_notes() {
        let beats = parse(
            "## Run 1\n  - Beat 1 (Resolve Template): 8ms\n  - Beat 2 (Register Instance): 3ms ⚠️ slower than usual\n\n\
             ## Run 2\n  - Beat 1 (Resolve Template): 9.5 ms (cached)\n  - Beat 2 (Init (Batched)): 2ms\n- Beat 3 (X): 8msg\n\
             - **Beat 4 (a:b)**: 1.5ms 🚩\n**Beat 5: a:c**\n- **Duration**: 4ms (p95)\n",
        );
        // `8msg` is a duration rejected (NaN, counted by the tracker with its line), not 8 ms.
        let got: Vec<_> = beats
            .iter()
            .map(|b| (b.group, b.beat, b.title.as_deref().or(b.event.as_deref()), b.ms.map(|ms| if ms.is_nan() { -1.0 } else { ms })))
            .collect();
        assert_eq!(
            got,
            [
                (1, 1, Some("Resolve Template"), Some(8.0)),
                (1, 2, Some("Register Instance"), Some(3.0)),
                (2, 1, Some("Resolve Template"), Some(9.5)),
                (2, 2, Some("Init (Batched)"), Some(2.0)),
                (2, 3, Some("X"), Some(-1.0)),
                (0, 4, Some("a:b"), Some(1.5)),
                (0, 5, Some("a:c"), Some(4.0)),
            ]
        );
    }

    #[test]
    fn fenced_quotes_are_not_telemetry() {
        let beats = parse("```\n**Beat 1: a:b**\n- **Duration**: 8.00ms\n```\n**Beat 2: a:c**\n- **Duration**: 1.00ms\n");
        assert_eq!(beats.len(), 1);
        assert_eq!(beats[0].beat, 2);
    }

    #[test]
    fn failed_and_incomplete_blocks() {
        let beats = parse("**Beat 2: a:b**\n- **Status**: ❌ Failed\n\n**Beat 3: a:c**\n- **Status**: running\n");
        assert_eq!((beats[0].failed, beats[0].ms), (true, None));
        assert_eq!((beats[1].failed, beats[1].ms), (false, None));
    }
}
