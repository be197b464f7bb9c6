//! Logs of any application, through rules in `perfgate.toml`: `[[sources.pattern]]` (a regex
//! with named groups `handler` and `duration`, optional `unit`, `plugin`, `ts`) and
//! `[[sources.json]]` (JSON lines, with the fields that hold the handler, the duration and the
//! rest). A matching line is a whole sample — there is no beat to track. Rules are tried on the
//! raw line (after `\r\n`), after the conductor's own recognition, in the order written.

use std::borrow::Cow;

use regex::bytes::{CaptureLocations, Regex};
use serde::Deserialize;

use super::{Event, Txt};
use crate::timestamp;

/// Raw `[[sources.pattern]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPattern {
    pub name: Option<String>,
    pub regex: String,
    pub unit: Option<String>,
    pub plugin: Option<String>,
    pub files: Option<String>,
    pub prefilter: Option<String>,
    #[serde(default)]
    pub normalize: Vec<RawNormalize>,
}

/// Raw `[[sources.json]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJson {
    pub name: Option<String>,
    pub handler: String,
    pub duration: String,
    pub unit: Option<String>,
    pub unit_field: Option<String>,
    pub plugin: Option<String>,
    pub plugin_field: Option<String>,
    pub timestamp: Option<String>,
    pub files: Option<String>,
    #[serde(default)]
    pub normalize: Vec<RawNormalize>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNormalize {
    #[serde(rename = "match")]
    pub pattern: String,
    pub replace: String,
}

/// A duration unit, as a factor to milliseconds (the same units everywhere: [`super::unit_factor`]).
fn unit_factor(u: &str) -> Option<f64> {
    super::unit_factor(u.trim().as_bytes())
}

#[derive(Debug, Clone)]
struct Normalize {
    regex: regex::Regex,
    replace: String,
}

// A handful of rules per run: their size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
enum Kind {
    Regex {
        regex: Regex,
        prefilter: Option<memchr::memmem::Finder<'static>>,
        handler: usize,
        duration: usize,
        unit: Option<usize>,
        plugin: Option<usize>,
        ts: Option<usize>,
    },
    Json {
        handler: Vec<String>,
        duration: Vec<String>,
        unit_field: Option<Vec<String>>,
        plugin_field: Option<Vec<String>>,
        timestamp: Option<Vec<String>>,
    },
}

/// One compiled rule.
#[derive(Debug, Clone)]
pub struct UserRule {
    /// `sources.pattern[2]` / `sources.json[1]`, or the rule's `name`.
    pub label: String,
    kind: Kind,
    unit: f64,
    plugin: Option<String>,
    files: Option<glob::Pattern>,
    normalize: Vec<Normalize>,
}

/// The rules of a config.
#[derive(Debug, Clone, Default)]
pub struct UserRules {
    pub rules: Vec<UserRule>,
}

impl UserRules {
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Compiles the rules; errors name the key (`sources.pattern[2].regex`).
    pub fn compile(patterns: &[RawPattern], json: &[RawJson]) -> Result<UserRules, String> {
        let mut rules = Vec::new();
        for (i, p) in patterns.iter().enumerate() {
            let key = format!("sources.pattern[{}]", i + 1);
            let regex = Regex::new(&p.regex).map_err(|e| format!("{key}.regex: invalid regular expression: {e}"))?;
            let group = |name: &str| regex.capture_names().position(|n| n == Some(name));
            let handler = group("handler").ok_or_else(|| format!("{key}.regex: needs a named group (?P<handler>…)"))?;
            let duration = group("duration").ok_or_else(|| format!("{key}.regex: needs a named group (?P<duration>…)"))?;
            let prefilter = match &p.prefilter {
                Some(lit) if lit.is_empty() => None,
                Some(lit) => Some(lit.clone()),
                None => required_literal(&p.regex),
            };
            rules.push(UserRule {
                label: p.name.clone().unwrap_or(key.clone()),
                kind: Kind::Regex {
                    prefilter: prefilter.map(|l| memchr::memmem::Finder::new(l.as_bytes()).into_owned()),
                    handler,
                    duration,
                    unit: group("unit"),
                    plugin: group("plugin"),
                    ts: group("ts"),
                    regex,
                },
                unit: unit_of(&key, p.unit.as_deref())?,
                plugin: p.plugin.clone(),
                files: files_of(&key, p.files.as_deref())?,
                normalize: normalize_of(&key, &p.normalize)?,
            });
        }
        for (i, j) in json.iter().enumerate() {
            let key = format!("sources.json[{}]", i + 1);
            let path = |v: &str| v.split('.').map(str::to_owned).collect::<Vec<_>>();
            if j.handler.is_empty() || j.duration.is_empty() {
                return Err(format!("{key}: `handler` and `duration` name the JSON fields to read"));
            }
            rules.push(UserRule {
                label: j.name.clone().unwrap_or(key.clone()),
                kind: Kind::Json {
                    handler: path(&j.handler),
                    duration: path(&j.duration),
                    unit_field: j.unit_field.as_deref().map(path),
                    plugin_field: j.plugin_field.as_deref().map(path),
                    timestamp: j.timestamp.as_deref().map(path),
                },
                unit: unit_of(&key, j.unit.as_deref())?,
                plugin: j.plugin.clone(),
                files: files_of(&key, j.files.as_deref())?,
                normalize: normalize_of(&key, &j.normalize)?,
            });
        }
        Ok(UserRules { rules })
    }

    /// The rules that apply to a file.
    pub fn for_file(&self, path: &str) -> Vec<&UserRule> {
        let name = std::path::Path::new(path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        self.rules.iter().filter(|r| r.files.as_ref().is_none_or(|g| g.matches(&name) || g.matches(path))).collect()
    }
}

fn unit_of(key: &str, unit: Option<&str>) -> Result<f64, String> {
    match unit {
        None => Ok(1.0),
        Some(u) => unit_factor(u).ok_or_else(|| format!("{key}.unit: unknown unit {u:?} (ns, us, µs, ms, s)")),
    }
}

fn files_of(key: &str, files: Option<&str>) -> Result<Option<glob::Pattern>, String> {
    files.map(|f| glob::Pattern::new(f).map_err(|e| format!("{key}.files: invalid glob {f:?}: {e}"))).transpose()
}

/// The longest handler name a `normalize` rule may write, in bytes: names are keys that every
/// report, the baseline and the gate repeat, and an app's handler names are tens of bytes.
pub const MAX_NAME: usize = 1024;

/// Compiles the `normalize` rules of `key`. What can be known before reading is checked here: a
/// replacement longer than [`MAX_NAME`], or a non-empty one for a pattern that matches the empty
/// string (it would be written between every two characters, and chained rules multiply that).
/// A replacement that can still grow a name (`$1$1`…) is bounded as it runs: see [`recognize`].
fn normalize_of(key: &str, rules: &[RawNormalize]) -> Result<Vec<Normalize>, String> {
    rules
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let at = format!("{key}.normalize[{}]", i + 1);
            let regex = regex::Regex::new(&n.pattern).map_err(|e| format!("{at}.match: invalid regular expression: {e}"))?;
            if n.replace.len() > MAX_NAME {
                return Err(format!("{at}.replace: {} bytes, longer than a handler name may be ({MAX_NAME} bytes)", n.replace.len()));
            }
            // `^` or `$` match the empty string once; `x*` between every two characters.
            let empty_matches = |probe: &str| regex.find_iter(probe).filter(|m| m.is_empty()).count();
            if !n.replace.is_empty() && ["ab", "a b", "a/1", "1.1"].iter().any(|p| empty_matches(p) > 1) {
                return Err(format!(
                    "{at}.match: {:?} matches the empty string between characters, so the replacement would be written between every two characters of a name; match at least one character",
                    n.pattern
                ));
            }
            Ok(Normalize { regex, replace: n.replace.clone() })
        })
        .collect()
}

/// A literal every match must contain, read off the pattern's text when that is safe: the
/// longest run of plain characters outside any group, class or escape, not made optional by a
/// quantifier, in a pattern without a top-level alternation. `None` when unsure (the regex
/// engine still has its own prefilters).
pub fn required_literal(pattern: &str) -> Option<String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut best = String::new();
    let mut run = String::new();
    let mut depth = 0usize;
    let mut i = 0;
    let flush = |run: &mut String, best: &mut String| {
        if run.trim().len() > best.trim().len() {
            *best = run.clone();
        }
        run.clear();
    };
    while i < chars.len() {
        let c = chars[i];
        let quantified = matches!(chars.get(i + 1), Some('?' | '*' | '{'));
        match c {
            '\\' => {
                flush(&mut run, &mut best);
                i += 1;
            }
            '[' => {
                flush(&mut run, &mut best);
                while i < chars.len() && chars[i] != ']' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
            }
            '(' => {
                flush(&mut run, &mut best);
                depth += 1;
            }
            ')' => {
                flush(&mut run, &mut best);
                depth = depth.saturating_sub(1);
            }
            '|' if depth == 0 => return None,
            c if depth == 0 && !quantified && (c.is_alphanumeric() || " :=/-_,;#@".contains(c)) => run.push(c),
            _ => flush(&mut run, &mut best),
        }
        i += 1;
    }
    flush(&mut run, &mut best);
    let best = best.trim().to_owned();
    (best.len() >= 3).then_some(best)
}

/// Scratch space for matching (one per thread).
pub struct Scratch {
    /// Per rule: a clone of its regex (each clone has its own cache, so threads do not contend
    /// for one) and its capture slots.
    regexes: Vec<Option<(Regex, CaptureLocations)>>,
    /// Per rule: clones of its `normalize` regexes.
    normalize: Vec<Vec<regex::Regex>>,
}

impl Scratch {
    pub fn new(rules: &[&UserRule]) -> Self {
        Scratch {
            regexes: rules
                .iter()
                .map(|r| match &r.kind {
                    Kind::Regex { regex, .. } => Some((regex.clone(), regex.capture_locations())),
                    Kind::Json { .. } => None,
                })
                .collect(),
            normalize: rules.iter().map(|r| r.normalize.iter().map(|n| n.regex.clone()).collect()).collect(),
        }
    }
}

/// The first rule that turns `line` into a sample.
pub fn recognize<'a>(rules: &[&'a UserRule], scratch: &mut Scratch, line: &'a [u8]) -> Option<Event<'a>> {
    for (i, rule) in rules.iter().enumerate() {
        let found = match &rule.kind {
            Kind::Regex { prefilter, handler, duration, unit, plugin, ts, .. } => {
                if prefilter.as_ref().is_some_and(|f| f.find(line).is_none()) {
                    continue;
                }
                let (regex, locs) = scratch.regexes[i].as_mut().expect("a regex rule has its regex");
                if regex.captures_read(locs, line).is_none() {
                    continue;
                }
                let get = |g: usize| locs.get(g).map(|(a, b)| &line[a..b]);
                let (Some(h), Some(d)) = (get(*handler), get(*duration)) else { continue };
                // The rule matched: a duration that is not one (digits that are not one number,
                // an unknown unit) is rejected and counted, not read as something else.
                let factor = match unit.and_then(get) {
                    Some(u) => std::str::from_utf8(u).ok().and_then(unit_factor).unwrap_or(f64::NAN),
                    None => rule.unit,
                };
                let ms = match super::number(d) {
                    Some((ms, n)) if n == d.len() => ms,
                    _ => f64::NAN,
                };
                Found {
                    handler: super::txt(h),
                    ms: ms * factor,
                    plugin: plugin.and_then(get).map(super::txt),
                    ts: ts.and_then(get).and_then(parse_ts),
                }
            }
            Kind::Json { handler, duration, unit_field, plugin_field, timestamp } => {
                let start = line.iter().position(|b| !b.is_ascii_whitespace());
                if start.is_none_or(|s| line[s] != b'{') {
                    continue;
                }
                let value = match serde_json::from_slice::<serde_json::Value>(line) {
                    Ok(v) => v,
                    // `"ms": 1e400`: a duration that is not a finite number. The line is this
                    // rule's (valid JSON but for the number), so it is rejected, not ignored.
                    Err(e) if e.to_string().starts_with("number out of range") => {
                        return Some(Event::Sample { handler: Cow::Borrowed(""), plugin: None, ms: f64::INFINITY, ts: None });
                    }
                    Err(_) => continue,
                };
                let field = |path: &[String]| path.iter().try_fold(&value, |v, k| v.get(k));
                let Some(h) =
                    field(handler).and_then(|v| v.as_str().map(Cow::Borrowed).or_else(|| v.as_i64().map(|n| Cow::Owned(n.to_string()))))
                else {
                    continue;
                };
                let Some(d) = field(duration).and_then(|v| v.as_f64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))) else {
                    continue;
                };
                let factor = match unit_field.as_ref().and_then(|p| field(p)).and_then(|v| v.as_str()) {
                    Some(u) => match unit_factor(u) {
                        Some(f) => f,
                        None => continue,
                    },
                    None => rule.unit,
                };
                Found {
                    handler: Cow::Owned(h.into_owned()),
                    ms: d * factor,
                    plugin: plugin_field.as_ref().and_then(|p| field(p)).and_then(|v| v.as_str()).map(|p| Cow::Owned(p.to_owned())),
                    ts: timestamp.as_ref().and_then(|p| field(p)).and_then(|v| v.as_str()).and_then(|s| parse_ts(s.as_bytes())),
                }
            }
        };
        let mut handler = found.handler;
        for (k, (n, regex)) in rule.normalize.iter().zip(&scratch.normalize[i]).enumerate() {
            if let Cow::Owned(replaced) = regex.replace_all(&handler, n.replace.as_str()) {
                // Chained rules can multiply a name's length (a match of the empty string puts
                // the replacement between every two characters): each output is bounded.
                if replaced.len() > MAX_NAME {
                    return Some(Event::NameTooLong { rule: Cow::Borrowed(rule.label.as_str()), normalize: k + 1, len: replaced.len() });
                }
                handler = Cow::Owned(replaced);
            }
        }
        let plugin = found.plugin.or_else(|| rule.plugin.as_deref().map(Cow::Borrowed));
        return Some(Event::Sample { handler, plugin, ms: found.ms, ts: found.ts });
    }
    None
}

struct Found<'a> {
    handler: Txt<'a>,
    ms: f64,
    plugin: Option<Txt<'a>>,
    ts: Option<i64>,
}

fn parse_ts(b: &[u8]) -> Option<i64> {
    timestamp::parse_iso(b).map(|t| t.0).or_else(|| timestamp::parse_serilog(b))
}

/// What `--explain` prints for a line.
pub fn explain(rules: &UserRules, line: &str) -> String {
    let bytes = line.trim_end_matches(['\r', '\n']).as_bytes();
    let peeled = super::envelope::peel(bytes);
    if let Some(e) = super::conductor::recognize(peeled.message) {
        let ts = peeled.ts().map_or("none".to_owned(), timestamp::format_iso);
        return format!("a Musical Conductor line: {}\ntimestamp: {ts}\n", e.describe());
    }
    for rule in &rules.rules {
        let one = [rule];
        let mut scratch = Scratch::new(&one);
        let event = recognize(&one, &mut scratch, bytes);
        if let Some(e @ Event::NameTooLong { .. }) = &event {
            return format!("matched by the rule {}, but {}\n", rule.label, e.describe());
        }
        if let Some(Event::Sample { handler, plugin, ms, ts }) = event {
            return format!(
                "matched by the rule {}: handler {handler:?}, plugin {}, duration {ms} ms, timestamp {}\n",
                rule.label,
                plugin.as_deref().map_or("none".to_owned(), |p| format!("{p:?}")),
                ts.map_or("none".to_owned(), timestamp::format_iso)
            );
        }
    }
    format!("not recognized: no conductor message, and none of the {} configured rule(s) matched\n", rules.rules.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(toml_text: &str) -> Result<UserRules, String> {
        #[derive(Deserialize)]
        struct S {
            #[serde(default)]
            pattern: Vec<RawPattern>,
            #[serde(default)]
            json: Vec<RawJson>,
        }
        let s: S = toml::from_str(toml_text).unwrap();
        UserRules::compile(&s.pattern, &s.json)
    }

    fn sample(r: &UserRules, line: &str) -> Option<(String, Option<String>, f64)> {
        let all: Vec<&UserRule> = r.rules.iter().collect();
        let mut scratch = Scratch::new(&all);
        match recognize(&all, &mut scratch, line.as_bytes())? {
            Event::Sample { handler, plugin, ms, .. } => Some((handler.into_owned(), plugin.map(Cow::into_owned), ms)),
            _ => None,
        }
    }

    #[test]
    fn regex_rules_with_units_and_normalization() {
        let r = rules(
            r#"
[[pattern]]
regex = '(?P<handler>(?:GET|POST) \S+) handled in (?P<duration>[\d.]+) ?(?P<unit>ms|s|us|µs)'
plugin = "api"
[[pattern.normalize]]
match = '/\d+'
replace = '/{id}'
"#,
        )
        .unwrap();
        assert_eq!(sample(&r, "GET /users/42 handled in 12.5 ms"), Some(("GET /users/{id}".into(), Some("api".into()), 12.5)));
        assert_eq!(sample(&r, "POST /orders handled in 1.2s"), Some(("POST /orders".into(), Some("api".into()), 1200.0)));
        assert_eq!(sample(&r, "GET /x handled in 250µs"), Some(("GET /x".into(), Some("api".into()), 0.25)));
        assert_eq!(sample(&r, "GET /x handled in 3 fortnights"), None);
    }

    #[test]
    fn json_rules() {
        let r = rules("[[json]]\nhandler = \"route\"\nduration = \"timing.ms\"\nplugin_field = \"svc\"\ntimestamp = \"ts\"\n").unwrap();
        assert_eq!(
            sample(&r, r#"{"route":"users.get","timing":{"ms":12.5},"svc":"users","ts":"2025-01-01T00:00:00.000Z"}"#),
            Some(("users.get".into(), Some("users".into()), 12.5))
        );
        assert_eq!(sample(&r, r#"{"route":"users.get"}"#), None);
        assert_eq!(sample(&r, "not json"), None);
        assert_eq!(sample(&r, r#"{"route":"x","timing":{"ms":"7"}}"#), Some(("x".into(), None, 7.0)));
    }

    #[test]
    fn errors_name_the_key() {
        assert!(
            rules("[[pattern]]\nregex = '(?P<handler>\\w+)'\n")
                .unwrap_err()
                .contains("sources.pattern[1].regex: needs a named group (?P<duration>")
        );
        assert!(rules("[[pattern]]\nregex = '(unclosed'\n").unwrap_err().contains("sources.pattern[1].regex: invalid regular expression"));
        assert!(
            rules("[[pattern]]\nregex = '(?P<handler>\\w+) (?P<duration>\\d+)'\nunit = \"fortnight\"\n")
                .unwrap_err()
                .contains("sources.pattern[1].unit: unknown unit")
        );
        assert!(rules("[[json]]\nhandler = \"h\"\nduration = \"d\"\nunit = \"h\"\n").unwrap_err().contains("sources.json[1].unit"));
    }

    #[test]
    fn derived_prefilters() {
        assert_eq!(required_literal(r"(?P<handler>\S+) handled in (?P<duration>\d+)").as_deref(), Some("handled in"));
        assert_eq!(required_literal(r"handler=(?P<handler>\S+) elapsed_ms=(?P<duration>[\d.]+)").as_deref(), Some("elapsed_ms="));
        assert_eq!(required_literal(r"(?P<handler>a|b) (?P<duration>\d+)"), None);
        assert_eq!(required_literal(r"(?P<handler>\w+)(?: took)? (?P<duration>\d+)"), None);
        assert_eq!(
            required_literal(r"^(?P<ts>\S+) \w+ (?P<handler>(?:GET|POST) \S+) \d{3} handled in (?P<duration>[\d.]+) ?ms").as_deref(),
            Some("handled in")
        );
        assert_eq!(required_literal(r"GET (?P<handler>\S+)|POST (?P<duration>\d+)"), None);
        assert_eq!(required_literal(r"tookx? (?P<handler>\S+) (?P<duration>\d+)").as_deref(), Some("took"));
    }
}
