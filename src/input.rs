//! Input files: which files a run reads (files, directories, globs) and how their bytes become
//! UTF-8 (BOM sniffing, UTF-16LE/BE, invalid UTF-8 kept for lossy reading later). Line endings
//! (LF/CRLF) are handled by [`crate::parse::lines`].

use std::path::{Path, PathBuf};

use crate::error::Error;

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

/// Expands the PATH arguments: a file is taken as is (any extension), a directory gives its
/// `*.log` files recursively, `-` is the standard input, a pipe or device (`/dev/stdin`,
/// `<(zcat run.log.gz)`) is read as a stream, anything else is tried as a glob. Sorted within
/// each argument, order of arguments kept; a file named twice (`a.log ./a.log $PWD/a.log`, or
/// through a link) is read once, by its first name. A path that is neither is an error; so is a
/// directory (or a glob's) that cannot be listed, unless `skip_unreadable` makes it a warning.
pub fn expand(paths: &[String], skip_unreadable: bool, warnings: &mut Vec<String>) -> Result<Vec<PathBuf>, Error> {
    let mut out: Vec<PathBuf> = Vec::new();
    let mut seen = std::collections::HashSet::new();
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
        if p.is_file() || arg == crate::scan::STDIN {
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
            let pattern = glob::glob(arg).map_err(|e| Error::Usage(format!("invalid glob {arg:?}: {e}")))?;
            for entry in pattern {
                match entry {
                    Ok(f) if f.is_file() => found.push(f),
                    Ok(_) => {}
                    Err(e) => {
                        let path = e.path().to_path_buf();
                        unreadable(&path, e.into())?;
                    }
                }
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
            let key = if arg == crate::scan::STDIN { f.clone() } else { std::fs::canonicalize(&f).unwrap_or_else(|_| f.clone()) };
            if seen.insert(key) {
                out.push(f);
            }
        }
    }
    Ok(out)
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
