//! The reading half of every command: the PATH arguments expanded to files (`input::expand`),
//! each file read (`attribute::read::read_file`: decoded, its format detected, its lines
//! recognized) into a trace whose beats are attributed to handlers as it is read, several files
//! at a time when that is faster, their attributions merged in the order of the files, and the
//! per-file diagnostics collected → [`Measurements`]. Reports, baselines and verdicts are built
//! from those by others. Pure apart from reading the files it is given; the CLI decides what to
//! print and the exit code.

use std::path::PathBuf;
use std::sync::Mutex;

use crate::attribute::catalog::Catalog;
use crate::attribute::read::Scanned;
use crate::attribute::source::SourceIndex;
use crate::attribute::{self, Attribution, InputFormat};
use crate::error::Error;
use crate::input;
use crate::measure::{CatalogDiagnostics, Diagnostics, FileDiagnostics, Measurements};

#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    /// Files, directories or globs.
    pub paths: Vec<String>,
    pub format: InputFormat,
    /// Catalog files or directories.
    pub catalog_paths: Vec<PathBuf>,
    pub source_root: PathBuf,
    pub max_executions: usize,
    /// Accept input in which nothing was recognized.
    pub allow_empty: bool,
    /// An unreadable input is a warning (the run goes on with the others), not an error.
    pub skip_unreadable: bool,
    /// Record each file's SHA-256 in the diagnostics (baseline provenance).
    pub hash_sources: bool,
    /// `[[sources.pattern]]` and `[[sources.json]]`.
    pub rules: crate::parse::user::UserRules,
    /// `[sources] max_handlers`: more distinct handlers is an error (see [`attribute::Limit`]).
    pub max_handlers: usize,
    /// An output shows the drill-down selection (HTML, JSON's executions): without one, no
    /// execution is kept (`max_executions` 0), which costs nothing per beat.
    pub drill: bool,
}

#[cfg(test)]
impl AnalyzeOptions {
    /// The options a test reads `paths` with under `root`: no catalog, the default drill-down
    /// shown, no hashes, no rules; a test sets what it is about.
    pub(crate) fn for_test(paths: Vec<String>, root: &std::path::Path) -> AnalyzeOptions {
        AnalyzeOptions {
            paths,
            format: InputFormat::Auto,
            catalog_paths: Vec::new(),
            source_root: root.to_path_buf(),
            max_executions: 1000,
            allow_empty: false,
            skip_unreadable: false,
            hash_sources: false,
            rules: Default::default(),
            max_handlers: usize::MAX,
            drill: true,
        }
    }
}

/// Runs the pipeline. An input that cannot be read is an error unless `skip_unreadable`
/// (then a warning); other per-file problems (nothing recognized, invalid frames JSON, rejected
/// durations) become warnings in the diagnostics, and the run fails (exit 2) when nothing usable
/// remains.
pub fn analyze(opts: &AnalyzeOptions) -> Result<Measurements, Error> {
    analyze_with(opts, plan)
}

/// [`analyze`], reading `plan(files)` = (files at a time, threads per file).
fn analyze_with(opts: &AnalyzeOptions, plan: impl Fn(&[PathBuf]) -> (usize, usize)) -> Result<Measurements, Error> {
    let mut diagnostics = Diagnostics::default();
    let files = input::expand(&opts.paths, opts.skip_unreadable, &mut diagnostics.warnings)?;
    if files.is_empty() {
        return Err(Error::NoInput(format!("{} matched no file", opts.paths.join(", "))));
    }
    let catalog = Catalog::load(&opts.catalog_paths)?;
    let sources = Mutex::new(SourceIndex::new(&opts.source_root));
    let names: Vec<String> = files.iter().map(|p| input::name_of(p)).collect();
    if u32::try_from(files.len()).is_err() {
        return Err(Error::Usage("too many input files".into()));
    }
    let (workers, threads) = plan(&files);
    // Each file is attributed on its own and the attributions merged in the order of the
    // files: the result does not depend on how many are read at a time.
    let read = |i: usize| -> std::io::Result<(Scanned, Attribution)> {
        let rules = opts.rules.for_file(&names[i]);
        let mut attributor = attribute::Attributor::new(&catalog, &sources, if opts.drill { opts.max_executions } else { 0 })
            .with_max_handlers(opts.max_handlers);
        let mut scanned =
            attribute::read::read_file(&files[i], opts.format, i as u32, opts.hash_sources, &rules, threads, Some(&mut attributor))?;
        let counts = scanned.traced.trace.counts();
        if scanned.stopped.is_none() && attributor.stopped().is_none() {
            attributor.add(std::mem::replace(&mut scanned.traced.trace, counts));
        }
        let mut part = attributor.finish();
        if let Some(stopped) = scanned.stopped.take() {
            part.stopped = Some(stopped);
        }
        Ok((scanned, part))
    };
    let mut attribution = Attribution::default();
    let mut read_any = false;
    let mut first_read_error = None;
    in_order(files.len(), workers, read, |i, result| {
        let (path, name) = (&files[i], names[i].clone());
        let (scanned, part) = match result {
            Ok(r) => r,
            Err(e) if !opts.skip_unreadable => return Err(Error::Read { path: path.clone(), source: e }),
            Err(e) => {
                diagnostics.warnings.push(format!("{name}: cannot read: {e}"));
                diagnostics.files.push(empty_file(name, Some(format!("cannot read: {e}"))));
                first_read_error.get_or_insert(Error::Read { path: path.clone(), source: e });
                return Ok(());
            }
        };
        if let Some(stopped) = &part.stopped {
            return Err(limit_error(stopped, &names));
        }
        // Across files: the handlers this file adds, in the order they were first seen.
        let mut new: Vec<(&attribute::HandlerKey, crate::parse::Location)> =
            part.handlers.iter().filter(|(k, _)| !attribution.handlers.contains_key(k)).map(|(k, d)| (k, d.first)).collect();
        if attribution.handlers.len() + new.len() > opts.max_handlers {
            new.sort_by_key(|(_, at)| *at);
            let (key, at) = new[opts.max_handlers - attribution.handlers.len()];
            let limit = attribute::Limit::Handlers { max: opts.max_handlers, handler: key.display() };
            return Err(limit_error(&attribute::Stopped { at, limit }, &names));
        }
        let (traced, encoding, size, sha256) = (scanned.traced, scanned.encoding, scanned.bytes, scanned.sha256);
        let t = &traced.trace;
        let [samples, failed, incomplete] = t.outcomes;
        let mut problem = traced.problem.clone();
        if problem.is_none() && t.recognized == 0 {
            problem = Some(match encoding {
                input::Encoding::Utf8 if traced.binary => match compressed(&name) {
                    Some(tool) => format!(
                        "nothing recognized: the file looks compressed; decompress it into perfgate: `{tool} {name} | perfgate analyze -`"
                    ),
                    None => "nothing recognized (the file looks binary or UTF-16 without a byte-order mark)".to_owned(),
                },
                _ => format!("nothing recognized in {} line(s) read as {}", traced.lines, format_name(traced.format)),
            });
        }
        if let Some(p) = &problem {
            diagnostics.warnings.push(format!("{name}: {p}"));
        }
        let rejected = &t.rejected;
        if rejected.count > 0 {
            let at: Vec<String> = rejected.first.iter().map(|&(line, ms)| format!("{name}:{line}: {}", rejected_value(ms))).collect();
            diagnostics.warnings.push(format!(
                "{name}: {} duration(s) skipped: not a finite number between 0 and {:e} ms ({}{})",
                rejected.count,
                crate::stats::MAX_MS,
                at.join(", "),
                if rejected.count > at.len() as u64 { ", …" } else { "" }
            ));
        }
        diagnostics.rejected += rejected.count;
        diagnostics.lines += traced.lines;
        diagnostics.recognized_lines += t.recognized;
        diagnostics.timing_lines += t.timing_lines;
        diagnostics.files.push(FileDiagnostics {
            path: name,
            encoding: Some(encoding),
            format: Some(traced.format),
            bytes: size,
            lines: traced.lines,
            recognized_lines: t.recognized,
            timing_lines: t.timing_lines,
            samples,
            failed,
            incomplete,
            orphans: t.orphaned,
            rejected: rejected.count,
            problem,
            sha256,
        });
        attribution.merge(part);
        read_any = true;
        Ok(())
    })?;
    if !read_any {
        return Err(first_read_error.unwrap_or_else(|| Error::NoInput("no readable file".into())));
    }
    if !opts.allow_empty && diagnostics.recognized_lines == 0 {
        let files = diagnostics.files.iter().map(|f| (f.path.clone(), f.problem.clone().unwrap_or_default())).collect();
        return Err(Error::NothingRecognized { files });
    }
    for block in std::mem::take(&mut attribution.ambiguous_titles) {
        diagnostics.warnings.push(format!(
            "{}:{}: a block of beat titles that several catalog sequences fit ({}): left unmapped; a `#### N. Name Sequence` heading above it, or the catalog's full titles, would say which",
            names[block.at.file as usize],
            block.at.line,
            block.sequences.join(", ")
        ));
    }
    diagnostics.catalog = CatalogDiagnostics {
        files: catalog.files,
        sequences: catalog.sequences.len(),
        skipped_files: catalog.skipped,
        duplicate_sequences: catalog.duplicates,
    };
    let mut m = Measurements::new(attribution, names, diagnostics);
    let beyond = m.diagnostics.unmapped_beyond_window;
    if beyond > 0 {
        m.diagnostics.warnings.push(format!(
            "{beyond} beat(s) left unmapped: the log has handler lines (DataBaton `beat=? … handler=`) for their events, but none within {} sequence executions of them; a sequence catalog (--catalog) maps them wherever they are",
            attribute::hints::WINDOW
        ));
    }
    if m.handlers.len() > MANY_HANDLERS {
        let examples: Vec<&str> = m.handlers.values().take(2).map(|h| h.display.as_str()).collect();
        m.diagnostics.warnings.push(format!(
            "{} distinct handlers (such as {}): names that carry ids or parameters make every execution a handler of its own, which no baseline can judge; merge them with `[[sources.pattern.normalize]]` (or `[[sources.json.normalize]]`) in perfgate.toml",
            m.handlers.len(),
            examples.join(", ")
        ));
    }
    Ok(m)
}

/// How many files are read at a time, and on how many threads each: several files at once, one
/// thread each, when there are enough of similar size (no file above half a worker's share of
/// the bytes: a quarter of them on two cores); else one at a time, its blocks read and
/// recognized in parallel.
fn plan(files: &[PathBuf]) -> (usize, usize) {
    let threads = input::reader::threads();
    let sizes: Vec<u64> = files.iter().map(|p| std::fs::metadata(p).map_or(0, |m| m.len())).collect();
    let (total, largest) = (sizes.iter().sum::<u64>(), sizes.iter().copied().max().unwrap_or(0));
    if files.len() >= 2 && threads >= 2 && largest.saturating_mul(2 * threads as u64) <= total {
        (threads.min(files.len()), 1)
    } else {
        (1, threads)
    }
}

/// Runs `read` on `0..n` on `workers` threads and hands each result to `take` in the order of
/// the indices. A worker starts index `i` only while fewer than `2 × workers` results wait to be
/// taken, so that the results held stay few; the first error of `take` stops the reading.
fn in_order<T: Send>(
    n: usize,
    workers: usize,
    read: impl Fn(usize) -> T + Sync,
    mut take: impl FnMut(usize, T) -> Result<(), Error>,
) -> Result<(), Error> {
    if workers <= 1 {
        return (0..n).try_for_each(|i| take(i, read(i)));
    }
    struct Turn {
        next: usize,
        taken: usize,
        stop: bool,
    }
    let turn = Mutex::new(Turn { next: 0, taken: 0, stop: false });
    let moved = std::sync::Condvar::new();
    let (done, results) = std::sync::mpsc::channel::<(usize, T)>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let done = done.clone();
            let (turn, moved, read) = (&turn, &moved, &read);
            scope.spawn(move || {
                loop {
                    let i = {
                        let mut t = turn.lock().expect("no thread panics holding it");
                        while !t.stop && t.next < n && t.next >= t.taken + 2 * workers {
                            t = moved.wait(t).expect("no thread panics holding it");
                        }
                        if t.stop || t.next >= n {
                            return;
                        }
                        t.next += 1;
                        t.next - 1
                    };
                    if done.send((i, read(i))).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done);
        let mut waiting = std::collections::BTreeMap::new();
        let mut outcome = Ok(());
        let mut next = 0;
        for (i, r) in results.iter() {
            waiting.insert(i, r);
            while let Some(r) = waiting.remove(&next) {
                if outcome.is_ok() {
                    outcome = take(next, r);
                }
                next += 1;
                let mut t = turn.lock().expect("no thread panics holding it");
                t.taken = next;
                t.stop |= outcome.is_err();
                moved.notify_all();
            }
        }
        outcome
    })
}

/// Above this many distinct handlers, the names look unnormalized (an app has tens or
/// hundreds of handlers; a route with ids in it has as many as executions).
pub const MANY_HANDLERS: usize = 2000;

/// The error of a bound passed at a line: what it was, where, and what to do.
fn limit_error(stopped: &attribute::Stopped, names: &[String]) -> Error {
    let at = format!("{}:{}", names[stopped.at.file as usize], stopped.at.line);
    Error::Usage(match &stopped.limit {
        attribute::Limit::Handlers { max, handler } => {
            let mut shown: String = handler.chars().take(80).map(|c| if c.is_control() { '\u{FFFD}' } else { c }).collect();
            if shown.len() < handler.len() {
                shown.push('…');
            }
            format!(
                "{at}: more than {max} distinct handlers (the next one: {shown:?}); names that carry ids or parameters make every execution a handler of its own, which no baseline can judge: fold the ids out of the names with a `[[sources.pattern.normalize]]` (or `[[sources.json.normalize]]`) rule in perfgate.toml, or raise `[sources] max_handlers`"
            )
        }
        attribute::Limit::NameTooLong { rule, normalize, len } => format!(
            "{at}: the rule {rule}: its normalize[{normalize}] made a handler name of {len} bytes, more than {} bytes; make its replacement shorter, or its match longer (each rewrite may not grow a name without bound)",
            crate::parse::user::MAX_NAME
        ),
    })
}

fn empty_file(path: String, problem: Option<String>) -> FileDiagnostics {
    FileDiagnostics {
        path,
        encoding: None,
        format: None,
        bytes: 0,
        lines: 0,
        recognized_lines: 0,
        timing_lines: 0,
        samples: 0,
        failed: 0,
        incomplete: 0,
        orphans: 0,
        rejected: 0,
        problem,
        sha256: None,
    }
}

/// A rejected duration as the warning shows it: `NaN` is what the parsers give a duration they
/// could not read (no unit or an unknown one, a number glued to letters, digits that are not
/// one number).
fn rejected_value(ms: f64) -> String {
    if ms.is_nan() {
        "unreadable (a number and its unit, ms, s or µs, expected)".to_owned()
    } else {
        format!("{} ms", crate::stats::show(ms))
    }
}

fn format_name(f: InputFormat) -> &'static str {
    match f {
        InputFormat::Auto | InputFormat::Console => "a console log",
        InputFormat::Markdown => "markdown telemetry",
        InputFormat::Frames | InputFormat::OtherJson => "a frames export",
        InputFormat::PlayerReport => "a sequence player report",
        InputFormat::Build => "a build-pipeline console",
    }
}

/// The command that decompresses a file named like a compressed one (`.gz`, `.zst`, `.bz2`,
/// `.xz`), for the next step of its error.
fn compressed(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    [(".gz", "gzip -dc"), (".zst", "zstd -dc"), (".bz2", "bzip2 -dc"), (".xz", "xz -dc")]
        .into_iter()
        .find(|(ext, _)| lower.ends_with(ext))
        .map(|(_, tool)| tool)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Files read several at a time give the report of files read one after another (drill-down
    /// selections, orphans and diagnostics included).
    #[test]
    fn files_read_at_once_give_the_same_report() {
        let dir = tempfile::tempdir().unwrap();
        let args = crate::generate::GenerateArgs {
            seed: 5,
            files: 6,
            executions: 300,
            noise: 2,
            envelopes: crate::generate::Envelopes::Line,
            ..crate::generate::GenerateArgs::writing_to(dir.path())
        };
        crate::generate::run(&args).unwrap();
        let opts = AnalyzeOptions {
            catalog_paths: vec![dir.path().join("json-sequences")],
            max_executions: 20,
            hash_sources: true,
            ..AnalyzeOptions::for_test(vec![dir.path().join("logs").display().to_string()], dir.path())
        };
        let json = |plan: (usize, usize)| {
            let m = analyze_with(&opts, |_| plan).unwrap();
            crate::render::json::render(&crate::report::build(&m, crate::config::SortKey::Avg))
        };
        let one_by_one = json((1, 2));
        assert!(one_by_one.contains("\"orphans\"") && one_by_one.matches("\"path\"").count() >= 6);
        for plan in [(2, 1), (3, 1), (6, 2)] {
            assert_eq!(json(plan), one_by_one, "{plan:?}");
        }
    }

    /// Without an output that shows it, no execution is kept for drill-down; everything else
    /// (statistics, counts, diagnostics) is the same.
    #[test]
    fn the_drill_down_selection_is_kept_only_when_shown() {
        let dir = tempfile::tempdir().unwrap();
        let args =
            crate::generate::GenerateArgs { seed: 6, files: 2, executions: 200, ..crate::generate::GenerateArgs::writing_to(dir.path()) };
        crate::generate::run(&args).unwrap();
        let opts = |drill: bool| AnalyzeOptions {
            catalog_paths: vec![dir.path().join("json-sequences")],
            max_executions: 20,
            drill,
            ..AnalyzeOptions::for_test(vec![dir.path().join("logs").display().to_string()], dir.path())
        };
        let report = |drill: bool| crate::report::build(&analyze(&opts(drill)).unwrap(), crate::config::SortKey::Avg);
        let (shown, hidden) = (report(true), report(false));
        assert!(shown.handlers.iter().any(|h| !h.execution_list.is_empty()));
        assert!(hidden.handlers.iter().all(|h| h.execution_list.is_empty()));
        let without = |mut r: crate::report::Report| {
            for h in &mut r.handlers {
                h.execution_list.clear();
                h.executions_truncated = false;
            }
            crate::render::json::render(&r)
        };
        assert_eq!(without(shown), without(hidden));
    }

    /// Many handlers share the drill-down budget: each list is capped below `--max-executions`
    /// and the JSON says so (a handler with fewer executions lists them all and says nothing),
    /// the same whether the files are read one by one or several at a time.
    #[test]
    fn the_drill_down_budget_is_shared_and_said() {
        let dir = tempfile::tempdir().unwrap();
        for f in 0..3 {
            let mut log = String::new();
            for i in 0..300 {
                for h in 0..20 {
                    log.push_str(&format!("{{\"h\":\"h{h}\",\"ms\":{}}}\n", (i * 7 + h + f) % 97 + 1));
                }
            }
            if f == 1 {
                log.push_str("{\"h\":\"small\",\"ms\":3}\n{\"h\":\"small\",\"ms\":4}\n");
            }
            std::fs::write(dir.path().join(format!("{f}.log")), log).unwrap();
        }
        let config = "[[sources.json]]\nhandler = \"h\"\nduration = \"ms\"\n";
        let config = crate::config::Config::parse(config, &dir.path().join("perfgate.toml")).unwrap();
        let opts = AnalyzeOptions {
            rules: config.rules,
            ..AnalyzeOptions::for_test(vec![dir.path().join("*.log").display().to_string()], dir.path())
        };
        let report = |plan: (usize, usize)| crate::report::build(&analyze_with(&opts, |_| plan).unwrap(), crate::config::SortKey::Avg);
        let r = report((1, 1));
        let cap = attribute::drill::cap(1000, attribute::drill::BUDGET, 21);
        assert!(cap < 900);
        let kept: usize = r.handlers.iter().map(|h| h.execution_list.len()).sum();
        assert!(kept <= attribute::drill::BUDGET, "{kept}");
        for h in &r.handlers {
            let capped = if h.name == "small" { None } else { Some(cap) };
            assert_eq!((h.executions_capped, h.executions_truncated), (capped, capped.is_some()), "{}", h.name);
        }
        let json = crate::render::json::render(&r);
        assert_eq!(json.matches(&format!("\"executionsCapped\": {cap}")).count(), 20);
        for plan in [(3, 1), (2, 2)] {
            assert_eq!(crate::render::json::render(&report(plan)), json, "{plan:?}");
        }
    }
}
