//! When a pipeline runs on its own: a cron expression with a seconds field (`sec min hour dom month
//! dow`, as the scheduler reads it) in the pipeline's time zone. Both are checked when the pipeline
//! file is read, so a schedule that could never fire is an error at load time, not at 6 a.m.

use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

/// A checked cron expression.
#[derive(Clone)]
pub struct Schedule {
    expression: String,
    cron: Cron,
}

impl Schedule {
    pub fn parse(expression: &str) -> Result<Schedule, String> {
        let cron = CronParser::builder()
            .seconds(Seconds::Required)
            .build()
            .parse(expression)
            .map_err(|e| {
                format!(
                    "schedule `{expression}` is not a cron expression with seconds \
                     (`sec min hour day-of-month month day-of-week`, e.g. `0 0 6 * * *`): {e}"
                )
            })?;
        Ok(Schedule {
            expression: expression.to_string(),
            cron,
        })
    }

    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The first time after `after` this schedule fires, in `zone` (whole seconds).
    pub fn next_after(&self, after: DateTime<Utc>, zone: Tz) -> Option<DateTime<Tz>> {
        let after = after.with_nanosecond(0).unwrap_or(after);
        self.cron
            .find_next_occurrence(&after.with_timezone(&zone), false)
            .ok()
    }
}

impl Schedule {
    /// The last time before `before` this schedule fired, in `zone`.
    pub fn previous_before(&self, before: DateTime<Utc>, zone: Tz) -> Option<DateTime<Tz>> {
        self.cron
            .find_previous_occurrence(&before.with_timezone(&zone), false)
            .ok()
    }
}

impl std::fmt::Debug for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Schedule({:?})", self.expression)
    }
}

impl<'de> Deserialize<'de> for Schedule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Schedule::parse(&text).map_err(D::Error::custom)
    }
}

/// `timezone = "Europe/Berlin"`: an IANA time zone name.
pub fn time_zone<'de, D: Deserializer<'de>>(d: D) -> Result<Tz, D::Error> {
    let name = String::deserialize(d)?;
    name.parse::<Tz>().map_err(|_| {
        D::Error::custom(format!(
            "timezone `{name}` is not an IANA time zone name (e.g. `UTC`, `Europe/Berlin`, `America/New_York`)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_every_morning_in_berlin_is_five_utc_in_winter() {
        let s = Schedule::parse("0 0 6 * * *").unwrap();
        let after = DateTime::parse_from_rfc3339("2026-12-02T07:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let next = s.next_after(after, chrono_tz::Europe::Berlin).unwrap();
        assert_eq!(
            next.with_timezone(&Utc).to_rfc3339(),
            "2026-12-03T05:00:00+00:00"
        );
    }

    #[test]
    fn nonsense_and_five_field_expressions_are_refused() {
        for bad in ["every full moon", "0 6 * * *", "0 0 25 * * *", ""] {
            let e = Schedule::parse(bad).unwrap_err();
            assert!(e.contains("cron"), "{bad}: {e}");
        }
    }
}
