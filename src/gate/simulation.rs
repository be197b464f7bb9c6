//! The gate's false-alarm and detection rates under the default config, measured on simulated
//! suites shaped like real ones (seeded, deterministic; every trial draws a new suite):
//!
//! - 80 handlers; per-run executions log-uniform between 5 and 130 (median 25, 92% under 100),
//!   plus 4 hot handlers with 300–1,500; each run's count varies ±10% around the handler's;
//! - durations log-normal, medians log-uniform 1–20 ms, σ_ln uniform 0.3–0.8 per handler,
//!   logged with two decimals, 5% of them as the BeatExecutor's integer (the fallback);
//! - a run-wide drift with CV 10% on every run, and a per-handler run-to-run jitter of 2%;
//! - K = 3 baseline runs, then the candidate; "3×" multiplies every count by three.
//!
//! A regression scenario slows one handler chosen at random among those with 40–80 executions
//! per run (at 3×: 120–240). Each rate is asserted, and the README's table is this test's output
//! (`PERFGATE_BLESS=1 cargo test --lib simulation` rewrites it; otherwise the test fails when
//! the README disagrees).

use super::*;
use crate::baseline::{Baseline, Run};
use crate::config::GateConfig;
use crate::rng::Rng;

const HANDLERS: usize = 80;
const HOT: usize = 4;
const TRIALS: u64 = 300;

/// One simulated suite: per handler its median, σ and executions per run.
struct Suite {
    handlers: Vec<(f64, f64, f64)>,
}

#[derive(Clone, Copy)]
struct Shape {
    /// Count multiplier (1× or 3×).
    size: f64,
    baseline_runs: usize,
    /// Per-handler run-to-run jitter (log scale).
    jitter: f64,
}

const REAL: Shape = Shape { size: 1.0, baseline_runs: 3, jitter: 0.02 };

impl Suite {
    fn draw(rng: &mut Rng, shape: Shape) -> Suite {
        let handlers = (0..HANDLERS + HOT)
            .map(|h| {
                let count = if h < HANDLERS { rng.log_uniform(5.0, 130.0) } else { rng.log_uniform(300.0, 1500.0) };
                (rng.log_uniform(1.0, 20.0), 0.3 + 0.5 * rng.unit(), count * shape.size)
            })
            .collect();
        Suite { handlers }
    }

    /// A handler with 40–80 executions per run at 1× (the regression's target), at random.
    fn pick_mid(&self, rng: &mut Rng, shape: Shape) -> usize {
        let mids: Vec<usize> = (0..HANDLERS).filter(|&h| (40.0..=80.0).contains(&(self.handlers[h].2 / shape.size))).collect();
        mids[rng.below(mids.len())]
    }

    fn run(&self, rng: &mut Rng, shape: Shape, slow: &dyn Fn(usize) -> f64) -> Run {
        let drift = (0.1 * rng.normal()).exp();
        let mut run = Run::default();
        for (h, &(median, sigma, count)) in self.handlers.iter().enumerate() {
            let jitter = (shape.jitter * rng.normal()).exp();
            let n = (count * (0.1 * rng.normal()).exp()).round().max(1.0) as usize;
            let durations = (0..n)
                .map(|_| {
                    let x = median * drift * jitter * slow(h) * (sigma * rng.normal()).exp();
                    if rng.chance(0.05) { x.round() } else { (x * 100.0).round() / 100.0 }
                })
                .collect();
            let name = format!("h{h:02}");
            run.add("Plugin", &name, durations);
        }
        run
    }
}

/// What a trial tells.
struct Trial {
    comparison: Comparison,
    /// The slowed handler's key, when one was.
    target: Option<String>,
    /// The plain rule "fail when any handler's p95 grew more than 25%" on the same data.
    plain_fail: bool,
}

enum Change {
    None,
    One(f64),
    All(f64),
}

fn trial(seed: u64, shape: Shape, change: &Change, gate: &GateConfig) -> Trial {
    let mut rng = Rng::new(seed);
    let suite = Suite::draw(&mut rng, shape);
    let mut baseline = Baseline::empty(shape.baseline_runs);
    for _ in 0..shape.baseline_runs {
        baseline = baseline.append(&suite.run(&mut rng, shape, &|_| 1.0), shape.baseline_runs);
    }
    let target = match change {
        Change::One(_) => Some(suite.pick_mid(&mut rng, shape)),
        _ => None,
    };
    let candidate = suite.run(&mut rng, shape, &|h| match change {
        Change::None => 1.0,
        Change::One(f) => {
            if Some(h) == target {
                *f
            } else {
                1.0
            }
        }
        Change::All(f) => *f,
    });
    let comparison = compare(&baseline, &candidate, gate);
    let plain_fail = candidate.handlers.iter().any(|(k, h)| {
        let p95 = h.samples.summary().p95;
        baseline.handlers.get(k).is_some_and(|b| p95 / b.pooled.p95 - 1.0 > 0.25)
    });
    Trial { comparison, target: target.map(|h| format!("Plugin.h{h:02}")), plain_fail }
}

/// Over `TRIALS` trials (two threads): how often `hit` held, and how often the plain rule failed.
fn rate(scenario: u64, shape: Shape, change: Change, hit: fn(&Trial) -> bool) -> (f64, f64) {
    let gate = GateConfig::default();
    let counts = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2u64)
            .map(|w| {
                let (gate, change) = (&gate, &change);
                scope.spawn(move || {
                    (0..TRIALS).filter(|t| t % 2 == w).fold((0u64, 0u64), |(ours, plain), t| {
                        let tr = trial(scenario * 100_000 + t, shape, change, gate);
                        (ours + u64::from(hit(&tr)), plain + u64::from(tr.plain_fail))
                    })
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().expect("worker")).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    });
    (counts.0 as f64 / TRIALS as f64, counts.1 as f64 / TRIALS as f64)
}

fn fails(t: &Trial) -> bool {
    t.comparison.outcome == Outcome::Fail
}

fn warns_or_fails(t: &Trial) -> bool {
    t.comparison.outcome != Outcome::Pass
}

fn caught(t: &Trial) -> bool {
    let target = t.target.as_deref().expect("a slowed handler");
    fails(t) && t.comparison.handlers.iter().any(|h| h.key == target && h.verdict == Verdict::Regressed)
}

/// No handler with ≥ 10 samples on both sides is "insufficient" under the defaults.
fn none_insufficient_from_ten(t: &Trial) -> bool {
    t.comparison.handlers.iter().all(|h| h.verdict != Verdict::Insufficient || h.base_count < 10 || h.now_count < 10)
}

struct Row {
    name: &'static str,
    ours: f64,
    /// The plain rule's failed runs, where that is the comparable number.
    plain: Option<f64>,
    /// The bound the test asserts: (at least?, percent).
    bound: (bool, f64),
}

#[test]
fn false_alarm_and_detection_rates() {
    let big = Shape { size: 3.0, ..REAL };
    let first_day = Shape { baseline_runs: 1, ..REAL };
    let jittery = Shape { jitter: 0.06, ..REAL };
    let row = |name, (ours, plain): (f64, f64), at_least, percent| Row { name, ours, plain: Some(plain), bound: (at_least, percent) };
    let own = |name, (ours, _): (f64, f64), at_least, percent| Row { name, ours, plain: None, bound: (at_least, percent) };
    let rows = [
        row("unchanged: runs failed", rate(1, REAL, Change::None, fails), false, 1.0),
        row("unchanged, 3× size: runs failed", rate(2, big, Change::None, fails), false, 1.0),
        row("unchanged, 6% per-handler jitter: runs failed", rate(3, jittery, Change::None, fails), false, 2.5),
        row("unchanged, 1 baseline run: runs failed", rate(4, first_day, Change::None, fails), false, 5.0),
        own("unchanged: runs with a warning", rate(5, REAL, Change::None, warns_or_fails), false, 30.0),
        row("one handler ×2 (40–80 samples): caught", rate(6, REAL, Change::One(2.0), caught), true, 97.0),
        row("one handler ×2, 1 baseline run: caught", rate(7, first_day, Change::One(2.0), caught), true, 90.0),
        row("one handler ×1.5 (40–80 samples): caught", rate(8, REAL, Change::One(1.5), caught), true, 75.0),
        row("one handler ×1.5, 3× size (120–240): caught", rate(9, big, Change::One(1.5), caught), true, 90.0),
        row("one handler ×1.25, 3× size: caught", rate(10, big, Change::One(1.25), caught), true, 30.0),
        row("every handler ×1.5: runs failed", rate(11, REAL, Change::All(1.5), fails), true, 80.0),
        own(
            "runs where no handler with ≥ 10 samples on both sides is insufficient",
            rate(12, REAL, Change::None, none_insufficient_from_ten),
            true,
            100.0,
        ),
    ];
    use crate::render::table::{self, Align};
    let mut table = table::header(&[
        ("scenario (default config, 300 trials each)", Align::Left),
        ("perfgate", Align::Right),
        ("asserted", Align::Right),
        ("plain rule: runs failed", Align::Right),
    ]);
    for r in &rows {
        let bound = format!("{} {}%", if r.bound.0 { "≥" } else { "≤" }, r.bound.1);
        let plain = r.plain.map_or("–".to_owned(), |p| format!("{:.1}%", p * 100.0));
        table.push_str(&table::row([r.name.to_owned(), format!("{:.1}%", r.ours * 100.0), bound, plain]));
    }
    println!("{table}");
    for r in &rows {
        let ok = if r.bound.0 { r.ours * 100.0 >= r.bound.1 - 1e-9 } else { r.ours * 100.0 <= r.bound.1 + 1e-9 };
        assert!(ok, "{}: {:.1}% (bound {} {}%)", r.name, r.ours * 100.0, if r.bound.0 { "≥" } else { "≤" }, r.bound.1);
    }
    // The plain rule's detections come with its false alarms.
    assert!(rows[0].plain.is_some_and(|p| p > 0.2), "plain rule false alarms {:?}", rows[0].plain);
    readme_table("simulation", &table);
}

/// The README's copy of a simulation's table, between its markers (`<!-- NAME:begin -->`):
/// rewritten with `PERFGATE_BLESS=1`, else compared.
pub(crate) fn readme_table(name: &str, table: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let (begin, end) = (format!("<!-- {name}:begin -->\n"), format!("<!-- {name}:end -->"));
    let (begin, end) = (begin.as_str(), end.as_str());
    let (Some(a), Some(b)) = (readme.find(begin), readme.find(end)) else { panic!("README.md lacks the simulation markers") };
    let current = &readme[a + begin.len()..b];
    if std::env::var_os("PERFGATE_BLESS").is_some() {
        let next = format!("{}{table}{}", &readme[..a + begin.len()], &readme[b..]);
        std::fs::write(&path, next).expect("write README.md");
    } else {
        assert_eq!(current, table, "README.md's {name} table is stale: PERFGATE_BLESS=1 cargo test --lib simulation");
    }
}
