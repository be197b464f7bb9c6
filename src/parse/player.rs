//! The sequence player's reports (LOG-FORMATS.md §2(e).4, `packages/musical-conductor/report*.json`):
//! `{"sequenceId": "canvas-component-create", "sequenceName", "beats": [{"beat": 1, "event":
//! "resolve-template", "duration": 12, "isMocked", "kind"}], "errors", "status"}` — one sample
//! per beat, the id without its `-symphony` suffix and the event without its prefix (H24; the
//! catalog lookup bridges both). A file may also hold an array of such reports.

use serde::Deserialize;
use serde_json::Value;

use super::ReportedBeat;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    sequence_id: String,
    #[serde(default)]
    beats: Vec<Value>,
}

/// The keys that make a report, and nothing else read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    #[serde(rename = "sequenceId")]
    _id: String,
    #[serde(rename = "beats")]
    _beats: Vec<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(untagged)]
#[allow(dead_code, reason = "only whether a document parses as one matters")]
enum Probed {
    One(Probe),
    Many(Vec<Probe>),
}

/// Whether `bytes` are a sequence player's report: a JSON object (or an array of them) with
/// a string `sequenceId` and a `beats` array at its top level — not any JSON that holds those
/// keys somewhere inside.
pub fn looks_like_report(bytes: &[u8]) -> bool {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace());
    start.is_some_and(|s| matches!(bytes[s], b'{' | b'['))
        && memchr::memmem::find(bytes, b"\"sequenceId\"").is_some()
        && serde_json::from_slice::<Probed>(bytes).is_ok_and(|p| !matches!(p, Probed::Many(v) if v.is_empty()))
}

/// The beats of the report(s) in `bytes`, each with the line of its `"beat"` key. A beat with
/// an `error`, or a `status` of `failed`/`error`, is failed; a beat without a number, or whose
/// duration is not a number, is an error (the report is not one perfgate can read).
pub fn beats(bytes: &[u8]) -> Result<Vec<ReportedBeat>, String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| format!("line {}, column {}: {e}", e.line(), e.column()))?;
    let reports: Vec<Report> = match value {
        Value::Array(items) => items.into_iter().map(serde_json::from_value).collect::<Result<_, _>>(),
        v => serde_json::from_value(v).map(|r| vec![r]),
    }
    .map_err(|e| e.to_string())?;
    let mut lines = beat_lines(bytes).into_iter();
    let mut out = Vec::new();
    for (group, report) in (1u32..).zip(reports) {
        for (i, b) in report.beats.iter().enumerate() {
            let line = lines.next().unwrap_or(0);
            let at = || format!("{}: beats[{i}]", report.sequence_id);
            let beat = b
                .get("beat")
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| format!("{}: no beat number", at()))?;
            let status = b.get("status").and_then(Value::as_str).map(str::to_ascii_lowercase);
            let failed = b.get("error").is_some_and(|e| !e.is_null()) || matches!(status.as_deref(), Some("failed" | "error"));
            let ms = match b.get("duration") {
                Some(Value::Number(n)) => n.as_f64(),
                None | Some(Value::Null) => None,
                Some(other) => return Err(format!("{}: duration {other} is not a number", at())),
            };
            out.push(ReportedBeat {
                sequence_id: Some(report.sequence_id.clone()),
                group,
                beat,
                event: b.get("event").and_then(Value::as_str).map(str::to_owned),
                ms: if failed { None } else { ms },
                failed,
                line,
                ..ReportedBeat::default()
            });
        }
    }
    Ok(out)
}

/// The 1-based line of each `"beat":` key, in file order (the beats' order: `beat` is a key of
/// the beat objects only).
fn beat_lines(bytes: &[u8]) -> Vec<u32> {
    let mut out = Vec::new();
    let mut line = 1u32;
    let mut last = 0;
    for at in memchr::memmem::find_iter(bytes, b"\"beat\"") {
        line += u32::try_from(memchr::memchr_iter(b'\n', &bytes[last..at]).count()).unwrap_or(u32::MAX);
        last = at;
        out.push(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_beat_per_entry_with_its_line() {
        let text = br#"{
  "sequenceId": "canvas-component-create",
  "sequenceName": "canvas component create",
  "mockBeats": [], "totalBeats": 3,
  "beats": [
    { "beat": 1, "event": "resolve-template", "duration": 12, "isMocked": false, "kind": "pure" },
    { "beat": 2, "event": "register-instance", "duration": 0.5 },
    { "beat": 3, "event": "create-node", "duration": 30, "status": "failed" }
  ],
  "errors": [], "status": "completed"
}"#;
        assert!(looks_like_report(text));
        let beats = beats(text).unwrap();
        let got: Vec<_> = beats.iter().map(|b| (b.beat, b.event.as_deref(), b.ms, b.failed, b.line, b.group)).collect();
        assert_eq!(
            got,
            [
                (1, Some("resolve-template"), Some(12.0), false, 6, 1),
                (2, Some("register-instance"), Some(0.5), false, 7, 1),
                (3, Some("create-node"), None, true, 8, 1)
            ]
        );
        assert!(beats.iter().all(|b| b.sequence_id.as_deref() == Some("canvas-component-create")));
    }

    #[test]
    fn bad_reports_are_errors() {
        assert!(beats(br#"{"sequenceId": "s", "beats": [{"event": "e", "duration": 1}]}"#).unwrap_err().contains("no beat number"));
        assert!(beats(br#"{"sequenceId": "s", "beats": [{"beat": 1, "duration": "12ms"}]}"#).unwrap_err().contains("not a number"));
        assert!(beats(br#"{"sequenceId": "s", "beats": [}"#).unwrap_err().starts_with("line 1, column"));
        assert!(!looks_like_report(br#"{"frames": []}"#));
        // The keys inside another document do not make it a report.
        assert!(!looks_like_report(br#"{"stage1": {"sequenceId": "s", "beats": []}}"#));
        assert!(!looks_like_report(br#"[]"#));
        assert!(looks_like_report(br#"[{"sequenceId": "s", "beats": []}]"#));
    }
}
