//! The reports of `perfgate trend`: the change points of the history of main, per handler —
//! terminal, markdown (one line per changed handler with a sparkline of its recent runs, for the
//! job summary), JSON (`changes[]` for machines) and a self-contained HTML page (SVG charts of
//! each handler's typical duration and p95 per run with their intervals, the change points
//! marked, commits linked; handlers with changes first; filter and search). Every name goes
//! through the escaper of its sink.

use std::fmt::Write;

use serde::Serialize;

use super::escape;
use crate::trend::{Change, Direction, HandlerTrend, Kind, Trend};

/// What the trend reports show beside the trend: which changes are acknowledged (`perfgate
/// accept`), and where commits link.
pub struct TrendView<'a> {
    pub trend: &'a Trend,
    /// Per change (by handler key and commit), the reason it was accepted.
    pub accepted: &'a dyn Fn(&Change) -> Option<String>,
    /// `https://github.com/owner/repo`, for commit links.
    pub repo_url: Option<&'a str>,
    /// Runs shown in a sparkline.
    pub spark_runs: usize,
}

/// `▁▂▃▅▇`: one block per value, from the lowest to the highest.
pub fn sparkline(values: &[f64]) -> String {
    const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(*v), h.max(*v)));
    values.iter().map(|v| if hi > lo { BLOCKS[(((v - lo) / (hi - lo)) * 7.0).round() as usize] } else { BLOCKS[3] }).collect()
}

fn short(sha: Option<&str>) -> String {
    sha.map_or_else(|| "?".to_owned(), |s| s.chars().take(7).collect())
}

fn ratio(c: &Change) -> String {
    format!("×{:.2} [{:.2}, {:.2}]", c.ratio, c.lower, c.upper)
}

fn what(c: &Change) -> &'static str {
    match (c.direction, c.kind) {
        (Direction::Slower, Kind::Step) => "slower from",
        (Direction::Faster, Kind::Step) => "faster from",
        (Direction::Slower, Kind::Creep) => "creeping slower since",
        (Direction::Faster, Kind::Creep) => "creeping faster since",
    }
}

/// A handler's recent typical durations (runner shift taken out).
fn recent(h: &HandlerTrend, n: usize) -> Vec<f64> {
    let s = &h.series;
    s[s.len().saturating_sub(n)..].iter().map(|p| p.adjusted).collect()
}

/// Slower changes that nobody accepted: what `--fail-on change` fails on.
pub fn unaccepted_slower<'t>(v: &'t TrendView<'_>) -> Vec<&'t Change> {
    v.trend.slower().filter(|c| (v.accepted)(c).is_none()).collect()
}

pub fn terminal(v: &TrendView<'_>) -> String {
    let t = v.trend;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "perfgate trend: {} run{} of main ({} … {}), {} handlers: {} change{} ({} slower, {} not accepted)",
        t.runs.len(),
        if t.runs.len() == 1 { "" } else { "s" },
        escape::terminal(&short(t.runs.first().and_then(|r| r.commit.as_deref()))),
        escape::terminal(&short(t.runs.last().and_then(|r| r.commit.as_deref()))),
        t.handlers.len(),
        t.changes.len(),
        if t.changes.len() == 1 { "" } else { "s" },
        t.slower().count(),
        unaccepted_slower(v).len()
    );
    for c in &t.changes {
        let spark = t.handlers.get(&c.key).map(|h| sparkline(&recent(h, v.spark_runs))).unwrap_or_default();
        let _ = write!(
            out,
            "{} {}  {}  {} {} (after {}; {} runs before, {} after)  {spark}",
            if c.direction == Direction::Slower { "▲" } else { "▼" },
            escape::terminal(&c.key),
            ratio(c),
            what(c),
            escape::terminal(&short(c.commit.as_deref())),
            escape::terminal(&short(c.previous_commit.as_deref())),
            c.runs_before,
            c.runs_after
        );
        if let Some(reason) = (v.accepted)(c) {
            let _ = write!(out, " — accepted: {}", escape::terminal(&reason));
        }
        out.push('\n');
    }
    if t.changes.is_empty() {
        out.push_str("No change: every handler is at the level it has held.\n");
    }
    out
}

/// The job summary: one line per changed handler, with a sparkline of its recent runs.
pub fn markdown(v: &TrendView<'_>) -> String {
    let t = v.trend;
    let mut out = String::new();
    let open = unaccepted_slower(v).len();
    let _ = writeln!(
        out,
        "## {} perfgate trend — {}\n",
        if open > 0 { "📈" } else { "✅" },
        if t.changes.is_empty() {
            "no change".to_owned()
        } else {
            format!("{} change{}, {open} slower and not accepted", t.changes.len(), if t.changes.len() == 1 { "" } else { "s" })
        }
    );
    let _ = writeln!(out, "{} runs of main, {} handlers.\n", t.runs.len(), t.handlers.len());
    for c in &t.changes {
        let spark = t.handlers.get(&c.key).map(|h| sparkline(&recent(h, v.spark_runs))).unwrap_or_default();
        let commit = |sha: Option<&str>| {
            let s = escape::markdown_code(&short(sha));
            match (v.repo_url, sha) {
                (Some(url), Some(sha)) if sha.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                    format!("[{s}]({})", escape::markdown_url(&format!("{}/commit/{sha}", url.trim_end_matches('/'))))
                }
                _ => s,
            }
        };
        let _ = write!(
            out,
            "- {} {} {} {} {} (after {}) {spark}",
            if c.direction == Direction::Slower { "🔺" } else { "🔻" },
            escape::markdown_code(&c.key),
            ratio(c),
            what(c),
            commit(c.commit.as_deref()),
            commit(c.previous_commit.as_deref())
        );
        if let Some(reason) = (v.accepted)(c) {
            let _ = write!(out, " — accepted: {}", escape::markdown_text(&reason));
        }
        out.push('\n');
    }
    out
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonChange<'a> {
    /// `Plugin.handler`.
    handler: &'a str,
    plugin: &'a str,
    name: &'a str,
    kind: Kind,
    direction: Direction,
    commit: Option<&'a str>,
    previous_commit: Option<&'a str>,
    /// After / before, and its interval.
    ratio: f64,
    interval: [f64; 2],
    runs_before: usize,
    runs_after: usize,
    run: usize,
    per_run: Option<f64>,
    p_value: f64,
    accepted: Option<String>,
}

/// The JSON report: `changes[]`, and the whole trend (runs, each handler's series and accepted
/// level) beside it.
pub fn json(v: &TrendView<'_>) -> String {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Out<'a> {
        runs: usize,
        changes: Vec<JsonChange<'a>>,
        trend: &'a Trend,
    }
    let changes = v
        .trend
        .changes
        .iter()
        .map(|c| JsonChange {
            handler: &c.key,
            plugin: &c.plugin,
            name: &c.name,
            kind: c.kind,
            direction: c.direction,
            commit: c.commit.as_deref(),
            previous_commit: c.previous_commit.as_deref(),
            ratio: c.ratio,
            interval: [c.lower, c.upper],
            runs_before: c.runs_before,
            runs_after: c.runs_after,
            run: c.run,
            per_run: c.per_run,
            p_value: c.p_value,
            accepted: (v.accepted)(c),
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&Out { runs: v.trend.runs.len(), changes, trend: v.trend }).expect("the trend serializes");
    s.push('\n');
    s
}

/// The trend page: one self-contained file, no request to anything (a Content-Security-Policy
/// forbids them); the data as JSON (escaped for a script element), drawn with SVG by the page's
/// script, every text put in with `textContent`.
pub fn html(v: &TrendView<'_>) -> String {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Page<'a> {
        repo_url: Option<&'a str>,
        commits: Vec<Option<&'a str>>,
        handlers: Vec<&'a HandlerTrend>,
        accepted: Vec<(String, Option<String>, String)>,
    }
    let t = v.trend;
    let mut handlers: Vec<&HandlerTrend> = t.handlers.values().collect();
    // Handlers with a slower change first, then other changes, then the rest; by name.
    handlers.sort_by_key(|h| (!h.changes.iter().any(|c| c.direction == Direction::Slower), h.changes.is_empty(), h.key.clone()));
    let accepted = t.changes.iter().filter_map(|c| Some((c.key.clone(), c.commit.clone(), (v.accepted)(c)?))).collect();
    let page = Page {
        repo_url: v.repo_url.filter(|u| u.starts_with("https://") || u.starts_with("http://")),
        commits: t.runs.iter().map(|r| r.commit.as_deref()).collect(),
        handlers,
        accepted,
    };
    // Escaped for a script element by the one function the HTML sink uses.
    let data = super::html::script_json(&page);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>perfgate trend</title>\n<style>\n{TREND_CSS}</style>\n</head>\n<body>\n\
<header><h1>perfgate trend</h1><p id=\"summary\"></p>\
<input id=\"search\" type=\"search\" placeholder=\"Search handlers…\"> <label><input id=\"changed\" type=\"checkbox\" checked> Only handlers with a change</label></header>\n\
<main id=\"handlers\"></main>\n\
<script type=\"application/json\" id=\"trend-data\">{data}</script>\n<script>\n{TREND_JS}</script>\n</body>\n</html>\n"
    )
}

const TREND_CSS: &str = "body{font:14px system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:12px;color:#1d2330}\
header{position:sticky;top:0;background:#fff;padding:8px 0;border-bottom:1px solid #dde}\
h1{font-size:20px;margin:0 0 4px}input[type=search]{width:min(360px,90%);padding:4px}\
section{border-bottom:1px solid #eef;padding:10px 0}h2{font-size:15px;margin:0 0 4px;overflow-wrap:anywhere}\
.changes{margin:2px 0 6px;color:#333}.slower{color:#b3261e}.faster{color:#1b6e2b}.accepted{color:#666}\
svg{width:100%;height:auto;max-width:1000px}.muted{color:#777}\n";

const TREND_JS: &str = r###"(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("trend-data").textContent);
  const SVG = "http://www.w3.org/2000/svg";
  const hidden = /[\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;
  const shown = (s) => String(s).replace(hidden, (c) => "⟨U+" + c.codePointAt(0).toString(16).toUpperCase().padStart(4, "0") + "⟩");
  function el(tag, text, cls) { const e = document.createElement(tag); if (text != null) e.textContent = shown(text); if (cls) e.className = cls; return e; }
  function svg(tag, attrs, text) { const e = document.createElementNS(SVG, tag); for (const k in attrs) e.setAttribute(k, attrs[k]); if (text != null) e.textContent = shown(text); return e; }
  const short = (c) => (c || "?").slice(0, 7);
  function commitLink(c) {
    if (data.repoUrl && c && /^[0-9A-Za-z]+$/.test(c)) { const a = el("a", short(c)); a.href = data.repoUrl.replace(/\/$/, "") + "/commit/" + c; return a; }
    return el("code", short(c));
  }
  const accepted = new Map(data.accepted.map(([k, c, r]) => [k + " " + c, r]));
  const main = document.getElementById("handlers");
  const sections = [];
  for (const h of data.handlers) {
    const sec = el("section");
    sec.dataset.key = h.key.toLowerCase();
    sec.dataset.changed = h.changes.length ? "1" : "";
    sec.appendChild(el("h2", h.key));
    const list = el("div", null, "changes");
    for (const c of h.changes) {
      const p = el("div", null, c.direction);
      p.appendChild(el("span", (c.direction === "slower" ? "▲ " : "▼ ") + "×" + c.ratio.toFixed(2) + " [" + c.lower.toFixed(2) + ", " + c.upper.toFixed(2) + "] " + c.kind + " at "));
      p.appendChild(commitLink(c.commit));
      p.appendChild(el("span", " (after "));
      p.appendChild(commitLink(c.previousCommit));
      p.appendChild(el("span", "; " + c.runsBefore + " runs before, " + c.runsAfter + " after)"));
      const r = accepted.get(h.key + " " + c.commit);
      if (r) p.appendChild(el("span", " — accepted: " + r, "accepted"));
      list.appendChild(p);
    }
    if (!h.changes.length) list.appendChild(el("span", "No change.", "muted"));
    if (h.accepted) list.appendChild(el("div", "Accepted level: " + h.accepted.typical.toFixed(2) + " ms since run " + (h.accepted.sinceRun + 1) + " (" + h.accepted.basis + ").", "muted"));
    sec.appendChild(list);
    sec.appendChild(chart(h));
    main.appendChild(sec);
    sections.push(sec);
  }
  function chart(h) {
    const W = 1000, H = 180, L = 56, R = 10, T = 10, B = 28, n = data.commits.length;
    const pts = h.series;
    const vals = pts.flatMap((p) => [p.lower, p.upper, p.p95]).filter((v) => v > 0 && isFinite(v));
    const lo = Math.min(...vals), hi = Math.max(...vals);
    const y = (v) => T + (H - T - B) * (1 - (Math.log(v) - Math.log(lo)) / ((Math.log(hi) - Math.log(lo)) || 1));
    const x = (r) => L + (W - L - R) * (n > 1 ? r / (n - 1) : 0.5);
    const s = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img" });
    s.appendChild(svg("title", {}, h.key + ": typical duration per run (dots, with intervals) and p95 (line)"));
    for (const v of [lo, Math.sqrt(lo * hi), hi]) {
      s.appendChild(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#eee" }));
      s.appendChild(svg("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end", "font-size": 11, fill: "#555" }, v.toFixed(v < 10 ? 2 : 1) + " ms"));
    }
    for (const c of h.changes) {
      const cx = x(c.run - 0.5);
      s.appendChild(svg("line", { x1: cx, x2: cx, y1: T, y2: H - B, stroke: c.direction === "slower" ? "#b3261e" : "#1b6e2b", "stroke-dasharray": "4 3" }));
      s.appendChild(svg("text", { x: cx + 3, y: H - B + 12, "font-size": 11, fill: "#333" }, short(c.commit)));
    }
    let path = "";
    for (const p of pts) path += (path ? "L" : "M") + x(p.run).toFixed(1) + " " + y(p.p95).toFixed(1);
    if (pts.length) s.appendChild(svg("path", { d: path, fill: "none", stroke: "#9aa5c4", "stroke-width": 1.5 }));
    for (const p of pts) {
      s.appendChild(svg("line", { x1: x(p.run), x2: x(p.run), y1: y(p.upper), y2: y(p.lower), stroke: "#3b4a78" }));
      const dot = svg("circle", { cx: x(p.run), cy: y(p.adjusted), r: 3, fill: "#3b4a78" });
      dot.appendChild(svg("title", {}, short(data.commits[p.run]) + ": " + p.adjusted.toFixed(2) + " ms typical [" + p.lower.toFixed(2) + ", " + p.upper.toFixed(2) + "], p95 " + p.p95.toFixed(2) + " ms, " + p.count + " executions"));
      s.appendChild(dot);
    }
    return s;
  }
  const search = document.getElementById("search"), changed = document.getElementById("changed");
  function filter() {
    const q = search.value.toLowerCase();
    let shown = 0;
    for (const sec of sections) { const on = sec.dataset.key.includes(q) && (!changed.checked || sec.dataset.changed); sec.hidden = !on; if (on) shown++; }
    const withChange = data.handlers.filter((h) => h.changes.length).length;
    document.getElementById("summary").textContent = data.commits.length + " runs of main; " + withChange + " of " + data.handlers.length + " handlers changed; showing " + shown + ".";
  }
  search.addEventListener("input", filter); changed.addEventListener("change", filter); filter();
})();
"###;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_spans_the_blocks() {
        assert_eq!(sparkline(&[1.0, 2.0, 3.0, 8.0]), "▁▂▃█");
        assert_eq!(sparkline(&[5.0, 5.0]), "▄▄");
        assert_eq!(sparkline(&[]), "");
    }
}
