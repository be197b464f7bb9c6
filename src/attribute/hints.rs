//! The handler lines of a file (C17/C18 `beat=? … handler=<name>`), by event: what names the
//! handler of a beat the catalog does not map (LOG-FORMATS.md §3 step 5, H10).
//!
//! While a console log is read they are kept in a window of [`WINDOW`] executions: a beat that
//! needs them is attributed once the file is [`WINDOW`] executions past it, with the handler
//! lines of the [`WINDOW`] executions on either side of its own (at least), and older lines are
//! dropped. So the memory does not grow with the file, and a handler line counts for a beat only
//! when it is that close to it: RenderX logs one a few beats after the beat it names. A beat left
//! unmapped while handler lines of its event had been dropped is counted (see
//! [`Hints::dropped_for`]). A file read whole (markdown, frames) keeps all its lines.

use std::collections::VecDeque;
use std::sync::Arc;

use super::tracker::HandlerHint;

/// Executions on either side of a beat whose handler lines can name its handler.
pub const WINDOW: u64 = 4096;

type FxMap<K, V> = rustc_hash::FxHashMap<K, V>;

/// Handler lines by event, each with the number of executions started before it (its "tag").
#[derive(Debug, Default)]
pub struct Hints {
    by_event: FxMap<Arc<str>, EventHints>,
    /// Every kept line's tag and event, in the order read (tags never decrease).
    order: VecDeque<(u64, Arc<str>)>,
    /// Lines dropped from the window, by event.
    dropped: FxMap<Arc<str>, u64>,
}

/// The handler lines of one event, and what answers most look-ups without reading them: the
/// handlers they name and the request ids they carry.
#[derive(Debug, Default)]
pub struct EventHints {
    lines: VecDeque<(u64, HandlerHint)>,
    /// The distinct (handler, plugin) pairs the lines name, with how many name each (one, in
    /// logs whose handler lines agree).
    pub names: Vec<(Arc<str>, Option<Arc<str>>, u32)>,
    /// Lines without a request id.
    pub no_request: u32,
    /// The request ids of the others, with how many carry each.
    requests: FxMap<Arc<str>, u32>,
}

impl EventHints {
    /// The lines, in the order read.
    pub fn lines(&self) -> impl Iterator<Item = &HandlerHint> + Clone {
        self.lines.iter().map(|(_, h)| h)
    }

    /// Whether a line carries the request id `request`.
    pub fn has_request(&self, request: &str) -> bool {
        self.requests.contains_key(request)
    }

    fn push(&mut self, tag: u64, hint: HandlerHint) {
        match self.names.iter_mut().find(|(h, p, _)| *h == hint.handler && *p == hint.plugin) {
            Some((_, _, n)) => *n += 1,
            None => self.names.push((hint.handler.clone(), hint.plugin.clone(), 1)),
        }
        match &hint.request {
            Some(r) => *self.requests.entry(r.clone()).or_default() += 1,
            None => self.no_request += 1,
        }
        self.lines.push_back((tag, hint));
    }

    fn pop_front(&mut self) -> Option<(u64, HandlerHint)> {
        let (tag, hint) = self.lines.pop_front()?;
        if let Some(i) = self.names.iter().position(|(h, p, _)| *h == hint.handler && *p == hint.plugin) {
            self.names[i].2 -= 1;
            if self.names[i].2 == 0 {
                self.names.remove(i);
            }
        }
        match &hint.request {
            Some(r) => {
                if let Some(n) = self.requests.get_mut(r) {
                    *n -= 1;
                    if *n == 0 {
                        self.requests.remove(r);
                    }
                }
            }
            None => self.no_request -= 1,
        }
        Some((tag, hint))
    }
}

impl Hints {
    /// The lines left of a file, untagged, and the events of which lines were dropped while it
    /// was read (see [`Hints::into_parts`]).
    pub fn of(hints: Vec<HandlerHint>, dropped: Vec<Arc<str>>) -> Self {
        let mut all = Hints { dropped: dropped.into_iter().map(|e| (e, 1)).collect(), ..Hints::default() };
        for h in hints {
            all.push(0, h);
        }
        all
    }

    pub fn push(&mut self, tag: u64, hint: HandlerHint) {
        self.order.push_back((tag, hint.event.clone()));
        self.by_event.entry(hint.event.clone()).or_default().push(tag, hint);
    }

    /// The lines of `event`.
    pub fn of_event(&self, event: &str) -> Option<&EventHints> {
        self.by_event.get(event)
    }

    /// Drops the lines tagged before `tag`.
    pub fn drop_before(&mut self, tag: u64) {
        while let Some((t, _)) = self.order.front() {
            if *t >= tag {
                break;
            }
            let (_, event) = self.order.pop_front().expect("a front line");
            if let Some(lines) = self.by_event.get_mut(&event) {
                lines.pop_front();
                if lines.lines.is_empty() {
                    self.by_event.remove(&event);
                }
            }
            *self.dropped.entry(event).or_default() += 1;
        }
    }

    /// Whether handler lines of `event` were dropped from the window.
    pub fn dropped_for(&self, event: &str) -> bool {
        self.dropped.contains_key(event)
    }

    /// The lines kept, in the order read, and the events of which lines were dropped.
    pub fn into_parts(self) -> (Vec<HandlerHint>, Vec<Arc<str>>) {
        let Hints { mut by_event, order, dropped } = self;
        let lines = order
            .into_iter()
            .map(|(_, event)| by_event.get_mut(&event).and_then(EventHints::pop_front).expect("a kept line of its event").1)
            .collect();
        (lines, dropped.into_keys().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(event: &str, handler: &str) -> HandlerHint {
        HandlerHint { event: event.into(), handler: handler.into(), plugin: None, request: None }
    }

    #[test]
    fn the_window_drops_old_lines_and_remembers_their_events() {
        let mut hints = Hints::default();
        hints.push(0, hint("a", "h1"));
        hints.push(3, hint("b", "h2"));
        hints.push(3, hint("a", "h3"));
        hints.push(9, hint("a", "h4"));
        hints.drop_before(4);
        let names: Vec<&str> = hints.of_event("a").unwrap().lines().map(|h| &*h.handler).collect();
        assert_eq!(names, ["h4"]);
        assert!(hints.of_event("b").is_none());
        assert!(hints.dropped_for("a") && hints.dropped_for("b") && !hints.dropped_for("c"));
        let (lines, mut dropped) = hints.into_parts();
        dropped.sort();
        assert_eq!((lines, dropped), (vec![hint("a", "h4")], vec![Arc::from("a"), Arc::from("b")]));
    }
}
