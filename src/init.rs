//! `perfgate init`: a commented `perfgate.toml` (listing the sequence catalogs found under the
//! working directory), the GitHub Actions workflows, and — in a JavaScript repository — the npm
//! scripts `analyze:performance` and `check:performance` in `package.json` (added to the file as
//! it is written, every other byte kept). Existing files are kept unless `--force`; nothing is
//! written unless everything can be.

use std::path::Path;

use crate::error::Error;

const CONFIG: &str = include_str!("../config/perfgate.toml");
/// The workflows `init` writes: the pull-request check, and main's record and trend (on the
/// perfgate-data branch, never on main).
const WORKFLOWS: [(&str, &str); 2] = [
    ("perfgate.yml", include_str!("../examples/workflows/perfgate.yml")),
    ("perfgate-main.yml", include_str!("../examples/workflows/perfgate-main.yml")),
];

pub fn run(cwd: &Path, force: bool) -> Result<i32, Error> {
    let config_path = cwd.join("perfgate.toml");
    let workflow_paths: Vec<std::path::PathBuf> = WORKFLOWS.iter().map(|(name, _)| cwd.join(".github/workflows").join(name)).collect();
    for p in std::iter::once(&config_path).chain(&workflow_paths) {
        if p.exists() && !force {
            return Err(Error::Usage(format!("{} exists; pass --force to overwrite it", p.display())));
        }
    }
    // The package.json edit is decided before any file is written: a file init cannot read
    // leaves everything as it was.
    let package_path = cwd.join("package.json");
    let package = if package_path.is_file() {
        let text = std::fs::read_to_string(&package_path).map_err(|source| Error::Read { path: package_path.clone(), source })?;
        let (edited, kept) = add_scripts(&text, &SCRIPTS).map_err(|e| {
            Error::Usage(format!(
                "{}: {e}; `perfgate init` adds its npm scripts to it: fix the file and run init again",
                package_path.display()
            ))
        })?;
        Some(((edited != text).then_some(edited), kept))
    } else {
        None
    };
    let catalogs = crate::attribute::catalog::Catalog::discover(cwd);
    let mut dirs: Vec<String> = catalogs
        .iter()
        .filter_map(|f| {
            let rel = f.strip_prefix(cwd).unwrap_or(f);
            let dir: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            let at = dir.iter().position(|c| c == "json-sequences")?;
            Some(dir[..=at].join("/"))
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    let listing = if dirs.is_empty() {
        "# No json-sequences directory was found under this directory.\n# paths = [\"packages\"]\n".to_owned()
    } else {
        // Directory names are text anyone can choose: each is one escaped TOML string (a quote or
        // a line break in a name stays inside its string, on its comment line).
        let list: Vec<String> = dirs.iter().map(|d| format!("#   {},", crate::render::escape::toml_string(d))).collect();
        format!("# Found by `perfgate init` (all of them are read by default):\n# paths = [\n{}\n# ]\n", list.join("\n"))
    };
    let config = CONFIG.replacen("# paths = [\"packages\"]\n", &listing, 1);
    crate::output::write(&config_path, config.as_bytes())?;
    for (path, (_, text)) in workflow_paths.iter().zip(WORKFLOWS) {
        crate::output::write(path, text.as_bytes())?;
    }
    if let Some((edited, kept)) = &package {
        if let Some(text) = edited {
            crate::output::write(&package_path, text.as_bytes())?;
        }
        let added: Vec<&str> = SCRIPTS.iter().map(|(k, _)| *k).filter(|k| !kept.contains(k)).collect();
        println!(
            "package.json: {}{}",
            if added.is_empty() { "its scripts are there already".to_owned() } else { format!("added the scripts {}", added.join(", ")) },
            if kept.is_empty() || added.is_empty() { String::new() } else { format!(" (kept your {})", kept.join(", ")) }
        );
    }
    println!(
        "wrote {} ({} catalog director{} found), {}",
        config_path.display(),
        dirs.len(),
        if dirs.len() == 1 { "y" } else { "ies" },
        workflow_paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" and ")
    );
    println!(
        "next: capture your app's console into .logs/ (perfgate/playwright or perfgate/cypress), try `npx perfgate analyze`, and push: perfgate-main.yml records main's runs on the perfgate-data branch, perfgate.yml checks each pull request against them"
    );
    Ok(0)
}

/// The npm scripts `init` adds to a `package.json` (the brief's name for the analysis).
const SCRIPTS: [(&str, &str); 2] = [("analyze:performance", "perfgate analyze"), ("check:performance", "perfgate check")];

/// `package.json`'s text with `entries` added to its `scripts` (created when absent), every
/// other byte kept: the file's own indentation, key order and line ends. An entry whose key is
/// there already is left as it is (`kept`). An error when the text is not a JSON object or its
/// `scripts` is not one.
fn add_scripts<'e>(text: &str, entries: &[(&'e str, &'e str)]) -> Result<(String, Vec<&'e str>), String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not valid JSON (line {}, column {}): {e}", e.line(), e.column()))?;
    let object = value.as_object().ok_or("not a JSON object")?;
    let scripts = match object.get("scripts") {
        None => None,
        Some(serde_json::Value::Object(s)) => Some(s),
        Some(_) => return Err("\"scripts\" is not an object".into()),
    };
    let (new, kept): (Vec<_>, Vec<_>) = entries.iter().partition(|(k, _)| scripts.is_none_or(|s| !s.contains_key(*k)));
    let kept: Vec<&str> = kept.iter().map(|(k, _)| *k).collect();
    if new.is_empty() {
        return Ok((text.to_owned(), kept));
    }
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let json = |s: &str| serde_json::to_string(s).expect("a string");
    let top = members(text, 0).ok_or("not a JSON object")?;
    let outer = indent_of(text, top.first().map(|m| m.key_start)).unwrap_or("  ".to_owned());
    let (at, insert) = match top.iter().find(|m| m.key == "scripts") {
        Some(s) => {
            let inner = members(text, s.value_start).ok_or("\"scripts\" is not an object")?;
            let indent = indent_of(text, inner.first().map(|m| m.key_start)).unwrap_or_else(|| format!("{outer}{outer}"));
            let lines: Vec<String> = new.iter().map(|(k, v)| format!("{newline}{indent}{}: {}", json(k), json(v))).collect();
            match inner.last() {
                Some(last) => (last.value_end, format!(",{}", lines.join(","))),
                None => (s.value_start + 1, format!("{}{newline}{outer}", lines.join(","))),
            }
        }
        None => {
            let lines: Vec<String> = new.iter().map(|(k, v)| format!("{newline}{outer}{outer}{}: {}", json(k), json(v))).collect();
            let block = format!("{newline}{outer}\"scripts\": {{{}{newline}{outer}}}", lines.join(","));
            match top.last() {
                Some(last) => (last.value_end, format!(",{block}")),
                None => (text.find('{').ok_or("not a JSON object")? + 1, format!("{block}{newline}")),
            }
        }
    };
    let mut out = String::with_capacity(text.len() + insert.len());
    out.push_str(&text[..at]);
    out.push_str(&insert);
    out.push_str(&text[at..]);
    Ok((out, kept))
}

/// A member of a JSON object in a text: its key, where the key starts, and where its value
/// starts and ends (byte offsets).
struct Member {
    key: String,
    key_start: usize,
    value_start: usize,
    value_end: usize,
}

/// The members of the object whose `{` is the first non-blank character at or after `from`
/// (the text is valid JSON: checked before).
fn members(text: &str, from: usize) -> Option<Vec<Member>> {
    let b = text.as_bytes();
    let mut i = skip_blank(b, from);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    let mut out = Vec::new();
    loop {
        i = skip_blank(b, i);
        match b.get(i)? {
            b'}' => return Some(out),
            b',' => i = skip_blank(b, i + 1),
            _ => {}
        }
        let key_start = i;
        let key_end = skip_value(b, i)?;
        let key: String = serde_json::from_str(&text[key_start..key_end]).ok()?;
        i = skip_blank(b, key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let value_start = skip_blank(b, i + 1);
        let value_end = skip_value(b, value_start)?;
        out.push(Member { key, key_start, value_start, value_end });
        i = value_end;
    }
}

fn skip_blank(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
        i += 1;
    }
    i
}

/// The end of the JSON value starting at `i`.
fn skip_value(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => {
            let mut j = i + 1;
            while *b.get(j)? != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            Some(j + 1)
        }
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match *b.get(j)? {
                    b'"' => {
                        j = skip_value(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n') {
                j += 1;
            }
            Some(j)
        }
    }
}

/// The blanks before the member starting at `at`, when it begins a line.
fn indent_of(text: &str, at: Option<usize>) -> Option<String> {
    let at = at?;
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let blank = &text[line_start..at];
    (blank.chars().all(|c| c == ' ' || c == '\t') && line_start > 0).then(|| blank.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn added(text: &str) -> String {
        add_scripts(text, &SCRIPTS).unwrap().0
    }

    #[test]
    fn scripts_are_added_in_the_files_own_style() {
        // Two spaces, with scripts: appended after the last one, nothing else moved.
        let two = "{\n  \"name\": \"app\",\n  \"scripts\": {\n    \"test\": \"vitest\"\n  },\n  \"private\": true\n}\n";
        assert_eq!(
            added(two),
            "{\n  \"name\": \"app\",\n  \"scripts\": {\n    \"test\": \"vitest\",\n    \"analyze:performance\": \"perfgate analyze\",\n    \"check:performance\": \"perfgate check\"\n  },\n  \"private\": true\n}\n"
        );
        // Tabs and CRLF, no scripts: a scripts object after the last member.
        let tabs = "{\r\n\t\"name\": \"app\",\r\n\t\"workspaces\": [\"packages/*\"]\r\n}\r\n";
        assert_eq!(
            added(tabs),
            "{\r\n\t\"name\": \"app\",\r\n\t\"workspaces\": [\"packages/*\"],\r\n\t\"scripts\": {\r\n\t\t\"analyze:performance\": \"perfgate analyze\",\r\n\t\t\"check:performance\": \"perfgate check\"\r\n\t}\r\n}\r\n"
        );
        // An empty scripts object, four spaces.
        let empty = "{\n    \"scripts\": {}\n}";
        assert_eq!(
            added(empty),
            "{\n    \"scripts\": {\n        \"analyze:performance\": \"perfgate analyze\",\n        \"check:performance\": \"perfgate check\"\n    }\n}"
        );
        // A script of that name is the user's: kept.
        let mine = "{\"scripts\": {\"analyze:performance\": \"perfgate analyze web/.logs\", \"x\": \"{}\\\"}\"}}";
        let (text, kept) = add_scripts(mine, &SCRIPTS).unwrap();
        assert_eq!(kept, ["analyze:performance"]);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["scripts"]["analyze:performance"], "perfgate analyze web/.logs");
        assert_eq!(v["scripts"]["check:performance"], "perfgate check");
        assert_eq!(v["scripts"]["x"], "{}\"}");
        // Nothing to add: the same text.
        assert_eq!(added(&added(two)), added(two));
        // Not an object, or scripts not an object: an error, nothing written.
        assert!(add_scripts("[1]", &SCRIPTS).unwrap_err().contains("not a JSON object"));
        assert!(add_scripts("{\"scripts\": []}", &SCRIPTS).unwrap_err().contains("\"scripts\" is not an object"));
        assert!(add_scripts("{\"a\": ", &SCRIPTS).unwrap_err().contains("not valid JSON (line 1"));
    }

    proptest::proptest! {
        #[test]
        fn any_object_gets_its_scripts_and_keeps_its_members(
            keys in proptest::collection::btree_map("[a-z\"\\\\{}:,]{1,6}", "[a-z\"\\\\{}\\[\\]]{0,6}", 0..5),
            pretty in proptest::bool::ANY,
        ) {
            let value = serde_json::Value::Object(keys.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect());
            let text = if pretty { serde_json::to_string_pretty(&value).unwrap() } else { value.to_string() };
            let (out, _) = add_scripts(&text, &SCRIPTS).unwrap();
            let back: serde_json::Value = serde_json::from_str(&out).unwrap();
            for (k, v) in &keys {
                if k != "scripts" {
                    proptest::prop_assert_eq!(&back[k], &serde_json::Value::String(v.clone()));
                }
            }
            proptest::prop_assert_eq!(&back["scripts"]["analyze:performance"], "perfgate analyze");
        }
    }
}
