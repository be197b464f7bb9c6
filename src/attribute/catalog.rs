//! Sequence catalogs (HANDLER-MAPPING.md §2–3): the `json-sequences/**/*.json` files that say
//! which plugin's handler runs each beat. Loading is strict about JSON syntax (a malformed file
//! is an error naming its line and column) and tolerant about shape: web runtime sequences and
//! orchestration symphonies (§2.4) are read, other JSON (configs) is skipped and counted;
//! unknown keys are ignored; the top-level integer `beats` of HEAD files is not confused with
//! `movements[].beats[]`.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::Error;

#[derive(Debug, Clone, PartialEq)]
pub struct CatalogBeat {
    /// The beat's number; in an orchestration symphony (no numbers), its position in its
    /// movement, as the build-pipeline console numbers it.
    pub beat: u32,
    /// Empty in an orchestration symphony (its beats have no event).
    pub event: String,
    pub title: Option<String>,
    pub handler: Option<String>,
    pub kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sequence {
    pub id: String,
    pub name: String,
    pub plugin: String,
    /// The catalog file that defined it.
    pub path: PathBuf,
    /// `handlersPath` from the sibling `index.json`, when listed there.
    pub handlers_path: Option<String>,
    pub beats: Vec<CatalogBeat>,
}

/// A beat of the catalog, by (sequence index, beat index).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BeatRef {
    pub sequence: usize,
    pub beat: usize,
}

#[derive(Debug, Default)]
pub struct Catalog {
    pub sequences: Vec<Sequence>,
    // FxHash: looked up for every beat attributed.
    by_id: rustc_hash::FxHashMap<String, usize>,
    /// The sequences whose id is `X-symphony`, by `X` (the sequence player's id): found without
    /// making the string.
    by_stem: rustc_hash::FxHashMap<String, usize>,
    by_name: rustc_hash::FxHashMap<String, usize>,
    by_event: rustc_hash::FxHashMap<String, Vec<BeatRef>>,
    /// JSON files read.
    pub files: usize,
    /// JSON files that were valid but not a runtime sequence (index files excluded).
    pub skipped: usize,
    /// Sequence ids defined twice (first definition kept).
    pub duplicates: usize,
}

const SKIP_DIRS: [&str; 4] = ["node_modules", ".git", "target", ".perfgate"];

impl Catalog {
    /// Every `json-sequences/**/*.json` below `root` (the default catalog).
    pub fn discover(root: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        walk_json(root, false, &mut out);
        out.sort();
        out
    }

    /// Loads catalog paths: files, or directories (every `*.json` below them).
    pub fn load(paths: &[PathBuf]) -> Result<Catalog, Error> {
        let mut files = Vec::new();
        for p in paths {
            if p.is_dir() {
                let mut found = Vec::new();
                walk_json(p, true, &mut found);
                found.sort();
                files.extend(found);
            } else if p.is_file() {
                files.push(p.clone());
            } else {
                return Err(Error::Catalog { path: p.clone(), message: "no such file or directory".into() });
            }
        }
        let mut catalog = Catalog::default();
        let mut handlers_paths: HashMap<PathBuf, String> = HashMap::new();
        let mut sequences = Vec::new();
        for file in files {
            let bytes = std::fs::read(&file).map_err(|e| Error::Catalog { path: file.clone(), message: e.to_string() })?;
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
            let value: Value = serde_json::from_slice(bytes)
                .map_err(|e| Error::Catalog { path: file.clone(), message: format!("line {}, column {}: {e}", e.line(), e.column()) })?;
            catalog.files += 1;
            if let Some(entries) = index_entries(&value) {
                let dir = file.parent().unwrap_or(Path::new(""));
                for (name, hp) in entries {
                    handlers_paths.insert(dir.join(name), hp);
                }
            } else if let Some(seq) = sequence(&value, &file) {
                sequences.push(seq);
            } else {
                catalog.skipped += 1;
            }
        }
        for mut seq in sequences {
            seq.handlers_path = handlers_paths.get(&seq.path).cloned();
            catalog.add(seq);
        }
        Ok(catalog)
    }

    fn add(&mut self, seq: Sequence) {
        if self.by_id.contains_key(&seq.id) {
            self.duplicates += 1;
            return;
        }
        let idx = self.sequences.len();
        self.by_id.insert(seq.id.clone(), idx);
        if let Some(stem) = seq.id.strip_suffix("-symphony") {
            self.by_stem.insert(stem.to_owned(), idx);
        }
        self.by_name.entry(seq.name.clone()).or_insert(idx);
        for (b, beat) in seq.beats.iter().enumerate().filter(|(_, b)| !b.event.is_empty()) {
            self.by_event.entry(beat.event.clone()).or_default().push(BeatRef { sequence: idx, beat: b });
        }
        self.sequences.push(seq);
    }

    pub fn beat(&self, r: BeatRef) -> &CatalogBeat {
        &self.sequences[r.sequence].beats[r.beat]
    }

    /// The sequence an execution ran: by id, else by display name. The sequence player's
    /// reports give ids without the `-symphony` suffix (H24): `canvas-component-create`.
    pub fn sequence_of(&self, id: Option<&str>, name: Option<&str>) -> Option<usize> {
        id.and_then(|i| self.by_id.get(i).or_else(|| self.by_stem.get(i))).or_else(|| name.and_then(|n| self.by_name.get(n))).copied()
    }

    /// The sequence that holds every title of `beats` (beat N, title), for inputs that name
    /// their beats by title alone (`- Beat 1 (Resolve Template): 8ms`, the build console's
    /// `[BEAT 1] Starting: Load Build Context`). Titles compare without case. The one sequence
    /// that holds all the titles; when several do, the one whose numbers also agree; else the
    /// one where every title equals or abbreviates its beat's title ([`abbreviates`]: a
    /// diagnosis report writes `Render React` for `Render React Component`) and every number
    /// agrees. Several that fit as well as each other: [`TitleMatch::Several`].
    pub fn sequence_of_titles(&self, beats: &[(u32, &str)]) -> TitleMatch {
        if beats.is_empty() {
            return TitleMatch::None;
        }
        let fits = |fit: &TitleFit| -> Vec<usize> {
            let holds = |s: &Sequence| beats.iter().all(|(n, t)| s.beats.iter().any(|b| fit(b, *n, t)));
            self.sequences.iter().enumerate().filter(|(_, s)| holds(s)).map(|(i, _)| i).collect()
        };
        let levels: [&TitleFit; 3] =
            [&|b, _, t| title_is(b, t), &|b, n, t| title_is(b, t) && b.beat == n, &|b, n, t| b.beat == n && title_fits(b, t)];
        let mut several = Vec::new();
        for level in levels {
            match fits(level).as_slice() {
                [one] => return TitleMatch::One(*one),
                [] => {}
                many => several = many.to_vec(),
            }
        }
        if several.is_empty() { TitleMatch::None } else { TitleMatch::Several(several) }
    }

    /// The catalog beat of (sequence, beat N, event, title): by (N, event); by event alone when
    /// the numbers drifted (H23); a sequence player's short event (`resolve-template`, no `:`
    /// or `.`, H24) by (N, event suffix), else by N; by (N, title), then title; by N alone when
    /// nothing else is known and N is unique (H3: two beat 3s need the event).
    pub fn beat_in(&self, sequence: usize, beat: u32, event: Option<&str>, title: Option<&str>) -> Option<BeatRef> {
        let beats = &self.sequences[sequence].beats;
        let unique = |pred: &dyn Fn(&CatalogBeat) -> bool| {
            only(beats.iter().enumerate().filter(|(_, b)| pred(b))).map(|(i, _)| BeatRef { sequence, beat: i })
        };
        match (event, title) {
            (Some(e), _) if e.contains([':', '.']) => unique(&|b| b.beat == beat && b.event == e).or_else(|| unique(&|b| b.event == e)),
            (Some(e), _) => {
                // The event, or one that ends with `:` and it.
                let ends = |b: &CatalogBeat| b.event.strip_suffix(e).is_some_and(|head| head.is_empty() || head.ends_with(':'));
                unique(&|b| b.beat == beat && ends(b)).or_else(|| unique(&ends)).or_else(|| unique(&|b| b.beat == beat))
            }
            (None, Some(t)) => unique(&|b| b.beat == beat && title_is(b, t))
                .or_else(|| unique(&|b| title_is(b, t)))
                .or_else(|| unique(&|b| b.beat == beat && title_fits(b, t))),
            (None, None) => unique(&|b| b.beat == beat),
        }
    }

    /// A beat identified by its event alone, when every catalog beat with that event (and, if
    /// given, that number) runs the same (plugin, handler) — H12: `control:panel:ui:init:*`
    /// belong to two sequences with the same handlers.
    pub fn beat_by_event(&self, event: &str, beat: Option<u32>) -> Option<BeatRef> {
        let refs: Vec<BeatRef> =
            self.by_event.get(event)?.iter().copied().filter(|r| beat.is_none_or(|n| self.beat(*r).beat == n)).collect();
        let identities: BTreeSet<(&str, Option<&str>)> =
            refs.iter().map(|r| (self.sequences[r.sequence].plugin.as_str(), self.beat(*r).handler.as_deref())).collect();
        (identities.len() == 1).then(|| refs[0])
    }
}

fn walk_json(dir: &Path, all: bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else { continue };
        let name = entry.file_name();
        if kind.is_dir() {
            if SKIP_DIRS.iter().any(|s| name == *s) {
                continue;
            }
            walk_json(&path, all || name == "json-sequences", out);
        } else if all && path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

/// `{"version", "sequences":[{"file","handlersPath"}]}`.
fn index_entries(v: &Value) -> Option<Vec<(String, String)>> {
    let list = v.get("sequences")?.as_array()?;
    if v.get("movements").is_some() {
        return None;
    }
    Some(list.iter().filter_map(|e| Some((e.get("file")?.as_str()?.to_owned(), e.get("handlersPath")?.as_str()?.to_owned()))).collect())
}

/// The one item of `it`; `None` when it has none or several.
fn only<T>(mut it: impl Iterator<Item = T>) -> Option<T> {
    match (it.next(), it.next()) {
        (Some(x), None) => Some(x),
        _ => None,
    }
}

fn title_is(b: &CatalogBeat, title: &str) -> bool {
    b.title.as_deref().is_some_and(|t| t.trim().eq_ignore_ascii_case(title.trim()))
}

fn title_fits(b: &CatalogBeat, title: &str) -> bool {
    b.title.as_deref().is_some_and(|t| abbreviates(title, t))
}

/// Whether `short` is `full` or an abbreviation of it: its words (without case) are the first
/// words of `full` once a parenthesized suffix is taken off (`Render React` of `Render React
/// Component`, `Enhance Line` of `Enhance Line (Advanced)`). Whole words only: `Render Re` is
/// none of `Render React`.
pub fn abbreviates(short: &str, full: &str) -> bool {
    let full = full.trim();
    if full.eq_ignore_ascii_case(short.trim()) {
        return true;
    }
    let full = match full.strip_suffix(')').and_then(|f| f.rfind(" (").map(|at| &f[..at])) {
        Some(stem) if !stem.trim().is_empty() => stem,
        _ => full,
    };
    let mut words = full.split_whitespace();
    let mut any = false;
    for w in short.split_whitespace() {
        any = true;
        if !words.next().is_some_and(|f| f.eq_ignore_ascii_case(w)) {
            return false;
        }
    }
    any
}

/// How a title of a block fits a catalog beat (beat, its number in the block, its title).
type TitleFit = dyn Fn(&CatalogBeat, u32, &str) -> bool;

/// What a block of beat titles names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TitleMatch {
    One(usize),
    /// Catalog sequences that fit the titles equally well: the block stays unmapped.
    Several(Vec<usize>),
    None,
}

/// A web runtime sequence (`pluginId`, `id`, beats with `beat` and `event`), or an
/// orchestration symphony (HANDLER-MAPPING.md §2.4: `id` or `sequenceId`, beats with `name`
/// and no number or event, handler objects `{"name": "module#function", "scope", "kind"}`;
/// its plugin is the handlers' `scope`, else the `packageName`, else `orchestration`).
fn sequence(v: &Value, path: &Path) -> Option<Sequence> {
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    let id = text(v, "id").or_else(|| text(v, "sequenceId"))?;
    let name = text(v, "name").or_else(|| text(v, "title")).unwrap_or_else(|| id.clone());
    let mut scope = None;
    let mut beats = Vec::new();
    for movement in v.get("movements")?.as_array()? {
        let list = movement.get("beats").and_then(Value::as_array).into_iter().flatten();
        for (position, b) in list.enumerate() {
            let handler = match b.get("handler") {
                Some(Value::String(h)) => Some(h.clone()),
                Some(Value::Object(o)) => {
                    scope = scope.or_else(|| o.get("scope").and_then(Value::as_str).map(str::to_owned));
                    o.get("name").and_then(Value::as_str).map(str::to_owned)
                }
                _ => None,
            };
            let (n, event) = match (b.get("beat").and_then(Value::as_u64), b.get("event").and_then(Value::as_str)) {
                (Some(n), Some(event)) => (u32::try_from(n).ok()?, event.to_owned()),
                (None, None) if b.get("name").is_some_and(Value::is_string) => (u32::try_from(position + 1).ok()?, String::new()),
                _ => continue,
            };
            beats.push(CatalogBeat { beat: n, event, title: text(b, "title").or_else(|| text(b, "name")), handler, kind: text(b, "kind") });
        }
    }
    let plugin = text(v, "pluginId").or(scope).or_else(|| text(v, "packageName")).unwrap_or_else(|| "orchestration".into());
    (!beats.is_empty()).then(|| Sequence { id, name, plugin, path: path.to_path_buf(), handlers_path: None, beats })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_abbreviate_by_whole_leading_words() {
        assert!(abbreviates("Render React", "Render React Component"));
        assert!(abbreviates("render react", "Render React Component"));
        assert!(abbreviates("Enhance Line", "Enhance Line (Advanced)"));
        assert!(abbreviates("Enhance", "Enhance Line (Advanced)"));
        assert!(abbreviates("Enhance Line (Advanced)", "Enhance Line (Advanced)"));
        assert!(abbreviates("Notify UI", "Notify UI"));
        assert!(!abbreviates("Render Re", "Render React"));
        assert!(!abbreviates("React", "Render React Component"));
        assert!(!abbreviates("Render React Component Now", "Render React Component"));
        assert!(!abbreviates("", "Render React"));
        assert!(!abbreviates("Line (Advanced)", "Enhance Line (Advanced)"));
    }
}
