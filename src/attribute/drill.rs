//! The executions kept for drill-down, in bounded memory: every one while there are at most
//! `max`; beyond, the `max/10` slowest (exactly — a min-heap keeps them as they stream by) plus a
//! uniform random sample of all executions (reservoir sampling, Algorithm R, with a fixed seed:
//! the same input keeps the same executions). Statistics never use this: they use every
//! duration.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::Execution;
use crate::rng::Rng;

#[derive(Debug, Clone)]
pub struct Drill {
    max: usize,
    seen: u64,
    /// Every execution, while there are at most `max`.
    all: Vec<Execution>,
    /// Min-heap (by `Slowest`'s reversed order) of the slowest executions.
    slowest: BinaryHeap<Slowest>,
    reservoir: Vec<Execution>,
    rng: Rng,
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
        Drill { max, seen: 0, all: Vec::new(), slowest: BinaryHeap::new(), reservoir: Vec::new(), rng: Rng::new(0x5EED) }
    }

    pub fn push(&mut self, e: Execution) {
        if self.seen < self.max as u64 {
            self.seen += 1;
            self.all.push(e);
            return;
        }
        if !self.all.is_empty() {
            // Past `max`: from now on, the slowest and a reservoir sample, as if from the start.
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
            } else if let Some(min) = self.slowest.peek() {
                if (e.ms, e.at) > min.key() {
                    self.slowest.pop();
                    self.slowest.push(Slowest(e.clone()));
                }
            }
        }
        let size = self.max - top;
        if self.reservoir.len() < size {
            self.reservoir.push(e);
        } else if size > 0 {
            let j = (self.rng.unit() * self.seen as f64) as usize;
            if j < size {
                self.reservoir[j] = e;
            }
        }
    }

    /// How many executions went by.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// Whether some executions were left out.
    pub fn truncated(&self) -> bool {
        self.seen > self.max as u64
    }

    /// The kept executions, in log order, without duplicates.
    pub fn kept(&self) -> Vec<&Execution> {
        let mut v: Vec<&Execution> = self.all.iter().chain(self.slowest.iter().map(|s| &s.0)).chain(&self.reservoir).collect();
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
    }
}
