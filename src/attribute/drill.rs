//! The executions kept for drill-down, in bounded memory: every one while there are at most
//! the handler's cap; beyond, the `cap/10` slowest (exactly — a min-heap keeps them as they
//! stream by) plus a uniform sample of all executions: the ones whose log location hashes
//! lowest ("bottom-k"), so the selection depends only on the executions, never on the order
//! they are attributed in. Statistics never use this: they use every duration.
//!
//! The cap is `--max-executions`, lowered when the run has many handlers so that the kept
//! executions of all handlers stay within [`BUDGET`] (each handler keeping at least [`FLOOR`]):
//! the cap only shrinks as handlers appear, and the selection under a smaller cap is a subset
//! of the one under a larger (fewer slowest, fewer lowest hashes), so a handler evicts down its
//! own selection — its fastest kept "slowest" and its highest kept hashes first — and the
//! result is that of one drill that had the final cap from the start, whatever the order the
//! handlers appeared in or the files were read in.
//!
//! An execution is kept compact ([`Kept`], 56 bytes on 64-bit): its sequence and event as `u32`
//! ids into the drill's own table of the (few) distinct strings it has seen, the timestamp as
//! an `i64` with a sentinel; the request id is the tracker's shared string (no allocation).
//! The public [`Execution`] is made only when a report is built ([`Drill::kept`]).

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Arc;

use super::Execution;
use super::tracker::TimedBy;
use crate::parse::Location;

/// Executions kept for drill-down by all the handlers of a run together (per attributor: one
/// per file read at the same time). What a kept execution costs is mostly the report's: about
/// 740 bytes each at the peak while the JSON was built as one string, about 200 since it is
/// written as it serializes (measured: `--json` against the terminal report on a GiB; 56 of
/// them are the kept execution while reading). 15,000 was chosen as about 11 MB of the former:
/// the margin between the 47 MB a GiB of 1,800 handlers takes without a drill-down and the
/// 60 MB bound of issue #28, with room for the load's noise; 15 handlers at the default
/// `--max-executions` (1,000) keep them all.
pub const BUDGET: usize = 15_000;

/// Executions a handler keeps at least, whatever the number of handlers: its slowest and 3 of
/// the sample (10,000 handlers, `[sources] max_handlers`' default, keep 40,000 at most).
pub const FLOOR: usize = 4;

/// The cap of each handler's selection when there are `handlers`: `max` (`--max-executions`)
/// while `budget` allows it, else the budget shared equally, but never below [`FLOOR`].
pub fn cap(max: usize, budget: usize, handlers: usize) -> usize {
    max.min((budget / handlers.max(1)).max(FLOOR))
}

/// No timestamp (a timestamp is milliseconds since the epoch: this one is not a real one).
const NO_TS: i64 = i64::MIN;
/// No sequence, or no event.
const NONE: u32 = u32::MAX;

/// A kept execution, compact (see the module's documentation).
#[derive(Debug, Clone)]
struct Kept {
    ms: f64,
    ts: i64,
    at: Location,
    request: Option<Arc<str>>,
    beat: u32,
    sequence: u32,
    event: u32,
    source: TimedBy,
}

#[derive(Debug, Clone)]
pub struct Drill {
    /// `--max-executions`.
    max: usize,
    /// The current cap (≤ `max`): it only shrinks.
    cap: usize,
    budget: usize,
    seen: u64,
    /// Every execution, while there are at most `cap`.
    all: Vec<Kept>,
    /// Min-heap (by `Slowest`'s reversed order) of the slowest executions.
    slowest: BinaryHeap<Slowest>,
    /// Max-heap by location hash: the top is the first to leave.
    sample: BinaryHeap<Sampled>,
    /// The sequences and events of the kept executions, by id.
    strings: Vec<Arc<str>>,
    ids: rustc_hash::FxHashMap<Arc<str>, u32>,
}

#[derive(Debug, Clone)]
struct Sampled(Kept);

impl Sampled {
    fn key(&self) -> (u64, Location) {
        (location_hash(self.0.at), self.0.at)
    }
}

impl PartialEq for Sampled {
    fn eq(&self, other: &Self) -> bool {
        self.0.at == other.0.at
    }
}
impl Eq for Sampled {}
impl PartialOrd for Sampled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Sampled {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

/// A well-mixed hash of a log location (SplitMix64's finalizer).
fn location_hash(at: Location) -> u64 {
    let mut z = (u64::from(at.file) << 32 | u64::from(at.line)).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[derive(Debug, Clone)]
struct Slowest(Kept);

impl Slowest {
    fn key(&self) -> (f64, Location) {
        (self.0.ms, self.0.at)
    }
}

impl PartialEq for Slowest {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Slowest {}
impl PartialOrd for Slowest {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Slowest {
    /// Reversed, so that the heap's top is the fastest of the slowest.
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, la) = self.key();
        let (b, lb) = other.key();
        b.total_cmp(&a).then(lb.cmp(&la))
    }
}

impl Drill {
    /// A drill of `max` executions at most, sharing [`BUDGET`] with the run's other handlers.
    pub fn new(max: usize) -> Self {
        Drill::with_budget(max, BUDGET)
    }

    pub fn with_budget(max: usize, budget: usize) -> Self {
        Drill {
            max,
            cap: cap(max, budget, 1),
            budget,
            seen: 0,
            all: Vec::new(),
            slowest: BinaryHeap::new(),
            sample: BinaryHeap::new(),
            strings: Vec::new(),
            ids: Default::default(),
        }
    }

    /// Lowers the cap to that of a run of `handlers` handlers, evicting down the selection.
    pub fn fit(&mut self, handlers: usize) {
        let c = cap(self.max, self.budget, handlers);
        if c < self.cap {
            self.shrink(c);
        }
    }

    fn shrink(&mut self, c: usize) {
        self.cap = c;
        if !self.all.is_empty() {
            if self.seen > c as u64 {
                self.spill();
            } else {
                self.all.shrink_to_fit();
            }
            return;
        }
        let (top, size) = self.sizes();
        while self.slowest.len() > top {
            self.slowest.pop();
        }
        while self.sample.len() > size {
            self.sample.pop();
        }
        self.slowest.shrink_to_fit();
        self.sample.shrink_to_fit();
    }

    /// The id of `s`, added to the table when new.
    fn id(&mut self, s: Option<Arc<str>>) -> u32 {
        let Some(s) = s else { return NONE };
        if let Some(&id) = self.ids.get(&s) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(s.clone());
        self.ids.insert(s, id);
        id
    }

    fn compact(&mut self, e: Execution) -> Kept {
        let Execution { ts, sequence, beat, event, request, ms, source, at } = e;
        Kept { ms, ts: ts.unwrap_or(NO_TS), at, request, beat, sequence: self.id(sequence), event: self.id(event), source }
    }

    fn expand(&self, k: &Kept) -> Execution {
        let string = |id: u32| (id != NONE).then(|| self.strings[id as usize].clone());
        Execution {
            ts: (k.ts != NO_TS).then_some(k.ts),
            sequence: string(k.sequence),
            beat: k.beat,
            event: string(k.event),
            request: k.request.clone(),
            ms: k.ms,
            source: k.source,
            at: k.at,
        }
    }

    /// Adds the execution of `ms` at `at` in a run of `handlers` handlers so far, made by
    /// `make` only when it is kept (most are not, past the cap).
    pub fn push_with(&mut self, handlers: usize, ms: f64, at: Location, make: impl FnOnce() -> Execution) {
        self.fit(handlers);
        if !self.all.is_empty() || self.seen < self.cap as u64 || self.keeps(ms, at) {
            self.push(make());
        } else {
            self.seen += 1;
        }
    }

    /// Whether an execution would enter the selection (once past the cap).
    fn keeps(&self, ms: f64, at: Location) -> bool {
        self.enters_slowest(ms, at) || self.enters_sample(location_hash(at), at)
    }

    /// How many of the kept executions are the slowest, and how many the hash sample: a tenth
    /// of the cap, but at least one when the budget lowered the cap (from 10 or more) — each
    /// shrinks with the cap, so a lowered cap keeps a subset.
    fn sizes(&self) -> (usize, usize) {
        let top = if self.cap < self.max && self.max >= 10 { (self.cap / 10).max(1) } else { self.cap / 10 };
        (top, self.cap - top)
    }

    /// Whether the execution of `ms` at `at` is among the slowest seen so far.
    fn enters_slowest(&self, ms: f64, at: Location) -> bool {
        let (top, _) = self.sizes();
        top > 0 && (self.slowest.len() < top || self.slowest.peek().is_some_and(|min| (ms, at) > min.key()))
    }

    /// Whether the execution at `at`, of location hash `h`, hashes among the lowest so far.
    fn enters_sample(&self, h: u64, at: Location) -> bool {
        let (_, size) = self.sizes();
        size > 0 && (self.sample.len() < size || self.sample.peek().is_some_and(|t| (h, at) < t.key()))
    }

    pub fn push(&mut self, e: Execution) {
        let k = self.compact(e);
        if self.seen < self.cap as u64 {
            self.seen += 1;
            self.all.push(k);
            return;
        }
        if !self.all.is_empty() {
            self.spill();
        }
        self.sample(k);
    }

    /// Past the cap: the executions kept whole become the slowest and the hash sample, as if
    /// selected from the start.
    fn spill(&mut self) {
        let all = std::mem::take(&mut self.all);
        self.seen = 0;
        for old in all {
            self.sample(old);
        }
    }

    fn sample(&mut self, k: Kept) {
        self.seen += 1;
        let (top, size) = self.sizes();
        if self.enters_slowest(k.ms, k.at) {
            if self.slowest.len() < top {
                self.slowest.push(Slowest(k.clone()));
            } else if let Some(mut min) = self.slowest.peek_mut() {
                *min = Slowest(k.clone());
            }
        }
        if self.enters_sample(location_hash(k.at), k.at) {
            if self.sample.len() < size {
                self.sample.push(Sampled(k));
            } else if let Some(mut last) = self.sample.peek_mut() {
                *last = Sampled(k);
            }
        }
    }

    /// Adds the executions `other` saw (of other files): the selection is that of one drill
    /// that saw them all, under the smaller of the two caps, since the slowest and the lowest
    /// hashes of all the executions are among those each part kept. `other`'s kept executions
    /// are pushed as if seen here.
    pub fn merge(&mut self, other: Drill) {
        if other.cap < self.cap {
            self.shrink(other.cap);
        }
        let seen = self.seen + other.seen;
        let kept: Vec<Execution> = other.kept();
        let kept: Vec<Kept> = kept.into_iter().map(|e| self.compact(e)).collect();
        if seen <= self.cap as u64 {
            self.all.extend(kept);
        } else {
            if !self.all.is_empty() {
                self.spill();
            }
            for k in kept {
                self.sample(k);
            }
        }
        self.seen = seen;
    }

    /// Whether some executions were left out.
    pub fn truncated(&self) -> bool {
        self.seen > self.cap as u64
    }

    /// The cap, when the run's many handlers lowered it below `--max-executions` and it left
    /// executions out.
    pub fn capped(&self) -> Option<usize> {
        (self.cap < self.max && self.truncated()).then_some(self.cap)
    }

    /// The entries kept now: at most the cap (an execution both among the slowest and in the
    /// sample counts twice).
    pub fn len(&self) -> usize {
        self.all.len() + self.slowest.len() + self.sample.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The kept executions, in log order, without duplicates, made whole.
    pub fn kept(&self) -> Vec<Execution> {
        let mut v: Vec<&Kept> = self.all.iter().chain(self.slowest.iter().map(|s| &s.0)).chain(self.sample.iter().map(|s| &s.0)).collect();
        v.sort_by_key(|k| k.at);
        v.dedup_by_key(|k| k.at);
        v.into_iter().map(|k| self.expand(k)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribute::tracker::TimedBy;
    use crate::parse::Location;

    fn exec(ms: f64, line: u32) -> Execution {
        Execution {
            ts: None,
            sequence: None,
            beat: 1,
            event: None,
            request: None,
            ms,
            source: TimedBy::BeatExecutor,
            at: Location { file: 0, line },
        }
    }

    #[test]
    fn keeps_all_then_the_slowest_and_a_sample() {
        let mut d = Drill::new(100);
        for i in 0..100 {
            d.push(exec(f64::from(i), i));
        }
        assert!(!d.truncated());
        assert_eq!(d.kept().len(), 100);
        let mut d = Drill::new(100);
        for i in 0..10_000u32 {
            d.push(exec(f64::from(i % 977), i));
        }
        let kept = d.kept();
        assert!(d.truncated() && kept.len() <= 100 && kept.len() >= 90);
        // The 10 slowest (976 ms, at lines 976 + 977k) are all kept.
        assert_eq!(kept.iter().filter(|e| e.ms == 976.0).count(), 10);
        assert!(kept.windows(2).all(|w| w[0].at < w[1].at));
        // Spread over the whole log, not only its start or end.
        assert!(kept.iter().any(|e| e.at.line < 2000) && kept.iter().any(|e| e.at.line > 8000));
        // The same executions in another order keep the same selection.
        let mut r = Drill::new(100);
        for i in (0..10_000u32).rev() {
            r.push(exec(f64::from(i % 977), i));
        }
        let again: Vec<u32> = r.kept().iter().map(|e| e.at.line).collect();
        assert_eq!(again, kept.iter().map(|e| e.at.line).collect::<Vec<_>>());
    }

    /// Making only the executions that are kept selects what pushing all of them does.
    #[test]
    fn push_with_selects_as_push_does() {
        for max in [0, 1, 9, 10, 100] {
            let (mut all, mut lazy) = (Drill::new(max), Drill::new(max));
            let mut made = 0;
            for i in 0..5_000u32 {
                let ms = f64::from(i.wrapping_mul(2_654_435_761) % 1000) / 10.0;
                all.push(exec(ms, i));
                lazy.push_with(1, ms, Location { file: 0, line: i }, || {
                    made += 1;
                    exec(ms, i)
                });
            }
            let lines = |d: &Drill| d.kept().iter().map(|e| (e.at.line, e.ms.to_bits())).collect::<Vec<_>>();
            assert_eq!((lines(&lazy), lazy.truncated()), (lines(&all), all.truncated()), "max {max}");
            if max == 100 {
                assert!(made < 1_500, "{made} made of 5000");
            }
        }
    }

    /// Drills of the parts of a stream, merged, select what one drill of the whole stream does.
    #[test]
    fn merged_parts_select_as_the_whole() {
        for (max, n, cuts) in [(100, 5_000u32, vec![0, 1, 2_500, 4_990]), (100, 150, vec![60, 100]), (10, 9, vec![3]), (0, 50, vec![25])] {
            let mut whole = Drill::new(max);
            let mut parts = vec![Drill::new(max)];
            for i in 0..n {
                let e = exec(f64::from(i.wrapping_mul(2_654_435_761) % 1000) / 10.0, i);
                whole.push(e.clone());
                if cuts.contains(&i) {
                    parts.push(Drill::new(max));
                }
                parts.last_mut().unwrap().push(e);
            }
            let mut merged = parts.remove(0);
            for p in parts {
                merged.merge(p);
            }
            let lines = |d: &Drill| d.kept().iter().map(|e| e.at.line).collect::<Vec<_>>();
            assert_eq!((lines(&merged), merged.truncated()), (lines(&whole), whole.truncated()), "max {max}, n {n}");
        }
    }

    /// A kept execution is compact, and made whole as it was given.
    #[test]
    fn kept_executions_are_compact_and_made_whole_as_given() {
        assert!(std::mem::size_of::<Kept>() <= 56, "{}", std::mem::size_of::<Kept>());
        let whole = Execution {
            ts: Some(1_761_945_322_362),
            sequence: Some(Arc::from("library-load-symphony")),
            beat: 3,
            event: Some(Arc::from("library:components:load")),
            request: Some(Arc::from("req-1")),
            ms: 4.2,
            source: TimedBy::PerformanceTracker,
            at: Location { file: 2, line: 7 },
        };
        let mut d = Drill::new(10);
        d.push(whole.clone());
        d.push(exec(1.0, 8));
        let mut again = whole.clone();
        again.at.line = 9;
        d.push(again.clone());
        assert_eq!(d.kept(), vec![exec(1.0, 8), whole, again]);
        // One string each in the table, however many executions name it.
        assert_eq!(d.strings.len(), 2);
    }

    /// A drill whose cap is lowered (more handlers came) keeps what it would have kept with
    /// that cap from the start: its slowest, and the lowest hashes.
    #[test]
    fn a_lowered_cap_keeps_what_it_would_have_from_the_start() {
        for handlers in [2, 5, 40, 100, 300, 1_000] {
            let (mut lowered, mut from_start) = (Drill::with_budget(1000, 2_000), Drill::with_budget(1000, 2_000));
            from_start.fit(handlers);
            for i in 0..5_000u32 {
                let ms = f64::from(i.wrapping_mul(2_654_435_761) % 1000) / 10.0;
                lowered.push_with(1, ms, Location { file: 0, line: i }, || exec(ms, i));
                from_start.push(exec(ms, i));
            }
            lowered.fit(handlers);
            let cap = cap(1000, 2_000, handlers);
            let lines = |d: &Drill| d.kept().iter().map(|e| e.at.line).collect::<Vec<_>>();
            assert_eq!(lines(&lowered), lines(&from_start), "{handlers} handlers");
            assert!(lowered.len() <= cap && lowered.kept().len() <= cap, "{handlers} handlers");
            assert_eq!(lowered.capped(), (cap < 1000).then_some(cap));
            // The slowest tenth of the cap is kept, exactly.
            let mut all: Vec<(f64, u32)> = (0..5_000u32).map(|i| (f64::from(i.wrapping_mul(2_654_435_761) % 1000) / 10.0, i)).collect();
            all.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
            let kept: Vec<u32> = lines(&lowered);
            let top = lowered.sizes().0;
            assert!(top >= 1 && all[..top].iter().all(|(_, i)| kept.contains(i)), "{handlers} handlers");
        }
        // The cap never goes below the floor, nor above the budget.
        assert_eq!(cap(1000, 2_000, 1_000), FLOOR);
        assert_eq!(cap(usize::MAX, 2_000, 1), 2_000);
    }

    /// Parts of a stream read with different caps (files of fewer handlers), merged and fitted
    /// to the run's handlers, select what one drill of the whole stream with the final cap does.
    #[test]
    fn parts_with_different_caps_merge_as_the_whole() {
        let mut whole = Drill::with_budget(1000, 2_000);
        whole.fit(20);
        let mut parts = vec![Drill::with_budget(1000, 2_000), Drill::with_budget(1000, 2_000), Drill::with_budget(1000, 2_000)];
        let handlers = [1, 20, 4];
        for i in 0..6_000u32 {
            let ms = f64::from(i.wrapping_mul(2_654_435_761) % 1000) / 10.0;
            whole.push(exec(ms, i));
            let p = (i / 2_000) as usize;
            parts[p].push_with(handlers[p], ms, Location { file: 0, line: i }, || exec(ms, i));
        }
        let mut merged = parts.remove(0);
        for p in parts {
            merged.merge(p);
        }
        merged.fit(20);
        let lines = |d: &Drill| d.kept().iter().map(|e| e.at.line).collect::<Vec<_>>();
        assert_eq!((lines(&merged), merged.capped()), (lines(&whole), Some(100)));
    }
}
