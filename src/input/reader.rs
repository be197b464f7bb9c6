//! The reader: a console log's bytes → recognized lines, in file order, pushed into a
//! [`Sink`], fast and in bounded memory.
//!
//! A log is read in blocks by positioned reads, so that every thread reads and recognizes
//! blocks of its own: a block owns the lines that start in it (see `Block::fill`). Batches of
//! blocks alternate between two sets: while the main thread pushes one batch's recognized lines
//! into the sink, sequentially and in file order (so the consumer sees exactly what a
//! line-by-line read would give), the other threads read and recognize the next batch, and the
//! main thread joins them when it is done. Envelope peeling and message recognition are per line
//! and independent. Memory is two batches of blocks and their events, whatever the file's size;
//! blocks and event vectors are reused, from batch to batch and from file to file. The reader
//! knows nothing of what the lines mean: `attribute` feeds them to its tracker.

use std::io::Read;

use sha2::Sha256;

use crate::parse::user::{self, UserRule};
use crate::parse::{self, Event, conductor, envelope};

/// Bytes per block (a block is extended to the end of its last line).
pub const BLOCK: usize = 128 << 10;
/// The smallest block (small files).
pub const MIN_BLOCK: usize = 64 << 10;

/// What the reader pushes recognized lines into, in file order.
pub trait Sink {
    /// A recognized line: its 1-based number in the file, its timestamp (epoch milliseconds,
    /// converted only for the events that use one: see [`Event::needs_ts`]), its event.
    fn line(&mut self, line: u32, ts: Option<i64>, event: Event<'_>);

    /// A batch of blocks has been pushed: a point where the consumer may hand work on.
    fn batch_end(&mut self) {}

    /// The consumer wants no more lines (a bound was passed): reading stops after the batch.
    fn stopped(&self) -> bool {
        false
    }
}

/// What reading a console log yields besides the lines pushed into the sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub lines: u64,
    /// Bytes read (of the span).
    pub bytes: u64,
    /// A block in which nothing was recognized holds a NUL byte.
    pub nul: bool,
}

/// The bytes of a source to read: from `begin` (past a byte-order mark) to `len`.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub begin: u64,
    pub len: u64,
}

/// Threads that read and recognize blocks of a file (when one file is read at a time).
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 16)
}

/// Reads the console log `span` of `src` in blocks of `block_size` bytes (tests use tiny blocks
/// to exercise the boundaries) on `threads` threads, pushing its recognized lines into `sink`;
/// `hasher` takes the span's bytes in order.
///
/// Blocks are read independently and in parallel (see `Block::fill`). Two sets of blocks
/// alternate: while the main thread pushes the lines of one batch (the sink must see them in
/// order), the other threads read and recognize the next batch; when the main thread is done,
/// it joins them.
pub fn read_blocks(
    src: &(impl ReadAt + ?Sized),
    span: Span,
    block_size: usize,
    rules: &[&UserRule],
    threads: usize,
    sink: &mut dyn Sink,
    hasher: Option<&mut Sha256>,
) -> std::io::Result<Counts> {
    let threads = threads.max(1);
    let cursor = Cursor { begin: span.begin, next: span.begin, len: span.len, block_size: block_size.max(1) as u64, ended: false };
    let mut pusher = Pusher { sink, lines: 0, bytes: 0, hasher, nul: false };
    let per_batch = threads * BLOCKS_PER_THREAD;
    let Kept { sets: [mut set_a, mut set_b], spare } = KEPT.lock().map(|mut k| k.take()).ok().flatten().unwrap_or_default();
    set_a.resize_with(per_batch, Block::default);
    set_b.resize_with(per_batch, Block::default);
    let mut reader =
        Reader { src, cursor, threads, rules, scratches: std::sync::Mutex::new(Vec::new()), spare: std::sync::Mutex::new(spare) };
    // A source in memory gives back the bytes of the batches fed (a sequential one forgets
    // them as it reads: see `prepare`), while the next batch is read.
    let in_memory = src.in_memory().is_some();
    let mut ready = reader.prepare(&mut set_a, None, None)?;
    let mut fed = None;
    while !ready.is_empty() {
        let next_fed = in_memory.then_some(reader.cursor.next);
        let next = reader.prepare(&mut set_b, Some((&mut pusher, ready)), fed)?;
        fed = next_fed;
        if next.is_empty() || pusher.sink.stopped() {
            break;
        }
        let next_fed = in_memory.then_some(reader.cursor.next);
        ready = reader.prepare(&mut set_a, Some((&mut pusher, next)), fed)?;
        fed = next_fed;
        if pusher.sink.stopped() {
            break;
        }
    }
    if let Some(fed) = fed {
        src.release(fed);
    }
    if let (Ok(mut kept), Ok(spare)) = (KEPT.lock(), reader.spare.into_inner()) {
        *kept = Some(Kept { sets: [set_a, set_b], spare });
    }
    Ok(Counts { lines: pusher.lines, bytes: pusher.bytes, nul: pusher.nul })
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
const BLOCKS_PER_THREAD: usize = 16;

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
const SLACK: usize = 4 << 10;

impl Block {
    /// Reads the block `[start, end)` of `src` (whose span begins at `begin` and ends at `len`).
    /// The block owns the lines that start in it: they begin after the first line break at or
    /// after `start - 1` (at `begin` for the first block) and end at the first line break at or
    /// after `end - 1`, read past `end` as far as needed. So blocks are read independently, yet
    /// every line is seen once, whole.
    /// Returns whether the source ended within the block (no later block has bytes).
    fn fill(&mut self, src: &(impl ReadAt + ?Sized), start: u64, end: u64, begin: u64, len: u64) -> std::io::Result<bool> {
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

/// What [`Block::fill`] reads of the block `[start, end)`, as ranges of `all`, the whole source
/// in memory (its span ends at `len`): the lines the block owns, and its own bytes. Nothing is
/// copied.
fn bounds(all: &[u8], start: u64, end: u64, begin: u64, len: u64) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
    let at = |x: u64| usize::try_from(x).unwrap_or(usize::MAX);
    let len = at(len).min(all.len());
    let (start, end, begin) = (at(start).min(len), at(end).min(len), at(begin));
    let own = start..end;
    let first = if start > begin { memchr::memchr(b'\n', &all[start - 1..len]).map_or(len, |i| start + i) } else { start };
    if first >= end {
        // No line starts in this block (a line longer than a block crosses it).
        return (0..0, own);
    }
    let last = memchr::memchr(b'\n', &all[end - 1..len]).map_or(len, |i| end + i);
    (first..last, own)
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
    rules: &'a [&'a UserRule],
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

impl<'a, S: ReadAt + ?Sized> Reader<'a, S> {
    /// Reads and recognizes the next batch of blocks into `set`; the calling thread first feeds
    /// `feed` (the previous batch) and then takes blocks too. The bytes before `release` (those
    /// of a batch fed before) are given back by another thread than the feeding one.
    fn prepare<'s>(
        &mut self,
        set: &'s mut [Block],
        feed: Option<(&mut Pusher, Batch<'_>)>,
        release: Option<u64>,
    ) -> std::io::Result<Batch<'s>>
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
                let (lines, own): (&'s [u8], &'s [u8]) = if let Some(all) = src.in_memory() {
                    // The block is a slice of the source's bytes: nothing is copied.
                    let (lines, own) = bounds(all, start, end, begin, len);
                    (&all[lines], &all[own])
                } else {
                    if !sequential {
                        // Positioned reads, in parallel.
                        block.fill(src, start, end, begin, len)?;
                    }
                    let block: &'s Block = block;
                    (&block.buf[block.lines.0..block.lines.1], &block.buf[block.own.0..block.own.1])
                };
                let out = spare.lock().expect("no thread panics holding it").pop().map(recycle).unwrap_or_default();
                let (events, count) = recognize_block(lines, rules, scratch.as_mut(), out);
                let nul = events.is_empty() && memchr::memchr(0, lines).is_some();
                done.push((index, Part { events, lines: count, own, nul }));
            }
            if let Some(scratch) = scratch {
                scratches.lock().expect("no thread panics holding it").push(scratch);
            }
            Ok(done)
        };
        let mut parts = std::thread::scope(|scope| -> std::io::Result<Vec<(usize, Part<'s>)>> {
            let give_back = move || {
                if let Some(before) = release {
                    src.release(before);
                }
            };
            let helpers: Vec<_> = (1..threads)
                .map(|i| {
                    scope.spawn(move || {
                        if i == 1 {
                            give_back();
                        }
                        work()
                    })
                })
                .collect();
            if threads == 1 {
                give_back();
            }
            if let Some((pusher, batch)) = feed {
                let emptied = pusher.feed(batch);
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

/// Pushes recognized lines into the sink, in order, and counts lines and bytes.
struct Pusher<'s, 'h> {
    sink: &'s mut dyn Sink,
    lines: u64,
    bytes: u64,
    hasher: Option<&'h mut Sha256>,
    nul: bool,
}

impl Pusher<'_, '_> {
    /// Pushes a batch; gives back its emptied event vectors.
    fn feed<'b>(&mut self, batch: Batch<'b>) -> Vec<Vec<Recognized<'b>>> {
        use sha2::Digest;
        let mut emptied = Vec::with_capacity(batch.len());
        let mut parts = batch.into_iter().peekable();
        while let Some(mut part) = parts.next() {
            // The next block's bytes are brought into this core's cache while this one is fed:
            // another core (or this one, a batch ago) recognized them, and the sink reads the
            // names in them.
            let mut ahead = Ahead::new(parts.peek().map_or(&[][..], |p| p.own), part.events.len());
            for (i, r) in part.events.drain(..).enumerate() {
                ahead.upto(i + 1);
                let line = u32::try_from(self.lines + u64::from(r.line)).unwrap_or(u32::MAX);
                self.sink.line(line, r.ts, r.event);
            }
            ahead.upto(usize::MAX);
            emptied.push(part.events);
            self.lines += u64::from(part.lines);
            self.nul |= part.nul;
            self.bytes += part.own.len() as u64;
            if let Some(h) = self.hasher.as_mut() {
                h.update(part.own);
            }
        }
        self.sink.batch_end();
        emptied
    }
}

/// Bytes prefetched into the cache as the events of another block are fed, in step with them.
struct Ahead<'b> {
    bytes: &'b [u8],
    /// Bytes prefetched so far.
    done: usize,
    events: usize,
}

impl<'b> Ahead<'b> {
    fn new(bytes: &'b [u8], events: usize) -> Self {
        Ahead { bytes, done: 0, events: events.max(1) }
    }

    /// `fed` events of the block fed: the same share of the bytes has been prefetched.
    #[inline]
    fn upto(&mut self, fed: usize) {
        let target = if fed >= self.events { self.bytes.len() } else { self.bytes.len() / self.events * fed };
        while self.done < target {
            prefetch(&self.bytes[self.done..]);
            self.done += 64;
        }
    }
}

/// Asks the processor to bring the cache line at the start of `b` into its second-level cache.
#[inline(always)]
fn prefetch(b: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it reads nothing the program sees and cannot fault.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T1 }>(b.as_ptr().cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = b;
}

/// Where a console log is read from: a file, by positioned reads (so that threads read their
/// blocks in parallel), or bytes in memory.
pub trait ReadAt: Sync {
    /// Reads at most `buf.len()` bytes at `offset`; 0 at the end.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize>;

    /// Whether reads must come in the order of the blocks (see [`Stream`]).
    fn sequential(&self) -> bool {
        false
    }

    /// No read will ask for bytes before `before` (a sequential source may forget them).
    fn release(&self, _before: u64) {}

    /// All the source's bytes, when they are in memory already (a mapped file, see [`Mapped`]):
    /// blocks are then slices of them, not copies.
    fn in_memory(&self) -> Option<&[u8]> {
        None
    }
}

/// Bytes in memory read as slices, never copied: a memory-mapped file (`input::read_file`).
/// (Bytes read as `[u8]` are copied into blocks like a file's: the path the tests compare.)
pub struct Mapped<'m> {
    bytes: &'m [u8],
    /// The map, whose pages already fed are given back as the reading goes (else the process's
    /// resident set would grow by the whole file, page cache that it no longer reads).
    map: Option<&'m memmap2::Mmap>,
    /// Bytes given back so far (from the start).
    released: std::sync::atomic::AtomicUsize,
}

impl<'m> Mapped<'m> {
    /// Bytes in memory (tests).
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn new(bytes: &'m [u8]) -> Self {
        Mapped { bytes, map: None, released: Default::default() }
    }

    /// A mapped file.
    pub fn of(map: &'m memmap2::Mmap) -> Self {
        Mapped { bytes: map, map: Some(map), released: Default::default() }
    }
}

/// Pages are given back in multiples of this (a multiple of every page size in use).
const RELEASE_ALIGN: usize = 64 << 10;

impl ReadAt for Mapped<'_> {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        self.bytes.read_at(buf, offset)
    }

    fn in_memory(&self) -> Option<&[u8]> {
        Some(self.bytes)
    }

    fn release(&self, before: u64) {
        use std::sync::atomic::Ordering;
        let Some(map) = self.map else { return };
        let end = usize::try_from(before).unwrap_or(usize::MAX).min(map.len()) / RELEASE_ALIGN * RELEASE_ALIGN;
        let start = self.released.load(Ordering::Relaxed);
        if end <= start {
            return;
        }
        self.released.store(end, Ordering::Relaxed);
        #[cfg(unix)]
        // SAFETY: the pages before `before` were read and their lines fed; nothing borrows them
        // any more (the sink copies what it keeps). MADV_DONTNEED on a read-only shared file map
        // only unmaps them: a later access would fault the file's bytes in again, never zeros.
        let _ = unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start) };
    }
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

impl<R: Read + Send> ReadAt for Stream<R> {
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

impl ReadAt for std::fs::File {
    #[cfg(unix)]
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(self, buf, offset)
    }

    #[cfg(windows)]
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        std::os::windows::fs::FileExt::seek_read(self, buf, offset)
    }
}

impl ReadAt for [u8] {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        let at = usize::try_from(offset).unwrap_or(usize::MAX).min(self.len());
        let n = buf.len().min(self.len() - at);
        buf[..n].copy_from_slice(&self[at..at + n]);
        Ok(n)
    }
}

/// Reads until `buf` is full or the source ends; returns the bytes read.
fn read_full(src: &(impl ReadAt + ?Sized), buf: &mut [u8], mut offset: u64) -> std::io::Result<usize> {
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
    /// Converted by the recognizing thread (a conversion costs more than most lines).
    ts: Option<i64>,
    event: Event<'b>,
}

/// Recognizes every line of a block — as a conductor message, else by the user's rules;
/// returns its events and its number of lines.
fn recognize_block<'b>(
    block: &'b [u8],
    rules: &[&'b UserRule],
    mut scratch: Option<&mut user::Scratch>,
    mut out: Vec<Recognized<'b>>,
) -> (Vec<Recognized<'b>>, u32) {
    // Conductor logs recognize about one line in two (lines of about 100 bytes).
    out.reserve(block.len() / 128);
    let mut count = 0;
    let mut days = crate::timestamp::Days::default();
    for (no, line) in parse::lines(block) {
        count = no;
        let peeled = envelope::peel(line);
        if let Some(event) = conductor::recognize(peeled.message) {
            let ts = if event.needs_ts() { peeled.ts_with(&mut days) } else { None };
            out.push(Recognized { line: no, ts, event });
        } else if let Some(scratch) = scratch.as_mut()
            && let Some(event) = user::recognize(rules, scratch, line)
        {
            out.push(Recognized { line: no, ts: None, event });
        }
    }
    (out, count)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// On any bytes, blocks of any size own every line and every byte of the span exactly
        /// once; a block of a source in memory is the slice of it that the block read holds.
        #[test]
        fn any_bytes_any_blocks_partition(
            text in proptest::collection::vec(proptest::prop_oneof![proptest::prelude::Just(b'\n'), proptest::prelude::Just(b'\r'), proptest::prelude::any::<u8>()], 0..400),
            block_size in 1usize..40,
            begin in 0u64..3,
        ) {
            let begin = begin.min(text.len() as u64);
            let len = text.len() as u64;
            let (mut lines, mut own) = (Vec::new(), Vec::new());
            let mut start = begin;
            let mut block = Block::default();
            while start < len {
                let end = (start + block_size as u64).min(len);
                block.fill(&text[..], start, end, begin, len).unwrap();
                lines.extend_from_slice(&block.buf[block.lines.0..block.lines.1]);
                own.extend_from_slice(&block.buf[block.own.0..block.own.1]);
                let (in_lines, in_own) = bounds(&text, start, end, begin, len);
                proptest::prop_assert_eq!(&text[in_lines], &block.buf[block.lines.0..block.lines.1]);
                proptest::prop_assert_eq!(&text[in_own], &block.buf[block.own.0..block.own.1]);
                start = end;
            }
            proptest::prop_assert_eq!(&lines[..], &text[begin as usize..]);
            proptest::prop_assert_eq!(&own[..], &text[begin as usize..]);
        }
    }
}
