//! The HTML report in a real headless Chromium: the heatmap renders, a click opens the
//! drill-down with the right executions, sorting and filtering work, hostile names execute
//! nothing, and the page makes no request.

use crate::browser::Browser;
use crate::support::*;

/// A `file://` URL of `p`: `file:///tmp/r.html`, or `file:///C:/Users/r.html` on Windows.
fn url(p: &std::path::Path) -> String {
    let path = p.canonicalize().unwrap().to_string_lossy().replace('\\', "/");
    let path = path.strip_prefix("//?/").unwrap_or(&path);
    if path.starts_with('/') { format!("file://{path}") } else { format!("file:///{path}") }
}

#[test]
fn heatmap_drilldown_sorting_filtering_no_requests() {
    let Some(b) = Browser::start("heatmap_drilldown_sorting_filtering_no_requests") else { return };
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    let o = perfgate(&repo(), &["analyze", "fixtures/logs", "fixtures/telemetry/*", "--html", html.to_str().unwrap(), "--top", "10"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    b.goto(&url(&html));
    let handlers =
        b.eval("return JSON.parse(document.getElementById('perfgate-data').textContent).report.handlers.length").as_u64().unwrap();
    assert!(handlers > 10);
    // Top 10 rows × 5 statistics (count, p50, p95, p99, max).
    assert_eq!(b.eval("return document.querySelectorAll('#heatmap .cell').length"), 50);
    assert_eq!(b.eval("return document.querySelectorAll('#handlers tbody tr').length"), 10);
    b.click("#show-all");
    assert_eq!(b.eval("return document.querySelectorAll('#heatmap .cell').length").as_u64(), Some(handlers * 5));
    // Every handler a full latency row, those with only failed beats too (then all empty).
    let buckets = b.eval("return Number(document.getElementById('latency-svg').dataset.buckets)").as_u64().unwrap();
    assert_eq!(b.eval("return document.querySelectorAll('#latency rect').length").as_u64(), Some(handlers * buckets));
    assert!(
        b.eval("return JSON.parse(document.getElementById('perfgate-data').textContent).histograms.some(h => !h.latency.length)")
            .as_bool()
            .unwrap()
    );

    // A click on a handler's row opens its drill-down with its executions.
    let k = b.eval("return JSON.parse(document.getElementById('perfgate-data').textContent).report.handlers.findIndex(h => h.name === 'loadComponents')");
    b.click(&format!("#handlers tbody tr[data-handler='{k}']"));
    assert_eq!(b.eval("return document.getElementById('drilldown').hidden"), false);
    assert_eq!(b.eval("return document.getElementById('dd-title').textContent"), "LibraryPlugin.loadComponents");
    let durations = b.eval("return [...document.querySelectorAll('#dd-executions tbody tr')].map(r => r.children[5].textContent + ' @ ' + r.children[7].textContent)");
    assert_eq!(
        durations,
        serde_json::json!([
            "4.300 @ fixtures/logs/chrome-devtools.log:47",
            "3.900 @ fixtures/logs/utf16be.log:3",
            "36.500 @ fixtures/telemetry/frames.json:6"
        ])
    );
    assert_eq!(b.eval("return document.querySelectorAll('#histogram .bar').length"), 24);
    // A click on a heatmap cell opens that handler too.
    b.click("#heatmap .cell[data-stat='p95']");
    let first = b.eval("return document.querySelector('#handlers tbody tr').children[0].textContent");
    assert_eq!(b.eval("return document.getElementById('dd-title').textContent"), first);

    // Sorting by p95, descending then ascending.
    let p95s = "return [...document.querySelectorAll('#handlers tbody tr')].map(r => r.children[4].textContent).filter(x => x !== '–').map(Number)";
    b.click("#handlers th[data-key='p95']");
    let desc: Vec<f64> = serde_json::from_value(b.eval(p95s)).unwrap();
    assert!(desc.windows(2).all(|w| w[0] >= w[1]), "{desc:?}");
    b.click("#handlers th[data-key='p95']");
    let asc: Vec<f64> = serde_json::from_value(b.eval(p95s)).unwrap();
    assert!(asc.windows(2).all(|w| w[0] <= w[1]) && asc.len() == desc.len(), "{asc:?}");

    // Filtering by text.
    b.type_into("#filter", "HeaderTheme");
    let names: Vec<String> =
        serde_json::from_value(b.eval("return [...document.querySelectorAll('#handlers tbody tr')].map(r => r.children[0].textContent)"))
            .unwrap();
    assert!(!names.is_empty() && names.iter().all(|n| n.starts_with("HeaderThemePlugin.")), "{names:?}");

    // Nothing was requested: no resource entries, and the policy forbids any.
    assert_eq!(b.eval("return performance.getEntriesByType('resource').length"), 0);
    let csp = b.eval("return document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]').content");
    assert!(csp.as_str().unwrap().starts_with("default-src 'none'"));
}

#[test]
fn hostile_handler_names_execute_nothing() {
    let Some(b) = Browser::start("hostile_handler_names_execute_nothing") else { return };
    let dir = tempfile::tempdir().unwrap();
    let names = ["</script><script>window.__pwned=1</script>", "<img/src=x/onerror=window.__pwned=2>", "<svg/onload=window.__pwned=3>"];
    let mut log = String::new();
    for (i, name) in names.iter().enumerate() {
        log.push_str(&format!(
            "⏱️ PerformanceTracker: Started timing beat 1 for S{i}\n✅ BeatExecutor: Beat 1 (e{i}:x) completed in 3ms\n"
        ));
        log.push_str(&format!("🎽 DataBaton: x | seq=S{i} beat=? event=e{i}:x handler={name} plugin=P\n"));
    }
    std::fs::write(dir.path().join("hostile.log"), log).unwrap();
    let o = perfgate(dir.path(), &["analyze", "hostile.log", "--html", "report.html"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    b.goto(&url(&dir.path().join("report.html")));
    b.click("#handlers tbody tr");
    assert_eq!(b.eval("return typeof window.__pwned"), "undefined");
    let text = b.eval("return document.body.innerText").as_str().unwrap().to_owned();
    for name in names {
        assert!(text.contains(&format!("P.{name}")), "{name} is shown as text");
    }
    assert_eq!(b.eval("return document.querySelectorAll('img, iframe, object, embed').length"), 0);
}

#[test]
fn check_report_has_baseline_columns() {
    let Some(b) = Browser::start("check_report_has_baseline_columns") else { return };
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("baseline.json");
    let html = dir.path().join("check.html");
    let o = perfgate(&repo(), &["update-baseline", "fixtures/logs", "--baseline", baseline.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = perfgate(
        &repo(),
        &["check", "fixtures/logs", "--baseline", baseline.to_str().unwrap(), "--html", html.to_str().unwrap(), "--top", "5"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    b.goto(&url(&html));
    // Five handlers × (count, p50, p95, p99, max and the change).
    assert_eq!(b.eval("return document.querySelectorAll('#heatmap .cell').length"), 30);
    assert_eq!(
        b.eval("return [...document.querySelectorAll('#handlers th')].map(t => t.textContent).slice(0, 4)"),
        serde_json::json!(["#", "Handler", "Verdict", "Change"])
    );
    assert!(b.eval("return document.getElementById('verdict').textContent").as_str().unwrap().starts_with("PASS"));
    // Nothing changed: the table is one collapsed group of the five handlers.
    assert_eq!(b.eval("return document.querySelectorAll('#handlers tbody tr[data-handler]').length"), 0);
    assert!(b.eval("return document.getElementById('expand').textContent").as_str().unwrap().starts_with("▸ 5 more handlers: "));
    b.click("#expand");
    b.click("#handlers tbody tr[data-handler]");
    assert!(b.eval("return document.querySelector('#dd-compare p').textContent").as_str().unwrap().starts_with("Against the baseline"));
}

/// The README's picture of a report on real data: written to target/tmp/perfgate-report.png
/// (cargo's temporary directory for integration tests, under CARGO_TARGET_DIR when it is set).
#[test]
fn screenshot_of_a_report_on_corpus_data() {
    let Some(corpus) = corpus("screenshot_of_a_report_on_corpus_data") else { return };
    let Some(b) = Browser::start("screenshot_of_a_report_on_corpus_data") else { return };
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("corpus.html");
    let frames = corpus.join("telemetry-json/frames-web-variant-localhost-1762811808902.json");
    let log = corpus.join("console/sample-telemetry.log");
    let cat = corpus.join("sequences");
    let o = perfgate(
        dir.path(),
        &["analyze", frames.to_str().unwrap(), log.to_str().unwrap(), "--catalog", cat.to_str().unwrap(), "--html", html.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    b.goto(&url(&html));
    for (name, scroll) in [("perfgate-report.png", "window.scrollTo(0, 0)"), ("perfgate-drilldown.png", "")] {
        if scroll.is_empty() {
            b.click("#handlers tbody tr[data-handler='2']");
        } else {
            b.eval(&format!("{scroll}; return 0"));
        }
        let png = b.screenshot_png();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        std::fs::write(&out, png).unwrap();
        println!("screenshot: {}", out.display());
    }
}

#[test]
fn hundreds_of_handlers_render_and_filter() {
    let Some(b) = Browser::start("hundreds_of_handlers_render_and_filter") else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("perfgate.toml"), "[[sources.json]]\nhandler = \"route\"\nduration = \"ms\"\nplugin_field = \"svc\"\n")
        .unwrap();
    let mut lines = String::new();
    for h in 0..600 {
        for k in 0..3 {
            lines.push_str(&format!("{{\"route\":\"route.{h:03}\",\"ms\":{}.5,\"svc\":\"svc{}\"}}\n", 1 + (h * 7 + k) % 40, h % 12));
        }
    }
    std::fs::write(dir.path().join("api.jsonl"), lines).unwrap();
    let o = perfgate(dir.path(), &["analyze", "api.jsonl", "--html", "many.html"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    b.goto(&url(&dir.path().join("many.html")));
    assert_eq!(b.eval("return document.querySelectorAll('#heatmap .cell').length"), 20 * 5);
    b.click("#show-all");
    assert_eq!(b.eval("return document.querySelectorAll('#heatmap .cell').length"), 600 * 5);
    assert_eq!(b.eval("return document.querySelectorAll('#handlers tbody tr').length"), 600);
    // Filtering by plugin narrows all 600 to one twelfth.
    b.eval("const s = document.getElementById('plugin'); s.value = 'svc3'; s.dispatchEvent(new Event('change')); return 0");
    assert_eq!(b.eval("return document.querySelectorAll('#handlers tbody tr').length"), 50);
}

/// A reviewer's check page: 84 handlers of a real-shaped suite, one twice as slow. At 1280 px
/// nothing overflows or is clipped, the regression is the first row, and the latency heatmap has
/// one cell per (handler, bucket) with a share of the executions.
#[test]
fn a_check_page_leads_with_the_regression_and_fits_1280() {
    let Some(b) = Browser::start("a_check_page_leads_with_the_regression_and_fits_1280") else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mid = suite_baseline(d);
    let slow = mid[0].clone();
    suite(d, "now", "4", &["--slow", &format!("{slow}=2")]);
    let o = perfgate(d, &["check", "now/logs", "--html", "check.html"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    b.resize(1280, 900);
    b.goto(&url(&d.join("check.html")));
    assert_eq!(b.eval("return window.innerWidth <= 1280 && window.innerWidth > 1000"), true);
    assert_eq!(b.eval("return document.documentElement.scrollWidth <= window.innerWidth"), true, "horizontal overflow at 1280 px");
    // No text clipped: no table cell overflows its box, every grid label starts inside its SVG.
    assert_eq!(b.eval("return [...document.querySelectorAll('td')].filter(td => td.scrollWidth > td.clientWidth + 1).length"), 0);
    assert_eq!(b.eval("return [...document.querySelectorAll('svg .label')].filter(l => l.getBBox().x < 0).length"), 0);
    let first = b.eval("const c = document.querySelector('#handlers tbody tr').children; return [c[1].textContent, c[2].textContent]");
    assert_eq!(first, serde_json::json!([slow, "regressed"]));
    // Latency: a rect per (shown handler, bucket); shaded exactly where the handler has executions.
    let shown = b.eval("return document.querySelectorAll('#latency .label').length").as_u64().unwrap();
    assert_eq!(shown, 20, "the grids show the top 20 in the comparison's order");
    let buckets = b.eval("return Number(document.getElementById('latency-svg').dataset.buckets)").as_u64().unwrap();
    assert_eq!(b.eval("return document.querySelectorAll('#latency rect').length").as_u64().unwrap(), shown * buckets);
    let expected = b.eval(
        "const d = JSON.parse(document.getElementById('perfgate-data').textContent);          const rows = [...document.querySelectorAll('#latency .label')].map(r => Number(r.dataset.handler));          return rows.reduce((n, i) => n + d.histograms[i].latency.filter(c => c > 0).length, 0)",
    );
    assert_eq!(b.eval("return document.querySelectorAll('#latency rect.lat:not(.empty)').length"), expected);
    assert!(expected.as_u64().unwrap() >= shown);
    // The drill-down shows the baseline's latency beside this run's; rows are keyboard-reachable.
    b.eval("const r = document.querySelector('#handlers tbody tr'); r.focus(); r.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter'})); return 0");
    let dd_buckets = b.eval("return Number(document.getElementById('dd-latency-svg').dataset.buckets)").as_u64().unwrap();
    assert_eq!(b.eval("return document.querySelectorAll('#dd-latency-svg rect').length").as_u64().unwrap(), 2 * dd_buckets);
    assert_eq!(b.eval("return document.getElementById('drilldown').hidden"), false);
    let png = b.screenshot_png();
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("perfgate-check.png");
    std::fs::write(&out, png).unwrap();
    println!("screenshot: {}", out.display());
}

/// The JavaScript that measures a page as a reviewer sees it, after `update()` ran: the page's
/// width, cells whose text wraps or is clipped, red cells, and the first handler row.
const MEASURE: &str = r##"
// The lines a node's text takes: the distinct tops (within 8 px) of its text's boxes.
const lines = (node) => {
  const walk = document.createTreeWalker(node, NodeFilter.SHOW_TEXT), tops = [];
  for (let t = walk.nextNode(); t; t = walk.nextNode()) {
    const r = document.createRange(); r.selectNodeContents(t);
    for (const x of r.getClientRects()) if (x.width > 0 && !tops.some((y) => Math.abs(y - x.top) < 8)) tops.push(x.top);
  }
  return tops.length;
};
// Red: a hue within 20° of red, saturated, not near white (tints of red count).
const red = (colour) => {
  if (!colour || colour === "transparent" || colour === "none") return false;
  const probe = document.createElement("i"); probe.style.color = colour; document.body.appendChild(probe);
  const m = getComputedStyle(probe).color.match(/[\d.]+/g).map(Number); probe.remove();
  if (m.length > 3 && m[3] === 0) return false;
  const [r, g, b] = m.slice(0, 3).map((v) => v / 255), max = Math.max(r, g, b), min = Math.min(r, g, b), l = (max + min) / 2;
  if (max === min) return false;
  const d = max - min, s = d / (1 - Math.abs(2 * l - 1));
  let h = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4; h *= 60; if (h < 0) h += 360;
  return (h <= 20 || h >= 340) && s >= 0.4 && l <= 0.95;
};
const cells = [...document.querySelectorAll("#handlers tbody tr[data-handler] td")];
const num = cells.filter((td) => td.classList.contains("num"));
const names = [...document.querySelectorAll("#handlers td.name")];
const coloured = [
  ...cells.map((td) => td.style.background || getComputedStyle(td).backgroundColor),
  ...[...document.querySelectorAll("#handlers .dot")].map((d) => d.style.background),
  ...[...document.querySelectorAll("#heatmap rect")].map((r) => r.getAttribute("fill")),
];
const first = document.querySelector("#handlers tbody tr[data-handler]");
return {
  innerWidth: window.innerWidth,
  scrollWidth: document.documentElement.scrollWidth,
  numericCells: num.length,
  wrappedNumbers: num.filter((td) => lines(td) > 1 || td.scrollWidth > td.clientWidth + 1).map((td) => td.textContent),
  nameCells: names.length,
  wrappedNames: names.filter((td) => lines(td.querySelector(".nm")) > 1).map((td) => td.textContent),
  clippedWithoutTitle: names.filter((td) => [...td.querySelectorAll(".pl, .hn")].some((s) => s.scrollWidth > s.clientWidth + 1) && !td.title.startsWith(td.querySelector(".nm").textContent)).length,
  clippedNames: names.filter((td) => [...td.querySelectorAll(".pl, .hn")].some((s) => s.scrollWidth > s.clientWidth + 1)).length,
  redCells: coloured.filter(red).length,
  labelsOutside: [...document.querySelectorAll("svg .label")].filter((l) => l.getBBox().x < 0).length,
  firstRow: first ? first.querySelector("td.name").title : null,
  tallestRow: Math.max(...[...document.querySelectorAll("#handlers tbody tr")].map((r) => r.getBoundingClientRect().height)),
  verdict: document.getElementById("verdict").textContent,
  // How far the handlers' table runs past its box (it scrolls inside it).
  tableOverflow: (({ scrollWidth, clientWidth }) => scrollWidth - clientWidth)(document.getElementById("handlers").parentElement),
  firstChange: first && first.querySelector("td.num .net") ? [first.children[3].textContent, first.querySelector(".net").title] : null,
};
"##;

fn shot(b: &Browser, name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(format!("{name}.png"));
    let png = b.screenshot_png();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    std::fs::write(&out, png).unwrap();
    println!("screenshot: {}", out.display());
    out
}

/// An analyze page, a failing check page (one regression, one improvement, ~80 unchanged) and a
/// passing one, each at 1280 × 900 and at a phone's 390 × 844: no page-level horizontal
/// scroll; no numeric or name cell whose text wraps; a name cut only with its whole form on
/// hover; the regressed handler's row first; no red cell on the passing page; the latency grid
/// trimmed to the buckets the data uses; the histogram's axis labelled; log locations relative.
#[test]
fn reviewer_pages_at_1280_and_390() {
    let Some(b) = Browser::start("reviewer_pages_at_1280_and_390") else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mid = suite_baseline(d);
    let (slow, fast) = (&mid[0], &mid[1]);
    suite(d, "now", "4", &["--slow", &format!("{slow}=2"), "--slow", &format!("{fast}=0.5")]);
    // Absolute paths, as a CI machine gives them: the page shows them relative to the working
    // directory (the repository's root in CI).
    let now = d.canonicalize().unwrap().join("now/logs");
    let o = perfgate(d, &["check", now.to_str().unwrap(), "--html", "check.html"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = perfgate(d, &["check", "base2/logs", "--html", "pass.html"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = perfgate(d, &["analyze", now.to_str().unwrap(), "--html", "analyze.html"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    for (width, height, mobile) in [(1280, 900, false), (390, 844, true)] {
        b.emulate(width, height, mobile);
        for page in ["analyze", "check", "pass"] {
            b.goto(&url(&d.join(format!("{page}.html"))));
            // Every row: a check folds the unchanged ones behind a button.
            b.eval("const e = document.getElementById('expand'); if (e) e.click(); return 0");
            let m = b.eval(MEASURE);
            b.eval("window.scrollTo(0, 0); return 0");
            shot(&b, &format!("{page}-{width}"));
            b.eval("document.getElementById('handlers').scrollIntoView(); return 0");
            shot(&b, &format!("{page}-{width}-table"));
            let at = format!("{page} at {width}: {m}");
            assert_eq!(m["innerWidth"], width, "{at}");
            assert!(m["scrollWidth"].as_u64().unwrap() <= width as u64, "page-level horizontal scroll: {at}");
            assert!(m["numericCells"].as_u64().unwrap() >= 20 * 6, "{at}");
            assert_eq!(m["wrappedNumbers"], serde_json::json!([]), "{at}");
            assert!(m["nameCells"].as_u64().unwrap() >= 20, "{at}");
            assert_eq!(m["wrappedNames"], serde_json::json!([]), "{at}");
            assert_eq!(m["clippedWithoutTitle"], 0, "{at}");
            assert_eq!(m["labelsOutside"], 0, "{at}");
            assert!(m["tallestRow"].as_f64().unwrap() <= 40.0, "{at}");
            match page {
                "pass" => {
                    assert_eq!(m["redCells"], 0, "a passing page has no red: {at}");
                    assert!(m["verdict"].as_str().unwrap().starts_with("PASS — "), "{at}");
                    // Nor has the drill-down of its slowest handler shown (red under the heat bands).
                    let slowest = b.eval(
                        "const d = JSON.parse(document.getElementById('perfgate-data').textContent);
                         const avg = (i) => (d.report.handlers[i].timing ? d.report.handlers[i].timing.avg : 0);
                         const rows = [...document.querySelectorAll('#handlers tbody tr[data-handler]')].map((r) => Number(r.dataset.handler));
                         return rows.reduce((k, i) => (avg(i) > avg(k) ? i : k), rows[0])",
                    );
                    b.click(&format!("#handlers tbody tr[data-handler='{slowest}']"));
                    let dd = b.eval(&format!(
                        "{}; const fills = [...document.querySelectorAll('#histogram rect, #dd-latency rect')].map((r) => r.getAttribute('fill'));
                         const d = JSON.parse(document.getElementById('perfgate-data').textContent);
                         return [fills.length, fills.filter(red).length, d.report.handlers[{slowest}].timing.avg - d.bands[2]]",
                        MEASURE.split("const cells").next().unwrap()
                    ));
                    assert!(dd[0].as_u64().unwrap() > 10 && dd[1] == 0, "the drill-down of the slowest handler, no red: {dd} ({at})");
                    assert!(dd[2].as_f64().unwrap() > 0.0, "its average is in the red heat band, which a check does not use: {dd}");
                }
                // The regressed row: its dot, verdict and change cells, and its grid row (5 + change).
                "check" => {
                    assert_eq!(m["firstRow"], format!("{slow} — regressed"), "{at}");
                    // The outcome and the counts in the reports' words.
                    let verdict = m["verdict"].as_str().unwrap();
                    assert!(verdict.starts_with("FAIL — 1 regressed · 2 warnings · 1 improved · "), "{at}");
                    // Its change base → now, labelled, and beside it what the gate judged net of
                    // the runner (the shift itself on hover).
                    assert_eq!(
                        m["firstChange"],
                        serde_json::json!(["typical +120.5% net +124.9%", "+124.9% net of the runner's -2.3% (the verdict rests on it)"]),
                        "{at}"
                    );
                    assert_eq!(m["redCells"], 3 + 6, "{at}");
                }
                _ => {}
            }
            if m["clippedNames"].as_u64().unwrap() > 0 {
                // A shortened name shows whole when the keyboard reaches it.
                let whole = b.eval(
                    "const td = [...document.querySelectorAll('#handlers td.name')].find((td) => [...td.querySelectorAll('.pl, .hn')].some((s) => s.scrollWidth > s.clientWidth + 1));
                     td.focus();
                     const ok = document.activeElement === td && [...td.querySelectorAll('.pl, .hn')].every((s) => s.scrollWidth <= s.clientWidth + 1);
                     td.blur();
                     return ok",
                );
                assert_eq!(whole, serde_json::json!(true), "a shortened name, focused, shows whole: {at}");
            }
            if width == 1280 {
                assert_eq!(m["clippedNames"], 0, "at 1280 no name is shortened: {at}");
                assert!(m["tableOverflow"].as_i64().unwrap() <= 1, "at 1280 the whole table shows: {at}");
            }
        }
    }

    // The latency grid spans only the buckets with executions, each column labelled.
    b.emulate(1280, 900, false);
    b.goto(&url(&d.join("check.html")));
    let lat = b.eval(
        "const d = JSON.parse(document.getElementById('perfgate-data').textContent);
         const shown = [...document.querySelectorAll('#latency .label')].map((l) => d.histograms[Number(l.dataset.handler)].latency);
         const used = shown.flatMap((row) => row.map((c, k) => (c > 0 ? k : -1))).filter((k) => k >= 0);
         return [Number(document.getElementById('latency-svg').dataset.buckets), Math.max(...used) - Math.min(...used) + 1,
                 document.querySelectorAll('#latency-svg .tick').length, d.latencyEdges.length + 1];",
    );
    let [cols, used, ticks, all] = [0, 1, 2, 3].map(|i| lat[i].as_u64().unwrap());
    assert_eq!((cols, ticks), (used, used), "{lat}");
    assert!(cols < all, "trimmed: {lat}");
    // The drill-down of the regression: its histogram has labelled ticks, its locations are
    // relative to the working directory (no absolute path, and no root to state), its rows one
    // line tall.
    b.click("#handlers tbody tr[data-handler]");
    let dd = b.eval(
        "return [document.querySelectorAll('#histogram .tick').length,
                 [...document.querySelectorAll('#dd-executions tbody tr')].map((r) => r.children[7].textContent),
                 Math.max(...[...document.querySelectorAll('#dd-executions tbody tr')].map((r) => r.getBoundingClientRect().height)),
                 document.getElementById('diagnostics').textContent]",
    );
    assert!(dd[0].as_u64().unwrap() >= 3 + 1 + 3, "x ticks, the axis title and 3 y ticks: {dd}");
    let locations: Vec<String> = serde_json::from_value(dd[1].clone()).unwrap();
    assert!(!locations.is_empty() && locations.iter().all(|l| l.starts_with("now/logs/run-")), "{locations:?}");
    assert!(!dd[3].as_str().unwrap().contains("relative to"), "{dd}");
    assert!(dd[2].as_f64().unwrap() <= 40.0, "{dd}");
    shot(&b, "check-drilldown-1280");
    b.emulate(390, 844, true);
    b.click("#handlers tbody tr[data-handler]");
    let m = b.eval("return [document.documentElement.scrollWidth, Math.max(...[...document.querySelectorAll('#dd-executions tbody tr')].map((r) => r.getBoundingClientRect().height))]");
    assert!(m[0].as_u64().unwrap() <= 390 && m[1].as_f64().unwrap() <= 40.0, "{m}");
    shot(&b, "check-drilldown-390");
}
