//! Resource Graph and Monitor responses → rows of `resources` and `metrics`.
//!
//! Ids are lowercased (Azure ids are case-insensitive, and cost exports and Resource Graph disagree on
//! case), so rules can join `resources`, `metrics` and `costs` on `resource_id` directly.

use chrono::NaiveDate;
use polars::prelude::*;
use serde_json::Value;

use super::parse;
use crate::azure::resource_graph::{self, text};
use crate::lake::columns::epoch_days;
use crate::{Error, Result};

fn lower(v: Option<String>) -> Option<String> {
    v.map(|s| s.to_lowercase())
}

/// A Resource Graph response (`{"data": [...]}`) as one inventory snapshot taken on `snapshot`.
pub fn resources(
    bytes: &[u8],
    key: &str,
    snapshot: NaiveDate,
    aliases: &parse::TagAliases,
) -> Result<DataFrame> {
    let rows = resource_graph::rows(bytes).map_err(|message| Error::Data {
        file: key.into(),
        message,
    })?;
    let n = rows.len();
    let mut cols: Vec<(&str, Vec<Option<String>>)> = [
        "resource_id",
        "resource_name",
        "resource_type",
        "subscription_id",
        "resource_group",
        "region",
        "sku_name",
        "sku_tier",
        "kind",
        "tags",
        "power_state",
        "vm_size",
        "managed_by",
        "disk_state",
        "attached_to",
        "provisioning_state",
        "properties",
    ]
    .into_iter()
    .map(|c| (c, Vec::with_capacity(n)))
    .collect();
    let mut disk_size = Vec::with_capacity(n);
    let mut created = Vec::with_capacity(n);
    for r in &rows {
        let tags = r.get("tags").filter(|t| t.is_object()).map(|t| {
            parse::canonical_tags(&t.to_string(), aliases)
                .map(|(j, _)| j)
                .unwrap_or_else(|_| t.to_string())
        });
        let power = text(
            r,
            &[
                "properties",
                "extended",
                "instanceView",
                "powerState",
                "code",
            ],
        )
        .map(|c| c.trim_start_matches("PowerState/").to_lowercase());
        let attached = text(r, &["managedBy"])
            .or_else(|| text(r, &["properties", "ipConfiguration", "id"]))
            .or_else(|| text(r, &["properties", "natGateway", "id"]))
            .or_else(|| text(r, &["properties", "virtualMachine", "id"]))
            .or_else(|| text(r, &["properties", "privateEndpoint", "id"]));
        let values = [
            resource_graph::id(r),
            text(r, &["name"]),
            resource_graph::resource_type(r),
            resource_graph::subscription(r),
            lower(text(r, &["resourceGroup"])),
            resource_graph::region(r),
            text(r, &["sku", "name"]),
            text(r, &["sku", "tier"]),
            text(r, &["kind"]),
            tags,
            power,
            resource_graph::vm_size(r),
            lower(text(r, &["managedBy"])),
            text(r, &["properties", "diskState"]),
            lower(attached),
            text(r, &["properties", "provisioningState"]),
            r.get("properties").map(Value::to_string),
        ];
        for ((_, col), v) in cols.iter_mut().zip(values) {
            col.push(v);
        }
        disk_size.push(r.pointer("/properties/diskSizeGB").and_then(Value::as_f64));
        created.push(
            text(r, &["properties", "timeCreated"])
                .or_else(|| text(r, &["properties", "creationTime"]))
                .and_then(|t| parse::timestamp_micros(&t).ok()),
        );
    }
    let mut columns: Vec<Column> = cols
        .into_iter()
        .map(|(name, v)| Column::new(name.into(), v))
        .collect();
    columns.push(Column::new("disk_size_gb".into(), disk_size));
    columns.push(Column::new("created_time".into(), created));
    columns.push(Column::new(
        "snapshot_date".into(),
        vec![epoch_days(snapshot); n],
    ));
    Ok(DataFrame::new(n, columns)?)
}

/// A Monitor metrics response as one row per resource, metric and time: either `metrics:getBatch`
/// (`{"values": [{"resourceid", "value": [...]}]}`) or the single-resource API (`{"value": [...]}`,
/// the resource named in each metric's `id`).
pub fn metrics(bytes: &[u8], key: &str) -> Result<DataFrame> {
    let body: Value = serde_json::from_slice(bytes).map_err(|e| Error::Data {
        file: key.into(),
        message: format!("not a metrics response: {e}"),
    })?;
    let single;
    let values = match (body.get("values"), body.get("value")) {
        (Some(Value::Array(v)), _) => v,
        (None, Some(Value::Array(metrics))) => {
            let resource = metrics
                .iter()
                .filter_map(|m| m.get("id").and_then(Value::as_str))
                .find_map(|id| {
                    let lower = id.to_lowercase();
                    lower
                        .find("/providers/microsoft.insights/metrics/")
                        .map(|i| id[..i].to_string())
                });
            single = vec![serde_json::json!({ "resourceid": resource, "value": metrics })];
            &single
        }
        _ => {
            return Err(Error::Data {
                file: key.into(),
                message:
                    "no `values` (batch) or `value` (single resource) array in metrics response"
                        .into(),
            });
        }
    };
    let (mut id, mut name, mut unit, mut ts, mut date) = (vec![], vec![], vec![], vec![], vec![]);
    let (mut avg, mut min, mut max, mut total, mut count) =
        (vec![], vec![], vec![], vec![], vec![]);
    for v in values {
        let resource = lower(text(v, &["resourceid"]));
        for metric in v
            .get("value")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let metric_name = text(metric, &["name", "value"]);
            let metric_unit = text(metric, &["unit"]);
            let series = metric
                .get("timeseries")
                .and_then(Value::as_array)
                .into_iter()
                .flatten();
            for point in series.flat_map(|s| {
                s.get("data")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
            }) {
                let Some(t) =
                    text(point, &["timeStamp"]).and_then(|t| parse::timestamp_micros(&t).ok())
                else {
                    continue;
                };
                let value = |k: &str| point.get(k).and_then(Value::as_f64);
                let values = ["average", "minimum", "maximum", "total", "count"].map(value);
                // An hour Azure Monitor has not aggregated yet carries only its time: it is not
                // data (and not coverage); a later load reads it again.
                if values.iter().all(Option::is_none) {
                    continue;
                }
                let [a, mn, mx, tot, cnt] = values;
                id.push(resource.clone());
                name.push(metric_name.clone());
                unit.push(metric_unit.clone());
                ts.push(t);
                date.push((t.div_euclid(86_400_000_000)) as i32);
                avg.push(a);
                min.push(mn);
                max.push(mx);
                total.push(tot);
                count.push(cnt);
            }
        }
    }
    let n = ts.len();
    Ok(DataFrame::new(
        n,
        vec![
            Column::new("resource_id".into(), id),
            Column::new("metric_name".into(), name),
            Column::new("unit".into(), unit),
            Column::new("timestamp".into(), ts),
            Column::new("average".into(), avg),
            Column::new("minimum".into(), min),
            Column::new("maximum".into(), max),
            Column::new("total".into(), total),
            Column::new("count".into(), count),
            Column::new("date".into(), date),
        ],
    )?)
}

/// An Advisor recommendations page (`{"value": [...]}`) read for `subscription` on `snapshot`.
pub fn advisor(
    bytes: &[u8],
    key: &str,
    subscription: &str,
    snapshot: NaiveDate,
) -> Result<DataFrame> {
    let body: Value = serde_json::from_slice(bytes).map_err(|e| Error::Data {
        file: key.into(),
        message: format!("not an Advisor response: {e}"),
    })?;
    let rows = body
        .get("value")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::Data {
            file: key.into(),
            message: "no `value` array in Advisor response".into(),
        })?;
    let n = rows.len();
    let names = [
        "recommendation_id",
        "resource_id",
        "category",
        "impact",
        "impacted_field",
        "impacted_value",
        "problem",
        "solution",
        "recommendation_type_id",
        "savings_currency",
        "properties",
    ];
    let mut cols: Vec<Vec<Option<String>>> = vec![Vec::with_capacity(n); names.len()];
    let (mut savings, mut updated) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for r in rows {
        let p = |path: &[&str]| {
            let mut full = vec!["properties"];
            full.extend_from_slice(path);
            text(r, &full)
        };
        // Older payloads name the resource only in the recommendation's own id.
        let resource = p(&["resourceMetadata", "resourceId"]).or_else(|| {
            text(r, &["id"]).and_then(|id| {
                id.to_lowercase()
                    .find("/providers/microsoft.advisor/recommendations/")
                    .map(|i| id[..i].to_string())
            })
        });
        let values = [
            text(r, &["name"]),
            lower(resource),
            p(&["category"]),
            p(&["impact"]),
            p(&["impactedField"]),
            p(&["impactedValue"]),
            p(&["shortDescription", "problem"]),
            p(&["shortDescription", "solution"]),
            p(&["recommendationTypeId"]),
            p(&["extendedProperties", "savingsCurrency"]),
            r.get("properties").map(Value::to_string),
        ];
        for (col, v) in cols.iter_mut().zip(values) {
            col.push(v);
        }
        savings.push(
            p(&["extendedProperties", "annualSavingsAmount"]).and_then(|s| parse::number(&s).ok()),
        );
        updated.push(p(&["lastUpdated"]).and_then(|t| parse::timestamp_micros(&t).ok()));
    }
    let mut columns: Vec<Column> = names
        .iter()
        .zip(cols)
        .map(|(name, v)| Column::new((*name).into(), v))
        .collect();
    columns.push(Column::new(
        "subscription_id".into(),
        vec![subscription.to_lowercase(); n],
    ));
    columns.push(Column::new("annual_savings".into(), savings));
    columns.push(Column::new("last_updated".into(), updated));
    columns.push(Column::new(
        "snapshot_date".into(),
        vec![epoch_days(snapshot); n],
    ));
    Ok(DataFrame::new(n, columns)?)
}
