//! JSON pages from Azure APIs that carry cost or price rows — a Cost Management Query response
//! (`properties.columns` + `properties.rows`) and a Retail Prices page (`Items`) — as a table of
//! text columns named as in an actual-cost export or a price sheet. The cost transform then reads
//! them exactly as it reads those files, with the same derivations, checks and quarantine.

use polars::prelude::*;
use serde_json::Value;

use crate::{Error, Result};

/// Query API column → actual-cost export column.
const QUERY_COLUMNS: &[(&str, &str)] = &[
    ("Cost", "CostInBillingCurrency"),
    ("PreTaxCost", "CostInBillingCurrency"),
    ("CostUSD", "CostInUsd"),
    ("PreTaxCostUSD", "CostInUsd"),
    ("Currency", "BillingCurrencyCode"),
    ("ResourceGroupName", "ResourceGroup"),
    ("MeterSubcategory", "MeterSubCategory"),
    ("Meter", "MeterName"),
];

/// Retail Prices item field → price sheet column.
const RETAIL_COLUMNS: &[(&str, &str)] = &[
    ("meterId", "MeterId"),
    ("meterName", "MeterName"),
    ("serviceName", "MeterCategory"),
    ("productName", "Product"),
    ("serviceFamily", "ServiceFamily"),
    ("skuId", "SkuId"),
    ("productId", "ProductId"),
    ("armRegionName", "MeterRegion"),
    ("armSkuName", "ArmSkuName"),
    ("unitOfMeasure", "UnitOfMeasure"),
    ("effectiveStartDate", "EffectiveStartDate"),
    ("effectiveEndDate", "EffectiveEndDate"),
    ("unitPrice", "UnitPrice"),
    ("retailPrice", "MarketPrice"),
    ("currencyCode", "CurrencyCode"),
    ("tierMinimumUnits", "TierMinimumUnits"),
    ("type", "PriceType"),
    ("reservationTerm", "Term"),
];

/// True when `head` (a file's first bytes) starts a JSON object.
pub fn looks_like_json(head: &[u8]) -> bool {
    head.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{')
}

/// The rows of a Query or Retail Prices page as text columns; `key` names the file in errors.
pub fn frame(bytes: &[u8], key: &str) -> Result<DataFrame> {
    let body: Value = serde_json::from_slice(bytes).map_err(|e| Error::Data {
        file: key.into(),
        message: format!("not JSON: {e}"),
    })?;
    let (headers, rows) = if body.pointer("/properties/columns").is_some() {
        query_rows(&body)
    } else if let Some(items) = body.get("Items").and_then(Value::as_array) {
        retail_rows(items)
    } else {
        return Err(Error::Data {
            file: key.into(),
            message: "neither a Cost Management query response (properties.columns, \
                      properties.rows) nor a Retail Prices page (Items)"
                .into(),
        });
    };
    let n = rows.len();
    let columns = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let values: Vec<Option<String>> = rows.iter().map(|r| r[i].clone()).collect();
            Column::new(h.as_str().into(), values)
        })
        .collect();
    Ok(DataFrame::new(n, columns)?)
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

type Rows = (Vec<String>, Vec<Vec<Option<String>>>);

fn query_rows(body: &Value) -> Rows {
    let names: Vec<&str> = body
        .pointer("/properties/columns")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| c["name"].as_str().unwrap_or(""))
        .collect();
    let has = |n: &str| names.contains(&n);
    let tag = names
        .iter()
        .position(|n| *n == "TagKey")
        .zip(names.iter().position(|n| *n == "TagValue"));
    // Output columns: each input column renamed, dates as ISO text, the tag pair as `Tags`.
    let mut headers = Vec::new();
    let mut sources = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let renamed = match *name {
            "UsageDate" => "Date",
            "TagKey" | "TagValue" => continue,
            // Cost Management's service name is the meter category; keep one of the two.
            "ServiceName" if has("MeterCategory") => continue,
            "ServiceName" => "MeterCategory",
            other => QUERY_COLUMNS
                .iter()
                .find(|(from, _)| *from == other)
                .map_or(other, |(_, to)| *to),
        };
        headers.push(renamed.to_string());
        sources.push(i);
    }
    let date = names.iter().position(|n| *n == "UsageDate");
    if date.is_some() {
        headers.push("BillingPeriodStartDate".into());
        headers.push("BillingPeriodEndDate".into());
    }
    if tag.is_some() {
        headers.push("Tags".into());
    }
    // Grouped by resource (the Query API takes two groupings), the subscription and resource group
    // are read from the resource id.
    let resource = names.iter().position(|n| *n == "ResourceId");
    let derive_sub = resource.is_some() && !has("SubscriptionId");
    let derive_rg = resource.is_some() && !has("ResourceGroupName");
    if derive_sub {
        headers.push("SubscriptionId".into());
    }
    if derive_rg {
        headers.push("ResourceGroup".into());
    }
    let rows = body
        .pointer("/properties/rows")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|row| {
            let cell = |i: usize| row.get(i).and_then(text);
            let mut out: Vec<Option<String>> = sources
                .iter()
                .map(|&i| {
                    if Some(i) == date {
                        cell(i).map(|d| iso_date(&d))
                    } else {
                        cell(i)
                    }
                })
                .collect();
            if let Some(d) = date {
                let (first, last) = cell(d).and_then(|d| month_bounds(&iso_date(&d))).unzip();
                out.push(first);
                out.push(last);
            }
            if let Some((k, v)) = tag {
                let tags = cell(k)
                    .filter(|k| !k.is_empty())
                    .map(|k| serde_json::json!({ k: cell(v).unwrap_or_default() }).to_string());
                out.push(tags);
            }
            let id = resource.and_then(cell);
            if derive_sub {
                out.push(id.as_deref().and_then(|id| id_segment(id, "subscriptions")));
            }
            if derive_rg {
                out.push(
                    id.as_deref()
                        .and_then(|id| id_segment(id, "resourcegroups")),
                );
            }
            out
        })
        .collect();
    (headers, rows)
}

/// The segment after `name` in a resource id (`/subscriptions/{this}/resourceGroups/{that}/…`).
fn id_segment(id: &str, name: &str) -> Option<String> {
    let mut parts = id.split('/');
    parts.find(|p| p.eq_ignore_ascii_case(name))?;
    parts.next().filter(|p| !p.is_empty()).map(str::to_string)
}

/// `20261005` (the Query API's `UsageDate`) → `2026-10-05`; anything else as it is.
fn iso_date(raw: &str) -> String {
    let d = raw.trim();
    if d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..])
    } else {
        d.to_string()
    }
}

/// First and last day of the calendar month of an ISO date (the Query API has no billing period;
/// for subscription scopes it is the calendar month).
fn month_bounds(iso: &str) -> Option<(String, String)> {
    use chrono::{Datelike, Duration, Months, NaiveDate};
    let d = NaiveDate::parse_from_str(iso.get(..10)?, "%Y-%m-%d").ok()?;
    let first = d.with_day(1)?;
    let last = first.checked_add_months(Months::new(1))? - Duration::days(1);
    Some((first.to_string(), last.to_string()))
}

fn retail_rows(items: &[Value]) -> Rows {
    let headers = RETAIL_COLUMNS
        .iter()
        .map(|(_, to)| to.to_string())
        .collect();
    let rows = items
        .iter()
        .map(|item| {
            RETAIL_COLUMNS
                .iter()
                .map(|(from, _)| item.get(*from).and_then(text))
                .collect()
        })
        .collect();
    (headers, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_rows_read_as_an_actual_cost_export() {
        let page = br#"{"properties":{"nextLink":null,
            "columns":[{"name":"Cost","type":"Number"},{"name":"UsageDate","type":"Number"},
                       {"name":"ServiceName","type":"String"},{"name":"TagKey","type":"String"},
                       {"name":"TagValue","type":"String"},{"name":"Currency","type":"String"}],
            "rows":[[1.5,20261005,"Storage","env","prod","EUR"],[0.25,20261031,"Bandwidth","",null,"EUR"]]}}"#;
        let f = frame(page, "p.json").unwrap();
        let names: Vec<&str> = f.get_column_names().iter().map(|n| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "CostInBillingCurrency",
                "Date",
                "MeterCategory",
                "BillingCurrencyCode",
                "BillingPeriodStartDate",
                "BillingPeriodEndDate",
                "Tags"
            ]
        );
        let col = |n: &str| f.column(n).unwrap().str().unwrap().clone();
        assert_eq!(col("Date").get(0), Some("2026-10-05"));
        assert_eq!(col("BillingPeriodEndDate").get(1), Some("2026-10-31"));
        assert_eq!(col("Tags").get(0), Some(r#"{"env":"prod"}"#));
        assert_eq!(col("Tags").get(1), None);
        assert_eq!(col("CostInBillingCurrency").get(1), Some("0.25"));
    }

    #[test]
    fn other_json_is_refused_by_name() {
        let e = frame(br#"{"value":[]}"#, "x.json").unwrap_err().to_string();
        assert!(e.starts_with("x.json: neither"), "{e}");
        assert!(looks_like_json(b"  {\"a\":1}"));
        assert!(!looks_like_json(b"PAR1"));
    }
}
