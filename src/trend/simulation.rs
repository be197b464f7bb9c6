//! The trend detector's false-alarm and detection rates on simulated main branches (seeded,
//! deterministic; every branch draws a new suite):
//!
//! - 24 runs of main; 84 handlers: 4 hot ones with 500–1,500 executions per run, 56 with
//!   10–100, 24 with 2–10 (log-uniform; each run's count ±10%);
//! - durations log-normal, medians log-uniform 1–20 ms, σ_ln uniform 0.3–0.8 per handler,
//!   logged to 0.01 ms;
//! - a runner drift of 10% per run (log sd 0.1, shared by the run's handlers) and a
//!   per-handler run-to-run jitter of 3% (log sd 0.03);
//! - every run goes the way a real one does: `baseline::Run::add` with its durations, then
//!   `history::Entry::of` (the file's rounding) into the history.
//!
//! Scenarios: unchanged; one slow-runner run (every handler ×1.5 in one run at 6..18); one
//! handler ×1.25 from commit 6..18 on; one handler 4% slower per merge from commit 4..12 on.
//! The changed handler is drawn among those with at least `TARGET_MIN` (30) executions per
//! run; the step's rates are given for a handler of at least `HOT` (50) and for one of 30–50,
//! where a ×1.25 step is two to three of the handler's per-run standard errors (σ_ln 0.6–0.8
//! over 30–50 executions measure a run's typical duration to ±10–15%) and is found only when
//! its draws are kind: no detector holding the false alarms over 84 handlers sees it surely.
//! "Run by run" runs the detector after every commit, as CI on main would: from run 8 on for
//! the unchanged branches, from the first run at the new level on for a change (a report
//! before it is a false alarm, which the unchanged branches measure).
//!
//! The four scenarios of a suite share its draws (common random numbers): each scenario's
//! history is the unchanged one with its change applied to the same durations — the changed
//! handler's runs summarized again through `Run::add` and `Entry::of`, or the whole slow run.

use super::*;
use crate::baseline::Run;
use crate::history::{Entry, History};
use crate::rng::Rng;

const HANDLERS: usize = 84;
const RUNS: usize = 24;
const BRANCHES: u64 = 200;
/// The changed handler has at least this many executions per run.
const TARGET_MIN: f64 = 30.0;
/// The step's rates are also given for a changed handler with at least this many executions
/// per run, and below.
const HOT: f64 = 50.0;
/// The first history length the run-by-run detector is run on.
const FIRST_CHECK: usize = 8;

struct Suite {
    /// Per handler: median (ms), σ_ln, executions per run.
    handlers: Vec<(f64, f64, f64)>,
}

impl Suite {
    fn draw(rng: &mut Rng) -> Suite {
        let handlers = (0..HANDLERS)
            .map(|h| {
                let count = match h {
                    0..4 => rng.log_uniform(500.0, 1500.0),
                    4..60 => rng.log_uniform(10.0, 100.0),
                    _ => rng.log_uniform(2.0, 10.0),
                };
                (rng.log_uniform(1.0, 20.0), 0.3 + 0.5 * rng.unit(), count)
            })
            .collect();
        Suite { handlers }
    }

    fn target(&self, rng: &mut Rng) -> usize {
        let eligible: Vec<usize> = (0..HANDLERS).filter(|&h| self.handlers[h].2 >= TARGET_MIN).collect();
        eligible[rng.below(eligible.len())]
    }

    /// Run `r` of main before any change: per handler its durations, unrounded (the runner's
    /// drift and the handler's jitter included).
    fn draws(&self, rng: &mut Rng) -> Vec<Vec<f64>> {
        let drift = (0.1 * rng.normal()).exp();
        self.handlers
            .iter()
            .map(|&(median, sigma, count)| {
                let jitter = (0.03 * rng.normal()).exp();
                let n = (count * (0.1 * rng.normal()).exp()).round().max(1.0) as usize;
                (0..n).map(|_| median * drift * jitter * (sigma * rng.normal()).exp()).collect()
            })
            .collect()
    }
}

/// Handler `h`'s durations times `factor`, as logged (0.01 ms), summarized the way a real run
/// is: `Run::add`, then `Entry::of`.
fn record(run: &mut Run, h: usize, durations: &[f64], factor: f64) {
    run.add("Plugin", &format!("h{h:02}"), durations.iter().map(|x| (x * factor * 100.0).round() / 100.0).collect());
}

/// A run's draws (per handler its durations) summarized as a run is, each handler's times
/// `factor(h)`.
fn summarize(draws: &[Vec<f64>], factor: impl Fn(usize) -> f64) -> Run {
    let mut run = Run::default();
    for (h, d) in draws.iter().enumerate() {
        record(&mut run, h, d, factor(h));
    }
    run
}

fn entry(run: &Run, r: usize) -> Entry {
    Entry::of(run, Some(&format!("c{r:02}")), 1_800_000_000_000 + r as i64 * 3_600_000, None)
}

#[derive(Clone, Copy, PartialEq)]
enum Scenario {
    Unchanged,
    SlowRunner,
    Step,
    Creep,
}

/// One simulated branch: its history, the changed handler and the commit it changed at.
struct Branch {
    history: History,
    target: Option<String>,
    at: usize,
    /// The changed handler's executions per run.
    target_count: f64,
}

/// The four scenarios of one suite, from the same draws (common random numbers: the
/// scenarios differ only where they change something); each draws its own target and commit.
fn branches(seed: u64) -> [Branch; 4] {
    let mut rng = Rng::new(seed);
    let suite = Suite::draw(&mut rng);
    let draws: Vec<Vec<Vec<f64>>> = (0..RUNS).map(|_| suite.draws(&mut rng)).collect();
    let base: Vec<Entry> = draws.iter().enumerate().map(|(r, run)| entry(&summarize(run, |_| 1.0), r)).collect();
    [Scenario::Unchanged, Scenario::SlowRunner, Scenario::Step, Scenario::Creep].map(|scenario| {
        let target = suite.target(&mut rng);
        let at = match scenario {
            Scenario::Creep => 4 + rng.below(8),
            _ => 6 + rng.below(12),
        };
        let mut entries = base.clone();
        for (r, e) in entries.iter_mut().enumerate() {
            let factor = match scenario {
                Scenario::Unchanged => continue,
                Scenario::SlowRunner if r == at => {
                    *e = entry(&summarize(&draws[r], |_| 1.5), r);
                    continue;
                }
                Scenario::SlowRunner => continue,
                _ if r < at => continue,
                Scenario::Step => 1.25,
                Scenario::Creep => 1.04f64.powi((r - at + 1) as i32),
            };
            let mut one = Run::default();
            record(&mut one, target, &draws[r][target], factor);
            e.handlers.extend(entry(&one, r).handlers);
        }
        let target_count = suite.handlers[target].2;
        let target = matches!(scenario, Scenario::Step | Scenario::Creep).then(|| format!("Plugin.h{target:02}"));
        Branch { history: History::new(entries), target, at, target_count }
    })
}

/// The first history length from `from` on at which `hit` holds when the detector runs after
/// every commit.
fn first_detection(b: &Branch, from: usize, hit: &dyn Fn(&Trend) -> bool) -> Option<(usize, Trend)> {
    (from..=RUNS).find_map(|len| {
        let trend = detect_runs(&b.history.entries[..len], &TrendConfig::default());
        hit(&trend).then_some((len, trend))
    })
}

fn target_slower<'t>(t: &'t Trend, key: &str) -> Option<&'t Change> {
    t.slower().find(|c| c.key == key)
}

/// What one branch tells, per scenario.
#[derive(Default, Clone, Copy)]
struct Outcome {
    /// A slower change of any handler in the full history (unchanged, slow runner); any
    /// change at all (slow runner).
    slower_any: bool,
    change_any: bool,
    /// Run by run: any slower change reported at some commit.
    slower_ever: bool,
    /// The changed handler: found in the full history, at the exact commit, within three runs
    /// after it.
    found: bool,
    exact: bool,
    within3: bool,
    /// Another handler reported slower in the full history.
    other_slower: bool,
    /// The changed handler's executions per run.
    target_count: f64,
    /// The changed handler's first change in the full history is of the scenario's kind.
    kind_right: bool,
    /// The changed handler's accepted level relative to what it should be, minus 1.
    level_error: f64,
    /// Run by run: reported at all (at or after the change), runs after the change when first
    /// reported, where it was placed (relative to the change), and the cumulative factor then.
    caught: bool,
    delay: i64,
    placed: i64,
    factor: f64,
}

/// What `detect` made of `b`; `plain` is the full-history trend of the same suite unchanged.
fn outcome(b: &Branch, scenario: Scenario, plain: &Trend) -> Outcome {
    let full = detect(&b.history, &TrendConfig::default());
    let mut o = Outcome {
        slower_any: full.slower().next().is_some(),
        change_any: !full.changes.is_empty(),
        target_count: b.target_count,
        ..Outcome::default()
    };
    match &b.target {
        None => {
            if scenario == Scenario::Unchanged {
                o.slower_ever = first_detection(b, FIRST_CHECK, &|t| t.slower().next().is_some()).is_some();
            }
        }
        Some(key) => {
            if let Some(c) = target_slower(&full, key) {
                o.found = true;
                o.exact = c.run == b.at;
                o.within3 = (b.at..=b.at + 3).contains(&c.run);
                o.kind_right = c.kind == if scenario == Scenario::Creep { Kind::Creep } else { Kind::Step };
            }
            o.other_slower = full.slower().any(|c| &c.key != key);
            // The accepted level against what it should be: the unchanged suite's level, ×1.25
            // after a step (the new segment), as it was before a creep.
            let expected =
                plain.handlers[key].accepted.as_ref().map(|l| l.log_level + if scenario == Scenario::Step { 1.25f64.ln() } else { 0.0 });
            let got = full.handlers[key].accepted.as_ref().map(|l| l.log_level);
            if let (Some(e), Some(g)) = (expected, got) {
                o.level_error = (g - e).exp() - 1.0;
            }
            // From the first run at the new level on (a report before it is the unchanged
            // scenario's false alarm).
            if let Some((len, trend)) = first_detection(b, b.at + 1, &|t| target_slower(t, key).is_some()) {
                let c = target_slower(&trend, key).expect("found");
                o.caught = true;
                o.delay = (len - 1) as i64 - b.at as i64;
                o.placed = c.run as i64 - b.at as i64;
                o.factor = 1.04f64.powi((len - b.at) as i32);
            }
        }
    }
    o
}

/// Baseline runs a check compares with (the default `[baseline] history`).
const BASELINE_RUNS: usize = 5;

/// A PR's check after a main branch of `RUNS` unchanged runs (its last `BASELINE_RUNS` the
/// baseline, all of them the history): whether an unchanged run and a run where every handler
/// is ×1.5 fail — with the history (the run-wide rule reads main's runners), and without it.
#[derive(Default, Clone, Copy)]
struct CheckOutcome {
    unchanged_fails: bool,
    unchanged_fails_plain: bool,
    all_slower_fails: bool,
    all_slower_fails_plain: bool,
    /// One handler of 40–80 executions a run ×1.5: failed on it.
    one_slower_caught: bool,
    one_slower_caught_plain: bool,
}

fn check_trial(seed: u64) -> CheckOutcome {
    use crate::baseline::Baseline;
    use crate::config::GateConfig;
    use crate::gate::{Outcome, compare, compare_with};
    let mut rng = Rng::new(seed);
    let suite = Suite::draw(&mut rng);
    let mut entries = Vec::new();
    let mut baseline = Baseline::empty(BASELINE_RUNS);
    for r in 0..RUNS {
        let run = summarize(&suite.draws(&mut rng), |_| 1.0);
        entries.push(entry(&run, r));
        baseline = baseline.append(&run, BASELINE_RUNS);
    }
    let levels = detect_runs(&entries, &TrendConfig::default()).main_levels(&|_| false);
    let gate = GateConfig::default();
    let fails = |run: &Run| {
        (compare_with(&baseline, run, &gate, &levels).outcome == Outcome::Fail, compare(&baseline, run, &gate).outcome == Outcome::Fail)
    };
    let (unchanged_fails, unchanged_fails_plain) = fails(&summarize(&suite.draws(&mut rng), |_| 1.0));
    let (all_slower_fails, all_slower_fails_plain) = fails(&summarize(&suite.draws(&mut rng), |_| 1.5));
    let mids: Vec<usize> = (0..HANDLERS).filter(|&h| (40.0..=80.0).contains(&suite.handlers[h].2)).collect();
    let target = mids[rng.below(mids.len())];
    let draws = suite.draws(&mut rng);
    let run = summarize(&draws, |h| if h == target { 1.5 } else { 1.0 });
    let key = format!("Plugin.h{target:02}");
    let caught = |c: crate::gate::Comparison| {
        c.outcome == Outcome::Fail && c.handlers.iter().any(|h| h.key == key && h.verdict == crate::gate::Verdict::Regressed)
    };
    let one_slower_caught = caught(compare_with(&baseline, &run, &gate, &levels));
    let one_slower_caught_plain = caught(compare(&baseline, &run, &gate));
    CheckOutcome {
        unchanged_fails,
        unchanged_fails_plain,
        all_slower_fails,
        all_slower_fails_plain,
        one_slower_caught,
        one_slower_caught_plain,
    }
}

/// `trial(t)` for every branch `t` of `BRANCHES`, on two threads, in branch order.
fn per_branch<T: Send>(trial: fn(u64) -> T) -> Vec<T> {
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2u64)
            .map(|w| scope.spawn(move || (0..BRANCHES).filter(|t| t % 2 == w).map(|t| (t, trial(t))).collect::<Vec<_>>()))
            .collect();
        let mut all: Vec<(u64, T)> = workers.into_iter().flat_map(|w| w.join().expect("worker")).collect();
        all.sort_by_key(|(t, _)| *t);
        all.into_iter().map(|(_, o)| o).collect()
    })
}

/// [`check_trial`] over `BRANCHES` main branches.
fn check_outcomes() -> Vec<CheckOutcome> {
    per_branch(|t| check_trial(5_000 + t))
}

/// Every scenario's outcomes over `BRANCHES` suites, in scenario order.
fn outcomes() -> [Vec<Outcome>; 4] {
    let rows: Vec<[Outcome; 4]> = per_branch(|t| {
        let [a, b, c, d] = branches(1_000 + t);
        let plain = detect(&a.history, &TrendConfig::default());
        [
            outcome(&a, Scenario::Unchanged, &plain),
            outcome(&b, Scenario::SlowRunner, &plain),
            outcome(&c, Scenario::Step, &plain),
            outcome(&d, Scenario::Creep, &plain),
        ]
    });
    std::array::from_fn(|i| rows.iter().map(|o| o[i]).collect())
}

fn share(v: &[Outcome], f: impl Fn(&Outcome) -> bool) -> f64 {
    v.iter().filter(|o| f(o)).count() as f64 / v.len() as f64
}

fn median_of(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() { f64::NAN } else { v[v.len() / 2] }
}

struct Row {
    name: String,
    value: f64,
    /// (at least?, bound), in the row's unit.
    bound: (bool, f64),
    percent: bool,
}

#[test]
fn false_alarm_and_detection_rates() {
    let [unchanged, runner, step, creep] = outcomes();
    let checks = check_outcomes();
    let part = |v: &[CheckOutcome], f: fn(&CheckOutcome) -> bool| v.iter().filter(|c| f(c)).count() as f64 / v.len() as f64;
    let rate = |name: &str, value, at_least, bound| Row { name: name.to_owned(), value, bound: (at_least, bound), percent: true };
    let hot: Vec<Outcome> = step.iter().copied().filter(|o| o.target_count >= HOT).collect();
    let lukewarm: Vec<Outcome> = step.iter().copied().filter(|o| o.target_count < HOT).collect();
    let caught_step: Vec<Outcome> = hot.iter().copied().filter(|o| o.caught).collect();
    let caught_creep: Vec<Outcome> = creep.iter().copied().filter(|o| o.caught).collect();
    let rows = [
        rate("unchanged: a slower change reported (full history)", share(&unchanged, |o| o.slower_any), false, 5.0),
        rate("unchanged: a slower change reported at some commit (run by run)", share(&unchanged, |o| o.slower_ever), false, 10.0),
        rate("one slow-runner run (×1.5): no change reported", share(&runner, |o| !o.change_any), true, 90.0),
        rate(
            &format!("×1.25 step, a handler of ≥ {HOT} executions a run ({} branches): found", hot.len()),
            share(&hot, |o| o.found),
            true,
            90.0,
        ),
        rate(&format!("×1.25 step, ≥ {HOT} executions a run: at the exact commit"), share(&hot, |o| o.exact), true, 70.0),
        rate(&format!("×1.25 step, ≥ {HOT} executions a run: within three runs after the change"), share(&hot, |o| o.within3), true, 80.0),
        rate(
            &format!("×1.25 step, a handler of {TARGET_MIN}–{HOT} executions a run ({} branches): found", lukewarm.len()),
            share(&lukewarm, |o| o.found),
            true,
            60.0,
        ),
        rate("×1.25 step, any changed handler: found", share(&step, |o| o.found), true, 80.0),
        rate("×1.25 step, any changed handler: at the exact commit", share(&step, |o| o.exact), true, 65.0),
        rate("×1.25 step, any changed handler: within three runs after the change", share(&step, |o| o.within3), true, 70.0),
        rate("×1.25 step: another handler reported slower", share(&step, |o| o.other_slower), false, 5.0),
        rate(&format!("×1.25 step, ≥ {HOT} executions a run, run by run: reported"), share(&hot, |o| o.caught), true, 90.0),
        Row {
            name: format!("×1.25 step, ≥ {HOT} executions a run, run by run: median runs after the change when first reported"),
            value: median_of(caught_step.iter().map(|o| o.delay as f64).collect()),
            bound: (false, 3.0),
            percent: false,
        },
        rate(
            &format!("×1.25 step, ≥ {HOT} executions a run, run by run: first report at the exact commit"),
            share(&hot, |o| o.caught && o.placed == 0),
            true,
            60.0,
        ),
        rate(
            &format!("×1.25 step, ≥ {HOT} executions a run, run by run: first report within one run of it"),
            share(&hot, |o| o.caught && o.placed.abs() <= 1),
            true,
            80.0,
        ),
        rate("4% creep, run by run: flagged", share(&creep, |o| o.caught), true, 80.0),
        Row {
            name: "4% creep, run by run: median cumulative factor when first flagged".into(),
            value: median_of(caught_creep.iter().map(|o| o.factor).collect()),
            bound: (false, 1.35),
            percent: false,
        },
        rate("4% creep: found in the full history", share(&creep, |o| o.found), true, 90.0),
        rate("4% creep: reported as a creep (full history)", share(&creep, |o| o.kind_right), true, 80.0),
        rate("×1.25 step: reported as a step (full history)", share(&step, |o| o.kind_right), true, 80.0),
        rate("×1.25 step: accepted level (the new one) within 5%", share(&step, |o| o.level_error.abs() <= 0.05), true, 80.0),
        rate("4% creep: accepted level (before the creep) within 5%", share(&creep, |o| o.level_error.abs() <= 0.05), true, 70.0),
        rate("4% creep: accepted level (before the creep) within 10%", share(&creep, |o| o.level_error.abs() <= 0.10), true, 85.0),
        rate("check with the history, unchanged run: failed", part(&checks, |c| c.unchanged_fails), false, 1.0),
        rate("check without it, unchanged run: failed", part(&checks, |c| c.unchanged_fails_plain), false, 2.0),
        rate("check with the history, every handler ×1.5: failed", part(&checks, |c| c.all_slower_fails), true, 80.0),
        rate("check without it, every handler ×1.5: failed", part(&checks, |c| c.all_slower_fails_plain), true, 60.0),
        rate("check with the history, one handler ×1.5 (40–80 executions): caught", part(&checks, |c| c.one_slower_caught), true, 60.0),
        rate("check without it, one handler ×1.5 (40–80 executions): caught", part(&checks, |c| c.one_slower_caught_plain), true, 60.0),
    ];
    let mut table = format!("| scenario ({BRANCHES} branches each) | perfgate trend | asserted |\n|---|---:|---:|\n");
    for r in &rows {
        let show = |v: f64| if r.percent { format!("{:.1}%", v * 100.0) } else { format!("{v:.2}") };
        let value = show(r.value);
        let bound = format!(
            "{} {}",
            if r.bound.0 { "≥" } else { "≤" },
            if r.percent { format!("{}%", r.bound.1) } else { format!("{}", r.bound.1) }
        );
        table.push_str(&format!("| {} | {value} | {bound} |\n", r.name));
    }
    println!("{table}");
    crate::gate::simulation::readme_table("trend-simulation", &table);
    for r in &rows {
        let v = if r.percent { r.value * 100.0 } else { r.value };
        let ok = if r.bound.0 { v >= r.bound.1 - 1e-9 } else { v <= r.bound.1 + 1e-9 };
        assert!(ok, "{}: {v} (bound {} {})", r.name, if r.bound.0 { "≥" } else { "≤" }, r.bound.1);
    }
}
