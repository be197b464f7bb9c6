//! Reading one input file into a trace, fast and in bounded memory.
//!
//! Console logs — the large inputs — are streamed: the file is read in blocks of about 4 MiB
//! that end at a line break (the partial last line is carried into the next block); a batch of
//! blocks, one or two per core, is recognized in parallel (envelope peeling and message
//! recognition are per line and independent), and the recognized events are then fed to the
//! file's tracker sequentially, in file order, so attribution is exactly the one of a
//! line-by-line read. Memory is the batch's blocks and their events, whatever the file's size;
//! the blocks are reused. Markdown, frames exports and UTF-16 files (PowerShell captures) are
//! small documents and are read whole.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::attribute::tracker::{FileTrace, Tracker};
use crate::attribute::{self, InputFormat, Traced};
use crate::input::{self, Encoding};
use crate::parse::{self, Event, Location, conductor, envelope};

/// Bytes per block (a block is extended to the end of its last line).
const BLOCK: usize = 4 << 20;

pub struct Scanned {
    pub traced: Traced,
    pub encoding: Encoding,
    pub bytes: u64,
    pub sha256: Option<String>,
}

/// Reads `path` as `format` (detected when `Auto`); `hash` computes the file's SHA-256 on the way.
pub fn scan_file(path: &Path, format: InputFormat, file: u32, hash: bool) -> std::io::Result<Scanned> {
    let mut f = std::fs::File::open(path)?;
    let mut head = Vec::with_capacity(BLOCK + (64 << 10));
    (&mut f).take(BLOCK as u64).read_to_end(&mut head)?;
    let ext = path.extension().and_then(|e| e.to_str());
    let utf16 = head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]);
    let format = attribute::detect(&head, ext, format);
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
    let c = console(&mut reader, head, file)?;
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
    ts: Option<i64>,
    event: Event<'b>,
}

/// Recognizes every line of a block; returns its events and its number of lines.
fn recognize_block(block: &[u8]) -> (Vec<Recognized<'_>>, u32) {
    // Conductor logs recognize about one line in two; a guess that avoids most regrowth.
    let mut out = Vec::with_capacity(block.len() / 256);
    let mut count = 0;
    for (no, line) in parse::lines(block) {
        count = no;
        let peeled = envelope::peel(line);
        if let Some(event) = conductor::recognize(peeled.message) {
            out.push(Recognized { line: no, ts: peeled.ts(), event });
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
pub fn console(reader: &mut impl Read, first: Vec<u8>, file: u32) -> std::io::Result<ConsoleTrace> {
    console_in_blocks(reader, first, file, BLOCK)
}

/// [`console`] with a given block size (tests use tiny blocks to exercise the boundaries).
pub fn console_in_blocks(reader: &mut impl Read, first: Vec<u8>, file: u32, block_size: usize) -> std::io::Result<ConsoleTrace> {
    let block_size = block_size.max(1);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 16);
    let mut blocks: Vec<Vec<u8>> = (0..threads * 2).map(|_| Vec::new()).collect();
    let mut carry = first;
    let mut eof = false;
    let mut tracker = Tracker::new();
    let mut lines_before = 0u64;
    let mut binary = false;
    while !eof || !carry.is_empty() {
        // Fill a batch of blocks, each ending at a line break.
        let mut filled = 0;
        for block in &mut blocks {
            if eof && carry.is_empty() {
                break;
            }
            block.clear();
            if block.capacity() == 0 && carry.len() >= block_size {
                // The first block: take over the bytes already read.
                std::mem::swap(block, &mut carry);
            } else {
                block.extend_from_slice(&carry);
                carry.clear();
            }
            if !eof && block.len() < block_size {
                let want = (block_size - block.len()) as u64;
                // Exactly: `read_to_end` would otherwise double the buffer.
                block.reserve_exact(usize::try_from(want).unwrap_or(usize::MAX).min(BLOCK));
                let got = reader.by_ref().take(want).read_to_end(block)?;
                eof = got == 0 || (got as u64) < want;
            }
            if !eof {
                match memchr::memrchr(b'\n', block) {
                    Some(at) => carry.extend_from_slice(&block[at + 1..]),
                    None => {
                        // A single line longer than a block: keep reading until its end.
                        let mut more = Vec::new();
                        loop {
                            let got = reader.by_ref().take(block_size as u64).read_to_end(&mut more)?;
                            if got == 0 {
                                eof = true;
                                break;
                            }
                            if let Some(at) = memchr::memchr(b'\n', &more) {
                                block.extend_from_slice(&more[..=at]);
                                carry.extend_from_slice(&more[at + 1..]);
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
            filled += 1;
        }
        if filled == 0 {
            break;
        }
        let batch = &blocks[..filled];
        binary = binary || batch.iter().any(|b| memchr::memchr(0, b).is_some());
        let results: Vec<(Vec<Recognized<'_>>, u32)> = if filled == 1 || threads == 1 {
            batch.iter().map(|b| recognize_block(b)).collect()
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = batch.iter().map(|b| s.spawn(|| recognize_block(b))).collect();
                handles.into_iter().map(|h| h.join().expect("recognition does not panic")).collect()
            })
        };
        for (events, count) in results {
            for r in events {
                let line = u32::try_from(lines_before + u64::from(r.line)).unwrap_or(u32::MAX);
                tracker.feed(r.event, r.ts, Location { file, line });
            }
            lines_before += u64::from(count);
        }
    }
    Ok(ConsoleTrace { trace: tracker.finish(), lines: lines_before, binary })
}

#[cfg(test)]
mod tests {
    use super::*;

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
            let whole = console_in_blocks(&mut &text[..], Vec::new(), 0, usize::MAX).unwrap();
            for block in [1, 7, 97, 4096] {
                let (first, rest) = text.split_at(text.len().min(block));
                let parts = console_in_blocks(&mut &rest[..], first.to_vec(), 0, block).unwrap();
                assert_eq!(parts.lines, whole.lines, "{name} block {block}");
                assert_eq!(format!("{:?}", parts.trace), format!("{:?}", whole.trace), "{name} block {block}");
            }
        }
    }
}
