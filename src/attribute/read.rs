//! Reading a file into a trace: the input's recognized lines fed to the file's tracker, in
//! file order, and the beats it releases attributed at once ([`Early`]); documents (markdown,
//! frames exports) traced whole by [`super::trace_file`].

use std::path::Path;

use sha2::Sha256;

use super::tracker::{BeatRecord, ExecutionInfo, FileTrace, Tracker};
use super::{InputFormat, Traced};
use crate::input::reader::{self, BLOCK, Span};
use crate::input::{self, Body, Encoding};
use crate::parse::envelope::Stamp;
use crate::parse::user::Rule;
use crate::parse::{Event, Location};

pub struct Scanned {
    pub traced: Traced,
    pub encoding: Encoding,
    pub bytes: u64,
    pub sha256: Option<String>,
}

/// Attributes a released beat now (`None`) or gives it back (`Some`).
pub type Early<'s> = dyn FnMut(BeatRecord, &ExecutionInfo) -> Option<BeatRecord> + 's;

/// Reads `path` as `format` (see [`input::read_file`]) into the trace of input file number
/// `file`; `early` attributes the beats the tracker releases while a console log is read.
pub fn read_file<'s>(
    path: &Path,
    format: InputFormat,
    file: u32,
    hash: bool,
    rules: &[&Rule],
    early: Option<&'s mut Early<'s>>,
) -> std::io::Result<Scanned> {
    let mut feeder = Feeder::new(file, early);
    let read = input::read_file(path, format, hash, rules, &mut feeder)?;
    let traced = match read.body {
        Body::Streamed { format, counts } => feeder.traced(format, counts),
        Body::Document(text) => super::trace_file(&text, path.extension().and_then(|e| e.to_str()), format, file),
    };
    Ok(Scanned { traced, encoding: read.encoding, bytes: read.bytes, sha256: read.sha256 })
}

/// What streaming a console log yields.
pub struct ConsoleTrace {
    pub trace: FileTrace,
    pub lines: u64,
    /// Bytes read (of the span): what the tests of the block boundaries compare.
    #[cfg_attr(not(test), allow(dead_code))]
    pub bytes: u64,
    /// A NUL byte was seen and nothing recognized.
    pub binary: bool,
}

/// Streams a console log held in memory.
pub fn console(text: &[u8], file: u32) -> ConsoleTrace {
    let span = Span { begin: 0, len: text.len() as u64 };
    console_in_blocks(text, span, file, BLOCK, &[], None, None).expect("reading from memory does not fail")
}

/// Streams the console log `span` of `src` in blocks of `block_size` bytes into a tracker.
pub fn console_in_blocks<'s>(
    src: &(impl reader::Source + ?Sized),
    span: Span,
    file: u32,
    block_size: usize,
    rules: &[&Rule],
    early: Option<&'s mut Early<'s>>,
    hasher: Option<&mut Sha256>,
) -> std::io::Result<ConsoleTrace> {
    let mut feeder = Feeder::new(file, early);
    let counts = reader::read_blocks(src, span, block_size, rules, &mut feeder, hasher)?;
    let trace = feeder.finish();
    let binary = counts.nul && trace.recognized == 0;
    Ok(ConsoleTrace { trace, lines: counts.lines, bytes: counts.bytes, binary })
}

/// Feeds recognized lines to the file's tracker, in order.
struct Feeder<'s> {
    tracker: Tracker,
    file: u32,
    /// Takes the beats the tracker releases while the file is read; gives back those it cannot
    /// attribute yet (they wait for the end of the file).
    early: Option<&'s mut Early<'s>>,
    deferred: Vec<BeatRecord>,
}

impl reader::Sink for Feeder<'_> {
    fn line(&mut self, line: u32, stamp: Stamp<'_>, event: Event<'_>) {
        let ts = if event.needs_ts() { stamp.ms() } else { None };
        self.tracker.feed(event, ts, Location { file: self.file, line });
    }

    fn batch_end(&mut self) {
        if let Some(early) = self.early.as_mut() {
            for record in self.tracker.take_released() {
                let info = self.tracker.execution(record.execution);
                if let Some(back) = early(record, info) {
                    self.deferred.push(back);
                }
            }
        }
    }
}

impl<'s> Feeder<'s> {
    fn new(file: u32, early: Option<&'s mut Early<'s>>) -> Self {
        Feeder { tracker: Tracker::new(), file, early, deferred: Vec::new() }
    }

    fn traced(self, format: InputFormat, counts: reader::Counts) -> Traced {
        let trace = self.finish();
        let binary = counts.nul && trace.recognized == 0;
        Traced { format, lines: counts.lines, trace, problem: None, binary }
    }

    fn finish(self) -> FileTrace {
        let mut trace = self.tracker.finish();
        if !self.deferred.is_empty() {
            // Deferred beats are older than every beat still held: they go first, and the
            // titles (of held beats only) move with them.
            let shift = self.deferred.len();
            let mut beats = self.deferred;
            beats.append(&mut trace.beats);
            trace.beats = beats;
            trace.titles = std::mem::take(&mut trace.titles).into_iter().map(|(i, t)| (i + shift, t)).collect();
        }
        trace
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::reader::Stream;
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
            out: dir.path().to_path_buf(),
            seed,
            files,
            executions,
            bytes: None,
            noise,
            clean: false,
            slow: Vec::new(),
            suite: None,
            suite_seed: 7,
            drift: 1.0,
            envelopes,
        };
        crate::generate::run(&args).unwrap();
        dir
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
        (tracker.finish(), lines)
    }

    /// The JSON report of `paths` read as console logs (handler sources under `root`), the fast
    /// way (parallel blocks, beats attributed while reading) or the straightforward way; with
    /// the number of beats left to attribute at the end of their file, and of all beats.
    fn report_of(paths: &[std::path::PathBuf], catalog: &[std::path::PathBuf], root: &Path, fast: bool) -> (String, u64, u64) {
        use crate::attribute::Attributor;
        use crate::attribute::catalog::Catalog;
        use crate::attribute::source::SourceIndex;
        let catalog = Catalog::load(catalog).unwrap();
        let mut sources = SourceIndex::new(root);
        let mut attributor = Attributor::new(&catalog, &mut sources, 50);
        let (mut lines, mut held, mut total) = (0, 0, 0);
        for (i, path) in paths.iter().enumerate() {
            let trace = if fast {
                let mut sink = |r, info: &ExecutionInfo| attributor.try_early(r, info);
                let scanned = read_file(path, InputFormat::Console, i as u32, false, &[], Some(&mut sink)).unwrap();
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
        let scanned = read_file(&path, InputFormat::Auto, 0, true, &[], None).unwrap();
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
        }
    }
}
