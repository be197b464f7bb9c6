//! Finding a handler's source file (HANDLER-MAPPING.md §4), by text: the package root is the
//! parent of the catalog's `json-sequences` directory; its `src/` (tests excluded) is searched
//! for the handler's definition — `export const NAME =`, `export (async )function NAME`, or an
//! inline method `NAME(…) {`. When several files define it, the `handlersPath` sub-module of
//! the catalog's `index.json` wins, then the `src/symphonies/<stem>/` directory named like the
//! sequence file; otherwise the result is ambiguous and no file is claimed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use regex::Regex;

use super::catalog::Sequence;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct SourceRef {
    /// Relative to the source root, `/`-separated.
    pub path: String,
    pub line: u32,
}

pub struct SourceIndex {
    root: PathBuf,
    files: HashMap<PathBuf, Vec<(PathBuf, String)>>,
}

impl SourceIndex {
    pub fn new(source_root: &Path) -> Self {
        let root = source_root.canonicalize().unwrap_or_else(|_| source_root.to_path_buf());
        SourceIndex { root, files: HashMap::new() }
    }

    pub fn resolve(&mut self, seq: &Sequence, handler: &str) -> Option<SourceRef> {
        let pkg = package_root(&seq.path)?;
        let src = pkg.join("src");
        let files = self.files.entry(src.clone()).or_insert_with(|| {
            let mut out = Vec::new();
            collect_sources(&src, &mut out);
            out.sort();
            out.into_iter().filter_map(|p| std::fs::read(&p).ok().map(|b| (p, String::from_utf8_lossy(&b).into_owned()))).collect()
        });
        let name = regex::escape(handler);
        let def = Regex::new(&format!(
            r"(?m)^[ \t]*(?:export\s+(?:const|let|var)\s+{name}\s*[:=]|export\s+(?:default\s+)?(?:async\s+)?function\s*\*?\s*{name}\s*[(<]|(?:async\s+)?{name}\s*\([^)]*\)\s*(?::[^{{\n]*)?\{{)"
        ))
        .ok()?;
        let mut found: Vec<(&Path, u32)> = Vec::new();
        for (path, text) in files.iter() {
            if let Some(m) = def.find(text) {
                let line = 1 + text[..m.start()].bytes().filter(|b| *b == b'\n').count();
                found.push((path, u32::try_from(line).unwrap_or(u32::MAX)));
            }
        }
        let chosen = match found.len() {
            0 => return None,
            1 => found[0],
            _ => prefer(&found, &src, seq)?,
        };
        Some(SourceRef { path: display(&self.root, chosen.0), line: chosen.1 })
    }
}

fn display(root: &Path, path: &Path) -> String {
    let abs = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let rel = abs.strip_prefix(root).unwrap_or(&abs);
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

fn prefer<'a>(found: &[(&'a Path, u32)], src: &Path, seq: &Sequence) -> Option<(&'a Path, u32)> {
    let rel_stem = |p: &Path| -> String {
        let rel = p.strip_prefix(src).unwrap_or(p).with_extension("");
        rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
    };
    // `@renderx-plugins/control-panel/symphonies/selection/selection.symphony` → the module
    // after the package name (`@scope/name` or `name`).
    if let Some(hp) = &seq.handlers_path {
        let skip = if hp.starts_with('@') { 2 } else { 1 };
        let module: Vec<&str> = hp.split('/').skip(skip).collect();
        if !module.is_empty() {
            let module = module.join("/");
            let hits: Vec<_> = found.iter().filter(|(p, _)| rel_stem(p) == module).collect();
            if hits.len() == 1 {
                return Some(*hits[0]);
            }
        }
    }
    let stem = seq.path.file_stem()?.to_string_lossy();
    let dir = format!("symphonies/{}/", stem.split('.').next().unwrap_or(&stem));
    let hits: Vec<_> = found.iter().filter(|(p, _)| rel_stem(p).starts_with(&dir)).collect();
    (hits.len() == 1).then(|| *hits[0])
}

fn package_root(catalog_file: &Path) -> Option<PathBuf> {
    catalog_file.ancestors().find(|a| a.file_name().is_some_and(|n| n == "json-sequences")).and_then(Path::parent).map(Path::to_path_buf)
}

fn collect_sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            if !matches!(name.as_str(), "__tests__" | "tests" | "node_modules") {
                collect_sources(&path, out);
            }
        } else {
            let code = [".ts", ".tsx", ".js", ".jsx"].iter().any(|e| name.ends_with(e));
            let test = name.contains(".test.") || name.contains(".spec.") || name.ends_with(".d.ts");
            if code && !test {
                out.push(path);
            }
        }
    }
}
