//! The JSON report: the serialized view-model (pretty, deterministic key order).

use crate::report::Report;

pub fn render(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("the report serializes");
    s.push('\n');
    s
}
