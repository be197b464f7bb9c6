//! The execution tracker: a small state machine that turns the typed events of one file into
//! beat outcomes (LOG-FORMATS.md §3 steps 3–4). One tracker per input file — beats never join
//! across files.
//!
//! The rules, each a hard case of §5:
//! - a beat opens on `Started timing beat N for SEQ` (T1) in the most recent open execution of
//!   SEQ (H2: numbers restart per sequence, so beats are keyed by execution);
//! - the first completion line (T2 float or T3 integer) closes it; the other one, and T4, are
//!   copies of the same beat and only fill in what is missing (H1: one sample, T2 preferred);
//! - a completion with no open beat is an *orphan* (H4); its T2/T3/T4 copies join it;
//! - a beat still open when the next beat of its execution starts, its movement or sequence
//!   ends, or the file ends is *incomplete*; one named by a failure line is *failed* (H6); neither
//!   is ever a sample;
//! - handler-level DataBaton lines are kept as hints, matched later by event and request id,
//!   because they may arrive after the beat and under another sequence name (H10).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::parse::{Event, HandlerLine, Location, ReportedBeat};

/// Which line (or input) timed a sample: where its duration was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimedBy {
    /// T2 `PerformanceTracker: Beat N completed in X.XXms` (or its T4 copy).
    PerformanceTracker,
    /// T3 `BeatExecutor: Beat N (event) completed in Nms` / the .NET `SequenceExecutor` line.
    BeatExecutor,
    /// A markdown telemetry report.
    Report,
    /// A `[[sources.pattern]]` or `[[sources.json]]` rule (any application's logs).
    Pattern,
}

/// What became of a beat (not the gate's verdict, `crate::gate::Outcome`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BeatOutcome {
    Sample { ms: f64, source: TimedBy },
    Failed,
    Incomplete,
}

/// What the log says about one sequence execution.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecutionInfo {
    pub name: Option<Arc<str>>,
    pub id: Option<Arc<str>>,
    pub plugin: Option<Arc<str>>,
    pub request: Option<Arc<str>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BeatRecord {
    /// The execution: while the file is read, its number in the file (see
    /// [`Tracker::drain_released`]); in a [`FileTrace`], an index into its `executions`.
    pub execution: u32,
    pub beat: u32,
    pub event: Option<Arc<str>>,
    pub outcome: BeatOutcome,
    /// Timestamp of the beat's start (else of its completion).
    pub ts: Option<i64>,
    /// The line the duration was read from; for a failed beat the failure line; else the
    /// beat's start.
    pub at: Location,
    /// A handler stated by the input itself (markdown `- **Handler**: name (Plugin)`).
    pub stated_handler: Option<Box<StatedHandler>>,
}

/// A completion with no open beat (H4).
#[derive(Debug, Clone, PartialEq)]
pub struct OrphanRecord {
    pub beat: Option<u32>,
    pub event: Option<Arc<str>>,
    pub ms: f64,
    pub source: TimedBy,
    pub ts: Option<i64>,
    pub at: Location,
}

/// A handler-level DataBaton line (C17/C18 with `beat=?`).
#[derive(Debug, Clone, PartialEq)]
pub struct HandlerHint {
    pub event: Arc<str>,
    pub handler: Arc<str>,
    pub plugin: Option<Arc<str>>,
    pub request: Option<Arc<str>>,
}

/// Everything one file yields (what was not handed out while it was read).
#[derive(Debug, Default, Clone)]
pub struct FileTrace {
    /// The executions of `beats`, which index it.
    pub executions: Vec<ExecutionInfo>,
    pub beats: Vec<BeatRecord>,
    pub orphans: Vec<OrphanRecord>,
    pub hints: Vec<HandlerHint>,
    /// Titles of the beats (by index into `beats`) whose event is unknown.
    pub titles: HashMap<usize, Arc<str>>,
    /// Recognized events (lines that said something perfgate uses).
    pub recognized: u64,
    /// Recognized lines that carried a beat duration.
    pub timing_lines: u64,
    /// Beats by outcome, including those attributed while the file was read: samples,
    /// failed, incomplete.
    pub outcomes: [u64; 3],
    /// Durations that could not be samples (see [`crate::stats::valid_ms`]).
    pub rejected: Rejected,
    /// Orphan completions, including those handed out while the file was read.
    pub orphaned: u64,
    /// Events of which handler lines were dropped from the window (see [`super::hints`]).
    pub dropped_hints: Vec<Arc<str>>,
}

impl FileTrace {
    /// The counts alone (what the diagnostics read), without beats, orphans or handler lines.
    pub fn counts(&self) -> FileTrace {
        FileTrace {
            recognized: self.recognized,
            timing_lines: self.timing_lines,
            outcomes: self.outcomes,
            rejected: self.rejected.clone(),
            orphaned: self.orphaned,
            ..FileTrace::default()
        }
    }
}

/// Durations rejected in one file: how many, and the first few with their line.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Rejected {
    pub count: u64,
    /// (line, value as read), at most [`Rejected::KEPT`].
    pub first: Vec<(u32, f64)>,
}

impl Rejected {
    pub const KEPT: usize = 3;

    fn note(&mut self, line: u32, ms: f64) {
        self.count += 1;
        if self.first.len() < Self::KEPT {
            self.first.push((line, ms));
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Status {
    Open,
    Done,
    Failed,
    Incomplete,
}

#[derive(Debug)]
struct BeatState {
    execution: u32,
    beat: u32,
    event: Option<Arc<str>>,
    status: Status,
    /// Durations with the line they were read from (the file is the tracker's).
    perf: Option<(f64, u32)>,
    exec: Option<(f64, u32)>,
    report: Option<f64>,
    /// The report was a user rule's sample.
    pattern: bool,
    ts: Option<i64>,
    started: u32,
    /// The failure line, for a failed beat.
    failed_at: Option<u32>,
    stated_handler: Option<Box<StatedHandler>>,
}

/// A handler named by the input itself: (handler, plugin).
pub type StatedHandler = (Arc<str>, Option<Arc<str>>);

#[derive(Debug)]
struct OrphanState {
    /// Executions started in the file before it (see [`Tracker::started`]).
    tag: u64,
    beat: Option<u32>,
    event: Option<Arc<str>>,
    perf: Option<(f64, Location)>,
    exec: Option<(f64, Location)>,
    ts: Option<i64>,
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Beat(usize),
    Orphan(usize),
}

/// Request ids kept by [`Tracker::request`].
const RECENT_REQUESTS: usize = 4;

/// Interned strings remembered by [`Tracker::intern`].
const RECENT_NAMES: usize = 8;

/// FxHash (rustc's, from `rustc-hash`): the interner hashes a short string per recognized
/// line; SipHash's DoS resistance buys nothing here and costs a tenth of the scan.
type FxMap<K, V> = rustc_hash::FxHashMap<K, V>;

/// The executions of a file by number (0, 1, … in the order they appear). One that ended is
/// forgotten as soon as none of its beats is held (in the tracker, or released and not yet
/// drained), so that their number, not the file's, bounds the memory.
#[derive(Default)]
struct Executions {
    started: u32,
    live: FxMap<u32, Exec>,
    /// Reported (markdown) executions are never "open" nor ended; they are found by name and
    /// request: the last one of each.
    reported: FxMap<ReportedKey, u32>,
}

/// What tells reported executions apart: (sequence name, sequence id, request id, group).
type ReportedKey = (Option<Arc<str>>, Option<Arc<str>>, Option<Arc<str>>, u32);

struct Exec {
    info: ExecutionInfo,
    /// It ended: its beats can no longer change.
    closed: bool,
    /// Its beats held (in the arena, or released and not yet drained).
    held: u32,
}

impl Executions {
    fn add(&mut self, info: ExecutionInfo) -> u32 {
        let e = self.started;
        self.started = e.checked_add(1).expect("fewer than 2^32 executions per file");
        self.live.insert(e, Exec { info, closed: false, held: 0 });
        e
    }

    fn get(&self, e: u32) -> &Exec {
        self.live.get(&e).expect("a held execution is live")
    }

    fn info(&self, e: u32) -> &ExecutionInfo {
        &self.get(e).info
    }

    fn info_mut(&mut self, e: u32) -> &mut ExecutionInfo {
        &mut self.live.get_mut(&e).expect("a held execution is live").info
    }

    fn hold(&mut self, e: u32) {
        self.live.get_mut(&e).expect("a live execution").held += 1;
    }

    /// One of its beats was handed out: forgets the execution when it was its last and the
    /// execution ended.
    fn unhold(&mut self, e: u32) {
        let x = self.live.get_mut(&e).expect("a held execution is live");
        x.held -= 1;
        if x.closed && x.held == 0 {
            self.live.remove(&e);
        }
    }

    fn close(&mut self, e: u32) {
        let x = self.live.get_mut(&e).expect("an open execution is live");
        x.closed = true;
        if x.held == 0 {
            self.live.remove(&e);
        }
    }
}

#[derive(Default)]
pub struct Tracker {
    /// The file being read (from the events' locations).
    file: u32,
    /// Interned strings: the set's keys are the shared strings themselves (a look-up reads the
    /// string where its reference counts are, one allocation).
    strings: rustc_hash::FxHashSet<Arc<str>>,
    /// The strings interned last (see [`Tracker::intern`]), replaced in turn.
    recent_names: [Option<Arc<str>>; RECENT_NAMES],
    recent_next: usize,
    executions: Executions,
    open_execs: Vec<u32>,
    pending_plays: VecDeque<(Arc<str>, Arc<str>)>,
    /// The last request ids read (see [`Tracker::request`]).
    recent_requests: VecDeque<Arc<str>>,
    name_to_id: FxMap<Arc<str>, Arc<str>>,
    beats: Arena,
    /// Final beats of ended executions, handed out by [`Tracker::drain_released`].
    released: Vec<BeatRecord>,
    open_beats: Vec<usize>,
    /// Orphans from `orphan_base` on (earlier ones were handed out by
    /// [`Tracker::take_orphans`]); [`Slot::Orphan`] numbers them from the file's first.
    orphans: VecDeque<OrphanState>,
    orphan_base: usize,
    orphaned: u64,
    last_completed: Option<Slot>,
    last_failed: Option<usize>,
    /// Handler lines with the number of executions started before each (see
    /// [`Tracker::take_hints`]).
    hints: Vec<(u64, HandlerHint)>,
    /// Titles of beats whose event is unknown (by beat index): the only use of a title.
    titles: HashMap<usize, Arc<str>>,
    recognized: u64,
    timing_lines: u64,
    outcomes: [u64; 3],
    rejected: Rejected,
}

impl Tracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// The shared string `s`: one of the last few asked for (an execution's lines repeat its
    /// sequence's and beat's names), else from the set — a string compared with a few in the
    /// cache costs less than its hash and a probe of the set, which misses it.
    fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.recent_names.iter().flatten().find(|a| a.len() == s.len() && ***a == *s) {
            return a.clone();
        }
        let a = match self.strings.get(s) {
            Some(a) => a.clone(),
            None => {
                let a: Arc<str> = Arc::from(s);
                self.strings.insert(a.clone());
                a
            }
        };
        self.recent_names[self.recent_next] = Some(a.clone());
        self.recent_next = (self.recent_next + 1) % RECENT_NAMES;
        a
    }

    /// Keeps `request` among the last few request ids read.
    fn remember_request(&mut self, request: &Arc<str>) {
        if self.recent_requests.len() == RECENT_REQUESTS {
            self.recent_requests.pop_front();
        }
        self.recent_requests.push_back(request.clone());
    }

    /// The request id `r` of a handler line: shared with the execution's when it is one of the
    /// last few read (a handler line names the request of its execution, which has just run),
    /// else a string of its own — no allocation per line.
    fn request(&self, r: &str) -> Arc<str> {
        match self.recent_requests.iter().rev().find(|a| &***a == r) {
            Some(a) => a.clone(),
            None => Arc::from(r),
        }
    }

    fn new_execution(&mut self, info: ExecutionInfo, open: bool) -> u32 {
        let e = self.executions.add(info);
        if open {
            self.open_execs.push(e);
        }
        e
    }

    /// Executions started so far in the file: the clock of the handler-line window.
    pub fn started(&self) -> u64 {
        u64::from(self.executions.started)
    }

    fn open_exec_named(&self, name: &str) -> Option<u32> {
        self.open_execs.iter().rev().copied().find(|&e| self.executions.info(e).name.as_deref() == Some(name))
    }

    fn current_exec(&mut self) -> u32 {
        match self.open_execs.last() {
            Some(&e) => e,
            None => self.new_execution(ExecutionInfo::default(), true),
        }
    }

    fn exec_for_sequence(&mut self, name: &str) -> u32 {
        if let Some(e) = self.open_exec_named(name) {
            return e;
        }
        // Capture started inside the sequence, or a build that does not log `Now executing`.
        let name = self.intern(name);
        let id = self.name_to_id.get(&name).cloned();
        self.new_execution(ExecutionInfo { name: Some(name), id, ..Default::default() }, true)
    }

    fn open_beat(&mut self, execution: u32, beat: u32, event: Option<Arc<str>>, ts: Option<i64>, at: Location) {
        // A second line about the last failure comes right after it, never after a new beat.
        self.last_failed = None;
        self.end_open_beats(|b| b.execution == execution, Status::Incomplete, at);
        let idx = self.beats.len();
        self.executions.hold(execution);
        self.beats.push(BeatState {
            execution,
            beat,
            event,
            status: Status::Open,
            perf: None,
            exec: None,
            report: None,
            pattern: false,
            ts,
            started: at.line,
            failed_at: None,
            stated_handler: None,
        });
        self.open_beats.push(idx);
        self.last_completed = None;
    }

    /// Ends the open beats selected by `which` with `status`.
    fn end_open_beats(&mut self, which: impl Fn(&BeatState) -> bool, status: Status, at: Location) {
        let beats = &mut self.beats;
        self.open_beats.retain(|&i| {
            if which(&beats[i]) {
                beats[i].status = status;
                if status == Status::Failed {
                    beats[i].failed_at = Some(at.line);
                }
                false
            } else {
                true
            }
        });
    }

    fn find_open_beat(&self, beat: u32, event: Option<&str>) -> Option<usize> {
        self.open_beats.iter().rev().copied().find(|&i| {
            let b = &self.beats[i];
            b.beat == beat && (event.is_none() || b.event.is_none() || b.event.as_deref() == event)
        })
    }

    fn complete(&mut self, idx: usize) {
        self.open_beats.retain(|&i| i != idx);
        self.beats[idx].status = Status::Done;
        self.last_completed = Some(Slot::Beat(idx));
    }

    /// Feeds one event read at `at`, with the line's timestamp.
    pub fn feed(&mut self, event: Event<'_>, ts: Option<i64>, at: Location) {
        self.file = at.file;
        self.recognized += 1;
        if event.is_timing() {
            self.timing_lines += 1;
        }
        if let Some(ms) = event.duration().filter(|&ms| !crate::stats::valid_ms(ms)) {
            // Never a sample, and never a copy's value for one: the line is counted and dropped.
            self.rejected.note(at.line, ms);
            return;
        }
        match event {
            Event::PlayRequested { plugin, sequence_id } => {
                let play = (self.intern(&plugin), self.intern(&sequence_id));
                if self.pending_plays.len() == 8 {
                    self.pending_plays.pop_front();
                }
                self.pending_plays.push_back(play);
            }
            Event::ExecutionStarted { name } => {
                let name = self.intern(&name);
                let (plugin, mut id) = match self.pending_plays.pop_front() {
                    Some((p, i)) => (Some(p), Some(i)),
                    None => (None, None),
                };
                if let Some(known) = self.name_to_id.get(&name) {
                    id = Some(known.clone());
                }
                self.new_execution(ExecutionInfo { name: Some(name), id, plugin, request: None }, true);
                self.last_completed = None;
            }
            Event::HostExecutionStarted { sequence_id, request, plugin } => {
                let info = ExecutionInfo {
                    name: None,
                    id: Some(self.intern(&sequence_id)),
                    plugin: plugin.map(|p| self.intern(&p)),
                    request: request.map(|r| Arc::from(&*r)),
                };
                self.new_execution(info, true);
                self.last_completed = None;
            }
            Event::ExecutionNamed { name } => {
                let name = self.intern(&name);
                let e = self.current_exec();
                let info = self.executions.info_mut(e);
                if info.name.is_none() {
                    info.name = Some(name);
                }
            }
            Event::SequenceBound { name, id } => {
                let (name, id) = (self.intern(&name), self.intern(&id));
                self.name_to_id.insert(name.clone(), id.clone());
                if let Some(e) = self.open_exec_named(&name) {
                    let info = self.executions.info_mut(e);
                    if info.id.as_ref() != Some(&id) {
                        // The play that was paired with this execution was another one.
                        if info.id.is_some() {
                            info.plugin = None;
                        }
                        info.id = Some(id);
                    }
                }
            }
            Event::RequestId { request } => {
                let sequence_id = sequence_id_of_request(&request).map(|s| self.intern(s));
                // Unique per execution: interning would only grow the table.
                let request: Arc<str> = Arc::from(&*request);
                self.remember_request(&request);
                let target = self.open_execs.iter().rev().copied().find(|&e| {
                    let info = self.executions.info(e);
                    info.request.is_none() && (info.id.is_none() || info.id == sequence_id)
                });
                if let Some(e) = target {
                    let info = self.executions.info_mut(e);
                    info.request = Some(request);
                    if info.id.is_none() {
                        info.id = sequence_id;
                    }
                }
            }
            Event::BeatStarted { sequence, beat } => {
                let e = self.exec_for_sequence(&sequence);
                self.open_beat(e, beat, None, ts, at);
            }
            Event::HostBeatStarted { beat, event } => {
                let event = self.intern(&event);
                let e = self.current_exec();
                self.open_beat(e, beat, Some(event), ts, at);
            }
            Event::BeatDescribed { beat, title, event } => {
                let target = self.find_open_beat(beat, None).or(match self.last_completed {
                    Some(Slot::Beat(i)) if self.beats[i].beat == beat => Some(i),
                    _ => None,
                });
                if let Some(i) = target {
                    // The title names a beat only when its event is unknown, which this line
                    // rules out: it is not kept.
                    let _ = title;
                    self.set_event(i, &event);
                }
            }
            Event::BeatEvent { event } => {
                if let Some(&i) = self.open_beats.last() {
                    self.set_event(i, &event);
                }
            }
            Event::PerfCompleted { beat, ms } => self.perf_completed(Some(beat), ms, ts, at),
            Event::CompletedCopy { ms } => self.perf_completed(None, ms, ts, at),
            Event::ExecCompleted { beat, event, ms } => {
                self.exec_completed(beat, &event, ms, ts, at);
            }
            Event::BeatFailed { beat, event, sequence } => self.beat_failed(beat, event.as_deref(), sequence.as_deref(), ts, at),
            Event::MovementEnded => {
                if let Some(&e) = self.open_execs.last() {
                    self.end_open_beats(|b| b.execution == e, Status::Incomplete, at);
                }
                self.last_completed = None;
            }
            Event::MovementFailed => {
                if let Some(&e) = self.open_execs.last() {
                    self.end_open_beats(|b| b.execution == e, Status::Failed, at);
                }
                self.last_completed = None;
            }
            Event::SequenceEnded { name } => self.end_execution(&name, Status::Incomplete, at),
            Event::SequenceFailed { name } => self.end_execution(&name, Status::Failed, at),
            Event::HandlerSeen(line) => {
                let HandlerLine { event, handler, plugin, request, .. } = *line;
                let hint = HandlerHint {
                    event: self.intern(&event),
                    handler: self.intern(&handler),
                    plugin: plugin.map(|p| self.intern(&p)),
                    request: request.map(|r| self.request(&r)),
                };
                self.hints.push((self.started(), hint));
            }
            Event::Reported(beat) => self.reported(*beat, ts, at),
            // Taken by the reader's sink, which stops there (see `attribute::read`).
            Event::NameTooLong { .. } => {}
            Event::Sample { handler, plugin, ms, ts: own } => self.sample(&handler, plugin.as_deref(), ms, own.or(ts), at),
        }
    }

    /// T2 (with its beat number) or T4 (a copy, without).
    fn perf_completed(&mut self, beat: Option<u32>, ms: f64, ts: Option<i64>, at: Location) {
        // A copy of the beat that just completed: fill in only what is missing.
        match self.last_completed {
            Some(Slot::Beat(i)) if beat.is_none_or(|n| n == self.beats[i].beat) => {
                // T4 after T2, or T2 after the T3 that closed the beat.
                let b = &mut self.beats[i];
                if b.perf.is_none() {
                    b.perf = Some((ms, at.line));
                }
                return;
            }
            Some(Slot::Orphan(i)) if beat.is_none_or(|n| self.orphan(i).beat.is_none_or(|o| o == n)) => {
                let o = self.orphan_mut(i);
                if o.perf.is_none() {
                    o.perf = Some((ms, at));
                    o.beat = o.beat.or(beat);
                }
                return;
            }
            _ => {}
        }
        let open = match beat {
            Some(n) => self.find_open_beat(n, None),
            None => self.open_beats.last().copied(),
        };
        if let Some(i) = open {
            self.beats[i].perf = Some((ms, at.line));
            self.complete(i);
        } else {
            let tag = self.started();
            self.new_orphan(OrphanState { tag, beat, event: None, perf: Some((ms, at)), exec: None, ts });
        }
    }

    fn exec_completed(&mut self, beat: u32, event: &str, ms: f64, ts: Option<i64>, at: Location) {
        let compatible = |n: Option<u32>, e: &Option<Arc<str>>| n.is_none_or(|n| n == beat) && e.as_deref().is_none_or(|e| e == event);
        match self.last_completed {
            Some(Slot::Beat(i)) if compatible(Some(self.beats[i].beat), &self.beats[i].event) && self.beats[i].exec.is_none() => {
                self.beats[i].exec = Some((ms, at.line));
                self.set_event(i, event);
                return;
            }
            Some(Slot::Orphan(i)) if compatible(self.orphan(i).beat, &self.orphan(i).event) && self.orphan(i).exec.is_none() => {
                let event = self.intern(event);
                let o = self.orphan_mut(i);
                o.exec = Some((ms, at));
                o.beat = Some(beat);
                o.event = Some(event);
                return;
            }
            _ => {}
        }
        if let Some(i) = self.find_open_beat(beat, Some(event)) {
            self.beats[i].exec = Some((ms, at.line));
            self.set_event(i, event);
            self.complete(i);
        } else {
            let event = self.intern(event);
            let tag = self.started();
            self.new_orphan(OrphanState { tag, beat: Some(beat), event: Some(event), perf: None, exec: Some((ms, at)), ts });
        }
    }

    /// Names the event of beat `i` unless it is named already (interned only then).
    fn set_event(&mut self, i: usize, event: &str) {
        if self.beats[i].event.is_none() {
            self.beats[i].event = Some(self.intern(event));
        }
    }

    fn new_orphan(&mut self, o: OrphanState) {
        self.orphans.push_back(o);
        self.orphaned += 1;
        self.last_completed = Some(Slot::Orphan(self.orphan_base + self.orphans.len() - 1));
    }

    fn orphan(&self, i: usize) -> &OrphanState {
        &self.orphans[i - self.orphan_base]
    }

    fn orphan_mut(&mut self, i: usize) -> &mut OrphanState {
        &mut self.orphans[i - self.orphan_base]
    }

    fn beat_failed(&mut self, beat: Option<u32>, event: Option<&str>, sequence: Option<&str>, ts: Option<i64>, at: Location) {
        let exec_ok = |execs: &Executions, b: &BeatState| sequence.is_none() || execs.info(b.execution).name.as_deref() == sequence;
        let found = self.open_beats.iter().rev().copied().find(|&i| {
            let b = &self.beats[i];
            beat.is_none_or(|n| n == b.beat)
                && exec_ok(&self.executions, b)
                && (event.is_none() || b.event.is_none() || b.event.as_deref() == event)
        });
        if let Some(i) = found {
            self.open_beats.retain(|&j| j != i);
            let b = &mut self.beats[i];
            b.status = Status::Failed;
            b.failed_at = Some(at.line);
            if let (None, Some(e)) = (&b.event, event) {
                b.event = Some(Arc::from(e));
            }
            self.last_failed = Some(i);
            return;
        }
        // A second line about a failure already recorded (e.g. the .NET tracker's
        // `Beat state transitioned to FAILED` then `Cleaned up failed beat`).
        if let Some(i) = self.last_failed
            && beat.is_none_or(|n| n == self.beats[i].beat)
        {
            return;
        }
        let Some(n) = beat else { return };
        let e = match sequence {
            Some(s) => self.exec_for_sequence(s),
            None => self.current_exec(),
        };
        let event = event.map(|e| self.intern(e));
        self.open_beat(e, n, event, ts, at);
        let i = self.beats.len() - 1;
        self.open_beats.retain(|&j| j != i);
        self.beats[i].status = Status::Failed;
        self.beats[i].failed_at = Some(at.line);
        self.last_failed = Some(i);
    }

    fn end_execution(&mut self, name: &str, status: Status, at: Location) {
        if let Some(e) = self.open_exec_named(name) {
            self.end_open_beats(|b| b.execution == e, status, at);
            self.open_execs.retain(|&x| x != e);
            self.executions.close(e);
        }
        self.last_completed = None;
        self.release_front();
    }

    /// Moves the oldest beats that can no longer change — final, of an ended execution, not
    /// awaiting a duplicate line — to `released`, so that a long file is attributed as it is
    /// read and the tracker's memory stays bounded by the executions in flight.
    fn release_front(&mut self) {
        while let Some(front) = self.beats.front() {
            let i = self.beats.base;
            let pinned =
                matches!(self.last_completed, Some(Slot::Beat(j)) if j == i) || self.last_failed == Some(i) || self.titles.contains_key(&i);
            // A user rule's sample is whole on its own line; a conductor beat is final once its
            // execution ended.
            let settled = front.pattern || self.executions.get(front.execution).closed;
            if front.status == Status::Open || !settled || pinned {
                break;
            }
            let b = self.beats.pop_front().expect("a front beat");
            if self.last_failed.is_some_and(|j| j < self.beats.base) {
                self.last_failed = None;
            }
            let r = record_of(b, self.file);
            count(&mut self.outcomes, &r);
            self.released.push(r);
        }
    }

    /// Hands out the beats released since the last call — final beats of ended executions
    /// (and user-rule samples), which can no longer change — each with its execution. An ended
    /// execution is forgotten once its last beat is handed out.
    pub fn drain_released(&mut self, mut f: impl FnMut(BeatRecord, &ExecutionInfo)) {
        for record in std::mem::take(&mut self.released) {
            let e = record.execution;
            f(record, self.executions.info(e));
            self.executions.unhold(e);
        }
    }

    /// Hands out the handler lines read since the last call, each with the number of executions
    /// started before it; those not taken stay in the trace.
    pub fn take_hints(&mut self) -> Vec<(u64, HandlerHint)> {
        std::mem::take(&mut self.hints)
    }

    /// Hands out the orphans that appeared before `started` executions had started, and that
    /// no later line can complete (the last completion may still receive its copies).
    pub fn take_orphans(&mut self, started: u64) -> Vec<OrphanRecord> {
        let mut out = Vec::new();
        while let Some(o) = self.orphans.front() {
            if o.tag >= started || matches!(self.last_completed, Some(Slot::Orphan(i)) if i == self.orphan_base) {
                break;
            }
            let o = self.orphans.pop_front().expect("a front orphan");
            self.orphan_base += 1;
            out.extend(orphan_record(o));
        }
        out
    }

    /// The execution of a reported beat: the reported one of the same key, else a new one.
    fn reported_execution(&mut self, key: ReportedKey) -> u32 {
        if let Some(&e) = self.executions.reported.get(&key) {
            return e;
        }
        let (name, id, request, _) = key.clone();
        let id = id.or_else(|| request.as_deref().and_then(sequence_id_of_request).map(|s| self.intern(s)));
        let e = self.new_execution(ExecutionInfo { name, id, plugin: None, request }, false);
        self.executions.reported.insert(key, e);
        e
    }

    fn reported(&mut self, r: ReportedBeat, ts: Option<i64>, at: Location) {
        let name = r.sequence.as_deref().map(|s| self.intern(s));
        let request = r.request.as_deref().map(|s| self.intern(s));
        let plugin = r.plugin.as_deref().map(|s| self.intern(s));
        let id = r.sequence_id.as_deref().map(|s| self.intern(s));
        let e = self.reported_execution((name, id, request, r.group));
        let info = self.executions.info_mut(e);
        if info.plugin.is_none() {
            // A markdown section runs one sequence, so one plugin: a block that names it names
            // it for its siblings.
            info.plugin = plugin.clone();
        }
        let state = BeatState {
            execution: e,
            beat: r.beat,
            event: r.event.as_deref().map(|s| self.intern(s)),

            status: if r.failed {
                Status::Failed
            } else if r.ms.is_some() {
                Status::Done
            } else {
                Status::Incomplete
            },
            perf: None,
            exec: None,
            report: r.ms,
            pattern: false,
            ts,
            started: at.line,
            failed_at: None,
            stated_handler: r.handler.as_deref().map(|h| Box::new((self.intern(h), plugin))),
        };
        if r.event.is_none()
            && let Some(title) = r.title.as_deref()
        {
            let title = self.intern(title);
            self.titles.insert(self.beats.len(), title);
        }
        self.executions.hold(e);
        self.beats.push(state);
    }

    /// A user rule's sample: a whole beat of its own (user rules' samples share no context), so
    /// it is released at once.
    fn sample(&mut self, handler: &str, plugin: Option<&str>, ms: f64, ts: Option<i64>, at: Location) {
        let plugin = plugin.map(|s| self.intern(s));
        let e = self.reported_execution((None, None, None, 0));
        let state = BeatState {
            execution: e,
            beat: 0,
            event: None,
            status: Status::Done,
            perf: None,
            exec: None,
            report: Some(ms),
            pattern: true,
            ts,
            started: at.line,
            failed_at: None,
            stated_handler: Some(Box::new((self.intern(handler), plugin))),
        };
        self.executions.hold(e);
        self.beats.push(state);
        self.release_front();
    }

    /// Ends the file: beats still open are incomplete (H4, capture ends mid-beat). `given_back`:
    /// beats handed out before and given back (they need the file's handler lines), each with
    /// its execution; they are older than every beat still held and come first.
    pub fn finish(mut self, given_back: Vec<(BeatRecord, ExecutionInfo)>) -> FileTrace {
        self.end_open_beats(|_| true, Status::Incomplete, Location { file: 0, line: 0 });
        // Converted from the back, releasing the states as the records grow, so that the two
        // vectors never both hold every beat (the trace's memory is most of a run's).
        let mut states = std::mem::take(&mut self.beats);
        let base = states.base;
        let mut beats = Vec::new();
        let file = self.file;
        while let Some(b) = states.items.pop_back() {
            let r = record_of(b, file);
            count(&mut self.outcomes, &r);
            beats.push(r);
            if states.items.len().is_multiple_of(RELEASE_EVERY) {
                states.items.shrink_to_fit();
            }
        }
        beats.reverse();
        // Released beats never carry a title: the rest keep theirs, at their new positions.
        let released = std::mem::take(&mut self.released);
        let shift = given_back.len() + released.len();
        let titles: HashMap<usize, Arc<str>> =
            std::mem::take(&mut self.titles).into_iter().filter(|(i, _)| *i >= base).map(|(i, t)| (i - base + shift, t)).collect();
        let orphans = std::mem::take(&mut self.orphans).into_iter().filter_map(orphan_record).collect();
        // The executions of the beats left, numbered anew in the order of their first beat.
        let mut executions = Vec::new();
        let mut renumbered: FxMap<u32, u32> = FxMap::default();
        let mut all = Vec::with_capacity(shift + beats.len());
        let mut add = |mut r: BeatRecord, info: &ExecutionInfo| {
            r.execution = *renumbered.entry(r.execution).or_insert_with(|| {
                executions.push(info.clone());
                (executions.len() - 1) as u32
            });
            all.push(r);
        };
        for (r, info) in given_back {
            add(r, &info);
        }
        for r in released.into_iter().chain(beats) {
            let e = r.execution;
            add(r, self.executions.info(e));
        }
        FileTrace {
            executions,
            beats: all,
            orphans,
            hints: self.hints.into_iter().map(|(_, h)| h).collect(),
            titles,
            recognized: self.recognized,
            timing_lines: self.timing_lines,
            outcomes: self.outcomes,
            rejected: self.rejected,
            orphaned: self.orphaned,
            dropped_hints: Vec::new(),
        }
    }
}

/// The record of an orphan; `None` when no duration joined it.
fn orphan_record(o: OrphanState) -> Option<OrphanRecord> {
    let ((ms, at), source) = match (o.perf, o.exec) {
        (Some(p), _) => (p, TimedBy::PerformanceTracker),
        (None, Some(e)) => (e, TimedBy::BeatExecutor),
        (None, None) => return None,
    };
    Some(OrphanRecord { beat: o.beat, event: o.event, ms, source, ts: o.ts, at })
}

/// The beats of a file, indexed by their order in the file (0, 1, …); the oldest can be released
/// from the front, after which indexing still uses the original numbers.
#[derive(Default)]
struct Arena {
    base: usize,
    items: VecDeque<BeatState>,
}

impl Arena {
    fn len(&self) -> usize {
        self.base + self.items.len()
    }
    fn push(&mut self, b: BeatState) {
        self.items.push_back(b);
    }
    fn front(&self) -> Option<&BeatState> {
        self.items.front()
    }
    fn pop_front(&mut self) -> Option<BeatState> {
        let b = self.items.pop_front()?;
        self.base += 1;
        Some(b)
    }
}

impl std::ops::Index<usize> for Arena {
    type Output = BeatState;
    fn index(&self, i: usize) -> &BeatState {
        &self.items[i - self.base]
    }
}

impl std::ops::IndexMut<usize> for Arena {
    fn index_mut(&mut self, i: usize) -> &mut BeatState {
        &mut self.items[i - self.base]
    }
}

/// How many records are converted between two releases of memory.
pub const RELEASE_EVERY: usize = 1 << 16;

fn count(outcomes: &mut [u64; 3], r: &BeatRecord) {
    let i = match r.outcome {
        BeatOutcome::Sample { .. } => 0,
        BeatOutcome::Failed => 1,
        BeatOutcome::Incomplete => 2,
    };
    outcomes[i] += 1;
}

/// The record of a beat that can no longer change.
fn record_of(b: BeatState, file: u32) -> BeatRecord {
    let (outcome, line) = match b.status {
        Status::Done => match (b.perf, b.exec, b.report) {
            (Some((ms, at)), _, _) => (BeatOutcome::Sample { ms, source: TimedBy::PerformanceTracker }, at),
            (None, Some((ms, at)), _) => (BeatOutcome::Sample { ms, source: TimedBy::BeatExecutor }, at),
            (None, None, Some(ms)) => {
                (BeatOutcome::Sample { ms, source: if b.pattern { TimedBy::Pattern } else { TimedBy::Report } }, b.started)
            }
            (None, None, None) => (BeatOutcome::Incomplete, b.started),
        },
        Status::Failed => (BeatOutcome::Failed, b.failed_at.unwrap_or(b.started)),
        Status::Open | Status::Incomplete => (BeatOutcome::Incomplete, b.started),
    };
    BeatRecord {
        execution: b.execution,
        beat: b.beat,
        event: b.event,
        outcome,
        ts: b.ts,
        at: Location { file, line },
        stated_handler: b.stated_handler,
    }
}

/// `library-load-symphony-1761945322362-xmn12t3tr` → `library-load-symphony` (C11: the request
/// id is `<sequenceId>-<epochms>-<rand>`).
pub fn sequence_id_of_request(request: &str) -> Option<&str> {
    let (head, rand) = request.rsplit_once('-')?;
    let (id, epoch) = head.rsplit_once('-')?;
    let ok = epoch.len() == 13 && epoch.bytes().all(|b| b.is_ascii_digit()) && !rand.is_empty() && !id.is_empty();
    ok.then_some(id)
}
