//! The import order `src/lib.rs` documents holds: each module of `src/` uses (`crate::…`, outside
//! its tests) only modules listed before it, so there is no import circle.

use std::collections::BTreeSet;
use std::path::Path;

use crate::support::repo;

/// The order of `src/lib.rs`'s doc, with the modules it leaves out placed where they belong.
const ORDER: [&str; 23] = [
    "error",
    "output",
    "stats",
    "timestamp",
    "rng",
    "parse",
    "input",
    "attribute",
    "measure",
    "config",
    "report",
    "baseline",
    "gate",
    "history",
    "trend",
    "judged",
    "render",
    "publish",
    "analyze",
    "pipeline",
    "generate",
    "init",
    "cli",
];

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn modules_import_only_earlier_modules() {
    let src = repo().join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut upward = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let top = rel.iter().next().unwrap().to_string_lossy().trim_end_matches(".rs").to_owned();
        if top == "lib" || top == "main" || rel.ends_with("simulation.rs") {
            continue;
        }
        let pos = ORDER.iter().position(|m| *m == top).unwrap_or_else(|| panic!("{top} is not in ORDER: add it where it belongs"));
        seen.insert(top.clone());
        let text = std::fs::read_to_string(file).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        for name in crate_modules(code) {
            if let Some(p) = ORDER.iter().position(|m| *m == name)
                && p > pos
            {
                upward.insert(format!("{} → {name}", rel.display()));
            }
        }
    }
    assert!(upward.is_empty(), "imports against the documented order: {upward:#?}");
    assert!(seen.len() >= 18, "{seen:?}");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    for m in ["`error`, `output`", "[`stats`], `timestamp`, `parse`, `input`, `attribute`, [`measure`], [`config`], [`report`]"] {
        assert!(lib.contains(m), "src/lib.rs no longer documents the order: {m}");
    }
}

/// The top modules of the crate that `code` names, outside comments: `crate::a::…` paths and the
/// members of grouped imports, `use crate::{a, b::{c, d}}` (over several lines too).
fn crate_modules(code: &str) -> Vec<String> {
    let code: String = code.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
    let ident = |s: &str| -> String { s.trim_start().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect() };
    let mut out = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + 7..];
        if let Some(group) = rest.strip_prefix('{') {
            // The members at depth 0 of the group: each starts after `{` or a `,`.
            let mut depth = 0;
            let mut start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && !c.is_whitespace() => {
                        start = false;
                        out.push(ident(&group[j..]));
                    }
                    _ => {}
                }
            }
        } else {
            out.push(ident(rest));
        }
    }
    out
}

#[test]
fn grouped_imports_are_read() {
    let code =
        "use crate::{\n    gate::{self, Verdict},\n    // crate::cli\n    render::escape, stats,\n};\nlet x = crate::pipeline::check;";
    assert_eq!(crate_modules(code), ["gate", "render", "stats", "pipeline"]);
}
