//! Reading one input file into a trace, fast and in bounded memory.
//!
//! Console logs — the large inputs — are streamed: the file is read in blocks of about 4 MiB
//! that end at a line break (the partial last line is carried into the next block). While the
//! main thread feeds one batch's recognized events to the file's tracker, sequentially and in
//! file order (so attribution is exactly that of a line-by-line read), another thread reads the
//! next batch and recognizes its blocks in parallel (envelope peeling and message recognition
//! are per line and independent). Beats the tracker releases (final, of an ended execution) go
//! to a [`Sink`] that attributes them at once. Memory is two batches of blocks and their events,
//! whatever the file's size; the blocks are reused. Markdown, frames exports and UTF-16 files
//! (PowerShell captures) are small documents and are read whole.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::attribute::tracker::{BeatRecord, ExecutionInfo, FileTrace, Tracker};
use crate::attribute::{self, InputFormat, Traced};
use crate::input::{self, Encoding};
use crate::parse::envelope::Stamp;
use crate::parse::user::{self, Rule};
use crate::parse::{self, Event, Location, conductor, envelope};

/// Bytes per block (a block is extended to the end of its last line).
const BLOCK: usize = 4 << 20;

pub struct Scanned {
    pub traced: Traced,
    pub encoding: Encoding,
    pub bytes: u64,
    pub sha256: Option<String>,
}

/// Reads `path` as `format` (detected when `Auto`); `hash` computes the file's SHA-256 on the way;
/// `rules` are the user rules (`[[sources.pattern]]`, `[[sources.json]]`) that apply to it.
/// `sink` attributes the beats the tracker releases while a console log is read (see
/// [`Sink`]).
pub fn scan_file<'s>(
    path: &Path,
    format: InputFormat,
    file: u32,
    hash: bool,
    rules: &[&Rule],
    sink: Option<&'s mut Sink<'s>>,
) -> std::io::Result<Scanned> {
    let mut f = std::fs::File::open(path)?;
    let mut head = Vec::with_capacity(BLOCK + (64 << 10));
    (&mut f).take(BLOCK as u64).read_to_end(&mut head)?;
    let ext = path.extension().and_then(|e| e.to_str());
    let utf16 = head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]);
    let mut format = attribute::detect(&head, ext, format);
    if format == InputFormat::OtherJson && !rules.is_empty() {
        // JSON lines read by the user's rules.
        format = InputFormat::Console;
    }
    if utf16 || format != InputFormat::Console {
        f.read_to_end(&mut head)?;
        let bytes = head.len() as u64;
        let sha256 = hash.then(|| crate::baseline::sha256_hex(&head));
        let (text, encoding) = input::decode(head);
        let traced = attribute::trace_file(&text, ext, format, file);
        return Ok(Scanned { traced, encoding, bytes, sha256 });
    }
    let mut hasher = hash.then(Sha256::new);
    let encoding = if head.starts_with(&[0xEF, 0xBB, 0xBF]) { Encoding::Utf8Bom } else { Encoding::Utf8 };
    if let Some(h) = hasher.as_mut() {
        h.update(&head);
    }
    if encoding == Encoding::Utf8Bom {
        head.drain(..3);
    }
    let mut bytes = head.len() as u64 + if encoding == Encoding::Utf8Bom { 3 } else { 0 };
    let mut reader = HashingReader { inner: f, hasher: hasher.as_mut(), bytes: &mut bytes };
    let c = console_in_blocks(&mut reader, head, file, BLOCK, rules, sink)?;
    let sha256 = hasher.map(|h| h.finalize().iter().map(|b| format!("{b:02x}")).collect());
    Ok(Scanned { traced: Traced { format, lines: c.lines, trace: c.trace, problem: None, binary: c.binary }, encoding, bytes, sha256 })
}

struct HashingReader<'a, R> {
    inner: R,
    hasher: Option<&'a mut Sha256>,
    bytes: &'a mut u64,
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = self.hasher.as_mut() {
            h.update(&buf[..n]);
        }
        *self.bytes += n as u64;
        Ok(n)
    }
}

/// One recognized line of a block.
struct Recognized<'b> {
    /// 1-based line number within the block.
    line: u32,
    stamp: Stamp<'b>,
    event: Event<'b>,
}

/// Recognizes every line of a block — as a conductor message, else by the user's rules;
/// returns its events and its number of lines.
fn recognize_block<'b>(block: &'b [u8], rules: &[&Rule]) -> (Vec<Recognized<'b>>, u32) {
    // Conductor logs recognize about one line in two; a guess that avoids most regrowth.
    let mut out = Vec::with_capacity(block.len() / 256);
    let mut count = 0;
    let mut scratch = (!rules.is_empty()).then(|| user::Scratch::new(rules));
    for (no, line) in parse::lines(block) {
        count = no;
        let peeled = envelope::peel(line);
        if let Some(event) = conductor::recognize(peeled.message) {
            out.push(Recognized { line: no, stamp: peeled.stamp(), event });
        } else if let Some(scratch) = scratch.as_mut() {
            if let Some(event) = user::recognize(rules, scratch, line) {
                out.push(Recognized { line: no, stamp: Stamp::None, event });
            }
        }
    }
    (out, count)
}

/// What streaming a console log yields.
pub struct ConsoleTrace {
    pub trace: FileTrace,
    pub lines: u64,
    /// A NUL byte was seen.
    pub binary: bool,
}

/// Streams a console log: `first` holds the bytes already read, `reader` the rest.
pub fn console(reader: &mut (impl Read + Send), first: Vec<u8>, file: u32) -> std::io::Result<ConsoleTrace> {
    console_in_blocks(reader, first, file, BLOCK, &[], None)
}

/// [`console`] with a given block size (tests use tiny blocks to exercise the boundaries).
///
/// Two sets of blocks alternate: while the main thread feeds the events of one batch to the
/// tracker (which must see them in order), another thread reads the next batch and recognizes
/// it, its blocks in parallel.
pub fn console_in_blocks<'s>(
    reader: &mut (impl Read + Send),
    first: Vec<u8>,
    file: u32,
    block_size: usize,
    rules: &[&Rule],
    sink: Option<&'s mut Sink<'s>>,
) -> std::io::Result<ConsoleTrace> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 16);
    let mut source = Blocks { reader, carry: first, eof: false, block_size: block_size.max(1), binary: false, recognized_any: false };
    let mut feeder = Feeder { tracker: Tracker::new(), lines: 0, file, sink, deferred: Vec::new() };
    let mut set_a: Vec<Vec<u8>> = vec![Vec::new(); threads];
    let mut set_b: Vec<Vec<u8>> = vec![Vec::new(); threads];
    let filled = source.fill(&mut set_a)?;
    let mut results_a = recognize_batch(&set_a[..filled], rules);
    loop {
        let next = prepare_while_feeding(&mut source, &mut set_b, &mut feeder, results_a, rules)?;
        let Some(results_b) = next else { break };
        let next = prepare_while_feeding(&mut source, &mut set_a, &mut feeder, results_b, rules)?;
        let Some(next_a) = next else { break };
        results_a = next_a;
    }
    let lines = feeder.lines;
    let trace = feeder.finish();
    let binary = source.binary && trace.recognized == 0;
    Ok(ConsoleTrace { trace, lines, binary })
}

/// Feeds `ready` on this thread while another reads and recognizes the next batch into `set`;
/// `None` when the input is exhausted (after `ready` was fed).
fn prepare_while_feeding<'s, R: Read + Send>(
    source: &mut Blocks<'_, R>,
    set: &'s mut [Vec<u8>],
    feeder: &mut Feeder,
    ready: Batch<'_>,
    rules: &[&Rule],
) -> std::io::Result<Option<Batch<'s>>> {
    source.recognized_any |= ready.iter().any(|(events, _)| !events.is_empty());
    let (next, ()) = std::thread::scope(|scope| {
        let worker = scope.spawn(move || -> std::io::Result<Option<Batch<'s>>> {
            let filled = source.fill(set)?;
            if filled == 0 {
                return Ok(None);
            }
            let set: &'s [Vec<u8>] = set;
            Ok(Some(recognize_batch(&set[..filled], rules)))
        });
        feeder.feed(ready);
        (worker.join().expect("reading does not panic"), ())
    });
    next
}

/// The recognized events of a batch, per block, with each block's line count.
type Batch<'b> = Vec<(Vec<Recognized<'b>>, u32)>;

fn recognize_batch<'b>(batch: &'b [Vec<u8>], rules: &[&Rule]) -> Batch<'b> {
    if batch.len() <= 1 {
        return batch.iter().map(|b| recognize_block(b, rules)).collect();
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = batch.iter().map(|b| s.spawn(|| recognize_block(b, rules))).collect();
        handles.into_iter().map(|h| h.join().expect("recognition does not panic")).collect()
    })
}

/// Feeds recognized events to the file's tracker, in order.
struct Feeder<'s> {
    tracker: Tracker,
    lines: u64,
    file: u32,
    /// Takes the beats the tracker releases while the file is read; gives back those it cannot
    /// attribute yet (they wait for the end of the file).
    sink: Option<&'s mut Sink<'s>>,
    deferred: Vec<BeatRecord>,
}

/// Attributes a released beat now (`None`) or gives it back (`Some`).
pub type Sink<'s> = dyn FnMut(BeatRecord, &ExecutionInfo) -> Option<BeatRecord> + 's;

impl Feeder<'_> {
    fn feed(&mut self, batch: Batch<'_>) {
        for (events, count) in batch {
            for r in events {
                let line = u32::try_from(self.lines + u64::from(r.line)).unwrap_or(u32::MAX);
                let ts = if r.event.needs_ts() { r.stamp.ms() } else { None };
                self.tracker.feed(r.event, ts, Location { file: self.file, line });
            }
            self.lines += u64::from(count);
        }
        if let Some(sink) = self.sink.as_mut() {
            for record in self.tracker.take_released() {
                let info = self.tracker.execution(record.execution);
                if let Some(back) = sink(record, info) {
                    self.deferred.push(back);
                }
            }
        }
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

/// The input cut into blocks that end at a line break.
struct Blocks<'r, R> {
    reader: &'r mut R,
    /// Bytes read past the last line break of the previous block.
    carry: Vec<u8>,
    eof: bool,
    block_size: usize,
    /// A NUL byte was seen (checked only while nothing was recognized).
    binary: bool,
    /// Some line of a batch read before was recognized.
    recognized_any: bool,
}

impl<R: Read> Blocks<'_, R> {
    /// Fills the blocks of `set` in order; returns how many hold data.
    fn fill(&mut self, set: &mut [Vec<u8>]) -> std::io::Result<usize> {
        let block_size = self.block_size;
        let mut filled = 0;
        for block in set.iter_mut() {
            if self.eof && self.carry.is_empty() {
                break;
            }
            block.clear();
            if block.capacity() == 0 && self.carry.len() >= block_size {
                // The first block: take over the bytes already read.
                std::mem::swap(block, &mut self.carry);
            } else {
                block.extend_from_slice(&self.carry);
                self.carry.clear();
            }
            if !self.eof && block.len() < block_size {
                let want = (block_size - block.len()) as u64;
                // Exactly: `read_to_end` would otherwise double the buffer.
                block.reserve_exact(usize::try_from(want).unwrap_or(usize::MAX).min(BLOCK));
                let got = self.reader.by_ref().take(want).read_to_end(block)?;
                self.eof = got == 0 || (got as u64) < want;
            }
            if !self.eof {
                match memchr::memrchr(b'\n', block) {
                    Some(at) => self.carry.extend_from_slice(&block[at + 1..]),
                    None => {
                        // A single line longer than a block: keep reading until its end.
                        let mut more = Vec::new();
                        loop {
                            let got = self.reader.by_ref().take(block_size as u64).read_to_end(&mut more)?;
                            if got == 0 {
                                self.eof = true;
                                break;
                            }
                            if let Some(at) = memchr::memchr(b'\n', &more) {
                                block.extend_from_slice(&more[..=at]);
                                self.carry.extend_from_slice(&more[at + 1..]);
                                break;
                            }
                            block.append(&mut more);
                        }
                    }
                }
                if let Some(at) = memchr::memrchr(b'\n', block) {
                    block.truncate(at + 1);
                }
            }
            // Only a file in which nothing is recognized needs to know whether it is binary:
            // blocks are checked while nothing has been.
            if !self.binary && !self.recognized_any {
                self.binary = memchr::memchr(0, block).is_some();
            }
            filled += 1;
        }
        Ok(filled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Attributing beats while the file is read gives exactly the report of attributing them all
    /// at the end (drill-down selections included).
    #[test]
    fn attributing_while_reading_changes_nothing() {
        use crate::attribute::Attributor;
        use crate::attribute::catalog::Catalog;
        use crate::attribute::source::SourceIndex;
        let dir = tempfile::tempdir().unwrap();
        let args = crate::generate::GenerateArgs {
            out: dir.path().to_path_buf(),
            seed: 5,
            files: 2,
            executions: 400,
            bytes: None,
            noise: 2,
            clean: false,
            slow: Vec::new(),
        };
        crate::generate::run(&args).unwrap();
        let catalog = Catalog::load(&[dir.path().join("json-sequences")]).unwrap();
        let report = |early: bool| {
            let mut sources = SourceIndex::new(dir.path());
            let mut attributor = Attributor::new(&catalog, &mut sources, 50);
            for (i, name) in ["run-00.log", "run-01.log"].iter().enumerate() {
                let text = std::fs::read(dir.path().join("logs").join(name)).unwrap();
                let trace = if early {
                    let mut sink = |r, info: &ExecutionInfo| attributor.try_early(r, info);
                    let trace = console_in_blocks(&mut &text[..], Vec::new(), i as u32, 4096, &[], Some(&mut sink)).unwrap().trace;
                    // Most beats were attributed on the way: the trace keeps only the rest.
                    let total: u64 = trace.outcomes.iter().sum();
                    assert!(total > 500 && (trace.beats.len() as u64) * 10 < total, "{} of {total}", trace.beats.len());
                    trace
                } else {
                    console_in_blocks(&mut &text[..], Vec::new(), i as u32, 4096, &[], None).unwrap().trace
                };
                attributor.add(trace);
            }
            let files = vec!["a".to_owned(), "b".to_owned()];
            crate::render::json::render(&crate::report::build(attributor.finish(), &files, crate::config::SortKey::Avg, Default::default()))
        };
        assert_eq!(report(true), report(false));
    }

    /// Blocks of any size give the same trace as one read: the boundaries lose nothing.
    #[test]
    fn block_boundaries_do_not_change_the_trace() {
        let dir = tempfile::tempdir().unwrap();
        let args = crate::generate::GenerateArgs {
            out: dir.path().to_path_buf(),
            seed: 9,
            files: 2,
            executions: 40,
            bytes: None,
            noise: 3,
            clean: false,
            slow: Vec::new(),
        };
        crate::generate::run(&args).unwrap();
        for name in ["run-00.log", "run-01.log"] {
            let text = std::fs::read(dir.path().join("logs").join(name)).unwrap();
            let whole = console_in_blocks(&mut &text[..], Vec::new(), 0, usize::MAX, &[], None).unwrap();
            for block in [1, 7, 97, 4096] {
                let (first, rest) = text.split_at(text.len().min(block));
                let parts = console_in_blocks(&mut &rest[..], first.to_vec(), 0, block, &[], None).unwrap();
                assert_eq!(parts.lines, whole.lines, "{name} block {block}");
                assert_eq!(format!("{:?}", parts.trace), format!("{:?}", whole.trace), "{name} block {block}");
            }
        }
    }
}
