//! A handler's definition through its plugin's `handlers` map (HANDLER-MAPPING.md §4 steps
//! 2–4): the map is exported by the `handlersPath` module (`src/index.ts` when it names the
//! package alone), or re-exported from another (`export { handlers } from "./x"`). Its entries
//! are shorthand (`notifyUi,`), aliases (`routeDeselectionRequest: routeDeselection`), spreads
//! of other maps (`...createHandlers`) and inline methods (`async loadComponents(d, ctx) {`); a
//! name is followed through the module's imports and re-exports to where it is defined.
//!
//! Read as text, not parsed as TypeScript: braces, brackets and parentheses are balanced
//! (strings and comments skipped) to find the map's entries. Anything this does not follow
//! leaves the text rule of [`super::source`] to decide.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

/// The 1-based line of byte `offset` of `text` (also the text rule's, in [`super::source`],
/// which uses this module: the line is found here so that the two do not import each other).
pub(super) fn line_of(text: &str, offset: usize) -> u32 {
    u32::try_from(1 + text[..offset].bytes().filter(|b| *b == b'\n').count()).unwrap_or(u32::MAX)
}

/// How many modules a name is followed through (re-exports, imports, spreads).
const DEPTH: usize = 12;

/// The file and 1-based line that define `key` of the `handlers` map of `module` (a path
/// without extension, like `src/index` or `src/symphonies/ui/ui.symphony`).
pub fn find(module: &Path, key: &str) -> Option<(PathBuf, u32)> {
    let file = module_file(module)?;
    key_in_object(&file, &std::fs::read_to_string(&file).ok()?, "handlers", key, DEPTH)
}

/// The file a module specifier names: `x.ts`, `.tsx`, `.js`, `.jsx`, or `x/index.*`.
fn module_file(base: &Path) -> Option<PathBuf> {
    if base.is_file() {
        return Some(base.to_path_buf());
    }
    let name = base.file_name()?.to_string_lossy().into_owned();
    ["ts", "tsx", "js", "jsx"]
        .iter()
        .map(|e| base.with_file_name(format!("{name}.{e}")))
        .chain(["ts", "tsx", "js", "jsx"].iter().map(|e| base.join(format!("index.{e}"))))
        .find(|p| p.is_file())
}

/// A relative specifier (`./x`, `../y`) from `file`'s directory; packages are not followed.
fn relative(file: &Path, spec: &str) -> Option<PathBuf> {
    if !spec.starts_with('.') {
        return None;
    }
    module_file(&file.parent()?.join(spec))
}

/// `{ a, b as c, type d }` → (exported, local) pairs.
fn names(list: &str) -> Vec<(String, String)> {
    list.split(',')
        .filter_map(|n| {
            let n = n.trim().trim_start_matches("type ").trim();
            let (exported, local) = n.split_once(" as ").map_or((n, n), |(a, b)| (a.trim(), b.trim()));
            (!exported.is_empty()).then(|| (exported.to_owned(), local.to_owned()))
        })
        .collect()
}

static IMPORT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"import\s+(?:type\s+)?\{([^}]*)\}\s*from\s*["']([^"']+)["']"#).expect("a valid pattern"));
static REEXPORT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"export\s+(?:type\s+)?\{([^}]*)\}\s*from\s*["']([^"']+)["']"#).expect("a valid pattern"));

/// Where `file` (whose text is `text`) gets `name` from, when it is not defined there: the
/// module and the name it has there, by an `import { a as name } from "./x"` or an
/// `export { a as name } from "./x"`.
fn origin(file: &Path, text: &str, name: &str) -> Option<(PathBuf, String)> {
    let from = |re: &Regex, is_ours: &dyn Fn(&(String, String)) -> bool| {
        re.captures_iter(text).find_map(|c| {
            let (theirs, _) = names(&c[1]).into_iter().find(|n| is_ours(n))?;
            Some((relative(file, &c[2])?, theirs))
        })
    };
    from(&IMPORT, &|(_, local)| local == name).or_else(|| from(&REEXPORT, &|(_, exported)| exported == name))
}

/// The offset of `name`'s definition in `text`: a `const`/`let`/`var`, a `function`, exported
/// or not.
fn defined(text: &str, name: &str) -> Option<usize> {
    let name = regex::escape(name);
    let re = Regex::new(&format!(
        r"(?m)^[ \t]*(?:export\s+)?(?:default\s+)?(?:(?:const|let|var)\s+{name}\s*[:=]|(?:async\s+)?function\s*\*?\s*{name}\s*[(<])"
    ))
    .ok()?;
    re.find(text).map(|m| m.start() + (m.as_str().len() - m.as_str().trim_start().len()))
}

/// The module `origin` names, with its text.
fn open(origin: (PathBuf, String)) -> Option<(PathBuf, String, String)> {
    let text = std::fs::read_to_string(&origin.0).ok()?;
    Some((origin.0, text, origin.1))
}

/// Where the value `name` of `file` (whose text is `text`) is defined: here, or through an
/// import or a re-export.
fn definition(file: &Path, text: &str, name: &str, depth: usize) -> Option<(PathBuf, u32)> {
    let depth = depth.checked_sub(1)?;
    if let Some(at) = defined(text, name) {
        return Some((file.to_path_buf(), line_of(text, at)));
    }
    let (next, next_text, exported) = open(origin(file, text, name)?)?;
    definition(&next, &next_text, &exported, depth)
}

/// The definition of `key` in the object `object` of `file` (whose text is `text`): the
/// `handlers` map, or a map spread into it.
fn key_in_object(file: &Path, text: &str, object: &str, key: &str, depth: usize) -> Option<(PathBuf, u32)> {
    let depth = depth.checked_sub(1)?;
    let Some(body_at) = object_body(text, object) else {
        let (next, next_text, exported) = open(origin(file, text, object)?)?;
        return key_in_object(&next, &next_text, &exported, key, depth);
    };
    let body = &text[body_at..body_at + balanced(&text[body_at..])?];
    // Later entries override earlier ones, as in JavaScript.
    for (at, entry) in entries(body).into_iter().rev() {
        let found = match entry {
            Entry::Spread(map) => key_in_object(file, text, map, key, depth),
            Entry::Key(k) | Entry::Inline(k) | Entry::Alias(k, _) if k != key => None,
            Entry::Key(k) => definition(file, text, k, depth),
            Entry::Alias(_, value) => definition(file, text, value, depth),
            Entry::Inline(_) => Some((file.to_path_buf(), line_of(text, body_at + at))),
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

/// The offset just after the `{` of `const NAME = {` (exported or not, typed or not).
fn object_body(text: &str, name: &str) -> Option<usize> {
    let re = Regex::new(&format!(r"(?m)(?:const|let|var)\s+{}\s*(?::[^=\n]+)?=\s*\{{", regex::escape(name))).ok()?;
    re.find(text).map(|m| m.end())
}

/// Walks `text` as code — strings and comments skipped, brackets nested — and calls
/// `top(i, byte)` for each `,` and each closing bracket at the top level (one there closes what
/// `text` is the inside of), until it returns false.
fn scan(text: &str, mut top: impl FnMut(usize, u8) -> bool) {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' | b'\'' | b'`' => i = skip_string(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'/') => i = memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |n| i + n),
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = memchr::memmem::find(&bytes[i + 2..], b"*/").map_or(bytes.len(), |n| i + 2 + n + 1);
            }
            b'{' | b'(' | b'[' => depth += 1,
            b @ (b'}' | b')' | b']') => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None if !top(i, b) => return,
                None => {}
            },
            b',' if depth == 0 && !top(i, b',') => return,
            _ => {}
        }
        i += 1;
    }
}

/// The length of the text up to the `}` closing an object whose body starts `text`.
fn balanced(text: &str) -> Option<usize> {
    let mut end = None;
    scan(text, |i, b| {
        if b != b',' {
            end = Some(i);
        }
        end.is_none()
    });
    end
}

/// The index of a string's closing quote (escapes skipped).
fn skip_string(bytes: &[u8], open: usize) -> usize {
    let quote = bytes[open];
    let mut i = open + 1;
    while i < bytes.len() && bytes[i] != quote {
        i += if bytes[i] == b'\\' { 2 } else { 1 };
    }
    i
}

#[derive(Debug, PartialEq)]
enum Entry<'t> {
    /// `name` (shorthand).
    Key(&'t str),
    /// `key: name`.
    Alias(&'t str, &'t str),
    /// `key(…) {`, `async key(…) {`, `key: (…) => …`, `key: function …`.
    Inline(&'t str),
    /// `...name`.
    Spread(&'t str),
}

/// The entries of an object body, each with its offset in the body.
fn entries(body: &str) -> Vec<(usize, Entry<'_>)> {
    let mut commas = Vec::new();
    scan(body, |i, b| {
        if b == b',' {
            commas.push(i);
        }
        true
    });
    let starts = std::iter::once(0).chain(commas.iter().map(|c| c + 1));
    let ends = commas.iter().copied().chain(std::iter::once(body.len()));
    starts
        .zip(ends)
        .filter_map(|(from, to)| {
            let raw = &body[from..to];
            let lead = strip_comments(raw);
            Some((from + (raw.len() - lead.len()), entry(lead.trim_end())?))
        })
        .collect()
}

/// The text after leading whitespace and comments.
fn strip_comments(mut s: &str) -> &str {
    loop {
        s = s.trim_start();
        if let Some(rest) = s.strip_prefix("//") {
            s = rest.find('\n').map_or("", |n| &rest[n..]);
        } else if let Some(rest) = s.strip_prefix("/*") {
            s = rest.find("*/").map_or("", |n| &rest[n + 2..]);
        } else {
            return s;
        }
    }
}

fn is_ident(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$') && !s.as_bytes()[0].is_ascii_digit()
}

fn entry(e: &str) -> Option<Entry<'_>> {
    if let Some(spread) = e.strip_prefix("...") {
        return is_ident(spread.trim()).then(|| Entry::Spread(spread.trim()));
    }
    if is_ident(e) {
        return Some(Entry::Key(e));
    }
    let method = e.strip_prefix("async ").map_or(e, str::trim_start).trim_start_matches('*').trim_start();
    let key_end = method.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$')).unwrap_or(method.len());
    let (key, rest) = method.split_at(key_end);
    let key = key.trim_matches(['"', '\'']);
    if !is_ident(key) {
        return None;
    }
    let rest = rest.trim_start();
    if rest.starts_with('(') || rest.starts_with('<') {
        return Some(Entry::Inline(key));
    }
    let value = rest.strip_prefix(':')?.trim();
    let value = value.split(" as ").next().unwrap_or(value).trim();
    if is_ident(value) { Some(Entry::Alias(key, value)) } else { Some(Entry::Inline(key)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_of_a_map() {
        let body = "\n  notifyUi, // shorthand\n  route: routeDeselection,\n  ...createHandlers,\n  async load(_d: any, ctx: { a: 1, b: [2, 3] }) {\n    ctx.x = \"a, b\";\n  },\n  quick: (d) => d,\n  /* a, b */ last\n";
        let got: Vec<Entry> = entries(body).into_iter().map(|(_, e)| e).collect();
        assert_eq!(
            got,
            [
                Entry::Key("notifyUi"),
                Entry::Alias("route", "routeDeselection"),
                Entry::Spread("createHandlers"),
                Entry::Inline("load"),
                Entry::Inline("quick"),
                Entry::Key("last"),
            ]
        );
        assert_eq!(names("a, b as c, type d"), [("a".into(), "a".into()), ("b".into(), "c".into()), ("d".into(), "d".into())]);
    }
}
