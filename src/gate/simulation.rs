//! The gate's false-alarm and detection rates, measured on simulated runs (seeded,
//! deterministic): 20 handlers with log-normal durations (σ_ln 0.3, medians 1–20 ms), a
//! per-handler run-to-run jitter of 3%, and a run-wide drift factor with CV 10% on every run.
//! The baseline keeps K = 5 runs; the candidate is a sixth. Each scenario runs 100 trials. The
//! same data is also judged by the plain rule "fail if any handler's p95 grew more than 25%".

use super::*;
use crate::baseline::{Baseline, Run};
use crate::config::GateConfig;
use crate::rng::Rng;

const HANDLERS: usize = 20;
const TRIALS: u64 = 200;
const SLOWED: usize = 7;

fn simulated_run(rng: &mut Rng, samples: usize, slow: &dyn Fn(usize) -> f64) -> Run {
    let drift = (0.1 * rng.normal()).exp();
    let mut run = Run::default();
    for h in 0..HANDLERS {
        let median = 1.0 + h as f64;
        let jitter = (0.03 * rng.normal()).exp();
        let durations =
            (0..samples).map(|_| (median * drift * jitter * slow(h) * (0.3 * rng.normal()).exp() * 100.0).round() / 100.0).collect();
        let name = format!("h{h:02}");
        run.handlers.insert(format!("Plugin.{name}"), ("Plugin".into(), name, durations));
    }
    run
}

struct Trial {
    comparison: Comparison,
    naive_fail: bool,
}

fn trial_with(seed: u64, samples: usize, slow: &dyn Fn(usize) -> f64, gate: &GateConfig) -> Trial {
    let mut rng = Rng::new(seed);
    let mut baseline = Baseline::empty(5);
    for _ in 0..5 {
        baseline = baseline.append(&simulated_run(&mut rng, samples, &|_| 1.0), 5);
    }
    let candidate = simulated_run(&mut rng, samples, slow);
    let comparison = compare(&baseline, &candidate, gate);
    let naive_fail = candidate.handlers.iter().any(|(k, (_, _, d))| {
        let p95 = stats::summarize(d).expect("samples").p95;
        p95 / baseline.handlers[k].pooled.p95 - 1.0 > 0.25
    });
    Trial { comparison, naive_fail }
}

/// (perfgate's count, the plain rule's count) over the trials, for a predicate on the trial.
fn rate(scenario: u64, samples: usize, slow: &dyn Fn(usize) -> f64, hit: &dyn Fn(&Comparison) -> bool) -> (u64, u64) {
    rate_with(scenario, samples, slow, hit, &GateConfig::default())
}

fn rate_with(
    scenario: u64,
    samples: usize,
    slow: &dyn Fn(usize) -> f64,
    hit: &dyn Fn(&Comparison) -> bool,
    gate: &GateConfig,
) -> (u64, u64) {
    let mut ours = 0;
    let mut naive = 0;
    for t in 0..TRIALS {
        let tr = trial_with(scenario * 1_000 + t, samples, slow, gate);
        ours += u64::from(hit(&tr.comparison));
        naive += u64::from(tr.naive_fail);
    }
    (ours, naive)
}

fn handler_regressed(c: &Comparison) -> bool {
    c.handlers.iter().any(|h| h.key == format!("Plugin.h{SLOWED:02}") && h.verdict == Verdict::Regressed) && c.outcome == Outcome::Fail
}

#[test]
fn false_alarm_and_detection_rates() {
    let fails = |c: &Comparison| c.outcome == Outcome::Fail;
    let one = |f: f64| move |h: usize| if h == SLOWED { f } else { 1.0 };
    let mut avg = GateConfig::default();
    avg.defaults.stats = vec![Stat::Avg];
    let aa = rate(1, 200, &|_| 1.0, &fails);
    let aa50 = rate(2, 50, &|_| 1.0, &fails);
    let aa50_avg = rate_with(2, 50, &|_| 1.0, &fails, &avg);
    let one15 = rate(4, 200, &one(1.5), &handler_regressed);
    let one15_50 = rate(3, 50, &one(1.5), &handler_regressed);
    let one15_50_avg = rate_with(3, 50, &one(1.5), &handler_regressed, &avg);
    let one125 = rate(5, 200, &one(1.25), &handler_regressed);
    let one125_1000 = rate(6, 1000, &one(1.25), &handler_regressed);
    let all15 = rate(7, 200, &|_| 1.5, &fails);
    let all13_reported = rate(8, 200, &|_| 1.3, &|c| c.outcome != Outcome::Pass);
    let all13_fails = rate(8, 200, &|_| 1.3, &fails);
    println!("scenario ({TRIALS} trials each)                           perfgate  plain p95>25%");
    for (name, (ours, naive)) in [
        ("A/A, 200 samples/handler: runs failed", aa),
        ("A/A, 50 samples/handler: runs failed", aa50),
        ("A/A, 50 samples/handler, stats=[avg]: runs failed", aa50_avg),
        ("one handler x1.5, 200 samples: caught", one15),
        ("one handler x1.5, 50 samples: caught", one15_50),
        ("one handler x1.5, 50 samples, stats=[avg]: caught", one15_50_avg),
        ("one handler x1.25, 200 samples: caught", one125),
        ("one handler x1.25, 1000 samples: caught", one125_1000),
        ("all handlers x1.5: runs failed", all15),
        ("all handlers x1.3: reported (warning or fail)", all13_reported),
        ("all handlers x1.3: runs failed", all13_fails),
    ] {
        println!("{name:<53} {ours:>8}  {naive:>13}");
    }
    // Rates as exact fractions of TRIALS: `at_most(n, 1)` is n ≤ 1% of the trials.
    let at_most = |n: u64, percent: u64| n * 100 <= percent * TRIALS;
    let at_least = |n: u64, percent: u64| n * 100 >= percent * TRIALS;
    assert!(at_most(aa.0, 1) && at_most(aa50.0, 1), "A/A false alarms: {aa:?} {aa50:?}");
    assert!(at_most(aa50_avg.0, 2), "A/A false alarms with stats=[avg]: {aa50_avg:?}");
    assert!(at_least(one15.0, 95), "single handler x1.5 caught {}", one15.0);
    assert!(at_least(one15_50_avg.0, 95), "single handler x1.5 (50 samples, avg) caught {}", one15_50_avg.0);
    assert!(one125_1000.0 * 2 > TRIALS, "single handler x1.25 caught {}", one125_1000.0);
    // With CV-10% drift on every run, a run-wide x1.5 is ln(1.5)/0.11 = 3.7 standard deviations
    // from an unchanged run; ≤1% false alarms and ≥95% detection would need 3.97, and a x1.3
    // reported "always" would need a warning threshold that unchanged runs cross a third of the
    // time. We keep the false alarms low and state the rates measured (README).
    assert!(at_least(all15.0, 85), "across-the-board x1.5 failed {}", all15.0);
    assert!(at_least(all13_reported.0, 90), "across-the-board x1.3 reported {}", all13_reported.0);
}
