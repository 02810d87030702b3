//! Creating and running Cost Management exports for the `azure_exports` source, when a pipeline asks
//! (`[sources.manage]`): a daily month-to-date export and a monthly last-month export into the
//! configured container, created when missing, plus a backfill of earlier months — one month per
//! run, so the Exports API's low request limits are never pressed. Which months are done is kept in
//! the lake (`state/<source>/backfill.json`). These are the only writes cloudoptima makes to Azure.

use chrono::{Datelike, Duration, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::azure::{Api, AzureClient, CallError};
use crate::lake::Lake;

const API_VERSION: &str = "2025-03-01";

/// `[sources.manage]` of an `azure_exports` source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManageExports {
    /// Resource id of the storage account the exports write to.
    pub storage_account: String,
    /// Container in that account.
    pub container: String,
    /// Folder in the container (the source's `location` should point here). Default "".
    #[serde(default)]
    pub root_folder: String,
    /// `FocusCost` (default), `ActualCost` or `AmortizedCost`.
    #[serde(default = "default_dataset")]
    pub dataset: String,
    /// Dataset version; default `1.0r2` for FocusCost, `2021-10-01` otherwise.
    pub data_version: Option<String>,
    /// `Parquet` (default, snappy) or `Csv` (gzip).
    #[serde(default = "default_format")]
    pub format: String,
    /// Export names are `{prefix}-daily` and `{prefix}-monthly`. Default `cloudoptima`.
    #[serde(default = "default_prefix")]
    pub name_prefix: String,
    /// Azure region of the export resource (it holds the export's managed identity). Default
    /// `global`.
    #[serde(default = "default_location")]
    pub location: String,
    /// Full months before the current one to export once, newest first, one per run. Default 0.
    #[serde(default)]
    pub backfill_months: u32,
}

fn default_dataset() -> String {
    "FocusCost".into()
}
fn default_format() -> String {
    "Parquet".into()
}
fn default_prefix() -> String {
    "cloudoptima".into()
}
fn default_location() -> String {
    "global".into()
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct BackfillState {
    /// Months (`yyyy-mm`) whose export run was started.
    done: Vec<String>,
}

/// What setting up did this run, for the log.
#[derive(Debug, Default, PartialEq)]
pub struct SetupReport {
    pub created: Vec<String>,
    pub backfilled: Option<String>,
}

/// The export definition for one schedule.
pub fn definition(m: &ManageExports, daily: bool, as_of: NaiveDate) -> Value {
    let version = m.data_version.clone().unwrap_or_else(|| {
        if m.dataset.eq_ignore_ascii_case("FocusCost") {
            "1.0r2".into()
        } else {
            "2021-10-01".into()
        }
    });
    let parquet = m.format.eq_ignore_ascii_case("Parquet");
    let until = as_of.checked_add_months(Months::new(60)).expect("in range");
    json!({
        "identity": {"type": "SystemAssigned"},
        "location": m.location,
        "properties": {
            "schedule": {
                "status": "Active",
                "recurrence": if daily { "Daily" } else { "Monthly" },
                "recurrencePeriod": {"from": format!("{as_of}T00:00:00Z"), "to": format!("{until}T00:00:00Z")},
            },
            "format": if parquet { "Parquet" } else { "Csv" },
            "compressionMode": if parquet { "snappy" } else { "gzip" },
            "partitionData": true,
            "dataOverwriteBehavior": "OverwritePreviousReport",
            "deliveryInfo": {"destination": {
                "type": "AzureBlob",
                "resourceId": m.storage_account,
                "container": m.container,
                "rootFolderPath": m.root_folder,
            }},
            "definition": {
                "type": m.dataset,
                "timeframe": if daily { "MonthToDate" } else { "TheLastMonth" },
                "dataSet": {"granularity": "Daily", "configuration": {"dataVersion": version}},
            },
            "exportDescription": "Created by cloudoptima",
        },
    })
}

/// The newest of the last `count` full months not yet backfilled.
fn next_backfill(as_of: NaiveDate, count: u32, done: &[String]) -> Option<(NaiveDate, NaiveDate)> {
    let this_month = as_of.with_day(1)?;
    (1..=count).find_map(|back| {
        let first = this_month.checked_sub_months(Months::new(back))?;
        let key = first.format("%Y-%m").to_string();
        let last = first.checked_add_months(Months::new(1))? - Duration::days(1);
        (!done.contains(&key)).then_some((first, last))
    })
}

/// Create missing exports, start the daily one when it was just created, and backfill one month.
pub async fn run(
    client: &AzureClient,
    lake: &Lake,
    source: &str,
    scope: &str,
    m: &ManageExports,
    as_of: NaiveDate,
) -> std::result::Result<SetupReport, CallError> {
    let base = format!(
        "{}/{}/providers/Microsoft.CostManagement/exports",
        client.endpoints().resource_manager,
        scope.trim_matches('/')
    );
    let url = |name: &str, action: &str| format!("{base}/{name}{action}?api-version={API_VERSION}");
    let mut report = SetupReport::default();
    for daily in [true, false] {
        let name = format!(
            "{}-{}",
            m.name_prefix,
            if daily { "daily" } else { "monthly" }
        );
        match client.get(Api::ResourceManager, &url(&name, "")).await {
            Ok(_) => {}
            Err(e) if e.status == Some(404) => {
                client
                    .put(
                        Api::ResourceManager,
                        &url(&name, ""),
                        &definition(m, daily, as_of),
                    )
                    .await?;
                tracing::info!(export = %name, "export created");
                if daily {
                    client
                        .post(Api::ResourceManager, &url(&name, "/run"), &json!({}))
                        .await?;
                }
                report.created.push(name);
            }
            Err(e) => return Err(e),
        }
    }
    let state_path = format!("state/{source}/backfill.json");
    let mut state: BackfillState = match lake.get(&state_path).await {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
        Err(_) => BackfillState::default(),
    };
    if let Some((first, last)) = next_backfill(as_of, m.backfill_months, &state.done) {
        let name = format!("{}-monthly", m.name_prefix);
        let body = json!({"timePeriod": {
            "from": format!("{first}T00:00:00Z"),
            "to": format!("{last}T23:59:59Z"),
        }});
        client
            .post(Api::ResourceManager, &url(&name, "/run"), &body)
            .await?;
        let month = first.format("%Y-%m").to_string();
        tracing::info!(export = %name, %month, "backfill run started");
        state.done.push(month.clone());
        let bytes = serde_json::to_vec_pretty(&state).expect("serializes");
        lake.put(&state_path, bytes).await.map_err(|e| CallError {
            status: None,
            code: None,
            message: format!("cannot record the backfill in the lake: {e}"),
        })?;
        report.backfilled = Some(month);
    }
    Ok(report)
}

/// List the scope's exports: what managing them first does, so `check` fails a scope exactly when
/// the run would.
pub async fn probe(client: &AzureClient, scope: String) -> std::result::Result<String, CallError> {
    let url = format!(
        "{}/{}/providers/Microsoft.CostManagement/exports?api-version={API_VERSION}",
        client.endpoints().resource_manager,
        scope.trim_matches('/')
    );
    let reply = client.get(Api::CostManagement, &url).await?;
    let n = reply
        .json
        .get("value")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    Ok(format!("exports readable ({n} defined)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backfill_goes_back_one_month_per_run() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let as_of = d("2026-11-05");
        assert_eq!(
            next_backfill(as_of, 2, &[]),
            Some((d("2026-10-01"), d("2026-10-31")))
        );
        assert_eq!(
            next_backfill(as_of, 2, &["2026-10".into()]),
            Some((d("2026-09-01"), d("2026-09-30")))
        );
        assert_eq!(
            next_backfill(as_of, 2, &["2026-10".into(), "2026-09".into()]),
            None
        );
    }
}
