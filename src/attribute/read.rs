//! Reading a file into a trace: the input's recognized lines fed to the file's tracker, in
//! file order, and the beats it releases attributed at once by the run's [`Attributor`] — those
//! that need handler lines once the window of [`hints::WINDOW`] executions around them has been
//! read; documents (markdown, frames exports…), which `input` reads whole, traced by
//! [`super::trace_document`].

use std::path::Path;

use std::collections::VecDeque;

use super::hints::{self, Hints};
use super::tracker::{BeatRecord, ExecutionInfo, FileTrace, Tracker};
use super::{Attributor, InputFormat, Traced};
use crate::input::reader;
use crate::input::{self, Body, Encoding};
use crate::parse::user::UserRule;
use crate::parse::{Event, Location};

pub struct Scanned {
    pub traced: Traced,
    /// Reading stopped at a bound: the line that passed it.
    pub stopped: Option<super::Stopped>,
    pub encoding: Encoding,
    pub bytes: u64,
    pub sha256: Option<String>,
}

/// Reads `path` as `format` (see [`input::read_file`]) into the trace of input file number
/// `file`, a console log on `threads` threads; `early` attributes the beats the tracker releases
/// while a console log is read.
pub fn read_file(
    path: &Path,
    format: InputFormat,
    file: u32,
    hash: bool,
    rules: &[&UserRule],
    threads: usize,
    early: Option<&mut Attributor<'_, '_>>,
) -> std::io::Result<Scanned> {
    let mut sink = TraceSink::new(file, early);
    let read = input::read_file(path, format, hash, rules, threads, &mut sink)?;
    let stopped = sink.stopped.take();
    let traced = match read.body {
        Body::Streamed { format, counts } => sink.traced(format, counts),
        Body::Document { format, text } => super::trace_document(&text, format, file),
    };
    Ok(Scanned { traced, stopped, encoding: read.encoding, bytes: read.bytes, sha256: read.sha256 })
}

/// [`read_file`] of bytes in memory (as a file `*.{extension}`), without user rules: the same
/// path, for the tests of the tracker and the attribution.
#[cfg(test)]
pub fn read_bytes(bytes: &[u8], extension: Option<&str>, format: InputFormat, file: u32) -> Traced {
    let mut sink = TraceSink::new(file, None);
    let read = input::read_bytes(bytes, extension, format, &[], reader::threads(), &mut sink);
    match read.body {
        Body::Streamed { format, counts } => sink.traced(format, counts),
        Body::Document { format, text } => super::trace_document(&text, format, file),
    }
}

/// What streaming a console log yields.
#[cfg(test)]
pub struct ConsoleTrace {
    pub trace: FileTrace,
    pub lines: u64,
    /// Bytes read (of the span).
    pub bytes: u64,
}

/// Streams the console log `span` of `src` in blocks of `block_size` bytes into a tracker:
/// what the tests of the block boundaries compare.
#[cfg(test)]
pub fn console_in_blocks(
    src: &(impl reader::ReadAt + ?Sized),
    span: reader::Span,
    file: u32,
    block_size: usize,
    rules: &[&UserRule],
    early: Option<&mut Attributor<'_, '_>>,
    hasher: Option<&mut sha2::Sha256>,
) -> std::io::Result<ConsoleTrace> {
    let mut sink = TraceSink::new(file, early);
    let counts = reader::read_blocks(src, span, block_size, rules, reader::threads(), &mut sink, hasher)?;
    Ok(ConsoleTrace { trace: sink.finish(), lines: counts.lines, bytes: counts.bytes })
}

/// Feeds recognized lines to the file's tracker, in order.
struct TraceSink<'a, 'c, 's> {
    tracker: Tracker,
    file: u32,
    /// Takes the beats the tracker releases while the file is read.
    early: Option<&'a mut Attributor<'c, 's>>,
    /// Beats that need handler lines, with their execution, until the window around them has
    /// been read (by execution number: see [`hints`]).
    waiting: VecDeque<(BeatRecord, ExecutionInfo)>,
    hints: Hints,
    /// Events of the beats and orphans left unmapped while reading, with how many: a handler
    /// line of one that comes later came too late (counted by [`Attributor::late_hints`]).
    unmapped: rustc_hash::FxHashMap<std::sync::Arc<str>, u64>,
    /// A line that passed a bound (a user rule's name too long): nothing after it is read.
    stopped: Option<super::Stopped>,
}

impl reader::Sink for TraceSink<'_, '_, '_> {
    fn line(&mut self, line: u32, ts: Option<i64>, event: Event<'_>) {
        if self.stopped.is_some() {
            return;
        }
        let at = Location { file: self.file, line };
        if let Event::NameTooLong { rule, normalize, len } = event {
            self.stopped = Some(super::Stopped { at, limit: super::Limit::NameTooLong { rule: rule.into_owned(), normalize, len } });
            return;
        }
        self.tracker.feed(event, ts, at);
    }

    fn stopped(&self) -> bool {
        self.stopped.is_some() || self.early.as_ref().is_some_and(|a| a.stopped().is_some())
    }

    fn batch_end(&mut self) {
        let Some(early) = self.early.as_deref_mut() else { return };
        let waiting = &mut self.waiting;
        self.tracker.drain_released(|record, info| {
            if let Some(back) = early.try_early(record, info) {
                waiting.push_back((back, info.clone()));
            }
        });
        for (tag, hint) in self.tracker.take_hints() {
            if !self.unmapped.is_empty()
                && let Some(beats) = self.unmapped.remove(&hint.event)
            {
                early.late_hints(beats);
            }
            self.hints.push(tag, hint);
        }
        // The beats and orphans whose window has been read are attributed; then the handler
        // lines no beat still waiting can use are dropped.
        let now = self.tracker.started();
        let past = now.saturating_sub(hints::WINDOW);
        // The handler lines are indexed only for the beats and orphans about to be named.
        if self.waiting.front().is_some_and(|(record, _)| u64::from(record.execution) < past) {
            self.hints.index();
        }
        while let Some((record, _)) = self.waiting.front() {
            if u64::from(record.execution) >= past {
                break;
            }
            let (record, info) = self.waiting.pop_front().expect("a waiting beat");
            let event = record.event.clone();
            if early.with_hints(record, &info, &self.hints)
                && let Some(e) = event
            {
                *self.unmapped.entry(e).or_default() += 1;
            }
        }
        let orphans = self.tracker.take_orphans(past);
        if !orphans.is_empty() {
            self.hints.index();
        }
        for orphan in orphans {
            let event = orphan.event.clone();
            if early.orphan(orphan, &self.hints)
                && let Some(e) = event
            {
                *self.unmapped.entry(e).or_default() += 1;
            }
        }
        let oldest = self.waiting.iter().map(|(r, _)| u64::from(r.execution)).min().unwrap_or(past).min(past);
        self.hints.drop_before(oldest.saturating_sub(hints::WINDOW));
    }
}

impl<'a, 'c, 's> TraceSink<'a, 'c, 's> {
    fn new(file: u32, early: Option<&'a mut Attributor<'c, 's>>) -> Self {
        TraceSink {
            tracker: Tracker::new(),
            file,
            early,
            waiting: VecDeque::new(),
            hints: Hints::default(),
            unmapped: Default::default(),
            stopped: None,
        }
    }

    fn traced(self, format: InputFormat, counts: reader::Counts) -> Traced {
        let trace = self.finish();
        let binary = counts.nul && trace.recognized == 0;
        Traced { format, lines: counts.lines, trace, problem: None, binary }
    }

    /// The trace of what was not attributed while reading: the beats still waiting come first
    /// (they are older than every beat the tracker holds), with the handler lines in the window.
    fn finish(self) -> FileTrace {
        let mut trace = self.tracker.finish(self.waiting.into());
        let (mut kept, dropped) = self.hints.into_parts();
        if !kept.is_empty() {
            kept.append(&mut trace.hints);
            trace.hints = kept;
        }
        trace.dropped_hints = dropped;
        trace
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::reader::{BLOCK, Span, Stream};
    use crate::parse::{self, conductor, envelope};

    /// The generator's logs (`run-NN.log`, every envelope and hard case) and catalog, in a
    /// temporary directory.
    fn generated(seed: u64, files: usize, executions: usize, noise: usize) -> tempfile::TempDir {
        generated_with(seed, files, executions, noise, crate::generate::Envelopes::Execution)
    }

    fn generated_with(
        seed: u64,
        files: usize,
        executions: usize,
        noise: usize,
        envelopes: crate::generate::Envelopes,
    ) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let args = crate::generate::GenerateArgs {
            seed,
            files,
            executions,
            noise,
            envelopes,
            ..crate::generate::GenerateArgs::writing_to(dir.path())
        };
        crate::generate::run(&args).unwrap();
        dir
    }

    /// Every duration the generator writes is one the conductor could print, and is read: a
    /// rounded integer duration of a beat under half a millisecond was once written `-0ms` by
    /// optimized builds only (`(-0.4f64).round().max(0.0)` may be `-0`), and went unrecognized.
    #[test]
    fn generated_timing_lines_are_all_read() {
        let dir = tempfile::tempdir().unwrap();
        let args = crate::generate::GenerateArgs {
            seed: 4,
            executions: 1000,
            suite: Some(84),
            ..crate::generate::GenerateArgs::writing_to(dir.path())
        };
        crate::generate::run(&args).unwrap();
        let text = std::fs::read(dir.path().join("logs/run-00.log")).unwrap();
        let (mut written, mut read) = (0, 0);
        for (_, line) in parse::lines(&text) {
            if memchr::memmem::find(line, b"completed in").is_some() {
                written += 1;
                read += usize::from(conductor::recognize(envelope::peel(line).message).is_some());
            }
            assert!(memchr::memmem::find(line, b"completed in -").is_none(), "{}", String::from_utf8_lossy(line));
        }
        assert!(written > 5000 && read == written, "{read} of {written}");
    }

    /// The straightforward reading: the whole file decoded in memory, line by line, on one
    /// thread, every beat attributed at the end.
    fn straightforward(bytes: Vec<u8>, file: u32) -> (FileTrace, u64) {
        let (text, _) = input::decode(bytes);
        let mut tracker = Tracker::new();
        let mut lines = 0;
        for (no, line) in parse::lines(&text) {
            lines += 1;
            let peeled = envelope::peel(line);
            if let Some(event) = conductor::recognize(peeled.message) {
                tracker.feed(event, peeled.ts(), Location { file, line: no });
            }
        }
        (tracker.finish(Vec::new()), lines)
    }

    /// The JSON report of `paths` read as console logs (handler sources under `root`), the fast
    /// way (parallel blocks, beats attributed while reading) or the straightforward way; with
    /// the number of beats left to attribute at the end of their file, and of all beats.
    fn report_of(paths: &[std::path::PathBuf], catalog: &[std::path::PathBuf], root: &Path, fast: bool) -> (String, u64, u64) {
        use crate::attribute::Attributor;
        use crate::attribute::catalog::Catalog;
        use crate::attribute::source::SourceIndex;
        let catalog = Catalog::load(catalog).unwrap();
        let sources = std::sync::Mutex::new(SourceIndex::new(root));
        let mut attributor = Attributor::new(&catalog, &sources, 50);
        let (mut lines, mut held, mut total) = (0, 0, 0);
        for (i, path) in paths.iter().enumerate() {
            let trace = if fast {
                let scanned =
                    read_file(path, InputFormat::Console, i as u32, false, &[], reader::threads(), Some(&mut attributor)).unwrap();
                lines += scanned.traced.lines;
                scanned.traced.trace
            } else {
                let (trace, n) = straightforward(std::fs::read(path).unwrap(), i as u32);
                lines += n;
                trace
            };
            held += trace.beats.len() as u64;
            total += trace.outcomes.iter().sum::<u64>();
            attributor.add(trace);
        }
        let files: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        let m = crate::measure::Measurements::new(attributor.finish(), files, Default::default());
        let report = crate::report::build(&m, crate::config::SortKey::Avg);
        (format!("{lines} lines\n{}", crate::render::json::render(&report)), held, total)
    }

    /// The fast path gives byte-identical reports (drill-down selections included) to the
    /// straightforward one: on the generator's logs (several blocks each, every envelope and hard
    /// case; most beats attributed while the file is read), on the repository's fixtures, and on
    /// every text file of the corpus read as a console log.
    #[test]
    fn fast_path_reports_equal_the_straightforward_ones() {
        let dir = generated(11, 3, 3_000, 3);
        let logs: Vec<_> = (0..3).map(|i| dir.path().join(format!("logs/run-{i:02}.log"))).collect();
        assert!(std::fs::metadata(&logs[0]).unwrap().len() > 2 * BLOCK as u64, "several blocks per file");
        let catalog = [dir.path().join("json-sequences")];
        let (fast, held, total) = report_of(&logs, &catalog, dir.path(), true);
        assert!(fast.contains("\"samples\""));
        // Most beats were attributed on the way: the traces keep only the rest.
        assert!(total > 500 && held * 10 < total, "{held} of {total}");
        assert_eq!(fast, report_of(&logs, &catalog, dir.path(), false).0);
        // The other shapes of real captures: envelopes switching per line, one envelope
        // throughout. Same samples (the generator draws them alike), same reports both ways.
        let truth = std::fs::read(dir.path().join("truth.json")).unwrap();
        for shape in [crate::generate::Envelopes::Line, crate::generate::Envelopes::Chrome] {
            let other = generated_with(11, 3, 3_000, 3, shape);
            assert_eq!(std::fs::read(other.path().join("truth.json")).unwrap(), truth, "{shape:?}");
            let logs: Vec<_> = (0..3).map(|i| other.path().join(format!("logs/run-{i:02}.log"))).collect();
            let catalog = [other.path().join("json-sequences")];
            let (fast, _, _) = report_of(&logs, &catalog, other.path(), true);
            assert_eq!(fast, report_of(&logs, &catalog, other.path(), false).0, "{shape:?}");
        }

        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let listed = |dir: &Path| -> Vec<std::path::PathBuf> {
            let mut found = Vec::new();
            let mut stack = vec![dir.to_path_buf()];
            while let Some(d) = stack.pop() {
                for entry in std::fs::read_dir(&d).unwrap() {
                    let path = entry.unwrap().path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if matches!(path.extension().and_then(|e| e.to_str()), Some("log" | "md" | "txt")) {
                        found.push(path);
                    }
                }
            }
            found.sort();
            found
        };
        let fixtures = listed(&root.join("fixtures/logs"));
        let catalog = [root.join("fixtures/packages")];
        assert_eq!(report_of(&fixtures, &catalog, root, true).0, report_of(&fixtures, &catalog, root, false).0);
        let corpus = root.join("../shared/corpus");
        if !corpus.is_dir() {
            eprintln!("skipped the corpus part: {} is absent", corpus.display());
            return;
        }
        let texts = listed(&corpus);
        assert!(texts.len() >= 3, "{texts:?}");
        let catalog = [corpus.join("sequences")];
        assert_eq!(report_of(&texts, &catalog, &corpus, true).0, report_of(&texts, &catalog, &corpus, false).0);
    }

    /// Handler lines name the beats within the window around them, while the file is read: one
    /// right after its beat does; one more than the window before or after its beat does not, and
    /// the beat left unmapped for it is counted. Read whole (no window), all three are named.
    #[test]
    fn handler_lines_count_within_the_window() {
        use crate::attribute::{Attributor, Mapping, catalog::Catalog, hints::WINDOW, source::SourceIndex};
        let execution = |text: &mut String, event: &str| {
            text.push_str("🎼 ExecutionQueue: Now executing \"S\"\n⏱️ PerformanceTracker: Started timing beat 1 for S\n");
            text.push_str(&format!("✅ BeatExecutor: Beat 1 ({event}) completed in 2ms\n"));
            text.push_str("🎼 ExecutionQueue: Marked \"S\" as completed (Total completed: 1)\n");
        };
        let hint = |text: &mut String, event: &str, handler: &str| {
            text.push_str(&format!("🎽 DataBaton: +x | seq=S beat=? event={event} handler={handler} plugin=P\n"));
        };
        let mut text = String::new();
        hint(&mut text, "ev:stale", "staleHandler");
        execution(&mut text, "ev:near");
        hint(&mut text, "ev:near", "nearHandler");
        execution(&mut text, "ev:far");
        for _ in 0..2 * WINDOW + 10 {
            execution(&mut text, "ev:filler");
        }
        execution(&mut text, "ev:stale");
        for _ in 0..WINDOW + 10 {
            execution(&mut text, "ev:filler");
        }
        hint(&mut text, "ev:far", "farHandler");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        std::fs::write(&path, &text).unwrap();
        let catalog = Catalog::default();
        let handlers = |fast: bool| {
            let sources = std::sync::Mutex::new(SourceIndex::new(dir.path()));
            let mut attributor = Attributor::new(&catalog, &sources, 10);
            let scanned =
                read_file(&path, InputFormat::Console, 0, false, &[], reader::threads(), fast.then_some(&mut attributor)).unwrap();
            attributor.add(scanned.traced.trace);
            let out = attributor.finish();
            let mut names: Vec<(String, Mapping, usize)> = out
                .handlers
                .iter()
                .filter(|(k, _)| !k.name.contains("filler"))
                .map(|(k, d)| (k.name.clone(), d.mapping, d.durations.len()))
                .collect();
            names.sort();
            (names, out.counts.beyond_window)
        };
        let unmapped = |e: &str| (format!("S#1 {e}"), Mapping::Unmapped, 1);
        assert_eq!(handlers(true), (vec![unmapped("ev:far"), unmapped("ev:stale"), ("nearHandler".to_owned(), Mapping::Log, 1)], 2));
        let log = |h: &str| (h.to_owned(), Mapping::Log, 1);
        assert_eq!(handlers(false), (vec![log("farHandler"), log("nearHandler"), log("staleHandler")], 0));
    }

    /// Blocks of any size give the same trace as one read: the boundaries lose nothing.
    #[test]
    fn block_boundaries_do_not_change_the_trace() {
        let dir = generated(9, 2, 40, 3);
        for name in ["run-00.log", "run-01.log"] {
            let text = std::fs::read(dir.path().join("logs").join(name)).unwrap();
            let span = Span { begin: 0, len: text.len() as u64 };
            let whole = console_in_blocks(&text[..], span, 0, usize::MAX, &[], None, None).unwrap();
            for block in [1, 7, 97, 4096] {
                let parts = console_in_blocks(&text[..], span, 0, block, &[], None, None).unwrap();
                assert_eq!(parts.lines, whole.lines, "{name} block {block}");
                assert_eq!(format!("{:?}", parts.trace), format!("{:?}", whole.trace), "{name} block {block}");
                // The same as slices of the bytes in memory (a mapped file), nothing copied.
                let mapped = console_in_blocks(&reader::Mapped::new(&text), span, 0, block, &[], None, None).unwrap();
                assert_eq!((mapped.lines, mapped.bytes), (whole.lines, whole.bytes), "{name} block {block}");
                assert_eq!(format!("{:?}", mapped.trace), format!("{:?}", whole.trace), "{name} block {block}");
                // The same read front to back (a pipe), from a reader that gives few bytes at a
                // time, its head read already.
                let head = text.len().min(100);
                let stream = Stream::new(Trickle { rest: &text[head..], step: 0 }, text[..head].to_vec());
                let piped = console_in_blocks(&stream, Span { begin: 0, len: u64::MAX }, 0, block, &[], None, None).unwrap();
                assert_eq!((piped.lines, piped.bytes), (whole.lines, text.len() as u64), "{name} block {block}");
                assert_eq!(format!("{:?}", piped.trace), format!("{:?}", whole.trace), "{name} block {block}");
            }
        }
    }
    /// A reader that gives 1 to 13 bytes per read.
    struct Trickle<'a> {
        rest: &'a [u8],
        step: usize,
    }

    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.step += 1;
            let n = buf.len().min(self.rest.len()).min(1 + self.step % 13);
            buf[..n].copy_from_slice(&self.rest[..n]);
            self.rest = &self.rest[n..];
            Ok(n)
        }
    }

    /// The file's hash covers all its bytes, byte-order mark included.
    #[test]
    fn hash_is_of_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        let mut text = b"\xEF\xBB\xBF".to_vec();
        for i in 0..50_000 {
            text.extend_from_slice(format!("EventBus.ts:56 line {i}\n").as_bytes());
        }
        std::fs::write(&path, &text).unwrap();
        let scanned = read_file(&path, InputFormat::Auto, 0, true, &[], reader::threads(), None).unwrap();
        assert_eq!(scanned.sha256.as_deref(), Some(crate::input::sha256_hex(&text).as_str()));
        assert_eq!((scanned.bytes, scanned.traced.lines, scanned.encoding), (text.len() as u64, 50_000, Encoding::Utf8Bom));
    }
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// On any bytes, blocks of any size, read by position or front to back, give the trace
        /// of one read.
        #[test]
        fn any_bytes_any_blocks(
            text in proptest::collection::vec(proptest::prop_oneof![proptest::prelude::Just(b'\n'), proptest::prelude::Just(b'\r'), proptest::prelude::any::<u8>()], 0..400),
            block_size in 1usize..40,
            begin in 0u64..3,
        ) {
            let begin = begin.min(text.len() as u64);
            let span = Span { begin, len: text.len() as u64 };
            let whole = console_in_blocks(&text[..], span, 0, usize::MAX, &[], None, None).unwrap();
            let parts = console_in_blocks(&text[..], span, 0, block_size, &[], None, None).unwrap();
            let stream = Stream::new(Trickle { rest: &text[..], step: 0 }, Vec::new());
            let piped = console_in_blocks(&stream, Span { begin, len: u64::MAX }, 0, block_size, &[], None, None).unwrap();
            proptest::prop_assert_eq!((parts.lines, parts.bytes), (whole.lines, whole.bytes));
            proptest::prop_assert_eq!((piped.lines, piped.bytes), (whole.lines, whole.bytes));
            proptest::prop_assert_eq!(format!("{:?}", parts.trace), format!("{:?}", whole.trace));
            proptest::prop_assert_eq!(format!("{:?}", piped.trace), format!("{:?}", whole.trace));
            let mapped = console_in_blocks(&reader::Mapped::new(&text), span, 0, block_size, &[], None, None).unwrap();
            proptest::prop_assert_eq!((mapped.lines, mapped.bytes), (whole.lines, whole.bytes));
            proptest::prop_assert_eq!(format!("{:?}", mapped.trace), format!("{:?}", whole.trace));
        }
    }
}
