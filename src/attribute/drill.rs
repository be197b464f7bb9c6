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
        let top = self.max / 10;
        if top > 0 {
            if self.slowest.len() < top {
                self.slowest.push(Slowest(e.clone()));
            } else if let Some(min) = self.slowest.peek()
                && (e.ms, e.at) > min.key()
            {
                self.slowest.pop();
                self.slowest.push(Slowest(e.clone()));
            }
        }
        let size = self.max - top;
        if size == 0 {
            return;
        }
        let h = location_hash(e.at);
        if self.sample.len() < size {
            self.sample.push(Sampled(h, e));
        } else if self.sample.peek().is_some_and(|top| (h, e.at) < (top.0, top.1.at)) {
            self.sample.pop();
            self.sample.push(Sampled(h, e));
        }
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
    use crate::attribute::tracker::Source;
    use crate::parse::Location;

    fn exec(ms: f64, line: u32) -> Execution {
        Execution {
            ts: None,
            sequence: None,
            beat: 1,
            event: None,
            request: None,
            ms,
            source: Source::BeatExecutor,
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
}
