//! Any application's logs, through `[[sources.pattern]]` and `[[sources.json]]` rules
//! (`fixtures/apps/perfgate.toml`): an access log (CRLF), a logfmt log, JSON lines.

use crate::support::*;

#[test]
fn three_log_shapes_with_mixed_units() {
    let dir = repo().join("fixtures/apps");
    let o = perfgate(&dir, &["analyze", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        handler_samples(&r),
        expected(&[
            ("api.GET /users/{id}", &[12.5, 9.5, 0.85]),
            ("api.POST /orders", &[1200.0]),
            ("api.GET /health", &[0.25]),
            ("mailer.email.send", &[120.0, 200.0]),
            ("thumbnail.render", &[45.5, 0.5]),
            ("users.users.get", &[12.5, 7.5]),
            ("orders.orders.create", &[30.0]),
            ("jobs.reindex", &[1500.0, 900.0]),
        ])
    );
    // Lines that are not JSON, lack the fields, or carry no valid duration are not samples.
    let files = r["diagnostics"]["files"].as_array().unwrap();
    let jsonl = files.iter().find(|f| f["path"].as_str().unwrap().ends_with("api.jsonl")).unwrap();
    assert_eq!((jsonl["lines"].as_u64(), jsonl["samples"].as_u64()), (Some(8), Some(5)));
    let h = r["handlers"].as_array().unwrap().iter().find(|h| h["name"] == "GET /users/{id}").unwrap();
    assert_eq!(h["mapping"], "pattern");
    assert_eq!(h["executionList"][0]["timestamp"], "2025-11-20T10:00:01.000Z");
    assert_eq!(h["executionList"][0]["source"], "pattern");
}

#[test]
fn explain_shows_the_rule_and_what_it_read() {
    let dir = repo().join("fixtures/apps");
    let o = perfgate(&dir, &["analyze", "--explain", "ts=x handler=email.send duration=120ms service=mailer"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "matched by the rule logfmt: handler \"email.send\", plugin \"mailer\", duration 120 ms, timestamp none\n");
    let o = perfgate(
        &dir,
        &["analyze", "--explain", "EventBus.ts:56 2025-10-31T21:15:22.362Z ⏱️ PerformanceTracker: Beat 1 completed in 4.20ms"],
    );
    assert_eq!(
        stdout(&o),
        "a Musical Conductor line: beat 1 completed in 4.2 ms (the PerformanceTracker's duration, preferred)\ntimestamp: 2025-10-31T21:15:22.362Z\n"
    );
    let o = perfgate(&dir, &["analyze", "--explain", " ❌ BeatExecutor: Beat 3 (control:panel:ui:init:schemas) failed: Error"]);
    assert!(stdout(&o).starts_with("a Musical Conductor line: beat 3 failed (event \"control:panel:ui:init:schemas\""), "{}", stdout(&o));
}

#[test]
fn the_gate_works_unchanged_on_user_logs() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["perfgate.toml", "access.log", "worker.log", "api.jsonl"] {
        std::fs::copy(repo().join("fixtures/apps").join(f), dir.path().join(f)).unwrap();
    }
    assert_eq!(perfgate(dir.path(), &["update-baseline"]).status.code(), Some(0));
    let o = perfgate(dir.path(), &["check", "--format", "markdown"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("`api.GET /users/{id}`"), "{}", stdout(&o));
}

#[test]
fn bad_rules_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.log"), "x\n").unwrap();
    for (toml, needle) in [
        (
            "[[sources.pattern]]\nregex = '(?P<handler>\\w+)'\n",
            "perfgate.toml: line 2: sources.pattern[1].regex: needs a named group (?P<duration>",
        ),
        ("[[sources.pattern]]\nregex = '(?P<handler>'\n", "sources.pattern[1].regex: invalid regular expression"),
        (
            "[[sources.pattern]]\nregex = '(?P<handler>\\w+) (?P<duration>\\d+)'\nunit = 'hours'\n",
            "line 3: sources.pattern[1].unit: unknown unit \"hours\"",
        ),
        ("[[sources.json]]\nhandler = 'h'\n", "missing field `duration`"),
    ] {
        std::fs::write(dir.path().join("perfgate.toml"), toml).unwrap();
        let o = perfgate(dir.path(), &["analyze", "a.log"]);
        assert_eq!(o.status.code(), Some(2), "{toml}");
        assert!(stderr(&o).contains(needle), "{needle}: {}", stderr(&o));
    }
}

/// README's `--explain` example, run as written in `fixtures/apps`, prints what README says.
#[test]
fn readme_explain_example_works_as_written() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let lines: Vec<&str> = readme.lines().collect();
    let at = lines.iter().position(|l| l.starts_with("cargo run --release -- analyze --explain '")).expect("the example");
    let line = lines[at].split_once("--explain '").unwrap().1.trim_end_matches('\'');
    let said = lines[at + 1].strip_prefix("# ").expect("its output, as a comment");
    let o = perfgate(&repo().join("fixtures/apps"), &["analyze", "--explain", line]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim_end(), said);
}

/// One reading path: a log written by PowerShell's `>` (UTF-16LE with a byte-order mark and
/// CRLF), its UTF-16BE, CRLF and CP437-mojibake twins, each read alone through a
/// `[[sources.pattern]]` rule, give exactly the samples of the UTF-8 original (they once gave
/// "nothing recognized": UTF-16 files were read as documents, without the user's rules).
#[test]
fn every_encoding_goes_through_the_user_rules() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("perfgate.toml"),
        "[[sources.pattern]]\nname = \"job\"\nregex = '^(?P<ts>\\S+) job (?P<handler>\\S+) took (?P<duration>[\\d.]+) ?(?P<unit>ms|s)$'\nplugin = \"worker\"\n",
    )
    .unwrap();
    let mut text = String::new();
    for (i, (job, ms)) in
        [("résumé.parse", "12.5ms"), ("send✅", "0.25s"), ("résumé.parse", "7ms"), ("index", "3.75 ms")].iter().enumerate()
    {
        text.push_str(&format!("2025-11-20T10:00:0{i}.000Z info starting {job}\n2025-11-20T10:00:0{i}.500Z job {job} took {ms}\n"));
    }
    let crlf = text.replace('\n', "\r\n");
    let utf16 =
        |s: &str, bom: [u8; 2], unit: fn(u16) -> [u8; 2]| -> Vec<u8> { bom.into_iter().chain(s.encode_utf16().flat_map(unit)).collect() };
    // What a Windows console shows of UTF-8 bytes (code page 437), saved as text: `✅` is `Γ£à`.
    let mojibake = text.replace('✅', "Γ£à").replace('é', "├⌐");
    let twins: [(&str, Vec<u8>); 5] = [
        ("utf8.log", text.clone().into_bytes()),
        ("utf16le.log", utf16(&crlf, [0xFF, 0xFE], u16::to_le_bytes)),
        ("utf16be.log", utf16(&text, [0xFE, 0xFF], u16::to_be_bytes)),
        ("crlf.log", crlf.clone().into_bytes()),
        ("mojibake.log", mojibake.into_bytes()),
    ];
    let mut reports = Vec::new();
    for (name, bytes) in &twins {
        std::fs::write(dir.path().join(name), bytes).unwrap();
        let out = format!("{name}.json");
        let o = perfgate(dir.path(), &["analyze", name, "--json", &out]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
        let r = json(&dir.path().join(&out));
        let times: Vec<String> = r["handlers"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|h| h["executionList"].as_array().unwrap().iter().map(|e| e["timestamp"].as_str().unwrap_or("").to_owned()))
            .collect();
        reports.push((name, handler_samples(&r), times));
    }
    let want = expected(&[("worker.résumé.parse", &[12.5, 7.0]), ("worker.send✅", &[250.0]), ("worker.index", &[3.75])]);
    assert_eq!(reports[0].1, want);
    for (name, samples, times) in &reports[1..] {
        assert_eq!((samples, times), (&reports[0].1, &reports[0].2), "{name}");
    }
}

/// An app whose handlers take about a second: under the brief's 3/5/7 ms (the default) every
/// handler is red; with `[report] bands = "auto"` the terminal, markdown and HTML colour by
/// bands derived from its own averages (stated in their legends). A bad value is exit 2 naming
/// the key and what to write instead.
#[test]
fn a_slow_app_is_ranked_by_auto_bands() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rule = "[[sources.json]]\nhandler = \"route\"\nduration = \"ms\"\nplugin_field = \"svc\"\n";
    let mut lines = String::new();
    for (h, avg) in [800, 900, 1000, 1100, 1200, 1500, 2000, 3000, 5000, 9000].iter().enumerate() {
        for k in 0..3 {
            lines.push_str(&format!("{{\"route\":\"r{h}\",\"ms\":{},\"svc\":\"api\"}}\n", avg - 10 + 10 * k));
        }
    }
    std::fs::write(d.join("api.jsonl"), lines).unwrap();
    let dots = |text: &str| ["🔴", "🟠", "🟡", "🟢"].map(|dot| text.lines().filter(|l| l.starts_with(dot)).count());

    std::fs::write(d.join("perfgate.toml"), rule).unwrap();
    let o = perfgate(d, &["analyze", "api.jsonl"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(dots(&stdout(&o)), [10 + 1, 1, 1, 1], "every handler red (and one legend line each): {}", stdout(&o));
    assert!(stdout(&o).contains("\nLegend:\n"), "{}", stdout(&o));

    std::fs::write(d.join("perfgate.toml"), format!("[report]\nbands = \"auto\"\n\n{rule}")).unwrap();
    let o = perfgate(d, &["analyze", "api.jsonl", "--html", "auto.html", "--markdown", "auto.md"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    // Ranked: the slowest tenth red, the next 15% orange, up to the slowest quarter yellow, the
    // faster half green (each count with its legend line).
    assert_eq!(dots(&out), [1 + 1, 2 + 1, 2 + 1, 5 + 1], "{out}");
    assert!(
        out.contains("Legend (bands = \"auto\": from this run's averages):\n🔴 Slow (>5400ms)\n🟠 Medium (2800-5400ms)\n🟡 Fast (1400-2800ms)\n🟢 Very Fast (<1400ms)\n"),
        "{out}"
    );
    let md = std::fs::read_to_string(d.join("auto.md")).unwrap();
    assert_eq!(md.lines().filter(|l| l.starts_with("- 🟢 ")).count(), 5, "{md}");
    assert!(md.contains("🔴 Slow (>5400ms) · 🟠 Medium (2800-5400ms) · 🟡 Fast (1400-2800ms) · 🟢 Very Fast (<1400ms) (bands = \"auto\": from this run's averages)\n"), "{md}");
    let html = std::fs::read_to_string(d.join("auto.html")).unwrap();
    let data = html.split_once("id=\"perfgate-data\">").unwrap().1.split_once("</script>").unwrap().0;
    let data: serde_json::Value = serde_json::from_str(data).unwrap();
    assert_eq!(
        (&data["bands"], &data["bandsNote"]),
        (&serde_json::json!([1400.0, 2800.0, 5400.0]), &serde_json::json!("bands = \"auto\": from this run's averages"))
    );

    std::fs::write(d.join("perfgate.toml"), format!("[report]\nbands = \"automatic\"\n\n{rule}")).unwrap();
    let o = perfgate(d, &["analyze", "api.jsonl"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("perfgate.toml: line 2: report.bands: \"automatic\" is not a setting; write bands = \"auto\""), "{e}");
}
