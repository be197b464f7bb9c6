//! Writing what perfgate produces without destroying anything on the way.
//!
//! - A path is written **through**: a symbolic link is followed to its target (the link stays a
//!   link), a device or FIFO (`/dev/null`, `/dev/stdout`, `<(…)`) is opened and written
//!   directly — never replaced by a regular file.
//! - A regular file (or a new one) is written **atomically**: a temporary file in the target's
//!   directory, flushed to disk, renamed over the target (atomic on POSIX file systems), keeping
//!   the permissions of the file it replaces. A reader never sees a torn file; on any failure the
//!   temporary file is removed and the target is left as it was.
//! - Temporary files left by a writer that was killed (`.NAME.perfgate-tmp-PID-N`) are removed
//!   by the next write of the same target once their process is gone (on systems without
//!   `/proc`: once they are a day old).
//! - [`lock`] serializes read-modify-write cycles on one file across processes (an advisory
//!   lock on a sidecar file, waited for up to a bound).
//! - [`stdout`] reports every write error except a closed pipe (`perfgate … | head`), as
//!   ripgrep does.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crate::error::Error;

/// The name the errors give the standard output.
pub const STDOUT: &str = "<stdout>";

/// Writes `contents` to what `path` names (see the module documentation).
pub fn write(path: &Path, contents: &[u8]) -> Result<(), Error> {
    write_with(path, &mut |out| out.write_all(contents))
}

/// Writes what `contents` writes to what `path` names, as [`write`] does, without holding the
/// whole text in memory (a large JSON report is serialized straight into the file).
pub fn write_with(path: &Path, contents: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>) -> Result<(), Error> {
    let err = |source| Error::Write { path: path.to_path_buf(), source };
    let target = resolve_links(path).map_err(err)?;
    match std::fs::metadata(&target) {
        _ if windows_device(&target) => write_device(&target, contents).map_err(err),
        Ok(m) if m.is_dir() => Err(err(std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"))),
        // A device, FIFO or socket: the node itself must stay.
        Ok(m) if !m.is_file() => write_device(&target, contents).map_err(err),
        existing => replace(&target, contents, existing.ok().map(|m| m.permissions())).map_err(err),
    }
}

fn write_device(path: &Path, contents: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(OpenOptions::new().write(true).open(path)?);
    contents(&mut f).and_then(|()| f.flush())
}

/// Whether Windows takes `path` for a device: `NUL`, `CON`, `COM1`… in any directory and with
/// any extension (`NUL.json`), or a `\\.\` path. Their metadata looks like a file's there, and a
/// file cannot be renamed onto them.
fn windows_device(path: &Path) -> bool {
    cfg!(windows) && is_dos_device(path)
}

fn is_dos_device(path: &Path) -> bool {
    let text = path.to_string_lossy();
    if text.starts_with(r"\\.\") || text.starts_with("//./") {
        return true;
    }
    let Some(name) = path.file_name().map(|n| n.to_string_lossy()) else { return false };
    let stem = name.split('.').next().unwrap_or("").trim_end_matches(' ').to_ascii_uppercase();
    matches!(stem.as_str(), "NUL" | "CON" | "PRN" | "AUX" | "CONIN$" | "CONOUT$")
        || (stem.len() == 4
            && (stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.as_bytes()[3].is_ascii_digit()
            && stem.as_bytes()[3] != b'0')
}

/// The directory `path` is in (`.` for a bare file name).
fn dir_of(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// The file name of `path`, as text (temporary and lock files are named after it).
fn name_of(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Follows symbolic links (relative ones against their own directory) to the path they end at,
/// which need not exist yet.
fn resolve_links(path: &Path) -> std::io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = std::fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) if link.is_relative() => dir.join(link),
                    _ => link,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

/// The regular file `path` names (links followed), as an absolute path; `None` for a device,
/// FIFO or socket (writing one twice destroys nothing) and for what cannot be resolved.
fn identity(path: &Path) -> Option<PathBuf> {
    let target = resolve_links(path).ok()?;
    match std::fs::metadata(&target) {
        _ if windows_device(&target) => None,
        Ok(m) if m.is_file() => std::fs::canonicalize(&target).ok(),
        Ok(_) => None,
        Err(_) => Some(std::fs::canonicalize(dir_of(&target)).ok()?.join(target.file_name()?)),
    }
}

/// Refuses outputs that would overwrite a file this run reads (`protected`: inputs, the config,
/// the baseline a check compares with) or each other. Labels name the flag or the role.
pub fn check_targets(outputs: &[(&str, &Path)], protected: &[(&str, &Path)]) -> Result<(), Error> {
    let mut seen: Vec<(PathBuf, &str)> = protected.iter().filter_map(|(label, p)| Some((identity(p)?, *label))).collect();
    for (label, path) in outputs {
        let Some(id) = identity(path) else { continue };
        if let Some((_, other)) = seen.iter().find(|(p, _)| *p == id) {
            return Err(Error::Usage(format!(
                "{label} {}: the same file as {other}; perfgate does not overwrite what it reads or writes twice in one run",
                path.display()
            )));
        }
        seen.push((id, label));
    }
    Ok(())
}

/// Refuses outputs named `*.json` inside a directory the run reads JSON from (`dirs`: catalog
/// directories, every `*.json` below which is read as a catalog): the next run would read the
/// report as one.
pub fn check_outside(outputs: &[(&str, &Path)], dirs: &[(&str, &Path)]) -> Result<(), Error> {
    let dirs: Vec<(PathBuf, &str)> = dirs.iter().filter_map(|(label, d)| Some((std::fs::canonicalize(d).ok()?, *label))).collect();
    for (label, path) in outputs {
        let Some(id) = identity(path) else { continue };
        if id.extension().is_none_or(|e| !e.eq_ignore_ascii_case("json")) {
            continue;
        }
        if let Some((dir, what)) = dirs.iter().find(|(d, _)| id.starts_with(d)) {
            return Err(Error::Usage(format!(
                "{label} {}: inside {what} {}, whose *.json files this run reads; write it elsewhere",
                path.display(),
                dir.display()
            )));
        }
    }
    Ok(())
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn temp_prefix(name: &str) -> String {
    format!(".{name}.perfgate-tmp-")
}

fn replace(
    target: &Path,
    contents: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
    permissions: Option<std::fs::Permissions>,
) -> std::io::Result<()> {
    let (dir, name) = (dir_of(target), name_of(target));
    std::fs::create_dir_all(dir)?;
    remove_stale_temps(dir, &name);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!("{}{}-{n}", temp_prefix(&name), std::process::id()));
    let result = (|| {
        let mut out = std::io::BufWriter::new(OpenOptions::new().write(true).create_new(true).open(&tmp)?);
        contents(&mut out)?;
        let f = out.into_inner().map_err(std::io::IntoInnerError::into_error)?;
        if let Some(p) = permissions {
            f.set_permissions(p)?;
        }
        f.sync_all()?;
        std::fs::rename(&tmp, target)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Removes the temporary files of `name` in `dir` whose writer is gone.
fn remove_stale_temps(dir: &Path, name: &str) {
    let prefix = temp_prefix(name);
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(rest) = file.to_str().and_then(|f| f.strip_prefix(&prefix)) else { continue };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|p| !alive(p, &entry.path())) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Whether the process that wrote `tmp` may still be writing it.
fn alive(pid: u32, tmp: &Path) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if Path::new("/proc/self").exists() {
        return Path::new(&format!("/proc/{pid}")).exists();
    }
    let age = std::fs::metadata(tmp).and_then(|m| m.modified()).ok().and_then(|t| SystemTime::now().duration_since(t).ok());
    age.is_none_or(|a| a < Duration::from_secs(24 * 3600))
}

/// Writes to the standard output. A closed pipe is not an error (the reader had enough); any
/// other failure (a full disk, `> /dev/full`) is.
pub fn stdout(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Write { path: PathBuf::from(STDOUT), source: e }),
        _ => Ok(()),
    }
}

/// An exclusive advisory lock on `path`'s sidecar `.NAME.lock`, released (and the sidecar
/// removed, on Unix) when dropped. The operating system releases it when the process dies, so a killed
/// holder never blocks the next one.
#[derive(Debug)]
pub struct Lock {
    file: File,
    #[cfg_attr(not(unix), allow(dead_code))]
    path: PathBuf,
}

/// Takes the lock of `path` (after following links), waiting up to `timeout` for another
/// holder to finish.
pub fn lock(path: &Path, timeout: Duration) -> Result<Lock, Error> {
    let target = resolve_links(path).map_err(|source| Error::Write { path: path.to_path_buf(), source })?;
    let (dir, name) = (dir_of(&target), name_of(&target));
    let lock_path = dir.join(format!(".{name}.lock"));
    let err = |source| Error::Write { path: lock_path.clone(), source };
    std::fs::create_dir_all(dir).map_err(err)?;
    let start = Instant::now();
    loop {
        let file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&lock_path).map_err(err)?;
        match file.try_lock() {
            Ok(()) => {
                // The holder before us may have removed the sidecar after we opened it: our lock
                // is then on a file nobody else will open. Retry on the one at the path.
                if same_file(&file, &lock_path) {
                    return Ok(Lock { file, path: lock_path });
                }
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                if start.elapsed() >= timeout {
                    return Err(Error::Locked { path: target, waited: timeout });
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(err(e)),
        }
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &File, _: &Path) -> bool {
    // The sidecar is never removed there (see `Drop`).
    true
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still held, so that no one locks a file that is about to go (a waiter
        // that opened it before checks that it is still the one at the path). Windows keeps it:
        // there a removed file that others hold open cannot be opened again until they let go.
        #[cfg(unix)]
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_device_names() {
        for device in ["NUL", "nul", "NUL.json", "C:/x/nul.txt", "out/CON", "COM1", "lpt9.log", r"\\.\pipe\p", "CONOUT$"] {
            assert!(is_dos_device(Path::new(device)), "{device}");
        }
        for file in ["null", "NULL.json", "COM0", "COM10", "console.log", "report.json", "nul_dir/report.json", "LPT"] {
            assert!(!is_dos_device(Path::new(file)), "{file}");
        }
    }

    #[test]
    fn writes_through_links_and_keeps_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.json");
        std::fs::write(&target, "old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
            std::os::unix::fs::symlink("real.json", dir.path().join("link.json")).unwrap();
            write(&dir.path().join("link.json"), b"new").unwrap();
            assert!(std::fs::symlink_metadata(dir.path().join("link.json")).unwrap().file_type().is_symlink());
            assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
            assert_eq!(std::fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o640);
            // A dangling link creates its target.
            std::os::unix::fs::symlink("sub/made.json", dir.path().join("dangling.json")).unwrap();
            write(&dir.path().join("dangling.json"), b"x").unwrap();
            assert_eq!(std::fs::read_to_string(dir.path().join("sub/made.json")).unwrap(), "x");
        }
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(names.iter().all(|n| !n.to_string_lossy().contains("perfgate-tmp")), "{names:?}");
        assert!(write(dir.path(), b"x").is_err(), "a directory is not replaced");
    }

    /// A report that fails while it is being written (a serializer's error, a full disk) leaves
    /// the file it replaces as it was, and no temporary file: nothing half-written.
    #[test]
    fn a_write_that_fails_half_way_leaves_the_old_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("report.json");
        write(&target, b"old report").unwrap();
        let e = write_with(&target, &mut |out| {
            out.write_all(&[b'x'; 100_000])?;
            Err(std::io::Error::other("the serializer failed"))
        })
        .unwrap_err();
        assert!(e.to_string().contains("report.json") && e.to_string().contains("the serializer failed"), "{e}");
        assert_eq!(std::fs::read(&target).unwrap(), b"old report");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["report.json"]);
        write_with(&target, &mut |out| out.write_all(b"new ").and_then(|()| out.write_all(b"report"))).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new report");
    }

    #[test]
    fn stale_temp_files_of_dead_writers_go() {
        if !Path::new("/proc/self").exists() {
            println!("stale_temp_files_of_dead_writers_go: skipped: no /proc");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        // A pid that cannot be alive (above the kernel's pid_max limit of 2^22).
        let dead = dir.path().join(".b.json.perfgate-tmp-4194305-0");
        let ours = dir.path().join(format!(".b.json.perfgate-tmp-{}-99", std::process::id()));
        let other = dir.path().join(".c.json.perfgate-tmp-4194305-0");
        for p in [&dead, &ours, &other] {
            std::fs::write(p, "partial").unwrap();
        }
        write(&dir.path().join("b.json"), b"{}").unwrap();
        assert!(!dead.exists());
        assert!(ours.exists(), "a live writer's file stays");
        assert!(other.exists(), "another target's file stays");
    }

    #[test]
    fn a_second_lock_waits_and_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("baseline.json");
        let held = lock(&path, Duration::from_secs(1)).unwrap();
        let start = Instant::now();
        let e = lock(&path, Duration::from_millis(200)).unwrap_err();
        assert!(start.elapsed() >= Duration::from_millis(200));
        assert!(e.to_string().contains("baseline.json") && e.to_string().contains("another perfgate"), "{e}");
        drop(held);
        #[cfg(unix)]
        assert!(!dir.path().join(".baseline.json.lock").exists());
        let again = lock(&path, Duration::from_millis(200)).unwrap();
        drop(again);
    }
}
