//! The `analyze` pipeline: input files → decoded text → traces → attribution → report. Pure
//! apart from reading the files it is given; the CLI decides what to print and the exit code.

use std::path::PathBuf;

use crate::attribute::catalog::Catalog;
use crate::attribute::source::SourceIndex;
use crate::attribute::{self, InputFormat};
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
}

/// Runs the pipeline. An input that cannot be read is an error unless `skip_unreadable`
/// (then a warning); other per-file problems (nothing recognized, invalid frames JSON, rejected
/// durations) become warnings in the diagnostics, and the run fails (exit 2) when nothing usable
/// remains.
pub fn analyze(opts: &AnalyzeOptions) -> Result<Measurements, Error> {
    let mut diagnostics = Diagnostics::default();
    let files = input::expand(&opts.paths, opts.skip_unreadable, &mut diagnostics.warnings)?;
    if files.is_empty() {
        return Err(Error::NoInput(format!("{} matched no file", opts.paths.join(", "))));
    }
    let catalog = Catalog::load(&opts.catalog_paths)?;
    let mut sources = SourceIndex::new(&opts.source_root);
    let mut attributor = attribute::Attributor::new(&catalog, &mut sources, opts.max_executions);
    let mut read_any = false;
    let mut names = Vec::new();
    let mut first_read_error = None;
    for (i, path) in files.iter().enumerate() {
        let name = path.to_string_lossy().into_owned();
        names.push(name.clone());
        let file_idx = u32::try_from(i).map_err(|_| Error::Usage("too many input files".into()))?;
        let rules = opts.rules.for_file(&name);
        let scanned = match attribute::read::read_file(path, opts.format, file_idx, opts.hash_sources, &rules, Some(&mut attributor)) {
            Ok(s) => s,
            Err(e) if !opts.skip_unreadable => return Err(Error::Read { path: path.clone(), source: e }),
            Err(e) => {
                diagnostics.warnings.push(format!("{name}: cannot read: {e}"));
                diagnostics.files.push(empty_file(name, Some(format!("cannot read: {e}"))));
                first_read_error.get_or_insert(Error::Read { path: path.clone(), source: e });
                continue;
            }
        };
        let (traced, encoding, size, sha256) = (scanned.traced, scanned.encoding, scanned.bytes, scanned.sha256);
        let t = &traced.trace;
        let [samples, failed, incomplete] = t.outcomes;
        let mut problem = traced.problem.clone();
        if problem.is_none() && t.recognized == 0 {
            problem = Some(match encoding {
                input::Encoding::Utf8 if traced.binary => {
                    "nothing recognized (the file looks binary or UTF-16 without a byte-order mark)".to_owned()
                }
                _ => format!("nothing recognized in {} line(s) read as {}", traced.lines, format_name(traced.format)),
            });
        }
        if let Some(p) = &problem {
            diagnostics.warnings.push(format!("{name}: {p}"));
        }
        let rejected = &t.rejected;
        if rejected.count > 0 {
            let at: Vec<String> =
                rejected.first.iter().map(|(line, ms)| format!("{name}:{line}: {} ms", crate::stats::show(*ms))).collect();
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
        attributor.add(traced.trace);
        read_any = true;
    }
    if !read_any {
        return Err(first_read_error.unwrap_or_else(|| Error::NoInput("no readable file".into())));
    }
    if !opts.allow_empty && diagnostics.recognized_lines == 0 {
        let files = diagnostics.files.iter().map(|f| (f.path.clone(), f.problem.clone().unwrap_or_default())).collect();
        return Err(Error::NothingRecognized { files });
    }
    let attribution = attributor.finish();
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

/// Above this many distinct handlers, the names look unnormalized (an app has tens or
/// hundreds of handlers; a route with ids in it has as many as executions).
pub const MANY_HANDLERS: usize = 2000;

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

fn format_name(f: InputFormat) -> &'static str {
    match f {
        InputFormat::Auto | InputFormat::Console => "a console log",
        InputFormat::Markdown => "markdown telemetry",
        InputFormat::Frames | InputFormat::OtherJson => "a frames export",
    }
}
