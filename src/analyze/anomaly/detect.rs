//! The anomaly detector on one daily series: what each day was expected to cost, from the 28 days
//! before it only (so a run finds a change on the day it lands, and one run over history finds what
//! daily runs would have), how unusual the actual cost was, and the runs of unusual days as events.
//!
//! Expected cost is a level times the day's weekday factor. The factor is the median, over the four
//! weeks before the day, of that weekday's ratio to its own week's mean; the level is the median of
//! the window's days with their weekday factor taken out. A spike inside the window moves neither
//! median, so a one-day spike is not learnt as a weekly season and does not hide the next one; a
//! level shift becomes the expectation once it fills half the window. The score is the day's relative change over the
//! robust spread (1.4826 × MAD) of the window's own relative residuals.

use chrono::{Datelike, NaiveDate};

/// Days of history each day's expectation is made from: four whole weeks.
pub const WINDOW: usize = 28;
/// Fewest days with cost in the window for a day to be judged.
const MIN_DAYS: usize = 14;
/// The smallest spread a score divides by (2%): a flat series does not make every cent unusual.
const MIN_SPREAD: f64 = 0.02;

/// When a day counts as anomalous: all three must hold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Robust z-score, either direction.
    pub score: f64,
    /// Relative change against expected (0.15 = 15%).
    pub change: f64,
    /// Absolute change, in the series' currency.
    pub amount: f64,
}

/// One judged day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Day {
    pub index: usize,
    pub expected: f64,
    pub actual: f64,
    pub score: f64,
    pub anomalous: bool,
}

impl Day {
    /// `actual / expected - 1` (infinite when nothing was expected and something came).
    pub fn change(&self) -> f64 {
        if self.expected > 0.0 {
            self.actual / self.expected - 1.0
        } else if self.actual > 0.0 {
            f64::INFINITY
        } else {
            0.0
        }
    }
}

/// What day `t` of `values` (whose day 0 is `start`) was expected to cost and the spread of the
/// window's residuals, from the [`WINDOW`] days before it; `None` with too little history.
pub fn expectation(values: &[f64], start: NaiveDate, t: usize) -> Option<(f64, f64)> {
    let weekday = |i: usize| {
        (start + chrono::Duration::days(i as i64))
            .weekday()
            .num_days_from_monday()
    };
    if t < WINDOW {
        return None;
    }
    let window = t - WINDOW..t;
    if values[window.clone()].iter().filter(|v| **v > 0.0).count() < MIN_DAYS {
        return None;
    }
    // Weekday factors from each of the window's four weeks on its own (a day against its week's
    // mean), so a level shift inside the window bends one week, not every weekday's median.
    let mut ratios: [Vec<f64>; 7] = Default::default();
    for week in window.clone().step_by(7) {
        let days = week..week + 7;
        let mean = values[days.clone()].iter().sum::<f64>() / 7.0;
        if mean > 0.0 {
            for i in days {
                ratios[weekday(i) as usize].push(values[i] / mean);
            }
        }
    }
    let mut factor = [1.0; 7];
    for (f, r) in factor.iter_mut().zip(ratios) {
        if !r.is_empty() {
            *f = median(r).max(1e-9);
        }
    }
    let norm = factor.iter().sum::<f64>() / 7.0;
    factor.iter_mut().for_each(|f| *f /= norm);
    let level = median(
        window
            .clone()
            .map(|i| values[i] / factor[weekday(i) as usize])
            .collect(),
    );
    if level <= 0.0 {
        return Some((0.0, MIN_SPREAD));
    }
    let residuals: Vec<f64> = window
        .clone()
        .map(|i| {
            let e = level * factor[weekday(i) as usize];
            if e > 0.0 { values[i] / e - 1.0 } else { 0.0 }
        })
        .collect();
    let center = median(residuals.clone());
    let mad = median(residuals.iter().map(|r| (r - center).abs()).collect());
    let spread = (1.4826 * mad).max(MIN_SPREAD);
    Some((level * factor[weekday(t) as usize], spread))
}

/// Judge every day from `from` (index into `values`, whose day 0 is `start`).
pub fn judge(values: &[f64], start: NaiveDate, from: usize, limits: &Thresholds) -> Vec<Day> {
    (from..values.len())
        .filter_map(|t| {
            let (expected, spread) = expectation(values, start, t)?;
            let actual = values[t];
            let mut day = Day {
                index: t,
                expected,
                actual,
                score: 0.0,
                anomalous: false,
            };
            let change = day.change();
            day.score = if change.is_finite() {
                change / spread
            } else {
                f64::INFINITY
            };
            day.anomalous = day.score.abs() >= limits.score
                && change.abs() >= limits.change
                && (actual - expected).abs() >= limits.amount;
            Some(day)
        })
        .collect()
}

/// A run of anomalous days in one direction (a gap of one normal day ends it).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub first: usize,
    pub last: usize,
    /// The day with the largest absolute score.
    pub peak: usize,
    pub spike: bool,
    pub expected: f64,
    pub actual: f64,
    pub score: f64,
}

impl Event {
    /// Actual minus expected over the event's days.
    pub fn impact(&self) -> f64 {
        self.actual - self.expected
    }
}

/// Group anomalous days into events.
pub fn events(days: &[Day]) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::new();
    for d in days.iter().filter(|d| d.anomalous) {
        let spike = d.actual > d.expected;
        match out.last_mut() {
            Some(e) if e.spike == spike && d.index == e.last + 1 => {
                e.last = d.index;
                e.expected += d.expected;
                e.actual += d.actual;
                if d.score.abs() > e.score.abs() {
                    e.score = d.score;
                    e.peak = d.index;
                }
            }
            _ => out.push(Event {
                first: d.index,
                last: d.index,
                peak: d.index,
                spike,
                expected: d.expected,
                actual: d.actual,
                score: d.score,
            }),
        }
    }
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Thresholds = Thresholds {
        score: 4.0,
        change: 0.15,
        amount: 1.0,
    };

    /// 70 days of a weekly pattern (weekends at 60%) with ±3% deterministic wobble.
    fn weekly() -> (NaiveDate, Vec<f64>) {
        // 2026-01-05 is a Monday.
        let start = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        let v = (0..70)
            .map(|i| {
                let base = if i % 7 >= 5 { 60.0 } else { 100.0 };
                base * (1.0 + 0.03 * ((i * 7919 % 13) as f64 / 6.0 - 1.0))
            })
            .collect();
        (start, v)
    }

    #[test]
    fn a_quiet_weekly_series_has_no_anomalies_even_on_weekends() {
        let (start, v) = weekly();
        let days = judge(&v, start, 0, &LIMITS);
        assert_eq!(days.len(), 70 - WINDOW);
        assert!(days.iter().all(|d| !d.anomalous), "{days:?}");
        // A Saturday is expected near 60, not near the weekly median.
        let sat = days.iter().find(|d| d.index == 40).unwrap();
        assert!((55.0..65.0).contains(&sat.expected), "{sat:?}");
    }

    #[test]
    fn a_one_day_spike_is_found_on_its_day_and_not_learnt_as_season() {
        let (start, mut v) = weekly();
        v[50] *= 1.4;
        v[57] *= 1.0; // same weekday a week later: unchanged
        let days = judge(&v, start, 0, &LIMITS);
        let flagged: Vec<usize> = days
            .iter()
            .filter(|d| d.anomalous)
            .map(|d| d.index)
            .collect();
        assert_eq!(flagged, vec![50]);
        let ev = events(&days);
        assert_eq!(ev.len(), 1);
        assert!(ev[0].spike && ev[0].impact() > 30.0, "{:?}", ev[0]);
    }

    #[test]
    fn a_level_shift_is_one_event_that_ends_when_the_new_level_is_normal() {
        let (start, mut v) = weekly();
        for x in v.iter_mut().skip(40) {
            *x *= 1.5;
        }
        let ev = events(&judge(&v, start, 0, &LIMITS));
        assert_eq!(ev.len(), 1, "{ev:?}");
        assert_eq!(ev[0].first, 40);
        assert!(
            ev[0].last < 69,
            "the new level becomes the expectation: {ev:?}"
        );
    }

    #[test]
    fn a_drop_to_zero_is_a_drop_and_small_changes_are_not_anomalies() {
        let (start, mut v) = weekly();
        v[45] = 0.0;
        v[60] *= 1.1;
        let ev = events(&judge(&v, start, 0, &LIMITS));
        assert_eq!(ev.len(), 1, "{ev:?}");
        assert!(!ev[0].spike && ev[0].first == 45);
    }

    #[test]
    fn too_little_history_is_not_judged() {
        let (start, v) = weekly();
        assert!(judge(&v[..WINDOW], start, 0, &LIMITS).is_empty());
        let mut sparse = v.clone();
        for x in sparse.iter_mut().take(60).skip(20) {
            *x = 0.0;
        }
        // Day 60's window has 8 days with cost: not enough to say what is normal.
        assert!(
            judge(&sparse, start, 60, &LIMITS)
                .iter()
                .all(|d| d.index != 60)
        );
    }
}
