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

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::Arc;

use super::tracker::HandlerHint;

/// Executions on either side of a beat whose handler lines can name its handler.
pub const WINDOW: u64 = 4096;

type FxMap<K, V> = rustc_hash::FxHashMap<K, V>;

/// Handler lines by event, each with the number of executions started before it (its "tag").
///
/// Lines are indexed by event only when a look-up is coming ([`Hints::index`]): where a catalog
/// names every beat, none is, and a line costs a move in and a move out of the window. An
/// indexed line's event is looked up once: the window's order holds the number of the event's
/// entry, so dropping it hashes nothing. Indexing costs that one look-up and a comparison of the
/// line's handler with the names already seen; what only a look-up needs (the request ids of an
/// event's lines) is counted from the first look-up that asks for it on.
#[derive(Debug, Default)]
pub struct Hints {
    /// The entry of each event that has had lines (entries are never removed: events are few).
    slot_of: FxMap<Arc<str>, u32>,
    events: Vec<EventHints>,
    /// Every kept indexed line's tag and event entry, in the order read (tags never decrease).
    order: VecDeque<(u64, u32)>,
    /// The lines pushed since the last [`Hints::index`], in the order read (after `order`'s).
    pending: VecDeque<(u64, HandlerHint)>,
    /// The events of lines dropped before they were indexed (once each: by the address of the
    /// shared string, which the list keeps alive), to be marked by the next [`Hints::index`].
    dropped_pending: Vec<Arc<str>>,
    dropped_seen: rustc_hash::FxHashSet<usize>,
}

/// The handler lines of one event, and what answers most look-ups without reading them: the
/// handlers they name and the request ids they carry.
#[derive(Debug)]
pub struct EventHints {
    event: Arc<str>,
    lines: VecDeque<(u64, HandlerHint)>,
    /// The distinct (handler, plugin) pairs the lines name, with how many name each (one, in
    /// logs whose handler lines agree).
    pub names: Vec<(Arc<str>, Option<Arc<str>>, u32)>,
    /// Lines without a request id.
    pub no_request: u32,
    /// The request ids of the others, with how many carry each: counted when first asked for
    /// (see [`EventHints::has_request`]), then kept as lines come and go.
    requests: RefCell<Option<FxMap<Arc<str>, u32>>>,
    /// Lines dropped from the window.
    dropped: u64,
}

impl EventHints {
    fn new(event: Arc<str>) -> Self {
        EventHints { event, lines: VecDeque::new(), names: Vec::new(), no_request: 0, requests: RefCell::new(None), dropped: 0 }
    }

    /// The lines, in the order read.
    pub fn lines(&self) -> impl Iterator<Item = &HandlerHint> + Clone {
        self.lines.iter().map(|(_, h)| h)
    }

    /// Whether a line carries the request id `request`.
    pub fn has_request(&self, request: &str) -> bool {
        let mut requests = self.requests.borrow_mut();
        let requests = requests.get_or_insert_with(|| {
            let mut counted = FxMap::default();
            for r in self.lines().filter_map(|h| h.request.as_ref()) {
                *counted.entry(r.clone()).or_default() += 1;
            }
            counted
        });
        requests.contains_key(request)
    }

    fn push(&mut self, tag: u64, hint: HandlerHint) {
        match self.names.iter_mut().find(|(h, p, _)| *h == hint.handler && *p == hint.plugin) {
            Some((_, _, n)) => *n += 1,
            None => self.names.push((hint.handler.clone(), hint.plugin.clone(), 1)),
        }
        match &hint.request {
            Some(r) => {
                if let Some(requests) = self.requests.get_mut() {
                    *requests.entry(r.clone()).or_default() += 1;
                }
            }
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
                if let Some(requests) = self.requests.get_mut()
                    && let Some(n) = requests.get_mut(r)
                {
                    *n -= 1;
                    if *n == 0 {
                        requests.remove(r);
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
        let mut all = Hints::default();
        for e in dropped {
            let slot = all.slot(&e);
            all.events[slot].dropped += 1;
        }
        for h in hints {
            all.push(0, h);
        }
        all.index();
        all
    }

    /// The entry of `event`, made when new.
    fn slot(&mut self, event: &Arc<str>) -> usize {
        if let Some(&s) = self.slot_of.get(event) {
            return s as usize;
        }
        let s = self.events.len();
        self.events.push(EventHints::new(event.clone()));
        self.slot_of.insert(event.clone(), u32::try_from(s).expect("fewer than 2^32 events"));
        s
    }

    pub fn push(&mut self, tag: u64, hint: HandlerHint) {
        self.pending.push_back((tag, hint));
    }

    /// Indexes the lines pushed since the last call by event, and marks the events of those
    /// dropped meanwhile: the look-ups ([`Hints::of_event`], [`Hints::dropped_for`]) see every
    /// line pushed before it.
    pub fn index(&mut self) {
        for e in std::mem::take(&mut self.dropped_pending) {
            let slot = self.slot(&e);
            self.events[slot].dropped += 1;
        }
        self.dropped_seen.clear();
        while let Some((tag, hint)) = self.pending.pop_front() {
            let slot = self.slot(&hint.event);
            self.order.push_back((tag, slot as u32));
            self.events[slot].push(tag, hint);
        }
    }

    /// The lines of `event` (`None` when none is kept).
    pub fn of_event(&self, event: &str) -> Option<&EventHints> {
        let &s = self.slot_of.get(event)?;
        Some(&self.events[s as usize]).filter(|e| !e.lines.is_empty())
    }

    /// Drops the lines tagged before `tag`.
    pub fn drop_before(&mut self, tag: u64) {
        while let Some(&(t, slot)) = self.order.front() {
            if t >= tag {
                break;
            }
            self.order.pop_front();
            let lines = &mut self.events[slot as usize];
            lines.pop_front();
            lines.dropped += 1;
        }
        while self.pending.front().is_some_and(|(t, _)| *t < tag) {
            let (_, hint) = self.pending.pop_front().expect("a pending line");
            if self.dropped_seen.insert(Arc::as_ptr(&hint.event).cast::<u8>() as usize) {
                self.dropped_pending.push(hint.event);
            }
        }
    }

    /// Whether handler lines of `event` were dropped from the window.
    pub fn dropped_for(&self, event: &str) -> bool {
        self.slot_of.get(event).is_some_and(|&s| self.events[s as usize].dropped > 0)
    }

    /// The lines kept, in the order read, and the events of which lines were dropped.
    pub fn into_parts(mut self) -> (Vec<HandlerHint>, Vec<Arc<str>>) {
        self.index();
        let Hints { mut events, order, .. } = self;
        let lines = order.into_iter().map(|(_, slot)| events[slot as usize].pop_front().expect("a kept line of its event").1).collect();
        (lines, events.into_iter().filter(|e| e.dropped > 0).map(|e| e.event).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(event: &str, handler: &str) -> HandlerHint {
        HandlerHint { event: event.into(), handler: handler.into(), plugin: None, request: None }
    }

    /// The request ids of an event's lines are counted from the first look-up on, and kept
    /// right as lines come and go (before and after it).
    #[test]
    fn request_ids_are_counted_from_the_first_look_up_and_kept() {
        let with = |event: &str, request: &str| HandlerHint { request: Some(request.into()), ..hint(event, "h") };
        let mut hints = Hints::default();
        hints.push(0, with("a", "r1"));
        hints.push(1, with("a", "r2"));
        hints.push(1, with("b", "r9"));
        hints.index();
        let a = hints.of_event("a").unwrap();
        assert!(a.has_request("r1") && a.has_request("r2") && !a.has_request("r3") && !a.has_request("r9"));
        hints.push(2, with("a", "r3"));
        hints.push(2, with("a", "r2"));
        hints.drop_before(2);
        hints.index();
        let a = hints.of_event("a").unwrap();
        assert!(!a.has_request("r1") && a.has_request("r2") && a.has_request("r3"));
        hints.drop_before(3);
        hints.index();
        assert!(hints.of_event("a").is_none() && hints.dropped_for("a") && hints.dropped_for("b"));
        hints.push(4, with("a", "r4"));
        hints.index();
        let a = hints.of_event("a").unwrap();
        assert!(a.has_request("r4") && !a.has_request("r2") && !a.has_request("r3"));
        assert_eq!(a.lines().count(), 1);
    }

    /// Lines dropped before any look-up asked for them mark their events as an indexed line
    /// does, and lines never indexed are kept, in order, by [`Hints::into_parts`].
    #[test]
    fn lines_dropped_before_they_are_indexed_mark_their_events() {
        let mut hints = Hints::default();
        hints.push(0, hint("a", "h1"));
        hints.push(1, hint("b", "h2"));
        hints.push(1, hint("a", "h3"));
        hints.push(5, hint("a", "h4"));
        hints.drop_before(2);
        hints.push(6, hint("c", "h5"));
        hints.index();
        assert!(hints.dropped_for("a") && hints.dropped_for("b") && !hints.dropped_for("c"));
        assert!(hints.of_event("b").is_none());
        let names: Vec<&str> = hints.of_event("a").unwrap().lines().map(|h| &*h.handler).collect();
        assert_eq!(names, ["h4"]);
        hints.push(7, hint("b", "h6"));
        hints.drop_before(6);
        let (lines, mut dropped) = hints.into_parts();
        dropped.sort();
        assert_eq!(lines, vec![hint("c", "h5"), hint("b", "h6")]);
        assert_eq!(dropped, vec![Arc::from("a"), Arc::from("b")]);
    }

    #[test]
    fn the_window_drops_old_lines_and_remembers_their_events() {
        let mut hints = Hints::default();
        hints.push(0, hint("a", "h1"));
        hints.push(3, hint("b", "h2"));
        hints.push(3, hint("a", "h3"));
        hints.push(9, hint("a", "h4"));
        hints.drop_before(4);
        hints.index();
        let names: Vec<&str> = hints.of_event("a").unwrap().lines().map(|h| &*h.handler).collect();
        assert_eq!(names, ["h4"]);
        assert!(hints.of_event("b").is_none());
        assert!(hints.dropped_for("a") && hints.dropped_for("b") && !hints.dropped_for("c"));
        let (lines, mut dropped) = hints.into_parts();
        dropped.sort();
        assert_eq!((lines, dropped), (vec![hint("a", "h4")], vec![Arc::from("a"), Arc::from("b")]));
    }
}
