//! The frames JSON export (LOG-FORMATS.md §2(e).1): `{"frames":[{"ts","events":[{"raw",…}]}]}`.
//! Its `type` captures are unreliable (beat completions are `"other"`, DataBaton captures are cut
//! at the first space), so every `raw` message is re-parsed by [`super::conductor`] with the
//! frame's timestamp.

use serde::Deserialize;

use super::{Event, conductor, envelope};
use crate::timestamp;

#[derive(Deserialize)]
struct Export {
    frames: Vec<Frame>,
}

#[derive(Deserialize)]
struct Frame {
    #[serde(default)]
    ts: Option<String>,
    #[serde(default)]
    events: Vec<RawEvent>,
}

#[derive(Deserialize)]
struct RawEvent {
    #[serde(default)]
    raw: Option<String>,
}

/// Whether `bytes` look like a frames export (a JSON object with a `"frames"` key).
pub fn looks_like_frames(bytes: &[u8]) -> bool {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace());
    start.is_some_and(|s| bytes[s] == b'{') && memchr::memmem::find(bytes, b"\"frames\"").is_some()
}

/// Calls `f(ordinal, ts, event)` for every recognized message, in export order. Returns the
/// number of messages, or the JSON error (with line and column).
pub fn for_each_event(bytes: &[u8], mut f: impl FnMut(u32, Option<i64>, Event<'_>)) -> Result<u32, serde_json::Error> {
    let export: Export = serde_json::from_slice(bytes)?;
    let mut ordinal = 0u32;
    for frame in &export.frames {
        let ts = frame.ts.as_deref().and_then(|t| timestamp::parse_iso(t.as_bytes())).map(|t| t.0);
        for event in &frame.events {
            ordinal += 1;
            let Some(raw) = event.raw.as_deref() else { continue };
            let peeled = envelope::peel(raw.as_bytes());
            if let Some(e) = conductor::recognize(peeled.message) {
                f(ordinal, peeled.ts().or(ts), e);
            }
        }
    }
    Ok(ordinal)
}
