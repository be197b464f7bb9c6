//! The executions kept for drill-down, in bounded memory: every one while there are at most
//! `max`; beyond, the `max/10` slowest (exactly — a min-heap keeps them as they stream by) plus a
//! uniform sample of all executions: the ones whose log location hashes lowest ("bottom-k"), so
//! the selection depends only on the executions, never on the order they are attributed in.
//! Statistics never use this: they use every duration.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::Execution;

#[derive(Debug, Clone)]
pub struct Drill {
    max: usize,
    seen: u64,
    /// Every execution, while there are at most `max`.
    all: Vec<Execution>,
    /// Min-heap (by `Slowest`'s reversed order) of the slowest executions.
    slowest: BinaryHeap<Slowest>,
    /// Max-heap by location hash: the top is the first to leave.
    sample: BinaryHeap<Sampled>,
}

#[derive(Debug, Clone)]
struct Sampled(u64, Execution);

impl PartialEq for Sampled {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0 && self.1.at == other.1.at
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
        self.0.cmp(&other.0).then(self.1.at.cmp(&other.1.at))
    }
}

/// A well-mixed hash of a log location (SplitMix64's finalizer).
fn location_hash(at: crate::parse::Location) -> u64 {
    let mut z = (u64::from(at.file) << 32 | u64::from(at.line)).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[derive(Debug, Clone)]
struct Slowest(Execution);

impl Slowest {
    fn key(&self) -> (f64, crate::parse::Location) {
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
    pub fn new(max: usize) -> Self {
        Drill { max, seen: 0, all: Vec::new(), slowest: BinaryHeap::new(), sample: BinaryHeap::new() }
    }

    /// Adds the execution of `ms` at `at`, made by `make` only when it is kept (most are not,
    /// past `max`).
    pub fn push_with(&mut self, ms: f64, at: crate::parse::Location, make: impl FnOnce() -> Execution) {
        if !self.all.is_empty() || self.seen < self.max as u64 || self.keeps(ms, at) {
            self.push(make());
        } else {
            self.seen += 1;
        }
    }

    /// Whether an execution would enter the selection (once past `max`).
    fn keeps(&self, ms: f64, at: crate::parse::Location) -> bool {
        self.enters_slowest(ms, at) || self.enters_sample(location_hash(at), at)
    }

    /// How many of the kept executions are the slowest, and how many the hash sample.
    fn sizes(&self) -> (usize, usize) {
        let top = self.max / 10;
        (top, self.max - top)
    }

    /// Whether the execution of `ms` at `at` is among the slowest seen so far.
    fn enters_slowest(&self, ms: f64, at: crate::parse::Location) -> bool {
        let (top, _) = self.sizes();
        top > 0 && (self.slowest.len() < top || self.slowest.peek().is_some_and(|min| (ms, at) > min.key()))
    }

    /// Whether the execution at `at`, of location hash `h`, hashes among the lowest so far.
    fn enters_sample(&self, h: u64, at: crate::parse::Location) -> bool {
        let (_, size) = self.sizes();
        size > 0 && (self.sample.len() < size || self.sample.peek().is_some_and(|t| (h, at) < (t.0, t.1.at)))
    }

    pub fn push(&mut self, e: Execution) {
        if self.seen < self.max as u64 {
            self.seen += 1;
            self.all.push(e);
            return;
        }
        if !self.all.is_empty() {
            // Past `max`: from now on, the slowest and the hash sample, as if from the start.
            let all = std::mem::take(&mut self.all);
            self.seen = 0;
            for old in all {
                self.sample(old);
            }
        }
        self.sample(e);
    }

    fn sample(&mut self, e: Execution) {
        self.seen += 1;
        let (top, size) = self.sizes();
        if self.enters_slowest(e.ms, e.at) {
            if self.slowest.len() < top {
                self.slowest.push(Slowest(e.clone()));
            } else if let Some(mut min) = self.slowest.peek_mut() {
                *min = Slowest(e.clone());
            }
        }
        let h = location_hash(e.at);
        if self.enters_sample(h, e.at) {
            if self.sample.len() < size {
                self.sample.push(Sampled(h, e));
            } else if let Some(mut last) = self.sample.peek_mut() {
                *last = Sampled(h, e);
            }
        }
    }

    /// Adds the executions `other` saw (of other files): the selection is that of one drill
    /// that saw them all, since the slowest and the lowest hashes of all the executions are
    /// among those each part kept. `other`'s kept executions are pushed as if seen here.
    pub fn merge(&mut self, other: Drill) {
        let seen = self.seen + other.seen;
        let mut kept: Vec<Execution> = other.all;
        if kept.is_empty() {
            // Its two selections may hold the same execution.
            kept.extend(other.slowest.into_iter().map(|s| s.0));
            kept.extend(other.sample.into_iter().map(|s| s.1));
            kept.sort_by_key(|e| e.at);
            kept.dedup_by_key(|e| e.at);
        }
        if seen <= self.max as u64 {
            self.all.extend(kept);
        } else {
            if !self.all.is_empty() {
                for old in std::mem::take(&mut self.all) {
                    self.sample(old);
                }
            }
            for e in kept {
                self.sample(e);
            }
        }
        self.seen = seen;
    }

    /// Whether some executions were left out.
    pub fn truncated(&self) -> bool {
        self.seen > self.max as u64
    }

    /// The kept executions, in log order, without duplicates.
    pub fn kept(&self) -> Vec<&Execution> {
        let mut v: Vec<&Execution> =
            self.all.iter().chain(self.slowest.iter().map(|s| &s.0)).chain(self.sample.iter().map(|s| &s.1)).collect();
        v.sort_by_key(|e| e.at);
        v.dedup_by_key(|e| e.at);
        v
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
                lazy.push_with(ms, Location { file: 0, line: i }, || {
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
}
