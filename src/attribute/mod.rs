//! Attribution: from the bytes of each file to beat outcomes ([`tracker`]), then from beats to
//! handlers (LOG-FORMATS.md §3 step 5): the sequence [`catalog`] first, the log's own
//! handler-level DataBaton lines (or a report's `Handler:` field) second, and otherwise the beat
//! is reported as *unmapped* under `sequence-id#N event` — never dropped.

pub mod catalog;
pub mod drill;
mod handlers_map;
pub mod hints;
pub mod read;
pub mod source;
pub mod tracker;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use catalog::{BeatRef, Catalog};
use hints::Hints;
use source::{SourceIndex, SourceRef};
use tracker::{BeatOutcome, BeatRecord, ExecutionInfo, FileTrace, OrphanRecord, TimedBy, Tracker};

use crate::input::Document;
pub use crate::input::InputFormat;
use crate::parse::{self, Location, frames, markdown::MarkdownParser};

/// One file, read as its format.
#[derive(Debug, Clone)]
pub struct Traced {
    pub format: InputFormat,
    pub lines: u64,
    pub trace: FileTrace,
    /// A reason the file could not be read as its format (e.g. invalid JSON at line:column).
    pub problem: Option<String>,
    /// The text holds NUL bytes (binary, or UTF-16 without a byte-order mark).
    pub binary: bool,
}

/// Traces a document that `input` read whole, decoded and repaired (its format detected
/// there): its beats are whole, so the tracker only collects them.
pub fn trace_document(text: &[u8], format: Document, file: u32) -> Traced {
    let mut tracker = Tracker::new();
    let mut problem = None;
    let all_lines = || parse::lines(text).count() as u64;
    let lines = match format {
        Document::Markdown => read_report(text, &mut MarkdownParser::default(), &mut tracker, file),
        Document::Build => read_report(text, &mut parse::build::BuildParser::default(), &mut tracker, file),
        Document::PlayerReport => {
            match parse::player::beats(text) {
                Ok(beats) => {
                    for b in beats {
                        let line = b.line;
                        tracker.feed(parse::Event::Reported(Box::new(b)), None, Location { file, line });
                    }
                }
                Err(e) => problem = Some(format!("not a valid sequence player report: {e}")),
            }
            all_lines()
        }
        Document::OtherJson => {
            problem = Some("a JSON file that is not a frames export (`{\"frames\":[…]}`): it has no beat durations to read".to_owned());
            all_lines()
        }
        Document::Frames => {
            let result = frames::for_each_event(text, |ordinal, ts, event| {
                tracker.feed(event, ts, Location { file, line: ordinal });
            });
            if let Err(e) = result {
                problem = Some(format!("not a valid frames export: line {}, column {}: {e}", e.line(), e.column()));
            }
            all_lines()
        }
    };
    Traced { format: format.format(), lines, trace: tracker.finish(Vec::new()), problem, binary: memchr::memchr(0, text).is_some() }
}

/// Feeds the beats of a report read line by line to `tracker`; returns the lines read.
fn read_report(text: &[u8], report: &mut dyn parse::LineReport, tracker: &mut Tracker, file: u32) -> u64 {
    let mut feed = |e: parse::Event<'static>| {
        let line = match &e {
            parse::Event::Reported(b) => b.line,
            _ => 0,
        };
        tracker.feed(e, None, Location { file, line });
    };
    let mut lines = 0;
    for (no, line) in parse::lines(text) {
        lines += 1;
        report.line(no, line, &mut feed);
    }
    report.finish(&mut feed);
    lines
}

/// A handler's identity: `(plugin, handler)`. Unmapped beats use an empty plugin unless the
/// log named the plugin that played the sequence, and `sequence-id#N event` as the name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HandlerKey {
    pub plugin: String,
    pub name: String,
}

impl HandlerKey {
    /// `Plugin.handler`, or the bare name when the plugin is unknown — written so that no two
    /// handlers share it (the string every report, the baseline and the gate key a handler by):
    /// a `.` or `\` inside the plugin, or inside a name without a plugin, is written `\.` or
    /// `\\`. Plugin `api` with handler `users.get` is `api.users.get`; plugin `api.users` with
    /// handler `get` is `api\.users.get`; handler `users.get` of no plugin is `users\.get`.
    pub fn display(&self) -> String {
        fn escaped(s: &str) -> std::borrow::Cow<'_, str> {
            if s.contains(['.', '\\']) { s.replace('\\', "\\\\").replace('.', "\\.").into() } else { s.into() }
        }
        if self.plugin.is_empty() { escaped(&self.name).into_owned() } else { format!("{}.{}", escaped(&self.plugin), self.name) }
    }
}

/// How a handler was named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mapping {
    Catalog,
    Log,
    Report,
    /// Named by a user rule (`[[sources.pattern]]`, `[[sources.json]]`).
    Pattern,
    Unmapped,
}

/// One beat execution, for drill-down.
#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    pub ts: Option<i64>,
    pub sequence: Option<Arc<str>>,
    pub beat: u32,
    pub event: Option<Arc<str>>,
    pub request: Option<Arc<str>>,
    pub ms: f64,
    pub source: TimedBy,
    pub at: Location,
}

/// A beat that produced no sample.
#[derive(Debug, Clone, PartialEq)]
pub struct BeatIssue {
    pub failed: bool,
    pub ts: Option<i64>,
    pub sequence: Option<Arc<str>>,
    pub beat: u32,
    pub event: Option<Arc<str>>,
    pub at: Location,
}

#[derive(Debug, Clone)]
pub struct HandlerData {
    /// Where its first beat was attributed (the line named when it passes `max_handlers`).
    pub first: Location,
    pub mapping: Mapping,
    pub source: Option<SourceRef>,
    pub kinds: BTreeSet<String>,
    pub sequences: BTreeSet<String>,
    pub beats: BTreeSet<u32>,
    pub events: BTreeSet<String>,
    /// Every duration, for the statistics (8 bytes per sample).
    pub durations: Vec<f64>,
    /// A bounded selection of executions for drill-down.
    pub drill: drill::Drill,
    pub issues: Vec<BeatIssue>,
    pub orphans: u64,
}

/// An orphan completion (H4), with the handler the catalog (or the log) makes unambiguous.
#[derive(Debug, Clone)]
pub struct Orphan {
    pub record: OrphanRecord,
    pub handler: Option<HandlerKey>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub samples: u64,
    pub failed: u64,
    pub incomplete: u64,
    pub orphans: u64,
    pub orphans_attributed: u64,
    pub unmapped: u64,
    /// Beats (and orphans) left unmapped while handler lines of their event had been dropped
    /// from the window (see [`hints`]).
    pub beyond_window: u64,
}

#[derive(Debug, Default)]
pub struct Attribution {
    pub handlers: BTreeMap<HandlerKey, HandlerData>,
    pub orphans: Vec<Orphan>,
    pub counts: Counts,
    /// Orphans attributed to a handler that had no beat yet: one of an earlier file's counts
    /// them (see [`Attribution::merge`]).
    pub orphans_ahead: BTreeMap<HandlerKey, u64>,
    /// Blocks of beat titles that several catalog sequences fit: left unmapped.
    pub ambiguous_titles: Vec<AmbiguousTitles>,
    /// Attribution stopped at a bound (see [`Limit`]); what came after that line is missing.
    pub stopped: Option<Stopped>,
}

/// A bound on what one run holds, passed at `at`: reading stops there (an error, exit 2).
#[derive(Debug, Clone, PartialEq)]
pub struct Stopped {
    pub at: Location,
    pub limit: Limit,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Limit {
    /// One handler more than `max` distinct ones: `handler` (its display name) is the first
    /// past the bound. Each handler costs memory and a row in every report; names that carry
    /// ids make one per execution.
    Handlers { max: usize, handler: String },
    /// A user rule's `normalize[N]` made a name of `len` bytes (see `parse::user::MAX_NAME`).
    NameTooLong { rule: String, normalize: usize, len: usize },
}

/// A block of beat titles (its first beat at `at`) that several catalog sequences fit.
#[derive(Debug, Clone, PartialEq)]
pub struct AmbiguousTitles {
    pub at: Location,
    /// The ids of the sequences that fit.
    pub sequences: Vec<String>,
}

impl Attribution {
    /// Adds the attribution of later files: the result is that of one attributor that read
    /// this one's files, then `later`'s.
    pub fn merge(&mut self, later: Attribution) {
        let Attribution { handlers, orphans, counts, orphans_ahead, ambiguous_titles, stopped } = later;
        if self.stopped.is_none() {
            self.stopped = stopped;
        }
        self.ambiguous_titles.extend(ambiguous_titles);
        for (key, n) in orphans_ahead {
            match self.handlers.get_mut(&key) {
                Some(data) => data.orphans += n,
                None => *self.orphans_ahead.entry(key).or_default() += n,
            }
        }
        for (key, data) in handlers {
            match self.handlers.get_mut(&key) {
                Some(mine) => mine.merge(data),
                None => {
                    self.handlers.insert(key, data);
                }
            }
        }
        // The drill-down budget shared by the handlers of both.
        let n = self.handlers.len();
        for data in self.handlers.values_mut() {
            data.drill.fit(n);
        }
        self.orphans.extend(orphans);
        let c = &mut self.counts;
        c.samples += counts.samples;
        c.failed += counts.failed;
        c.incomplete += counts.incomplete;
        c.orphans += counts.orphans;
        c.orphans_attributed += counts.orphans_attributed;
        c.unmapped += counts.unmapped;
        c.beyond_window += counts.beyond_window;
    }
}

impl HandlerData {
    /// Adds the beats of the same handler in later files.
    fn merge(&mut self, later: HandlerData) {
        // The first beat's mapping, and the first source found, as one attributor would keep.
        self.source = self.source.take().or(later.source);
        self.kinds.extend(later.kinds);
        self.sequences.extend(later.sequences);
        self.beats.extend(later.beats);
        self.events.extend(later.events);
        self.durations.extend(later.durations);
        self.drill.merge(later.drill);
        self.issues.extend(later.issues);
        self.orphans += later.orphans;
    }
}

/// The handler a beat is attributed to.
enum Resolved<'r> {
    /// A beat of the catalog: its handler's key is made once per catalog beat (see
    /// `Attributor::catalog_slots`), not once per beat attributed.
    Catalog(BeatRef),
    /// Named otherwise (by the input, the handler lines, or as unmapped), by borrowed parts: a
    /// key is made only for a new handler (see `Attributor::named_slots`).
    Named { plugin: &'r str, name: Name<'r>, mapping: Mapping },
}

impl Resolved<'_> {
    fn mapping(&self) -> Mapping {
        match self {
            Resolved::Catalog(_) => Mapping::Catalog,
            Resolved::Named { mapping, .. } => *mapping,
        }
    }
}

/// A handler's name, by parts.
#[derive(Clone, Copy)]
enum Name<'r> {
    Whole(&'r str),
    /// `sequence#beat what`.
    Unmapped {
        sequence: &'r str,
        beat: u32,
        what: &'r str,
    },
}

impl Name<'_> {
    fn to_owned(self) -> String {
        match self {
            Name::Whole(name) => name.to_owned(),
            Name::Unmapped { sequence, beat, what } => format!("{sequence}#{beat} {what}"),
        }
    }

    /// Whether `name` is this one (compared without writing it).
    fn is(self, name: &str) -> bool {
        match self {
            Name::Whole(whole) => whole == name,
            Name::Unmapped { sequence, beat, what } => {
                let Some((number, rest)) = name.strip_prefix(sequence).and_then(|r| r.strip_prefix('#')).and_then(|r| r.split_once(' '))
                else {
                    return false;
                };
                rest == what
                    && (number == "0" || !number.starts_with('0'))
                    && number.bytes().all(|b| b.is_ascii_digit())
                    && number.parse() == Ok(beat)
            }
        }
    }

    /// A hash of the handler `plugin`.`self` (FxHash: equal names hash alike).
    fn hash(self, plugin: &str) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = rustc_hash::FxHasher::default();
        plugin.hash(&mut h);
        match self {
            Name::Whole(name) => (0u8, name).hash(&mut h),
            Name::Unmapped { sequence, beat, what } => (1u8, sequence, beat, what).hash(&mut h),
        }
        h.finish()
    }
}

/// Attributes the beats of one file after another to handlers; each file's trace can be
/// dropped once added.
pub struct Attributor<'c, 's> {
    catalog: &'c Catalog,
    max_executions: usize,
    /// Executions kept for drill-down by all handlers together (see [`drill::BUDGET`]).
    drill_budget: usize,
    /// The drill cap every handler was last lowered to (see [`Attributor::slot`]).
    drill_cap: usize,
    /// Distinct handlers at most: past it, nothing more is attributed (see [`Limit::Handlers`]).
    max_handlers: usize,
    /// Shared by the attributors of files read at the same time.
    sources: &'s std::sync::Mutex<SourceIndex>,
    /// The handler source of each catalog beat, once looked up.
    source_cache: rustc_hash::FxHashMap<BeatRef, Option<SourceRef>>,
    /// The handlers so far, by the order they were first seen; `finish` sorts them by key.
    slots: Vec<Slot>,
    slot_of: rustc_hash::FxHashMap<HandlerKey, usize>,
    /// The slot of each catalog beat's handler: most beats find theirs without a string.
    catalog_slots: rustc_hash::FxHashMap<BeatRef, usize>,
    /// The slots of handlers named otherwise, by the hash of their name's parts (see
    /// [`Name::hash`]; checked against the slot's key): found without making a key.
    named_slots: rustc_hash::FxHashMap<u64, usize>,
    out: Attribution,
}

/// A handler being attributed, with the sequence and event of its last beat: interned by the
/// file's tracker, they are compared by address before the sets are searched.
struct Slot {
    key: HandlerKey,
    data: HandlerData,
    last_sequence: Option<Arc<str>>,
    last_event: Option<Arc<str>>,
    /// The beat number and catalog beat of its last beat: most handlers run one beat, always
    /// the same, and a beat seen last needs no look-up in the sets.
    last_beat: Option<u32>,
    last_catalog: Option<BeatRef>,
}

impl<'c, 's> Attributor<'c, 's> {
    /// `max_executions`: executions kept per handler for drill-down (see [`drill`]).
    pub fn new(catalog: &'c Catalog, sources: &'s std::sync::Mutex<SourceIndex>, max_executions: usize) -> Self {
        Attributor {
            catalog,
            max_executions,
            drill_budget: drill::BUDGET,
            drill_cap: max_executions,
            max_handlers: usize::MAX,
            sources,
            source_cache: Default::default(),
            slots: Vec::new(),
            slot_of: Default::default(),
            catalog_slots: Default::default(),
            named_slots: Default::default(),
            out: Attribution::default(),
        }
    }

    /// Shares `budget` executions among the handlers' drill-down selections instead of
    /// [`drill::BUDGET`].
    #[cfg(test)]
    pub fn with_drill_budget(mut self, budget: usize) -> Self {
        self.drill_budget = budget;
        self
    }

    /// Bounds the distinct handlers: the first beat of one more stops the attribution.
    pub fn with_max_handlers(mut self, max: usize) -> Self {
        self.max_handlers = max;
        self
    }

    /// The bound passed, if one was.
    pub fn stopped(&self) -> Option<&Stopped> {
        self.out.stopped.as_ref()
    }

    pub fn finish(self) -> Attribution {
        let mut out = self.out;
        let n = self.slots.len();
        out.handlers = self
            .slots
            .into_iter()
            .map(|mut s| {
                s.data.drill.fit(n);
                (s.key, s.data)
            })
            .collect();
        out
    }

    /// The slot of `key`, made when new; `None` past `max_handlers` (attribution then stops).
    fn slot(&mut self, key: &HandlerKey, mapping: Mapping, at: Location) -> Option<usize> {
        if let Some(&i) = self.slot_of.get(key) {
            return Some(i);
        }
        if self.slots.len() >= self.max_handlers || self.out.stopped.is_some() {
            if self.out.stopped.is_none() {
                let limit = Limit::Handlers { max: self.max_handlers, handler: key.display() };
                self.out.stopped = Some(Stopped { at, limit });
            }
            return None;
        }
        let data = HandlerData {
            first: at,
            mapping,
            source: None,
            kinds: BTreeSet::new(),
            sequences: BTreeSet::new(),
            beats: BTreeSet::new(),
            events: BTreeSet::new(),
            durations: Vec::new(),
            drill: drill::Drill::with_budget(self.max_executions, self.drill_budget),
            issues: Vec::new(),
            orphans: 0,
        };
        self.slots.push(Slot { key: key.clone(), data, last_sequence: None, last_event: None, last_beat: None, last_catalog: None });
        // The budget shared by one more handler: each lowers its own cap at its next beat, and
        // all of them at once whenever the cap has fallen by a quarter since they last did, so
        // that the handlers that see no more beats hold at most 4/3 of their share (a pass over
        // the handlers each time the cap falls by a quarter: a few passes, never one a handler).
        let n = self.slots.len();
        let cap = drill::cap(self.max_executions, self.drill_budget, n);
        if cap < self.drill_cap && cap.saturating_mul(4) <= self.drill_cap.saturating_mul(3) {
            for s in &mut self.slots {
                s.data.drill.fit(n);
            }
            self.drill_cap = cap;
        }
        self.slot_of.insert(key.clone(), self.slots.len() - 1);
        Some(self.slots.len() - 1)
    }

    /// The slot of the handler `plugin`.`name`, found by the hash of its parts, else made (see
    /// [`Attributor::slot`]).
    fn named_slot(&mut self, plugin: &str, name: Name<'_>, mapping: Mapping, at: Location) -> Option<usize> {
        let h = name.hash(plugin);
        if let Some(&i) = self.named_slots.get(&h) {
            let key = &self.slots[i].key;
            if key.plugin == plugin && name.is(&key.name) {
                return Some(i);
            }
        }
        let key = HandlerKey { plugin: plugin.to_owned(), name: name.to_owned() };
        let i = self.slot(&key, mapping, at)?;
        // A hash already taken by another name (a collision) keeps its slot: this name is then
        // found through its key.
        self.named_slots.entry(h).or_insert(i);
        Some(i)
    }

    /// Adds a file's trace, consuming it from the back so that its memory is released as the
    /// executions are recorded (their order is restored when the report sorts them).
    pub fn add(&mut self, mut trace: FileTrace) {
        let mut beats = std::mem::take(&mut trace.beats);
        let hints = Hints::of(std::mem::take(&mut trace.hints), std::mem::take(&mut trace.dropped_hints));
        self.name_by_titles(&beats, &mut trace);
        while let Some(record) = beats.pop() {
            if beats.len().is_multiple_of(tracker::RELEASE_EVERY) {
                beats.shrink_to_fit();
            }
            let info = &trace.executions[record.execution as usize];
            let title = trace.titles.get(&beats.len()).map(|t| &**t);
            self.attribute(&record, title, info, &hints);
        }
        for o in std::mem::take(&mut trace.orphans) {
            self.orphan(o, &hints);
        }
    }

    /// Names the executions that name no sequence but whose beats have titles (a markdown
    /// block of `- Beat N (Title): Xms` lines, a build-pipeline console) by the one catalog
    /// sequence that holds all their titles (see [`Catalog::sequence_of_titles`]); a block that
    /// several sequences fit stays unmapped, and is noted with the sequences that fit.
    fn name_by_titles(&mut self, beats: &[BeatRecord], trace: &mut FileTrace) {
        // Per execution: where its first titled beat is, and its (number, title) pairs.
        type Block<'t> = (Location, Vec<(u32, &'t str)>);
        let mut titled: BTreeMap<u32, Block> = BTreeMap::new();
        for (i, b) in beats.iter().enumerate() {
            let info = &trace.executions[b.execution as usize];
            if let (Some(title), None, None) = (trace.titles.get(&i), &info.id, &info.name) {
                titled.entry(b.execution).or_insert((b.at, Vec::new())).1.push((b.beat, title));
            }
        }
        let mut named = Vec::new();
        for (e, (at, titles)) in titled {
            match self.catalog.sequence_of_titles(&titles) {
                catalog::TitleMatch::One(s) => named.push((e, s)),
                catalog::TitleMatch::Several(fit) => {
                    let sequences = fit.iter().map(|&s| self.catalog.sequences[s].id.clone()).collect();
                    self.out.ambiguous_titles.push(AmbiguousTitles { at, sequences });
                }
                catalog::TitleMatch::None => {}
            }
        }
        for (e, s) in named {
            trace.executions[e as usize].id = Some(Arc::from(self.catalog.sequences[s].id.as_str()));
        }
    }

    /// Adds an orphan completion, with the handler the catalog (or the handler lines) makes
    /// unambiguous. Returns whether it was left without a handler.
    pub fn orphan(&mut self, o: OrphanRecord, hints: &Hints) -> bool {
        let catalog = self.catalog;
        let out = &mut self.out;
        out.counts.orphans += 1;
        let handler = o.event.as_deref().and_then(|e| {
            if let Some(r) = catalog.beat_by_event(e, o.beat) {
                let beat = catalog.beat(r);
                let plugin = catalog.sequences[r.sequence].plugin.clone();
                return beat.handler.clone().map(|name| HandlerKey { plugin, name });
            }
            let (handler, plugin) = hinted(hints, e, None)?;
            Some(HandlerKey { plugin: plugin.map(|p| p.to_string()).unwrap_or_default(), name: handler.to_string() })
        });
        if let Some(key) = &handler {
            match self.slot_of.get(key) {
                Some(&i) => self.slots[i].data.orphans += 1,
                None => *out.orphans_ahead.entry(key.clone()).or_default() += 1,
            }
            out.counts.orphans_attributed += 1;
        } else if o.event.as_deref().is_some_and(|e| hints.dropped_for(e)) {
            out.counts.beyond_window += 1;
        }
        let unmapped = handler.is_none();
        out.orphans.push(Orphan { record: o, handler });
        unmapped
    }

    /// Attributes a beat of an ended execution while the file is still being read, when the
    /// catalog (or the input itself) names its handler; returns it when it needs the file's
    /// handler lines to be named (see [`Attributor::with_hints`]).
    pub fn try_early(&mut self, record: BeatRecord, info: &ExecutionInfo) -> Option<BeatRecord> {
        // Without handler lines, a beat is named only by the catalog or by the input itself
        // (what `resolve` asks first: the catalog is asked once).
        let no_hints = Hints::default();
        let resolved = match catalog_beat(&record, None, info, self.catalog).0 {
            Some(r) => Resolved::Catalog(r),
            None if record.stated_handler.is_none() => return Some(record),
            None => resolve(&record, None, info, self.catalog, &no_hints),
        };
        self.record(&record, info, resolved);
        None
    }

    /// Attributes a beat given back by [`Attributor::try_early`], with the handler lines around
    /// it; returns whether it was left unmapped.
    pub fn with_hints(&mut self, record: BeatRecord, info: &ExecutionInfo, hints: &Hints) -> bool {
        self.attribute(&record, None, info, hints)
    }

    /// Attributes a beat with `hints`, counting it when it is left unmapped while handler lines
    /// of its event had been dropped from the window; returns whether it was left unmapped.
    fn attribute(&mut self, record: &BeatRecord, title: Option<&str>, info: &ExecutionInfo, hints: &Hints) -> bool {
        let resolved = resolve(record, title, info, self.catalog, hints);
        let unmapped = resolved.mapping() == Mapping::Unmapped;
        if unmapped && record.event.as_deref().is_some_and(|e| hints.dropped_for(e)) {
            self.out.counts.beyond_window += 1;
        }
        self.record(record, info, resolved);
        unmapped
    }

    /// Counts beats left unmapped before a handler line of their event came, past their window.
    pub fn late_hints(&mut self, beats: u64) {
        self.out.counts.beyond_window += beats;
    }

    fn record(&mut self, record: &BeatRecord, info: &ExecutionInfo, resolved: Resolved) {
        let catalog = self.catalog;
        let sequence = info.id.as_ref().or(info.name.as_ref());
        let mapping = resolved.mapping();
        let i = match &resolved {
            Resolved::Named { plugin, name, mapping } => self.named_slot(plugin, *name, *mapping, record.at),
            Resolved::Catalog(r) => match self.catalog_slots.get(r) {
                Some(&i) => Some(i),
                None => {
                    let key = HandlerKey {
                        plugin: catalog.sequences[r.sequence].plugin.clone(),
                        name: catalog.beat(*r).handler.clone().expect("a catalog beat with a handler"),
                    };
                    let i = self.slot(&key, mapping, record.at);
                    if let Some(i) = i {
                        self.catalog_slots.insert(*r, i);
                    }
                    i
                }
            },
        };
        let Some(i) = i else { return };
        let handlers = self.slots.len();
        let slot = &mut self.slots[i];
        let data = &mut slot.data;
        if let Resolved::Catalog(r) = resolved
            && slot.last_catalog != Some(r)
        {
            slot.last_catalog = Some(r);
            let beat = catalog.beat(r);
            if data.source.is_none()
                && let Some(handler) = &beat.handler
            {
                let sources = self.sources;
                let cached = self
                    .source_cache
                    .entry(r)
                    .or_insert_with(|| sources.lock().map_or(None, |mut index| index.resolve(&catalog.sequences[r.sequence], handler)));
                data.source = cached.clone();
            }
            if let Some(k) = &beat.kind
                && !data.kinds.contains(k)
            {
                data.kinds.insert(k.clone());
            }
        }
        let out = &mut self.out;
        if mapping == Mapping::Unmapped {
            out.counts.unmapped += 1;
        }
        // The last beat's sequence and event, by address, before the sets (and a string only
        // for a new one).
        if let Some(s) = sequence
            && !slot.last_sequence.as_ref().is_some_and(|l| Arc::ptr_eq(l, s))
        {
            if !data.sequences.contains(&**s) {
                data.sequences.insert(s.to_string());
            }
            slot.last_sequence = Some(s.clone());
        }
        if slot.last_beat != Some(record.beat) {
            data.beats.insert(record.beat);
            slot.last_beat = Some(record.beat);
        }
        if let Some(e) = &record.event
            && !slot.last_event.as_ref().is_some_and(|l| Arc::ptr_eq(l, e))
        {
            if !data.events.contains(&**e) {
                data.events.insert(e.to_string());
            }
            slot.last_event = Some(e.clone());
        }
        let sequence = sequence.cloned();
        match record.outcome {
            BeatOutcome::Sample { ms, source } => {
                out.counts.samples += 1;
                data.durations.push(ms);
                data.drill.push_with(handlers, ms, record.at, || Execution {
                    ts: record.ts,
                    sequence,
                    beat: record.beat,
                    event: record.event.clone(),
                    request: info.request.clone(),
                    ms,
                    source,
                    at: record.at,
                });
            }
            BeatOutcome::Failed | BeatOutcome::Incomplete => {
                let failed = record.outcome == BeatOutcome::Failed;
                if failed {
                    out.counts.failed += 1;
                } else {
                    out.counts.incomplete += 1;
                }
                data.issues.push(BeatIssue {
                    failed,
                    ts: record.ts,
                    sequence,
                    beat: record.beat,
                    event: record.event.clone(),
                    at: record.at,
                });
            }
        }
    }
}

/// The one handler the handler lines of `event` name (for a request id, when both sides have
/// one), with the plugin the first of them that names one names. When all the lines name the
/// same handler and plugin (most logs), the answer is looked up, not read off every line.
fn hinted<'h>(hints: &'h Hints, event: &str, request: Option<&str>) -> Option<(&'h Arc<str>, Option<&'h Arc<str>>)> {
    let of_event = hints.of_event(event)?;
    if let [(handler, plugin, _)] = &of_event.names[..] {
        let any = request.is_none_or(|r| of_event.no_request > 0 || of_event.has_request(r));
        return any.then_some((handler, plugin.as_ref()));
    }
    let mut matching = of_event.lines().filter(|h| request.is_none() || h.request.is_none() || h.request.as_deref() == request);
    let first = matching.clone().next()?;
    if matching.clone().any(|h| h.handler != first.handler) {
        return None;
    }
    let plugin = matching.find_map(|h| h.plugin.as_ref());
    Some((&first.handler, plugin))
}

/// The catalog beat of `record` that names a handler, if any.
fn catalog_beat(record: &BeatRecord, title: Option<&str>, info: &ExecutionInfo, catalog: &Catalog) -> (Option<BeatRef>, Option<usize>) {
    let event = record.event.as_deref();
    let sequence = catalog.sequence_of(info.id.as_deref(), info.name.as_deref());
    let found = sequence
        .and_then(|s| catalog.beat_in(s, record.beat, event, title))
        .or_else(|| event.and_then(|e| catalog.beat_by_event(e, Some(record.beat)).or_else(|| catalog.beat_by_event(e, None))));
    (found.filter(|&r| catalog.beat(r).handler.is_some()), sequence)
}

fn resolve<'r>(
    record: &'r BeatRecord,
    title: Option<&'r str>,
    info: &'r ExecutionInfo,
    catalog: &'r Catalog,
    hints: &'r Hints,
) -> Resolved<'r> {
    let (found, sequence) = catalog_beat(record, title, info, catalog);
    if let Some(r) = found {
        return Resolved::Catalog(r);
    }
    let event = record.event.as_deref();
    let catalog_plugin = sequence.map(|s| catalog.sequences[s].plugin.as_str());
    let plugin_of = |stated: Option<&'r Arc<str>>| stated.map(|p| &**p).or(info.plugin.as_deref()).or(catalog_plugin).unwrap_or_default();
    if let Some((handler, plugin)) = record.stated_handler.as_deref() {
        let mapping =
            if matches!(record.outcome, BeatOutcome::Sample { source: TimedBy::Pattern, .. }) { Mapping::Pattern } else { Mapping::Report };
        return Resolved::Named { plugin: plugin_of(plugin.as_ref()), name: Name::Whole(handler), mapping };
    }
    if let Some((handler, plugin)) = event.and_then(|e| hinted(hints, e, info.request.as_deref())) {
        return Resolved::Named { plugin: plugin_of(plugin), name: Name::Whole(handler), mapping: Mapping::Log };
    }
    let sequence = info.id.as_deref().or(info.name.as_deref()).unwrap_or("?");
    let what = event.or(title).unwrap_or("?");
    Resolved::Named { plugin: plugin_of(None), name: Name::Unmapped { sequence, beat: record.beat, what }, mapping: Mapping::Unmapped }
}

#[cfg(test)]
mod tests;
