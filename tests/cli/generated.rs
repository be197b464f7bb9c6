//! analyze recovers the generator's ground truth exactly: counts, every sample, percentiles.

use crate::support::*;

/// numpy's default percentile, written independently of `perfgate::stats`.
fn numpy_linear(sorted: &[f64], q: f64) -> f64 {
    let pos = (sorted.len() - 1) as f64 * q;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

fn check(seed: &str, files: &str, extra: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("gen");
    let mut gen_args = vec!["generate", "--out", out_dir.to_str().unwrap(), "--seed", seed, "--files", files, "--executions", "150"];
    gen_args.extend_from_slice(extra);
    let o = perfgate(dir.path(), &gen_args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let truth = json(&out_dir.join("truth.json"));
    let report = dir.path().join("report.json");
    let o = perfgate(
        dir.path(),
        &[
            "analyze",
            out_dir.join("logs").to_str().unwrap(),
            "--catalog",
            out_dir.join("json-sequences").to_str().unwrap(),
            "--max-executions",
            "100000",
            "--json",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = json(&report);
    let got = handler_samples(&r);
    let want: Vec<(String, Vec<f64>)> = truth["samples"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()))
        .collect();
    assert_eq!(got.len(), want.len());
    for ((gname, gms), (wname, wms)) in got.iter().zip(&want) {
        assert_eq!(gname, wname);
        assert_eq!(gms, wms, "{gname}: samples in log order");
    }
    let d = &r["diagnostics"];
    assert_eq!(d["failed"], truth["failed"]);
    assert_eq!(d["incomplete"], truth["incomplete"]);
    assert_eq!(d["orphans"], truth["orphans"]);
    assert_eq!(d["unmappedBeats"].as_u64(), Some(0));
    for h in r["handlers"].as_array().unwrap() {
        let name = format!("{}.{}", h["plugin"].as_str().unwrap(), h["name"].as_str().unwrap());
        let mut v: Vec<f64> = want.iter().find(|(n, _)| *n == name).unwrap().1.clone();
        v.sort_by(f64::total_cmp);
        let t = &h["timing"];
        for (key, q) in [("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99)] {
            let expect = (numpy_linear(&v, q) * 1000.0).round() / 1000.0;
            assert_eq!(t[key].as_f64().unwrap(), expect, "{name} {key}");
        }
        assert_eq!(h["executions"].as_u64().unwrap(), v.len() as u64);
        assert_eq!(t["min"].as_f64().unwrap(), v[0]);
        assert_eq!(t["max"].as_f64().unwrap(), v[v.len() - 1]);
    }
}

#[test]
fn recovers_ground_truth_with_hard_cases() {
    check("7", "3", &[]);
}

#[test]
fn recovers_ground_truth_with_envelopes_mixed_per_line_or_one_throughout() {
    check("7", "2", &["--envelopes", "line"]);
    check("7", "1", &["--envelopes", "chrome"]);
}

#[test]
fn recovers_ground_truth_on_clean_logs() {
    check("11", "1", &["--clean", "--noise", "0"]);
}

#[test]
fn same_seed_same_bytes_and_same_report() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    for d in [&a, &b] {
        let o = perfgate(dir.path(), &["generate", "--out", d.to_str().unwrap(), "--seed", "3", "--executions", "40"]);
        assert_eq!(o.status.code(), Some(0));
    }
    let read = |d: &std::path::Path| std::fs::read(d.join("logs/run-00.log")).unwrap();
    assert_eq!(read(&a), read(&b));
    let report = |d: &std::path::Path| {
        let o = perfgate(d, &["analyze", "logs", "--catalog", "json-sequences", "--format", "json"]);
        assert_eq!(o.status.code(), Some(0));
        o.stdout
    };
    assert_eq!(report(&a), report(&b), "the same input gives a byte-identical report");
}
