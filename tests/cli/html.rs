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
    // Top 10 rows × 6 statistics.
    assert_eq!(b.eval("return document.querySelectorAll('#heatmap .cell').length"), 60);
    assert_eq!(b.eval("return document.querySelectorAll('#handlers tbody tr').length"), 10);
    b.click("#show-all");
    assert_eq!(b.eval("return document.querySelectorAll('#heatmap .cell').length").as_u64(), Some(handlers * 6));
    // Every handler a full latency row, those with only failed beats too (then all empty).
    assert_eq!(b.eval("return document.querySelectorAll('#latency rect').length").as_u64(), Some(handlers * 20));
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
    let p95s = "return [...document.querySelectorAll('#handlers tbody tr')].map(r => r.children[5].textContent).filter(x => x !== '–').map(Number)";
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
    assert_eq!(b.eval("return document.querySelectorAll('#heatmap .cell').length"), 35);
    assert_eq!(
        b.eval("return [...document.querySelectorAll('#handlers th')].map(t => t.textContent).slice(-3)"),
        serde_json::json!(["base p95", "Δ", "Verdict"])
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
    assert_eq!(b.eval("return document.querySelectorAll('#heatmap .cell').length"), 20 * 6);
    b.click("#show-all");
    assert_eq!(b.eval("return document.querySelectorAll('#heatmap .cell').length"), 600 * 6);
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
    let suite = |out: &str, seed: &str, extra: &[&str]| {
        let mut args = vec!["generate", "--out", out, "--seed", seed, "--suite", "84", "--executions", "1000"];
        args.extend_from_slice(extra);
        assert_eq!(perfgate(d, &args).status.code(), Some(0));
    };
    for seed in ["1", "2", "3"] {
        suite(&format!("base{seed}"), seed, &[]);
        assert_eq!(perfgate(d, &["update-baseline", &format!("base{seed}/logs")]).status.code(), Some(0));
    }
    let truth = json(&d.join("base1/truth.json"));
    let slow =
        truth["samples"].as_object().unwrap().iter().find(|(_, v)| (40..=80).contains(&v.as_array().unwrap().len())).unwrap().0.clone();
    suite("now", "4", &["--slow", &format!("{slow}=2")]);
    let o = perfgate(d, &["check", "now/logs", "--html", "check.html"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    b.resize(1280, 900);
    b.goto(&url(&d.join("check.html")));
    assert_eq!(b.eval("return window.innerWidth <= 1280 && window.innerWidth > 1000"), true);
    assert_eq!(b.eval("return document.documentElement.scrollWidth <= window.innerWidth"), true, "horizontal overflow at 1280 px");
    // No text clipped: no table cell overflows its box, every grid label starts inside its SVG.
    assert_eq!(b.eval("return [...document.querySelectorAll('td')].filter(td => td.scrollWidth > td.clientWidth + 1).length"), 0);
    assert_eq!(b.eval("return [...document.querySelectorAll('svg .label')].filter(l => l.getBBox().x < 0).length"), 0);
    let first =
        b.eval("const c = document.querySelector('#handlers tbody tr').children; return [c[1].textContent, c[c.length - 1].textContent]");
    assert_eq!(first, serde_json::json!([slow, "regressed"]));
    // Latency: a rect per (shown handler, bucket); shaded exactly where the handler has executions.
    let shown = b.eval("return document.querySelectorAll('#latency .label').length").as_u64().unwrap();
    assert_eq!(shown, 20, "the grids show the top 20 in the comparison's order");
    let buckets =
        b.eval("return JSON.parse(document.getElementById('perfgate-data').textContent).latencyEdges.length + 1").as_u64().unwrap();
    assert_eq!(b.eval("return document.querySelectorAll('#latency rect').length").as_u64().unwrap(), shown * buckets);
    let expected = b.eval(
        "const d = JSON.parse(document.getElementById('perfgate-data').textContent);          const rows = [...document.querySelectorAll('#latency .label')].map(r => Number(r.dataset.handler));          return rows.reduce((n, i) => n + d.histograms[i].latency.filter(c => c > 0).length, 0)",
    );
    assert_eq!(b.eval("return document.querySelectorAll('#latency rect.lat:not(.empty)').length"), expected);
    assert!(expected.as_u64().unwrap() >= shown);
    // The drill-down shows the baseline's latency beside this run's; rows are keyboard-reachable.
    b.eval("const r = document.querySelector('#handlers tbody tr'); r.focus(); r.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter'})); return 0");
    assert_eq!(b.eval("return document.querySelectorAll('#dd-latency-svg rect').length").as_u64().unwrap(), 2 * buckets);
    assert_eq!(b.eval("return document.getElementById('drilldown').hidden"), false);
    let png = b.screenshot_png();
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("perfgate-check.png");
    std::fs::write(&out, png).unwrap();
    println!("screenshot: {}", out.display());
}
