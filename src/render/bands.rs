//! Heat bands that fit the app (`bands = "auto"`): the brief's 3/5/7 ms are the documented
//! default for conductor logs, where a typical handler takes a few milliseconds; an app whose
//! handlers take a second would be all red under them. `auto` derives the bands from the app's
//! own averages, so that the colours rank its handlers against each other: the faster half very
//! fast (green), up to the slowest quarter fast (yellow), the next 15% medium (orange), the
//! slowest tenth slow (red).

use crate::config::{Bands, BandsSetting};
use crate::report::Report;

/// Fewest handlers with samples for `auto` to rank them; below, the default bands.
pub const AUTO_MIN_HANDLERS: usize = 4;

impl Bands {
    /// The bands of `averages` (one per handler, ms): the 50th, 75th and 90th percentiles
    /// (linear interpolation between closest ranks, as `stats`), each rounded to two
    /// significant digits so that the legend reads `>1400ms`, and strictly increasing. Fewer
    /// than [`AUTO_MIN_HANDLERS`] positive averages give [`Bands::default`].
    pub fn auto(averages: impl IntoIterator<Item = f64>) -> Bands {
        Bands::derived(averages).unwrap_or_default()
    }

    /// [`Bands::auto`], `None` where it falls back to the default.
    fn derived(averages: impl IntoIterator<Item = f64>) -> Option<Bands> {
        let mut v: Vec<f64> = averages.into_iter().filter(|x| x.is_finite() && *x > 0.0).collect();
        if v.len() < AUTO_MIN_HANDLERS {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let q = |p: f64| {
            let h = (v.len() - 1) as f64 * p;
            let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
            v[lo] + (v[hi] - v[lo]) * (h - lo as f64)
        };
        let fast_ms = two_digits(q(0.5));
        let medium_ms = above(two_digits(q(0.75)), fast_ms);
        let slow_ms = above(two_digits(q(0.9)), medium_ms);
        Some(Bands { slow_ms, medium_ms, fast_ms })
    }

    /// [`Bands::auto`] of a report's handlers' averages.
    pub fn auto_for(report: &Report) -> Bands {
        Bands::auto(averages(report))
    }
}

fn averages(report: &Report) -> impl Iterator<Item = f64> + '_ {
    report.handlers.iter().filter_map(|h| h.timing.map(|t| t.avg))
}

/// What a legend says of bands derived from the report (`auto`).
pub const DERIVED: &str = "bands = \"auto\": from this run's averages";

impl BandsSetting {
    /// The bands `report` is coloured by: the fixed ones, or those of its own averages.
    pub fn of(&self, report: &Report) -> Bands {
        match self {
            BandsSetting::Fixed(bands) => *bands,
            BandsSetting::Auto => Bands::auto_for(report),
        }
    }

    /// [`DERIVED`] when the bands of `report` are its own (`auto`, with enough handlers).
    pub fn note(&self, report: &Report) -> Option<&'static str> {
        (*self == BandsSetting::Auto && Bands::derived(averages(report)).is_some()).then_some(DERIVED)
    }
}

/// `x` rounded to two significant digits: 1347 → 1300, 3.04 → 3, 0.0456 → 0.046.
fn two_digits(x: f64) -> f64 {
    let scale = 10f64.powi(x.log10().floor() as i32 - 1);
    let r = (x / scale).round() * scale;
    // Print as the decimal it is (0.046, not 0.046000000000000006).
    format!("{r:.prec$}", prec = (1 - x.log10().floor() as i32).max(0) as usize).parse().unwrap_or(r)
}

/// `x`, or the next two-digit value above `floor` when `x` is not above it.
fn above(x: f64, floor: f64) -> f64 {
    if x > floor {
        return x;
    }
    let step = 10f64.powi(floor.log10().floor() as i32 - 1);
    two_digits(floor + step)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Heat;

    #[test]
    fn an_app_of_one_second_handlers_is_not_all_red() {
        let averages = [800.0, 900.0, 1000.0, 1100.0, 1200.0, 1500.0, 2000.0, 3000.0, 5000.0, 9000.0];
        let default = Bands::default();
        assert!(averages.iter().all(|a| Heat::of(Some(*a), &default) == Heat::Slow), "the brief's bands paint all red");
        let b = Bands::auto(averages);
        assert_eq!((b.fast_ms, b.medium_ms, b.slow_ms), (1400.0, 2800.0, 5400.0));
        let heat: Vec<Heat> = averages.iter().map(|a| Heat::of(Some(*a), &b)).collect();
        let n = |h: Heat| heat.iter().filter(|x| **x == h).count();
        assert_eq!((n(Heat::VeryFast), n(Heat::Fast), n(Heat::Medium), n(Heat::Slow)), (5, 2, 2, 1));
        assert_eq!(crate::render::legend(&b)[0], "🔴 Slow (>5400ms)");
    }

    #[test]
    fn conductor_like_durations_give_bands_near_the_briefs() {
        let b = Bands::auto([1.2, 1.9, 2.4, 2.8, 3.1, 3.3, 4.0, 4.9, 5.6, 6.2, 7.5, 12.0]);
        assert_eq!((b.fast_ms, b.medium_ms, b.slow_ms), (3.7, 5.8, 7.4));
    }

    #[test]
    fn a_legend_says_auto_only_of_bands_derived_from_the_report() {
        let report = |handlers: &[(&str, f64)]| {
            let m = crate::measure::testing::json_lines(&crate::measure::testing::lines(handlers));
            crate::report::build(&m, crate::config::SortKey::Avg)
        };
        let four = report(&[("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 40.0)]);
        assert_eq!(BandsSetting::Auto.note(&four), Some(DERIVED));
        assert_ne!(BandsSetting::Auto.of(&four), Bands::default());
        assert_eq!(BandsSetting::default().note(&four), None);
        // Too few to rank: the default bands, and nothing said of them.
        let three = report(&[("a", 1.0), ("b", 2.0), ("c", 3.0)]);
        assert_eq!((BandsSetting::Auto.of(&three), BandsSetting::Auto.note(&three)), (Bands::default(), None));
    }

    #[test]
    fn few_or_equal_averages() {
        assert_eq!(Bands::auto([100.0, 200.0, 300.0]), Bands::default());
        assert_eq!(Bands::auto([f64::NAN, 0.0, 1.0, 2.0, 3.0]), Bands::default());
        let b = Bands::auto([0.05; 6]);
        assert_eq!((b.fast_ms, b.medium_ms, b.slow_ms), (0.05, 0.051, 0.052));
        assert_eq!(two_digits(0.0456), 0.046);
        assert_eq!(two_digits(1347.0), 1300.0);
    }
}
