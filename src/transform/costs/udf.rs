//! Per-value functions the cost plan hands polars: text cleaning, lowercasing, timestamps and tags.

use polars::prelude::*;

use crate::transform::parse;

/// Text with surrounding spaces trimmed and empty or `NULL` text as NULL ([`parse::present`]).
/// A column that needs none of that (the usual case) is passed on as it is, without a copy.
pub(super) fn clean_text_udf(text: Expr) -> Expr {
    text.map(
        |c: Column| {
            let strings = c.str()?;
            let untidy = |s: &str| {
                s.is_empty()
                    || s.starts_with(char::is_whitespace)
                    || s.ends_with(char::is_whitespace)
                    || s.eq_ignore_ascii_case("null")
            };
            if !strings.iter().flatten().any(untidy) {
                return Ok(c);
            }
            let values: StringChunked = strings.iter().map(|v| parse::present(v)).collect();
            Ok(values.with_name(c.name().clone()).into_column())
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::String)),
    )
}

/// Azure ids lowercased (Azure ids are case-insensitive: ARM ids, which start with `/`, and with
/// `all` every value, for Azure-only columns); other providers' ids, such as AWS ARNs, are
/// case-sensitive and kept as written. A column with nothing to change is passed on without a copy.
pub(super) fn lowercase_udf(text: Expr, all: bool) -> Expr {
    let changes = move |s: &str| (all || s.starts_with('/')) && s.chars().any(char::is_uppercase);
    text.map(
        move |c: Column| {
            let strings = c.str()?;
            if !strings.iter().flatten().any(changes) {
                return Ok(c);
            }
            let values: StringChunked = strings
                .iter()
                .map(|v| {
                    v.map(|s| {
                        if changes(s) {
                            s.to_lowercase()
                        } else {
                            s.to_string()
                        }
                    })
                })
                .collect();
            Ok(values.with_name(c.name().clone()).into_column())
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::String)),
    )
}

/// Text → microseconds since the epoch, with [`parse::timestamp_micros`]'s formats. Runs of equal
/// values (a day's rows share their dates) are parsed once.
pub(super) fn micros_udf(text: Expr, order: parse::DateOrder) -> Expr {
    text.map(
        move |c: Column| {
            let strings = c.str()?;
            let mut last: Option<(&str, Option<i64>)> = None;
            let values: Int64Chunked = strings
                .iter()
                .map(|v| {
                    let s = v?;
                    match last {
                        Some((prev, parsed)) if prev == s => parsed,
                        _ => {
                            let parsed = parse::timestamp_micros_in(s, order).ok();
                            last = Some((s, parsed));
                            parsed
                        }
                    }
                })
                .collect();
            Ok(values.with_name(c.name().clone()).into_column())
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::Int64)),
    )
}

/// Tags text → canonical JSON ([`parse::canonical_tags`] with `aliases`), NULL where the text is
/// not JSON.
pub(super) fn tags_udf(text: Expr, aliases: parse::TagAliases) -> Expr {
    text.map(
        move |c: Column| {
            let strings = c.str()?;
            let values: StringChunked = strings
                .iter()
                .map(|v| {
                    v.and_then(|s| {
                        parse::canonical_tags(s, &aliases)
                            .ok()
                            .map(|(json, _)| json)
                    })
                })
                .collect();
            Ok(values.with_name(c.name().clone()).into_column())
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::String)),
    )
}
