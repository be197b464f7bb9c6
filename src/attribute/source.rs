//! Finding a handler's source file (HANDLER-MAPPING.md §4): the package root is the parent of
//! the catalog's `json-sequences` directory. The plugin's `handlers` map, when there is one to
//! follow, names the function ([`super::handlers_map`]); otherwise its `src/` (tests excluded) is searched
//! for the handler's definition — `export const NAME =`, `export (async )function NAME`, or an
//! inline method `NAME(…) {`. When several files define it, the `handlersPath` sub-module of
//! the catalog's `index.json` wins, then the `src/symphonies/<stem>/` directory named like the
//! sequence file; otherwise the result is ambiguous and no file is claimed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use regex::Regex;

use super::catalog::Sequence;
use super::handlers_map::{self, line_of};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct SourceRef {
    /// Relative to the source root, `/`-separated.
    pub path: String,
    pub line: u32,
}

pub struct SourceIndex {
    root: PathBuf,
    files: HashMap<PathBuf, Vec<(PathBuf, String)>>,
    /// `package.json` name → package directory, for catalogs outside their package (built on
    /// first use by walking the source root).
    workspaces: Option<HashMap<String, PathBuf>>,
}

impl SourceIndex {
    pub fn new(source_root: &Path) -> Self {
        let root = source_root.canonicalize().unwrap_or_else(|_| source_root.to_path_buf());
        SourceIndex { root, files: HashMap::new(), workspaces: None }
    }

    pub fn resolve(&mut self, seq: &Sequence, handler: &str) -> Option<SourceRef> {
        let mut src = package_root(&seq.path)?.join("src");
        if !src.is_dir() {
            // The HEAD layout: `public/json-sequences/<pkg>/` holds only the catalog; the
            // handlers live in the workspace whose `package.json` name is the `handlersPath`
            // package (`@renderx-web/library-component` → `runtime/library-component/`).
            let package = package_name(seq.handlers_path.as_deref()?);
            let root = self.root.clone();
            let workspaces = self.workspaces.get_or_insert_with(|| {
                let mut map = HashMap::new();
                collect_workspaces(&root, 0, &mut map);
                map
            });
            src = workspaces.get(package)?.join("src");
        }
        // The plugin's `handlers` map says which function the key is (§4 steps 2–4).
        let module = match seq.handlers_path.as_deref().map(|hp| hp[package_name(hp).len()..].trim_start_matches('/')) {
            Some(m) if !m.is_empty() => src.join(m),
            _ => src.join("index"),
        };
        if let Some((path, line)) = handlers_map::find(&module, handler) {
            return Some(SourceRef { path: display(&self.root, &path), line });
        }
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
                found.push((path, line_of(text, m.start())));
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
        let module = hp[package_name(hp).len()..].trim_start_matches('/');
        if !module.is_empty() {
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

/// `@scope/name/sub/module` → `@scope/name`; `name/sub` → `name`.
fn package_name(handlers_path: &str) -> &str {
    let parts = if handlers_path.starts_with('@') { 2 } else { 1 };
    let end = handlers_path.match_indices('/').nth(parts - 1).map_or(handlers_path.len(), |(i, _)| i);
    &handlers_path[..end]
}

fn collect_workspaces(dir: &Path, depth: usize, out: &mut HashMap<String, PathBuf>) {
    if depth > 8 {
        return;
    }
    let manifest = dir.join("package.json");
    if let Ok(text) = std::fs::read(&manifest)
        && let Some(name) = serde_json::from_slice::<serde_json::Value>(&text).ok().and_then(|v| v.get("name")?.as_str().map(str::to_owned))
    {
        out.entry(name).or_insert_with(|| dir.to_path_buf());
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| !matches!(e.file_name().to_str(), Some("node_modules" | ".git" | "target")))
        .map(|e| e.path())
        .collect();
    dirs.sort();
    for d in dirs {
        collect_workspaces(&d, depth + 1, out);
    }
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
