//! Reading one input file into a trace, fast and in bounded memory.
//!
//! Console logs — the large inputs — are read in blocks (64–512 KiB, by file size) by positioned
//! reads, so that every thread reads and recognizes blocks of its own: a block owns the lines
//! that start in it (see `Block::fill`). Batches of blocks alternate between two sets: while
//! the main thread feeds one batch's recognized events to the file's tracker, sequentially and in
//! file order (so attribution is exactly that of a line-by-line read), the other threads read
//! and recognize the next batch, and the main thread joins them when it is done feeding.
//! Envelope peeling and message recognition are per line and independent. Beats the tracker
//! releases (final, of an ended execution) go to a [`Sink`] that attributes them at once. Memory
//! is two batches of blocks and their events, whatever the file's size; blocks and event vectors
//! are reused, from batch to batch and from file to file. Markdown, frames exports and UTF-16
//! files (PowerShell captures) are small documents and are read whole.

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
const BLOCK: usize = 512 << 10;
/// The smallest block (small files).
const MIN_BLOCK: usize = 64 << 10;

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
    let how = How { format, file, hash, rules, ext: path.extension().and_then(|e| e.to_str()) };
    if path == Path::new(STDIN) {
        return scan_stream(std::io::stdin(), &how, sink);
    }
    let mut f = std::fs::File::open(path)?;
    let meta = f.metadata()?;
    if !meta.is_file() {
        // A pipe or a device: read once, front to back.
        return scan_stream(f, &how, sink);
    }
    let (head, format) = read_head(&mut f, &how)?;
    let Some(format) = format else { return whole(f, head, &how) };
    let size = meta.len();
    // Smaller files get smaller blocks, so that the batch fed last (while no block is left to
    // recognize) is a small part of the file.
    let block = usize::try_from(size / 64).unwrap_or(BLOCK).clamp(MIN_BLOCK, BLOCK);
    stream_console(&f, head.starts_with(BOM), size, block, format, &how, sink)
}

/// UTF-8's byte-order mark.
const BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

/// The path that names the standard input.
pub const STDIN: &str = "-";

/// How a file is to be read.
struct How<'r> {
    format: InputFormat,
    file: u32,
    hash: bool,
    rules: &'r [&'r Rule],
    ext: Option<&'r str>,
}

/// Reads the head of a file; gives the format when the file is a console log to stream, `None`
/// when it is to be read whole.
fn read_head(f: &mut impl Read, how: &How) -> std::io::Result<(Vec<u8>, Option<InputFormat>)> {
    let mut head = Vec::with_capacity(HEAD);
    f.take(HEAD as u64).read_to_end(&mut head)?;
    if head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        // A JSON document: a frames export says so in its first megabytes.
        f.take(JSON_HEAD as u64).read_to_end(&mut head)?;
    }
    let utf16 = head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]);
    let mut format = attribute::detect(&head, how.ext, how.format);
    if format == InputFormat::OtherJson && !how.rules.is_empty() {
        // JSON lines read by the user's rules.
        format = InputFormat::Console;
    }
    let streamed = !utf16 && format == InputFormat::Console;
    Ok((head, streamed.then_some(format)))
}

/// Reads a small document (markdown, frames export, UTF-16) whole.
fn whole(mut f: impl Read, mut head: Vec<u8>, how: &How) -> std::io::Result<Scanned> {
    f.read_to_end(&mut head)?;
    let bytes = head.len() as u64;
    let sha256 = how.hash.then(|| crate::baseline::sha256_hex(&head));
    let (text, encoding) = input::decode(head);
    let traced = attribute::trace_file(&text, how.ext, how.format, how.file);
    Ok(Scanned { traced, encoding, bytes, sha256 })
}

/// Reads a pipe or the standard input: its head, then the rest through a [`Stream`].
fn scan_stream<'s>(mut f: impl Read + Send, how: &How, sink: Option<&'s mut Sink<'s>>) -> std::io::Result<Scanned> {
    let (head, format) = read_head(&mut f, how)?;
    let Some(format) = format else { return whole(f, head, how) };
    let bom = head.starts_with(BOM);
    stream_console(&Stream::new(f, head), bom, u64::MAX, BLOCK, format, how, sink)
}

/// Streams a console log that begins with a byte-order mark (`bom`: skipped, and hashed) and
/// whose size is `size` (`u64::MAX`: until the source ends).
fn stream_console<'s>(
    src: &(impl Source + ?Sized),
    bom: bool,
    size: u64,
    block: usize,
    format: InputFormat,
    how: &How,
    sink: Option<&'s mut Sink<'s>>,
) -> std::io::Result<Scanned> {
    let (encoding, skipped) = if bom { (Encoding::Utf8Bom, BOM) } else { (Encoding::Utf8, &[][..]) };
    let begin = skipped.len();
    let mut hasher = how.hash.then(Sha256::new);
    if let Some(h) = hasher.as_mut() {
        h.update(skipped);
    }
    let span = Span { begin: begin as u64, len: size };
    let c = console_in_blocks(src, span, how.file, block, how.rules, sink, hasher.as_mut())?;
    let sha256 = hasher.map(|h| crate::baseline::hex(h.finalize().as_slice()));
    let traced = Traced { format, lines: c.lines, trace: c.trace, problem: None, binary: c.binary };
    Ok(Scanned { traced, encoding, bytes: begin as u64 + c.bytes, sha256 })
}

/// Bytes read first to tell the format of a file.
const HEAD: usize = 64 << 10;
/// Bytes read to tell a frames export from other JSON.
const JSON_HEAD: usize = 4 << 20;

/// Where a console log is read from: a file, by positioned reads (so that threads read their
/// blocks in parallel), or bytes in memory.
pub trait Source: Sync {
    /// Reads at most `buf.len()` bytes at `offset`; 0 at the end.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize>;

    /// Whether reads must come in the order of the blocks (see [`Stream`]).
    fn sequential(&self) -> bool {
        false
    }

    /// No read will ask for bytes before `before` (a sequential source may forget them).
    fn release(&self, _before: u64) {}
}

/// A source read once, front to back (a pipe, the standard input): positioned reads are served
/// from a window of what was read. Blocks read it one after another, in order, and a block's
/// read never starts before its predecessor's, so the window forgets everything before the
/// block being read: it holds about one block.
pub struct Stream<R> {
    window: std::sync::Mutex<Window<R>>,
}

struct Window<R> {
    reader: R,
    /// Bytes from `base` on.
    buf: Vec<u8>,
    base: u64,
    ended: bool,
}

impl<R: Read> Stream<R> {
    /// A stream of which `head` was read already.
    pub fn new(reader: R, head: Vec<u8>) -> Self {
        Stream { window: std::sync::Mutex::new(Window { reader, buf: head, base: 0, ended: false }) }
    }
}

impl<R: Read + Send> Source for Stream<R> {
    fn read_at(&self, out: &mut [u8], offset: u64) -> std::io::Result<usize> {
        let mut w = self.window.lock().map_err(|_| std::io::Error::other("a reading thread panicked"))?;
        let Window { reader, buf, base, ended } = &mut *w;
        let Some(at) = offset.checked_sub(*base).and_then(|a| usize::try_from(a).ok()) else {
            return Err(std::io::Error::other("a stream is read front to back"));
        };
        while !*ended && buf.len() < at.saturating_add(out.len()) {
            let want = (at.saturating_add(out.len()) - buf.len()).max(64 << 10);
            *ended = reader.by_ref().take(want as u64).read_to_end(buf)? == 0;
        }
        let n = out.len().min(buf.len().saturating_sub(at));
        if n > 0 {
            out[..n].copy_from_slice(&buf[at..at + n]);
        }
        Ok(n)
    }

    fn sequential(&self) -> bool {
        true
    }

    fn release(&self, before: u64) {
        if let Ok(mut w) = self.window.lock() {
            let n = usize::try_from(before.saturating_sub(w.base)).unwrap_or(usize::MAX).min(w.buf.len());
            w.buf.drain(..n);
            w.base += n as u64;
        }
    }
}

impl Source for std::fs::File {
    #[cfg(unix)]
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(self, buf, offset)
    }

    #[cfg(windows)]
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        std::os::windows::fs::FileExt::seek_read(self, buf, offset)
    }
}

impl Source for [u8] {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        let at = usize::try_from(offset).unwrap_or(usize::MAX).min(self.len());
        let n = buf.len().min(self.len() - at);
        buf[..n].copy_from_slice(&self[at..at + n]);
        Ok(n)
    }
}

/// Reads until `buf` is full or the source ends; returns the bytes read.
fn read_full(src: &(impl Source + ?Sized), buf: &mut [u8], mut offset: u64) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match src.read_at(&mut buf[n..], offset) {
            Ok(0) => break,
            Ok(k) => {
                n += k;
                offset += k as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
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
fn recognize_block<'b>(
    block: &'b [u8],
    rules: &[&'b Rule],
    mut scratch: Option<&mut user::Scratch>,
    mut out: Vec<Recognized<'b>>,
) -> (Vec<Recognized<'b>>, u32) {
    // Conductor logs recognize about one line in two (lines of about 100 bytes).
    out.reserve(block.len() / 128);
    let mut count = 0;
    for (no, line) in parse::lines(block) {
        count = no;
        let peeled = envelope::peel(line);
        if let Some(event) = conductor::recognize(peeled.message) {
            out.push(Recognized { line: no, stamp: peeled.stamp(), event });
        } else if let Some(scratch) = scratch.as_mut()
            && let Some(event) = user::recognize(rules, scratch, line)
        {
            out.push(Recognized { line: no, stamp: Stamp::None, event });
        }
    }
    (out, count)
}

/// What streaming a console log yields.
pub struct ConsoleTrace {
    pub trace: FileTrace,
    pub lines: u64,
    /// Bytes read (of the span).
    pub bytes: u64,
    /// A NUL byte was seen.
    pub binary: bool,
}

/// Streams a console log held in memory.
pub fn console(text: &[u8], file: u32) -> ConsoleTrace {
    let span = Span { begin: 0, len: text.len() as u64 };
    console_in_blocks(text, span, file, BLOCK, &[], None, None).expect("reading from memory does not fail")
}

/// The bytes of a source to read: from `begin` (past a byte-order mark) to `len`.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub begin: u64,
    pub len: u64,
}

/// Streams the console log `span` of `src` in blocks of `block_size` bytes (tests use tiny
/// blocks to exercise the boundaries); `hasher` takes the span's bytes in order.
///
/// Blocks are read independently and in parallel (see `Block::fill`). Two sets of blocks
/// alternate: while the main thread feeds the events of one batch to the tracker
/// (which must see them in order), the other threads read and recognize the next batch; when
/// the main thread is done feeding, it joins them.
pub fn console_in_blocks<'s>(
    src: &(impl Source + ?Sized),
    span: Span,
    file: u32,
    block_size: usize,
    rules: &[&Rule],
    sink: Option<&'s mut Sink<'s>>,
    hasher: Option<&mut Sha256>,
) -> std::io::Result<ConsoleTrace> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 16);
    let cursor = Cursor { begin: span.begin, next: span.begin, len: span.len, block_size: block_size.max(1) as u64, ended: false };
    let mut feeder = Feeder { tracker: Tracker::new(), lines: 0, bytes: 0, file, sink, deferred: Vec::new(), hasher, nul: false };
    let per_batch = threads * BLOCKS_PER_THREAD;
    let Kept { sets: [mut set_a, mut set_b], spare } = KEPT.lock().map(|mut k| k.take()).ok().flatten().unwrap_or_default();
    set_a.resize_with(per_batch, Block::default);
    set_b.resize_with(per_batch, Block::default);
    let mut reader =
        Reader { src, cursor, threads, rules, scratches: std::sync::Mutex::new(Vec::new()), spare: std::sync::Mutex::new(spare) };
    let mut ready = reader.prepare(&mut set_a, None)?;
    while !ready.is_empty() {
        let next = reader.prepare(&mut set_b, Some((&mut feeder, ready)))?;
        if next.is_empty() {
            break;
        }
        ready = reader.prepare(&mut set_a, Some((&mut feeder, next)))?;
    }
    if let (Ok(mut kept), Ok(spare)) = (KEPT.lock(), reader.spare.into_inner()) {
        *kept = Some(Kept { sets: [set_a, set_b], spare });
    }
    let (lines, bytes, nul) = (feeder.lines, feeder.bytes, feeder.nul);
    let trace = feeder.finish();
    let binary = nul && trace.recognized == 0;
    Ok(ConsoleTrace { trace, lines, bytes, binary })
}

/// Block buffers and event vectors kept from one file to the next: fresh ones cost page faults
/// and zeroing, per file.
static KEPT: std::sync::Mutex<Option<Kept>> = std::sync::Mutex::new(None);

#[derive(Default)]
struct Kept {
    sets: [Vec<Block>; 2],
    spare: Vec<Vec<Recognized<'static>>>,
}

/// Blocks per thread in a batch: enough that threads finishing at different times wait little.
const BLOCKS_PER_THREAD: usize = 4;

/// The blocks of a batch and where the next one begins, as threads claim them.
struct Claims<'c, I> {
    blocks: I,
    cursor: &'c mut Cursor,
}

/// Which block comes next.
struct Cursor {
    /// The span's first byte.
    begin: u64,
    /// The first byte of the next block.
    next: u64,
    len: u64,
    block_size: u64,
    /// The source ended (known of sequential sources only).
    ended: bool,
}

/// A block's buffer and where its lines are in it.
#[derive(Default)]
struct Block {
    buf: Vec<u8>,
    /// The lines the block owns: `buf[lines.0..lines.1]`.
    lines: (usize, usize),
    /// The block's own bytes (`[start, start + block_size)` of the source): `buf[own.0..own.1]`.
    own: (usize, usize),
}

/// Bytes read past a block's end to find the end of its last line.
const SLACK: usize = 16 << 10;

impl Block {
    /// Reads the block `[start, end)` of `src` (whose span begins at `begin` and ends at `len`).
    /// The block owns the lines that start in it: they begin after the first line break at or
    /// after `start - 1` (at `begin` for the first block) and end at the first line break at or
    /// after `end - 1`, read past `end` as far as needed. So blocks are read independently, yet
    /// every line is seen once, whole.
    /// Returns whether the source ended within the block (no later block has bytes).
    fn fill(&mut self, src: &(impl Source + ?Sized), start: u64, end: u64, begin: u64, len: u64) -> std::io::Result<bool> {
        // One byte before the block tells whether a line starts at its first byte.
        let from = if start > begin { start - 1 } else { start };
        let want = usize::try_from((end - from).saturating_add(SLACK as u64).min(len - from)).unwrap_or(usize::MAX);
        if self.buf.len() < want {
            self.buf.resize(want, 0);
        }
        let mut have = read_full(src, &mut self.buf[..want], from)?;
        let ended = have < want && from + have as u64 <= end;
        let own_end = usize::try_from(end - from).unwrap_or(usize::MAX).min(have);
        let own_start = usize::from(start > begin).min(own_end);
        self.own = (own_start, own_end);
        let first = if start > begin { memchr::memchr(b'\n', &self.buf[..have]).map_or(have, |i| i + 1) } else { 0 };
        if first >= own_end {
            // No line starts in this block (a line longer than a block crosses it).
            self.lines = (0, 0);
            return Ok(ended);
        }
        let mut search = own_end - 1;
        let last = loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[search..have]) {
                break search + i + 1;
            }
            if from + have as u64 >= len {
                break have;
            }
            // The last line goes on past what was read: read on until its end.
            search = have;
            let more = usize::try_from(len - from - have as u64).unwrap_or(usize::MAX).min(BLOCK);
            if self.buf.len() < have + more {
                self.buf.resize(have + more, 0);
            }
            let got = read_full(src, &mut self.buf[have..have + more], from + have as u64)?;
            if got == 0 {
                break have;
            }
            have += got;
        };
        self.lines = (first, last);
        Ok(ended)
    }
}

/// A recognized block: its events, its number of lines, its own bytes (for the hash), and
/// whether it holds a NUL byte (looked for only when nothing in it was recognized).
struct Part<'b> {
    events: Vec<Recognized<'b>>,
    lines: u32,
    own: &'b [u8],
    nul: bool,
}

/// The recognized blocks of a batch, in order; empty when the source is exhausted.
type Batch<'b> = Vec<Part<'b>>;

/// Reads and recognizes blocks of a source, on several threads.
struct Reader<'a, S: ?Sized> {
    src: &'a S,
    cursor: Cursor,
    threads: usize,
    rules: &'a [&'a Rule],
    /// The user rules' matching scratch, kept from batch to batch (a fresh regex cache is slow
    /// to warm up).
    scratches: std::sync::Mutex<Vec<user::Scratch>>,
    /// Emptied event vectors of blocks fed before, for the next blocks: allocated by one thread
    /// and freed by another, they made the threads contend for the allocator.
    spare: std::sync::Mutex<Vec<Vec<Recognized<'static>>>>,
}

/// An emptied vector of events, of another lifetime, in the same allocation (the standard
/// library collects a vector's `into_iter` in place when the item layouts agree).
fn recycle<'x, 'y>(mut v: Vec<Recognized<'x>>) -> Vec<Recognized<'y>> {
    v.clear();
    v.into_iter().map(|_| unreachable!("the vector is empty")).collect()
}

impl<'a, S: Source + ?Sized> Reader<'a, S> {
    /// Reads and recognizes the next batch of blocks into `set`; the calling thread first feeds
    /// `feed` (the previous batch) and then takes blocks too.
    fn prepare<'s>(&mut self, set: &'s mut [Block], feed: Option<(&mut Feeder, Batch<'_>)>) -> std::io::Result<Batch<'s>>
    where
        'a: 's,
    {
        let Reader { src, cursor, threads, rules, scratches, spare } = self;
        let (src, threads, rules, scratches, spare) = (*src, *threads, *rules, &*scratches, &*spare);
        let (begin, len, block_size) = (cursor.begin, cursor.len, cursor.block_size);
        let sequential = src.sequential();
        let claims = std::sync::Mutex::new(Claims { blocks: set.iter_mut().enumerate(), cursor });
        let work = || -> std::io::Result<Vec<(usize, Part<'s>)>> {
            let mut done = Vec::new();
            let mut scratch = (!rules.is_empty())
                .then(|| scratches.lock().expect("no thread panics holding it").pop().unwrap_or_else(|| user::Scratch::new(rules)));
            loop {
                let (index, block, start, end) = {
                    let mut claims = claims.lock().expect("no thread panics holding the claims");
                    let start = claims.cursor.next;
                    if start >= len || claims.cursor.ended {
                        break;
                    }
                    let Some((index, block)) = claims.blocks.next() else { break };
                    let end = start.saturating_add(block_size).min(len);
                    claims.cursor.next = end;
                    if sequential {
                        // Read in order, while holding the claims.
                        src.release(start.saturating_sub(1).max(begin));
                        claims.cursor.ended = block.fill(src, start, end, begin, len)?;
                    }
                    (index, block, start, end)
                };
                if !sequential {
                    // Positioned reads, in parallel.
                    block.fill(src, start, end, begin, len)?;
                }
                let block: &'s Block = block;
                let lines = &block.buf[block.lines.0..block.lines.1];
                let out = spare.lock().expect("no thread panics holding it").pop().map(recycle).unwrap_or_default();
                let (events, count) = recognize_block(lines, rules, scratch.as_mut(), out);
                let nul = events.is_empty() && memchr::memchr(0, lines).is_some();
                done.push((index, Part { events, lines: count, own: &block.buf[block.own.0..block.own.1], nul }));
            }
            if let Some(scratch) = scratch {
                scratches.lock().expect("no thread panics holding it").push(scratch);
            }
            Ok(done)
        };
        let mut parts = std::thread::scope(|scope| -> std::io::Result<Vec<(usize, Part<'s>)>> {
            let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
            if let Some((feeder, batch)) = feed {
                let emptied = feeder.feed(batch);
                spare.lock().expect("no thread panics holding it").extend(emptied.into_iter().map(recycle));
            }
            let mut parts = work()?;
            for helper in helpers {
                parts.extend(helper.join().expect("recognition does not panic")?);
            }
            Ok(parts)
        })?;
        parts.sort_unstable_by_key(|(index, _)| *index);
        Ok(parts.into_iter().map(|(_, part)| part).collect())
    }
}

/// Feeds recognized events to the file's tracker, in order.
struct Feeder<'s, 'h> {
    tracker: Tracker,
    lines: u64,
    bytes: u64,
    file: u32,
    /// Takes the beats the tracker releases while the file is read; gives back those it cannot
    /// attribute yet (they wait for the end of the file).
    sink: Option<&'s mut Sink<'s>>,
    deferred: Vec<BeatRecord>,
    hasher: Option<&'h mut Sha256>,
    /// A block in which nothing was recognized holds a NUL byte.
    nul: bool,
}

/// Attributes a released beat now (`None`) or gives it back (`Some`).
pub type Sink<'s> = dyn FnMut(BeatRecord, &ExecutionInfo) -> Option<BeatRecord> + 's;

impl Feeder<'_, '_> {
    /// Feeds a batch; gives back its emptied event vectors.
    fn feed<'b>(&mut self, batch: Batch<'b>) -> Vec<Vec<Recognized<'b>>> {
        let mut emptied = Vec::with_capacity(batch.len());
        for mut part in batch {
            for r in part.events.drain(..) {
                let line = u32::try_from(self.lines + u64::from(r.line)).unwrap_or(u32::MAX);
                let ts = if r.event.needs_ts() { r.stamp.ms() } else { None };
                self.tracker.feed(r.event, ts, Location { file: self.file, line });
            }
            emptied.push(part.events);
            self.lines += u64::from(part.lines);
            self.nul |= part.nul;
            self.bytes += part.own.len() as u64;
            if let Some(h) = self.hasher.as_mut() {
                h.update(part.own);
            }
        }
        if let Some(sink) = self.sink.as_mut() {
            for record in self.tracker.take_released() {
                let info = self.tracker.execution(record.execution);
                if let Some(back) = sink(record, info) {
                    self.deferred.push(back);
                }
            }
        }
        emptied
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

    /// The generator's logs (`run-NN.log`, every envelope and hard case) and catalog, in a
    /// temporary directory.
    fn generated(seed: u64, files: usize, executions: usize, noise: usize) -> tempfile::TempDir {
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
                let scanned = scan_file(path, InputFormat::Console, i as u32, false, &[], Some(&mut sink)).unwrap();
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
        let report = crate::report::build(attributor.finish(), &files, crate::config::SortKey::Avg, Default::default());
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
    /// A stream serves reads past its end (nothing) and refuses reads before what it forgot.
    #[test]
    fn stream_reads_past_the_end_and_before_the_window() {
        let stream = Stream::new(&b"456789"[..], b"0123".to_vec());
        let mut out = [0u8; 4];
        assert_eq!((stream.read_at(&mut out, 2).unwrap(), &out), (4, b"2345"));
        assert_eq!(stream.read_at(&mut out, 8).unwrap(), 2);
        assert_eq!(stream.read_at(&mut out, 50).unwrap(), 0);
        stream.release(5);
        assert_eq!((stream.read_at(&mut out, 5).unwrap(), &out[..1]), (4, &b"5"[..]));
        assert!(stream.read_at(&mut out, 4).is_err());
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

    /// Blocks of any size own every line exactly once and every byte of the span exactly once
    /// (the hash), whatever the line breaks: CRLF, no final break, empty lines, lines longer
    /// than a block, a byte-order mark before the span.
    #[test]
    fn blocks_partition_lines_and_bytes() {
        let texts: [&[u8]; 6] = [
            b"",
            b"\n",
            b"one line without a break",
            b"a\r\nbb\n\n\nccc\r\nlast",
            b"\xEF\xBB\xBFEventBus.ts:56 x\nvery long line that crosses many small blocks of bytes\nz\n",
            b"\n\nx\n\n",
        ];
        for text in texts {
            let begin = if text.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
            for block_size in [1u64, 2, 3, 5, 8, 64, 1 << 20] {
                let (mut lines, mut own) = (Vec::new(), Vec::new());
                let mut start = begin;
                let mut block = Block::default();
                while start < text.len() as u64 {
                    let end = (start + block_size).min(text.len() as u64);
                    block.fill(text, start, end, begin, text.len() as u64).unwrap();
                    lines.extend_from_slice(&block.buf[block.lines.0..block.lines.1]);
                    own.extend_from_slice(&block.buf[block.own.0..block.own.1]);
                    start = end;
                }
                let span = &text[begin as usize..];
                assert_eq!(lines, span, "lines, block {block_size}, {:?}", String::from_utf8_lossy(text));
                assert_eq!(own, span, "bytes, block {block_size}, {:?}", String::from_utf8_lossy(text));
            }
        }
    }

    /// Emptied event vectors are reused in their allocation (else each block allocates anew).
    #[test]
    fn recycled_event_vectors_keep_their_allocation() {
        let text = b"EventBus.ts:56 Request ID: a-1762811776932-x\n".repeat(100);
        let (events, _) = recognize_block(&text, &[], None, Vec::new());
        let (at, capacity) = (events.as_ptr() as usize, events.capacity());
        let again: Vec<Recognized<'static>> = recycle(events);
        assert_eq!((again.as_ptr() as usize, again.capacity(), again.len()), (at, capacity, 0));
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
        let scanned = scan_file(&path, InputFormat::Auto, 0, true, &[], None).unwrap();
        assert_eq!(scanned.sha256.as_deref(), Some(crate::baseline::sha256_hex(&text).as_str()));
        assert_eq!((scanned.bytes, scanned.traced.lines, scanned.encoding), (text.len() as u64, 50_000, Encoding::Utf8Bom));
    }
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// On any bytes, blocks of any size, read by position or front to back, own every line
        /// and every byte of the span exactly once, and the trace is that of one read.
        #[test]
        fn any_bytes_any_blocks(
            text in proptest::collection::vec(proptest::prop_oneof![proptest::prelude::Just(b'\n'), proptest::prelude::Just(b'\r'), proptest::prelude::any::<u8>()], 0..400),
            block_size in 1usize..40,
            begin in 0u64..3,
        ) {
            let begin = begin.min(text.len() as u64);
            let span = Span { begin, len: text.len() as u64 };
            let (mut lines, mut own) = (Vec::new(), Vec::new());
            let mut start = begin;
            let mut block = Block::default();
            while start < span.len {
                let end = (start + block_size as u64).min(span.len);
                block.fill(&text[..], start, end, begin, span.len).unwrap();
                lines.extend_from_slice(&block.buf[block.lines.0..block.lines.1]);
                own.extend_from_slice(&block.buf[block.own.0..block.own.1]);
                start = end;
            }
            proptest::prop_assert_eq!(&lines[..], &text[begin as usize..]);
            proptest::prop_assert_eq!(&own[..], &text[begin as usize..]);
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
