//! Reading the values real cost files contain: `NULL` as text, ISO and US dates, scientific
//! notation, tags as JSON with or without the outer braces and with untidy keys.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime};

/// `None` for an absent value: empty, blank, or the text `NULL`/`null`.
pub fn present(raw: Option<&str>) -> Option<&str> {
    let v = raw?.trim();
    if v.is_empty() || v.eq_ignore_ascii_case("null") {
        None
    } else {
        Some(v)
    }
}

/// A number, including scientific notation (`1.5E-3`). `Err` names what could not be read.
pub fn number(raw: &str) -> Result<f64, String> {
    raw.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("cannot read {raw:?} as a number"))
}

/// The earliest year a cost, price or inventory date can have: anything before is a misread
/// (`9/2/23` is year 23, not 2023), never a value to store.
const EARLIEST_YEAR: i32 = 2000;

/// How `a/b/yyyy` dates of one file are read; decided per file from its values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DateOrder {
    /// `05/01/2026` is May 1 (Azure's legacy exports).
    #[default]
    MonthFirst,
    /// `05/01/2026` is 5 January.
    DayFirst,
}

/// An instant as microseconds since the Unix epoch, UTC. Accepts RFC 3339 (`2026-01-05T00:00:00Z`,
/// with fractions or an offset), a bare ISO date or date-time, and US dates (`01/05/2026`). A date
/// before 2000 (a two-digit year read as year 23) is refused, not guessed.
pub fn timestamp_micros(raw: &str) -> Result<i64, String> {
    timestamp_micros_in(raw, DateOrder::MonthFirst)
}

/// [`timestamp_micros`] with slashed dates read in `order`.
pub fn timestamp_micros_in(raw: &str, order: DateOrder) -> Result<i64, String> {
    let micros = any_timestamp_micros(raw, order)?;
    let year = DateTime::from_timestamp_micros(micros).map_or(0, |t| t.year());
    if year < EARLIEST_YEAR {
        return Err(format!(
            "{raw:?} is a date in year {year}, before {EARLIEST_YEAR} (a two-digit year? dates need four)"
        ));
    }
    Ok(micros)
}

fn any_timestamp_micros(raw: &str, order: DateOrder) -> Result<i64, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.timestamp_micros());
    }
    let (date_time, date_time_12h, date) = match order {
        DateOrder::MonthFirst => ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y"),
        DateOrder::DayFirst => ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %I:%M:%S %p", "%d/%m/%Y"),
    };
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        date_time,
        date_time_12h,
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(raw, fmt) {
            return Ok(t.and_utc().timestamp_micros());
        }
    }
    for fmt in ["%Y-%m-%d", date] {
        if let Ok(d) = NaiveDate::parse_from_str(raw, fmt) {
            return Ok(d
                .and_hms_opt(0, 0, 0)
                .expect("midnight exists")
                .and_utc()
                .timestamp_micros());
        }
    }
    Err(format!("cannot read {raw:?} as a date or time"))
}

pub fn boolean(raw: &str) -> Result<bool, String> {
    match raw.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(format!("cannot read {raw:?} as true/false")),
    }
}

/// Tag keys read as another key (`environment` → `env`), lowercase on both sides.
pub type TagAliases = std::collections::BTreeMap<String, String>;

/// Tags as a canonical JSON object: keys trimmed, lowercased and put through `aliases`, sorted.
/// When two keys of the row land on one key with different values, neither is dropped: the key
/// already in canonical form (else the first in byte order) takes the canonical key and the other
/// keeps its own key as written (trimmed), so both values stay visible. Returns `(json, changed)`;
/// `Err` if not JSON.
pub fn canonical_tags(raw: &str, aliases: &TagAliases) -> Result<(String, bool), String> {
    let text = raw.trim();
    let wrapped;
    let text = if text.starts_with('{') {
        text
    } else {
        wrapped = format!("{{{text}}}");
        &wrapped
    };
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("cannot read tags as JSON ({e})"))?;
    let serde_json::Value::Object(map) = value else {
        return Err("tags are not a JSON object".into());
    };
    // (original key, value) per canonical key, canonical-form keys first.
    let mut claims: std::collections::BTreeMap<String, Vec<(String, String)>> = Default::default();
    for (k, v) in map {
        let v = match v {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        let lower = k.trim().to_lowercase();
        let canonical = aliases.get(&lower).cloned().unwrap_or(lower);
        claims.entry(canonical).or_default().push((k, v));
    }
    let mut out = std::collections::BTreeMap::new();
    for (canonical, mut keys) in claims {
        keys.sort_by_key(|(k, _)| *k != canonical);
        let (_, value) = keys[0].clone();
        for (k, v) in &keys[1..] {
            if *v != value {
                out.insert(k.trim().to_string(), v.clone());
            }
        }
        out.insert(canonical, value);
    }
    let json = serde_json::to_string(&out).expect("string maps serialize");
    let changed = json != raw.trim();
    Ok((json, changed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_digit_years_are_refused_not_read_as_year_23() {
        for raw in ["9/2/23", "09/02/0023", "0023-09-02", "1999-12-31T23:59:59Z"] {
            let e = timestamp_micros(raw).unwrap_err();
            assert!(e.contains("before 2000"), "{raw}: {e}");
        }
        assert_eq!(
            timestamp_micros("9/2/2023").unwrap(),
            timestamp_micros("2023-09-02").unwrap()
        );
        assert!(timestamp_micros("2000-01-01").is_ok());
    }

    #[test]
    fn reads_what_real_files_contain() {
        assert_eq!(present(Some(" NULL ")), None);
        assert_eq!(number("1.5E-3").unwrap(), 0.0015);
        assert!(number("12,5").is_err());
        let iso = timestamp_micros("2026-01-05T00:00:00Z").unwrap();
        assert_eq!(timestamp_micros("2026-01-05").unwrap(), iso);
        assert_eq!(timestamp_micros("01/05/2026").unwrap(), iso);
        assert_eq!(
            timestamp_micros("2026-01-05T00:00:00.0000000Z").unwrap(),
            iso
        );
        assert!(timestamp_micros("yesterday").is_err());
    }

    #[test]
    fn tags_are_canonical() {
        let none = TagAliases::new();
        let (json, changed) =
            canonical_tags(r#""Env":"prod"," env ":"prod","CostCenter":"1""#, &none).unwrap();
        assert_eq!(json, r#"{"costcenter":"1","env":"prod"}"#);
        assert!(changed);
        // Different values under one key: both stay, the canonical key's value under it.
        let (json, _) =
            canonical_tags(r#"{"Env":"prod","env":"test"," ENV":"dev"}"#, &none).unwrap();
        assert_eq!(json, r#"{"ENV":"dev","Env":"prod","env":"test"}"#);
        assert_eq!(
            canonical_tags(r#"{"a":"1"}"#, &none).unwrap(),
            (r#"{"a":"1"}"#.to_string(), false)
        );
        assert!(canonical_tags("not json", &none).is_err());
        // Aliases bring other spellings to the chosen key.
        let aliases: TagAliases = [("environment".to_string(), "env".to_string())].into();
        let (json, _) = canonical_tags(r#"{"Environment":"prod"}"#, &aliases).unwrap();
        assert_eq!(json, r#"{"env":"prod"}"#);
        let (json, _) = canonical_tags(r#"{"Environment":"prod","env":"dev"}"#, &aliases).unwrap();
        assert_eq!(json, r#"{"Environment":"prod","env":"dev"}"#);
    }
}
