//! The `data_quality` table: per ingested cost file, rows read, written and quarantined, the
//! columns nothing took, and checks that keep a row but deserve a look (prices out of order,
//! usage without a quantity, currencies that are not ISO 4217 codes, values outside the sets FOCUS
//! 1.2 allows).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use datafusion::prelude::SessionContext;

use super::costs::{REASON, Staged};
use super::sql_list;
use crate::lake::columns::{numbers, strings};
use crate::lake::{Lake, WriteMode, schema};
use crate::{Error, Result};

/// One landed cost file and what staging made of it (`None`: the file was empty).
pub struct StagedFile {
    pub key: String,
    pub owner: String,
    pub staged: Option<Staged>,
}

/// Active ISO 4217 currency codes.
const CURRENCIES: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ",
    "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD",
    "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR",
    "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB",
    "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS",
    "VES", "VND", "VUV", "WST", "XAF", "XCD", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWL",
];

/// FOCUS 1.2 columns whose values come from a set, and the set (NULL is allowed where FOCUS allows
/// it; it is not checked here).
pub const ALLOWED_VALUES: &[(&str, &[&str])] = &[
    (
        "ChargeCategory",
        &["Usage", "Purchase", "Tax", "Credit", "Adjustment"],
    ),
    ("ChargeClass", &["Correction"]),
    ("ChargeFrequency", &["One-Time", "Recurring", "Usage-Based"]),
    ("CommitmentDiscountCategory", &["Spend", "Usage"]),
    ("CommitmentDiscountStatus", &["Used", "Unused"]),
    ("CapacityReservationStatus", &["Used", "Unused"]),
    (
        "PricingCategory",
        &["Standard", "Dynamic", "Committed", "Other"],
    ),
    (
        "ServiceCategory",
        &[
            "AI and Machine Learning",
            "Analytics",
            "Business Applications",
            "Compute",
            "Databases",
            "Developer Tools",
            "Identity",
            "Integration",
            "Internet of Things",
            "Management and Governance",
            "Media",
            "Migration",
            "Mobile",
            "Multicloud",
            "Networking",
            "Other",
            "Security",
            "Storage",
            "Web",
        ],
    ),
];

/// Per file, the values outside FOCUS's allowed sets: `ChargeFrequency 'Usage-based' ×12; …`, and
/// how many values that is.
async fn disallowed(
    ctx: &SessionContext,
) -> Result<std::collections::HashMap<String, (String, i64)>> {
    let parts: Vec<String> = ALLOWED_VALUES
        .iter()
        .map(|(column, allowed)| {
            format!(
                "SELECT \"x_SourceFile\" AS f, '{column}' AS c, CAST(\"{column}\" AS VARCHAR) AS v \
                 FROM staged_costs WHERE {REASON} IS NULL AND \"{column}\" IS NOT NULL \
                 AND \"{column}\" NOT IN ({})",
                sql_list(allowed.iter().copied())
            )
        })
        .collect();
    let sql = format!(
        "SELECT f, c, v, COUNT(*) FROM ({}) GROUP BY f, c, v ORDER BY f, c, v",
        parts.join(" UNION ALL ")
    );
    let batches = ctx.sql(&sql).await?.collect().await?;
    let (files, columns, values, counts) = (
        strings(&batches, 0)?,
        strings(&batches, 1)?,
        strings(&batches, 2)?,
        numbers(&batches, 3)?,
    );
    let mut out: std::collections::HashMap<String, (String, i64)> = Default::default();
    for i in 0..files.len() {
        let entry = out.entry(files[i].clone()).or_default();
        if !entry.0.is_empty() {
            entry.0.push_str("; ");
        }
        entry.0.push_str(&format!(
            "{} {:?} ×{}",
            columns[i], values[i], counts[i] as i64
        ));
        entry.1 += counts[i] as i64;
    }
    Ok(out)
}

/// Compute and commit this run's quality rows for `files`, replacing earlier rows for them.
/// `ctx` has each table's staged rows registered as `staged_<table>`.
pub async fn record(
    lake: &Lake,
    ctx: &SessionContext,
    run_id: &str,
    tables: &[&str],
    files: &[StagedFile],
) -> Result<()> {
    let mut counts: std::collections::HashMap<String, Vec<f64>> = Default::default();
    for table in tables {
        // The checks apply to cost rows; price sheets get their row counts.
        let check = |condition: &str| {
            if *table == "costs" {
                format!("SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)")
            } else {
                "0".to_string()
            }
        };
        let usage = format!("{REASON} IS NULL AND \"ChargeCategory\" = 'Usage'");
        let sql = format!(
            "SELECT \"x_SourceFile\", COUNT(*), \
             SUM(CASE WHEN {REASON} IS NULL THEN 1 ELSE 0 END), \
             SUM(CASE WHEN {REASON} IS NOT NULL THEN 1 ELSE 0 END), \
             {} AS list_below_contracted, {} AS contracted_below_effective, \
             {} AS usage_without_quantity, {} AS unknown_currency \
             FROM staged_{table} GROUP BY 1",
            check(&format!(
                "{usage} AND \"ListCost\" < \"ContractedCost\" - 0.000001"
            )),
            check(&format!(
                "{usage} AND \"ContractedCost\" < \"EffectiveCost\" - 0.000001"
            )),
            check(&format!("{usage} AND \"ConsumedQuantity\" IS NULL")),
            check(&format!(
                "{REASON} IS NULL AND \"BillingCurrency\" IS NOT NULL \
                 AND upper(\"BillingCurrency\") NOT IN ({})",
                sql_list(CURRENCIES.iter().copied())
            )),
        );
        let batches = ctx.sql(&sql).await?.collect().await?;
        let keys = strings(&batches, 0)?;
        let columns = (1..8)
            .map(|i| numbers(&batches, i))
            .collect::<Result<Vec<_>>>()?;
        for (row, key) in keys.into_iter().enumerate() {
            counts.insert(key, columns.iter().map(|c| c[row]).collect());
        }
    }

    let not_allowed = if tables.contains(&"costs") {
        disallowed(ctx).await?
    } else {
        Default::default()
    };
    let def = schema::data_quality();
    let text = |f: &dyn Fn(&StagedFile) -> String| -> ArrayRef {
        Arc::new(StringArray::from(files.iter().map(f).collect::<Vec<_>>()))
    };
    let number = |i: usize| -> ArrayRef {
        Arc::new(Int64Array::from(
            files
                .iter()
                .map(|f| counts.get(&f.key).map(|c| c[i] as i64).unwrap_or(0))
                .collect::<Vec<_>>(),
        ))
    };
    let batch = RecordBatch::try_new(
        def.schema.clone(),
        vec![
            text(&|_| run_id.to_string()),
            text(&|f| f.key.clone()),
            text(&|f| f.owner.clone()),
            text(&|f| {
                f.staged
                    .as_ref()
                    .map(|s| s.dataset.clone())
                    .unwrap_or_else(|| "empty file".into())
            }),
            text(&|f| {
                f.staged
                    .as_ref()
                    .map(|s| s.format.label().to_string())
                    .unwrap_or_default()
            }),
            number(0),
            number(1),
            number(2),
            number(3),
            number(4),
            number(5),
            number(6),
            Arc::new(Int64Array::from(
                files
                    .iter()
                    .map(|f| not_allowed.get(&f.key).map_or(0, |(_, n)| *n))
                    .collect::<Vec<_>>(),
            )),
            text(&|f| {
                not_allowed
                    .get(&f.key)
                    .map(|(text, _)| text.clone())
                    .unwrap_or_default()
            }),
            text(&|f| {
                f.staged
                    .as_ref()
                    .map(|s| s.ignored_columns.join(","))
                    .unwrap_or_default()
            }),
        ],
    )
    .map_err(|e| Error::Internal(e.to_string()))?;
    let predicate = format!(
        "source_file IN ({})",
        sql_list(files.iter().map(|f| f.key.as_str()))
    );
    lake.write_batches(&def, vec![batch], WriteMode::Replace(predicate))
        .await
}
