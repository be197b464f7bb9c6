//! Reading: which files a run reads (files, directories, globs, the standard input), how their
//! bytes become UTF-8 (BOM sniffing, UTF-16LE/BE, invalid UTF-8 kept for lossy reading later, CP437
//! mojibake repaired by [`cp437`]), what format each one is — detected once, here, on its decoded
//! text — its SHA-256, and, for console logs, the [`reader`] that recognizes their lines (the
//! conductor's, then the user's rules) in parallel blocks and pushes them into a
//! [`reader::Sink`]. Every console log goes through that reader, whatever its encoding; documents
//! (markdown, frames exports, player reports, build consoles) are read whole and handed back with
//! their format. Line endings (LF/CRLF) are handled by [`crate::parse::lines`]. Knows nothing of
//! beats and handlers: `attribute` is the consumer.

pub mod cp437;
pub mod reader;

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::parse::user::UserRule;
use reader::{BLOCK, MIN_BLOCK, Mapped, ReadAt, Sink, Span, Stream};

/// The path that names the standard input.
pub const STDIN: &str = "-";

/// How an input file is read (`--format-in`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputFormat {
    /// By extension and content: `.md` → markdown, a JSON object with `frames` → frames, JSON
    /// with `sequenceId` and `beats` → a sequence player's report, `[BEAT N] Starting:` lines →
    /// the build-pipeline console, anything else → console.
    Auto,
    /// Console captures in any envelope (Chrome, DevTools, Cypress, Serilog, .NET console).
    Console,
    /// Markdown telemetry reports.
    Markdown,
    /// The frames JSON export.
    Frames,
    /// A sequence player's report (`report.json`: `{"sequenceId", "beats": […]}`).
    PlayerReport,
    /// The build-pipeline symphony console (`[BEAT N] Starting: …`).
    Build,
    /// A JSON file that is not a frames export: nothing to read (reported, not parsed).
    OtherJson,
}

/// The format of a file, from its extension and its first bytes, unless forced.
pub fn detect(head: &[u8], extension: Option<&str>, format: InputFormat) -> InputFormat {
    match format {
        InputFormat::Auto => {
            let ext = extension.map(str::to_ascii_lowercase);
            if matches!(ext.as_deref(), Some("md" | "markdown")) {
                InputFormat::Markdown
            } else if crate::parse::frames::looks_like_frames(head) {
                InputFormat::Frames
            } else if crate::parse::player::looks_like_report(head) {
                InputFormat::PlayerReport
            } else if crate::parse::build::looks_like_build(head) {
                InputFormat::Build
            } else if ext.as_deref() == Some("json") {
                InputFormat::OtherJson
            } else {
                InputFormat::Console
            }
        }
        f => f,
    }
}

/// A file read: its encoding, size and hash, and what became of its text.
#[derive(Debug)]
pub struct ReadFile {
    pub encoding: Encoding,
    pub bytes: u64,
    pub sha256: Option<String>,
    pub body: Body,
}

#[derive(Debug)]
pub enum Body {
    /// A console log, in any encoding: its recognized lines (the conductor's, then the user
    /// rules') went into the sink.
    Streamed { format: InputFormat, counts: reader::Counts },
    /// A document read whole, decoded to UTF-8 and its mojibake repaired: for the caller to
    /// read as `format`.
    Document { format: Document, text: Vec<u8> },
}

/// The formats read whole rather than streamed: they carry whole beats, or are JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    Markdown,
    Frames,
    PlayerReport,
    Build,
    OtherJson,
}

impl Document {
    pub fn format(self) -> InputFormat {
        match self {
            Document::Markdown => InputFormat::Markdown,
            Document::Frames => InputFormat::Frames,
            Document::PlayerReport => InputFormat::PlayerReport,
            Document::Build => InputFormat::Build,
            Document::OtherJson => InputFormat::OtherJson,
        }
    }

    /// The document format `format` is; `None` for a console log.
    fn of(format: InputFormat) -> Option<Document> {
        match format {
            InputFormat::Auto | InputFormat::Console => None,
            InputFormat::Markdown => Some(Document::Markdown),
            InputFormat::Frames => Some(Document::Frames),
            InputFormat::PlayerReport => Some(Document::PlayerReport),
            InputFormat::Build => Some(Document::Build),
            InputFormat::OtherJson => Some(Document::OtherJson),
        }
    }
}

/// Reads `path` as `format` (detected when `Auto`); `hash` computes the file's SHA-256 on the
/// way; `rules` are the user rules (`[[sources.pattern]]`, `[[sources.json]]`) that apply to
/// it. A console log's recognized lines are pushed into `sink`, read on `threads` threads.
///
/// Every file takes the same path, whatever its encoding: its format is detected once, here
/// (on its decoded text), and a console log — UTF-8, UTF-8 with a byte-order mark, UTF-16LE/BE,
/// LF or CRLF, CP437 mojibake or not — goes through the one reader, conductor lines first,
/// then the user's rules. A plain UTF-8 console log is streamed from the file in blocks; one
/// that must be transcoded or repaired first is read whole, then streamed from memory.
pub fn read_file(
    path: &Path,
    format: InputFormat,
    hash: bool,
    rules: &[&UserRule],
    threads: usize,
    sink: &mut dyn Sink,
) -> std::io::Result<ReadFile> {
    let how = How { format, hash, rules, threads, ext: path.extension().and_then(|e| e.to_str()) };
    if path == Path::new(STDIN) {
        return read_stream(std::io::stdin(), &how, sink);
    }
    let mut f = std::fs::File::open(path)?;
    let meta = f.metadata()?;
    if !meta.is_file() {
        // A pipe or a device: read once, front to back.
        return read_stream(f, &how, sink);
    }
    let head = read_head(&mut f)?;
    let Some(format) = streamed(&head, &how) else { return whole(f, head, &how, sink) };
    let size = meta.len();
    // Smaller files get smaller blocks, so that the batch fed last (while no block is left to
    // recognize) is a small part of the file.
    let block = usize::try_from(size / 64).unwrap_or(BLOCK).clamp(MIN_BLOCK, BLOCK);
    if let Some(map) = map(&f, size) {
        return stream_console(&Mapped::of(&map), head.starts_with(BOM), size, block, format, &how, sink);
    }
    stream_console(&f, head.starts_with(BOM), size, block, format, &how, sink)
}

/// Files at least this large are memory-mapped (see [`map`]); smaller ones are read.
pub const MMAP_MIN: u64 = 16 << 20;

/// The regular file `f`, of `size` bytes, memory-mapped — the way ripgrep decides: only a
/// regular file (never a pipe or the standard input, which the caller reads as streams), only
/// one of at least [`MMAP_MIN`] bytes (below, the map's setup costs more than the copies it
/// saves), and not when `PERFGATE_MMAP=0` is set. `None` when the map cannot be made (the
/// caller reads the file instead) or does not hold `size` bytes.
fn map(f: &std::fs::File, size: u64) -> Option<memmap2::Mmap> {
    if size < MMAP_MIN || std::env::var_os("PERFGATE_MMAP").is_some_and(|v| v == "0") {
        return None;
    }
    // SAFETY: the map is read-only and private to this process, and only read while the file
    // is. What no process can guarantee is that nobody else truncates or rewrites the file in
    // the meantime: a rewrite would change the bytes under the reader (lines read half old,
    // half new, as a `read` racing a writer gives), a truncation would make the pages past the
    // new end raise SIGBUS. ripgrep accepts the same for the same reason — logs are written by
    // appending, which a map of the size read at open never sees — and so does perfgate;
    // `PERFGATE_MMAP=0` reads instead.
    let map = unsafe { memmap2::MmapOptions::new().len(usize::try_from(size).ok()?).map(f) }.ok()?;
    #[cfg(unix)]
    let _ = map.advise(memmap2::Advice::Sequential);
    (map.len() as u64 == size).then_some(map)
}

/// [`read_file`] of bytes in memory, as a file named `*.{extension}` (tests, and the
/// in-memory readers of the library).
#[cfg_attr(not(test), allow(dead_code))]
pub fn read_bytes(
    bytes: &[u8],
    extension: Option<&str>,
    format: InputFormat,
    rules: &[&UserRule],
    threads: usize,
    sink: &mut dyn Sink,
) -> ReadFile {
    let how = How { format, hash: false, rules, threads, ext: extension };
    read_stream(bytes, &how, sink).expect("reading from memory does not fail")
}

/// UTF-8's byte-order mark.
const BOM: &[u8] = &[0xEF, 0xBB, 0xBF];
/// Bytes read first to tell the format of a file.
const HEAD: usize = 64 << 10;
/// Bytes read to tell a frames export from other JSON.
const JSON_HEAD: usize = 4 << 20;

/// How a file is to be read.
struct How<'r> {
    format: InputFormat,
    hash: bool,
    rules: &'r [&'r UserRule],
    threads: usize,
    ext: Option<&'r str>,
}

impl How<'_> {
    /// The format of a file whose (decoded) text begins with `head`: the one detection.
    fn format_of(&self, head: &[u8]) -> InputFormat {
        let format = detect(head, self.ext, self.format);
        if format == InputFormat::OtherJson && !self.rules.is_empty() {
            // JSON lines read by the user's rules.
            return InputFormat::Console;
        }
        format
    }
}

/// Reads the head of a file: what tells its format.
fn read_head(f: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(HEAD);
    f.take(HEAD as u64).read_to_end(&mut head)?;
    if head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        // A JSON document: a frames export says so in its first megabytes.
        f.take(JSON_HEAD as u64).read_to_end(&mut head)?;
    }
    Ok(head)
}

/// The format of a file that can be streamed from its bytes as they are (a UTF-8 console log
/// without mojibake in its head); `None` when it is to be read whole: a document, a UTF-16
/// file (to transcode), a log whose head shows CP437 mojibake (to repair).
fn streamed(head: &[u8], how: &How) -> Option<InputFormat> {
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return None;
    }
    let format = how.format_of(head);
    // The repair is judged on the head: a log is mojibake throughout or not at all (the console
    // that showed it had one code page).
    let mojibake = || cp437::repair(&String::from_utf8_lossy(head)).is_some();
    (format == InputFormat::Console && !mojibake()).then_some(format)
}

/// Reads a file whole: decodes it, repairs its mojibake, detects its format on the text, and
/// then streams it from memory (a console log) or hands it back (a document).
fn whole(mut f: impl Read, mut raw: Vec<u8>, how: &How, sink: &mut dyn Sink) -> std::io::Result<ReadFile> {
    f.read_to_end(&mut raw)?;
    let bytes = raw.len() as u64;
    let sha256 = how.hash.then(|| sha256_hex(&raw));
    let (mut text, encoding) = decode(raw);
    // Names and titles as the producer wrote them, not as a Windows console showed them.
    if let Some(repaired) = std::str::from_utf8(&text).ok().and_then(cp437::repair) {
        text = repaired.into_bytes();
    }
    let head = &text[..text.len().min(if text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') { HEAD + JSON_HEAD } else { HEAD })];
    let format = how.format_of(head);
    let body = match Document::of(format) {
        Some(document) => Body::Document { format: document, text },
        None => {
            let span = Span { begin: 0, len: text.len() as u64 };
            let counts = reader::read_blocks(&text[..], span, BLOCK, how.rules, how.threads, sink, None)?;
            Body::Streamed { format, counts }
        }
    };
    Ok(ReadFile { encoding, bytes, sha256, body })
}

/// Reads a pipe or the standard input: its head, then the rest through a [`Stream`].
fn read_stream(mut f: impl Read + Send, how: &How, sink: &mut dyn Sink) -> std::io::Result<ReadFile> {
    let head = read_head(&mut f)?;
    let Some(format) = streamed(&head, how) else { return whole(f, head, how, sink) };
    let bom = head.starts_with(BOM);
    stream_console(&Stream::new(f, head), bom, u64::MAX, BLOCK, format, how, sink)
}

/// Streams a console log that begins with a byte-order mark (`bom`: skipped, and hashed) and
/// whose size is `size` (`u64::MAX`: until the source ends).
fn stream_console(
    src: &(impl ReadAt + ?Sized),
    bom: bool,
    size: u64,
    block: usize,
    format: InputFormat,
    how: &How,
    sink: &mut dyn Sink,
) -> std::io::Result<ReadFile> {
    let (encoding, skipped) = if bom { (Encoding::Utf8Bom, BOM) } else { (Encoding::Utf8, &[][..]) };
    let begin = skipped.len();
    let mut hasher = how.hash.then(Sha256::new);
    if let Some(h) = hasher.as_mut() {
        h.update(skipped);
    }
    let span = Span { begin: begin as u64, len: size };
    let counts = reader::read_blocks(src, span, block, how.rules, how.threads, sink, hasher.as_mut())?;
    let sha256 = hasher.map(|h| hex(h.finalize().as_slice()));
    Ok(ReadFile { encoding, bytes: begin as u64 + counts.bytes, sha256, body: Body::Streamed { format, counts } })
}

/// `sha256` of bytes, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(Sha256::digest(bytes).as_slice())
}

/// A digest in lowercase hex.
pub fn hex(digest: &[u8]) -> String {
    use std::fmt::Write as _;
    digest.iter().fold(String::with_capacity(2 * digest.len()), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The encoding a file was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
}

/// Turns raw file bytes into UTF-8 bytes. UTF-8 input is passed through unchanged (invalid
/// sequences stay and are repaired to U+FFFD only where text is captured); UTF-16 with a BOM is
/// transcoded, unpaired surrogates becoming U+FFFD.
pub fn decode(bytes: Vec<u8>) -> (Vec<u8>, Encoding) {
    match bytes.as_slice() {
        [0xEF, 0xBB, 0xBF, ..] => (bytes[3..].to_vec(), Encoding::Utf8Bom),
        [0xFF, 0xFE, rest @ ..] => (utf16(rest, u16::from_le_bytes), Encoding::Utf16Le),
        [0xFE, 0xFF, rest @ ..] => (utf16(rest, u16::from_be_bytes), Encoding::Utf16Be),
        _ => (bytes, Encoding::Utf8),
    }
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Vec<u8> {
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    let mut out = String::with_capacity(bytes.len() / 2);
    out.extend(char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)));
    if bytes.len() % 2 == 1 {
        out.push(char::REPLACEMENT_CHARACTER);
    }
    out.into_bytes()
}

/// How reports, file rules and the baseline name an input: as given, with `/` between
/// components on every system (`logs\a.log` on Windows reads `logs/a.log`), so that a report
/// or a `files = "logs/*.log"` rule does not depend on the runner's OS.
pub fn name_of(path: &Path) -> String {
    let name = path.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '\\' { name.replace('\\', "/") } else { name.into_owned() }
}

/// Expands the PATH arguments: a file is taken as is (any extension), a directory gives its
/// `*.log` files recursively, `-` is the standard input, a pipe or device (`/dev/stdin`,
/// `<(zcat run.log.gz)`) is read as a stream, anything else is tried as a glob. Sorted within
/// each argument, order of arguments kept; a file named twice (`a.log ./a.log $PWD/a.log`, or
/// through a link) is read once, by its first name. A path that is neither is an error; so is a
/// directory (or a glob's) that cannot be listed, unless `skip_unreadable` makes it a warning.
pub fn expand(paths: &[String], skip_unreadable: bool, warnings: &mut Vec<String>) -> Result<Vec<PathBuf>, Error> {
    let mut out: Vec<PathBuf> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    // Said after the warnings of unreadable paths (the closure below holds `warnings`).
    let mut loops = Vec::new();
    let mut unreadable = |path: &Path, source: std::io::Error| {
        if skip_unreadable {
            warnings.push(format!("{}: cannot read: {source}", path.display()));
            Ok(())
        } else {
            Err(Error::Read { path: path.to_path_buf(), source })
        }
    };
    for arg in paths {
        let p = Path::new(arg);
        let mut found = Vec::new();
        if p.is_file() || arg == STDIN {
            found.push(p.to_path_buf());
        } else if p.is_dir() {
            walk_logs(p, &mut found, &mut unreadable)?;
            found.sort();
            if found.is_empty() {
                return Err(Error::NoInput(format!("{arg} contains no *.log file (name other files explicitly)")));
            }
        } else if p.exists() {
            // A pipe or a device.
            found.push(p.to_path_buf());
        } else if arg.contains(['*', '?', '[']) {
            let looped = glob_files(arg, &mut found, &mut unreadable)?;
            if let Some(link) = looped {
                loops.push(format!("{arg}: directories reached again through links (such as {}) were read once", name_of(&link)));
            }
            found.sort();
            if found.is_empty() {
                return Err(Error::InputNotFound(arg.clone()));
            }
        } else {
            return Err(Error::InputNotFound(arg.clone()));
        }
        for f in found {
            // Streams are never the same file twice; anything else is one file by its real path.
            let key = if arg == STDIN { f.clone() } else { std::fs::canonicalize(&f).unwrap_or_else(|_| f.clone()) };
            if seen.insert(key) {
                out.push(f);
            }
        }
    }
    warnings.extend(loops);
    Ok(out)
}

/// The files a glob matches, found by walking the directories its pattern can reach (from its
/// literal leading components) and matching each file's path; `**` crosses directories, `*`
/// and `?` do not cross `/`. Links to directories are followed, but no directory is read twice
/// (known by its device and inode on Unix, its canonical path elsewhere): a link to `.` or `..`
/// would otherwise make the walk endless. Returns the first link that led to a directory read
/// already, for the one warning.
fn glob_files(
    arg: &str,
    out: &mut Vec<PathBuf>,
    unreadable: &mut dyn FnMut(&Path, std::io::Error) -> Result<(), Error>,
) -> Result<Option<PathBuf>, Error> {
    glob::Pattern::new(arg).map_err(|e| Error::Usage(format!("invalid glob {arg:?}: {e}")))?;
    // Matched as the walk names paths: by components (`a//b` and `a/./b` are `a/b`).
    let path: PathBuf = Path::new(arg).components().collect();
    let pattern = glob::Pattern::new(&path.to_string_lossy()).map_err(|e| Error::Usage(format!("invalid glob {arg:?}: {e}")))?;
    let options = glob::MatchOptions { require_literal_separator: true, ..glob::MatchOptions::new() };
    // The literal leading components are where the walk starts; the rest bounds its depth
    // (unless it holds `**`).
    let mut base = PathBuf::new();
    let mut rest = Vec::new();
    for c in path.components() {
        let text = c.as_os_str().to_string_lossy();
        if rest.is_empty() && !text.contains(['*', '?', '[']) {
            base.push(c);
        } else {
            rest.push(text.into_owned());
        }
    }
    let depth = if rest.iter().any(|c| c.contains("**")) { usize::MAX } else { rest.len() };
    let start = if base.as_os_str().is_empty() { PathBuf::from(".") } else { base.clone() };
    if !start.is_dir() {
        // Nothing to match (the caller says so).
        return Ok(None);
    }
    let mut walk = GlobWalk { pattern: &pattern, options, visited: std::collections::HashSet::new(), looped: None, out };
    if let Some(key) = dir_key(&start) {
        walk.visited.insert(key);
    }
    walk.dir(&start, &base, depth, unreadable)?;
    Ok(walk.looped)
}

struct GlobWalk<'a> {
    pattern: &'a glob::Pattern,
    options: glob::MatchOptions,
    visited: std::collections::HashSet<DirKey>,
    looped: Option<PathBuf>,
    out: &'a mut Vec<PathBuf>,
}

impl GlobWalk<'_> {
    /// Walks the directory `dir` (named `name` in results: without the `./` of a relative
    /// pattern), `depth` levels of components still to match.
    fn dir(
        &mut self,
        dir: &Path,
        name: &Path,
        depth: usize,
        unreadable: &mut dyn FnMut(&Path, std::io::Error) -> Result<(), Error>,
    ) -> Result<(), Error> {
        if depth == 0 {
            return Ok(());
        }
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => return unreadable(dir, e),
        };
        let mut children = Vec::new();
        for entry in entries {
            match entry {
                Ok(e) => children.push(e.file_name()),
                Err(e) => return unreadable(dir, e),
            }
        }
        // Sorted, so that a directory reached through several names is read under the same one
        // every run.
        children.sort();
        for child in children {
            let (path, named) = (dir.join(&child), name.join(&child));
            // Links followed: a link to a file is the file, a link to a directory its directory.
            let Ok(meta) = std::fs::metadata(&path) else { continue };
            if meta.is_file() {
                if self.pattern.matches_path_with(&named, self.options) {
                    self.out.push(named);
                }
            } else if meta.is_dir() {
                match dir_key(&path) {
                    Some(key) if !self.visited.insert(key) => {
                        self.looped.get_or_insert(named);
                    }
                    _ => self.dir(&path, &named, depth - 1, unreadable)?,
                }
            }
        }
        Ok(())
    }
}

/// What makes two names one directory.
#[cfg(unix)]
type DirKey = (u64, u64);
#[cfg(not(unix))]
type DirKey = PathBuf;

#[cfg(unix)]
fn dir_key(path: &Path) -> Option<DirKey> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn dir_key(path: &Path) -> Option<DirKey> {
    std::fs::canonicalize(path).ok()
}

fn walk_logs(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    unreadable: &mut dyn FnMut(&Path, std::io::Error) -> Result<(), Error>,
) -> Result<(), Error> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => return unreadable(dir, e),
    };
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => return unreadable(dir, e),
        };
        let path = entry.path();
        let kind = match entry.file_type() {
            Ok(k) => k,
            Err(e) => {
                unreadable(&path, e)?;
                continue;
            }
        };
        if kind.is_dir() {
            walk_logs(&path, out, unreadable)?;
        } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("log")) && path.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without links, the walk finds what the `glob` crate finds, for every shape of pattern.
    #[test]
    fn globs_match_as_the_glob_crate_does() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for f in ["a.log", "b.txt", ".hidden.log", "d/a.log", "d/b.log", "d/e/x.log", "d/e/f/x.log", "g/x.log"] {
            std::fs::create_dir_all(root.join(f).parent().unwrap()).unwrap();
            std::fs::write(root.join(f), "x").unwrap();
        }
        let base = root.display().to_string();
        for pattern in ["*.log", "d/*.log", "d/[ab].log", "d/**/*.log", "**/x.log", "*/x.log", "d/*/x.log", "d/e/f/?.log"] {
            let full = format!("{base}/{pattern}");
            let mut want: Vec<PathBuf> = glob::glob(&full).unwrap().map(Result::unwrap).filter(|p| p.is_file()).collect();
            want.sort();
            let mut got = Vec::new();
            let looped = glob_files(&full, &mut got, &mut |p, e| panic!("{}: {e}", p.display())).unwrap();
            got.sort();
            assert_eq!((got, looped), (want, None), "{pattern}");
        }
    }

    /// A large regular file is read through a memory map, with the counts and the hash of
    /// reading it (slices of the map, given back as they are fed); a small one, or with
    /// below the threshold, is read.
    #[test]
    fn large_files_are_mapped_and_read_alike() {
        struct Count(u64);
        impl Sink for Count {
            fn line(&mut self, _: u32, _: Option<i64>, _: crate::parse::Event<'_>) {
                self.0 += 1;
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.log");
        let line = "EventBus.ts:56 2025-11-15T16:38:23.985Z ⏱️ PerformanceTracker: Beat 1 completed in 15.20ms\n";
        let mut text = BOM.to_vec();
        while (text.len() as u64) < MMAP_MIN + 1000 {
            text.extend_from_slice(line.as_bytes());
        }
        std::fs::write(&path, &text).unwrap();
        let f = std::fs::File::open(&path).unwrap();
        assert!(map(&f, text.len() as u64).is_some());
        assert!(map(&f, MMAP_MIN - 1).is_none(), "below the threshold: read");
        let mut mapped = Count(0);
        let read = read_file(&path, InputFormat::Auto, true, &[], 2, &mut mapped).unwrap();
        let mut copied = Count(0);
        let how = How { format: InputFormat::Auto, hash: true, rules: &[], threads: 2, ext: Some("log") };
        let size = text.len() as u64;
        let by_read = stream_console(&f, true, size, BLOCK, InputFormat::Console, &how, &mut copied).unwrap();
        let lines = (text.len() - BOM.len()) / line.len();
        assert_eq!((mapped.0, copied.0), (lines as u64, lines as u64));
        assert_eq!((read.bytes, read.sha256.as_deref()), (size, Some(sha256_hex(&text).as_str())));
        assert_eq!((by_read.bytes, by_read.sha256), (read.bytes, read.sha256));
    }

    #[test]
    fn boms_and_utf16() {
        assert_eq!(decode(b"\xEF\xBB\xBFab".to_vec()), (b"ab".to_vec(), Encoding::Utf8Bom));
        let le: Vec<u8> = [0xFF, 0xFE].into_iter().chain("é✅\r\n".encode_utf16().flat_map(u16::to_le_bytes)).collect();
        assert_eq!(decode(le), ("é✅\r\n".as_bytes().to_vec(), Encoding::Utf16Le));
        let be: Vec<u8> = [0xFE, 0xFF].into_iter().chain("ab".encode_utf16().flat_map(u16::to_be_bytes)).collect();
        assert_eq!(decode(be), (b"ab".to_vec(), Encoding::Utf16Be));
        // Odd trailing byte and lone surrogate do not panic.
        assert_eq!(decode(vec![0xFF, 0xFE, 0x00, 0xD8, 0x41]).0, "\u{FFFD}\u{FFFD}".as_bytes());
        assert_eq!(decode(vec![0xC3, 0x28]).1, Encoding::Utf8);
    }
}
