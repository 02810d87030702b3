//! The Azure sources against the Azure API emulator (`tests/support/azure_emulator.py`), through
//! configuration only: the binary signs in with the App Service managed-identity protocol and calls
//! the emulator's Resource Manager, metrics, retail prices and token endpoints as it would Azure's.

use std::collections::BTreeMap;
use std::process::Output;

use serde_json::{Value, json};

use crate::support::{AzureEmulator, Workspace, repo};

const SUB1: &str = "11111111-1111-1111-1111-111111111111";
const SUB2: &str = "22222222-2222-2222-2222-222222222222";

/// A pipeline named `azure` with `sources` and only the extract and transform stages.
fn ingest_only(sources: &str) -> String {
    format!(
        "name = \"azure\"\n{sources}\n[rules]\nenabled = false\n[forecast]\nenabled = false\n[report]\nenabled = false\n"
    )
}

/// A workspace whose config points at `emu` and whose one pipeline is `pipeline`.
fn workspace(emu: &AzureEmulator, pipeline: &str) -> Workspace {
    let ws = Workspace::with_pipelines(&[("azure.toml", pipeline)]);
    std::fs::create_dir_all(ws.path().join("config")).unwrap();
    std::fs::write(
        ws.path().join("config/cloudoptima.toml"),
        emu.config("lake"),
    )
    .unwrap();
    ws
}

fn run(ws: &Workspace, emu: &AzureEmulator, args: &[&str]) -> Output {
    ws.cmd(args).envs(emu.env()).output().expect("binary runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(ws: &Workspace, emu: &AzureEmulator, args: &[&str]) -> String {
    let out = run(ws, emu, args);
    assert!(out.status.success(), "{args:?} failed:\n{}", text(&out));
    text(&out)
}

const EVERY_SOURCE: &str = r#"
name = "azure"
[[sources]]
kind = "azure_resource_graph"
page_size = 25
[[sources]]
kind = "azure_monitor"
lookback_days = 2
[[sources]]
kind = "azure_cost_query"
scopes = ["/subscriptions/11111111-1111-1111-1111-111111111111", "/subscriptions/22222222-2222-2222-2222-222222222222"]
[[sources]]
kind = "azure_retail_prices"
[[sources]]
kind = "azure_advisor"
[forecast]
enabled = false
[report]
enabled = false
"#;

/// The emulator's own sum of the cost rows of `sub` between two dates (inclusive).
fn cost_oracle(emu: &AzureEmulator, sub: &str, from: &str, to: &str) -> (i64, f64) {
    let v = emu.call(
        "POST",
        "/_emulator/cost",
        &json!({"subscription": sub, "from": from, "to": to}),
    );
    (v["rows"].as_i64().unwrap(), v["cost"].as_f64().unwrap())
}

/// Rows and billed cost in the lake per subscription id.
fn lake_costs(ws: &Workspace) -> BTreeMap<String, (i64, f64)> {
    ws.sql(
        "SELECT SubAccountId AS s, COUNT(*) AS n, SUM(BilledCost) AS c FROM costs GROUP BY SubAccountId",
    )
    .into_iter()
    .map(|r| {
        let sub = r["s"].as_str().unwrap().trim_start_matches("/subscriptions/");
        (
            sub.to_string(),
            (r["n"].as_i64().unwrap(), r["c"].as_f64().unwrap()),
        )
    })
    .collect()
}

fn requests<'a>(log: &'a [Value], path: &str) -> Vec<&'a Value> {
    log.iter()
        .filter(|r| r["path"].as_str().unwrap().contains(path))
        .collect()
}

fn sha256_of_files(dir: &std::path::Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() && !p.ends_with("_runs") {
            sha256_of_files(&p, out);
        } else if p.is_dir() {
        } else {
            let hash = std::process::Command::new("sha256sum")
                .arg(&p)
                .output()
                .unwrap();
            let line = String::from_utf8(hash.stdout).unwrap();
            out.push(line.split_whitespace().next().unwrap().to_string());
        }
    }
}

#[test]
fn every_source_lands_what_the_tenant_holds() {
    let emu = AzureEmulator::start();
    let ws = workspace(&emu, EVERY_SOURCE);
    let run_output = ok(&ws, &emu, &["run", "--as-of", "2026-11-05"]);
    let truth = emu.truth();
    let resources = truth["resources"].as_array().unwrap();
    let log = emu.log();

    // Inventory: every resource of both subscriptions, read over several $skipToken pages.
    assert_eq!(ws.count("resources") as usize, resources.len());
    let graph = requests(&log, "Microsoft.ResourceGraph");
    assert_eq!(
        graph.len(),
        resources.len().div_ceil(25),
        "one request per page"
    );
    assert!(graph[1]["body"].as_str().unwrap().contains("$skipToken"));
    let stopped = ws.sql("SELECT COUNT(*) AS n FROM resources WHERE power_state = 'deallocated'");
    let planted = resources
        .iter()
        .filter(|r| {
            r.pointer("/properties/extended/instanceView/powerState/code")
                .and_then(Value::as_str)
                == Some("PowerState/deallocated")
        })
        .count();
    assert_eq!(stopped[0]["n"].as_i64().unwrap() as usize, planted);

    // Costs: October and November 1-4 per subscription, every nextLink page, in each billing currency.
    let lake = lake_costs(&ws);
    for sub in [SUB1, SUB2] {
        let (rows, cost) = cost_oracle(&emu, sub, "2026-10-01", "2026-11-04");
        let (n, c) = lake[sub];
        assert_eq!(n, rows, "{sub}: rows");
        assert!((c - cost).abs() < 1e-6, "{sub}: billed {c} vs {cost}");
    }
    // Each scope-month was reconciled against the API's own ungrouped total, which equals the
    // emulator's sum of its rows.
    let checks = ws.sql(
        "SELECT source, billing_period, source_total, lake_total, reconciled FROM reconciliation \
         ORDER BY source, billing_period",
    );
    assert_eq!(checks.len(), 4, "{checks:#?}");
    for c in &checks {
        let source = c["source"].as_str().unwrap();
        let sub = source.rsplit('/').next().unwrap();
        let (from, to) = match c["billing_period"].as_str().unwrap() {
            "2026-10" => ("2026-10-01", "2026-10-31"),
            "2026-11" => ("2026-11-01", "2026-11-04"),
            other => panic!("unexpected period {other}"),
        };
        let (_, cost) = cost_oracle(&emu, sub, from, to);
        assert_eq!(c["reconciled"], true, "{c}");
        for column in ["source_total", "lake_total"] {
            let v = c[column].as_f64().unwrap();
            assert!(
                (v - cost).abs() < 0.005,
                "{source} {from}: {column} {v} vs {cost}"
            );
        }
    }
    // Every query kept to the documented limits (the emulator answers 400 otherwise).
    assert!(
        requests(&log, "Microsoft.CostManagement/query")
            .iter()
            .all(|r| r["status"] == 200)
    );
    let pages = requests(&log, "Microsoft.CostManagement/query");
    // Politely paced: Cost Management queries start at least a second apart.
    let mut times: Vec<f64> = pages.iter().map(|r| r["time"].as_f64().unwrap()).collect();
    times.sort_by(f64::total_cmp);
    for pair in times.windows(2) {
        assert!(
            pair[1] - pair[0] > 0.9,
            "queries {:.2}s apart",
            pair[1] - pair[0]
        );
    }
    assert!(
        pages
            .iter()
            .any(|r| r["path"].as_str().unwrap().contains("$skiptoken")),
        "nextLink pages read"
    );
    let eur = ws.sql(&format!(
        "SELECT DISTINCT BillingCurrency AS c, x_SourceDataset AS d FROM costs WHERE SubAccountId = '/subscriptions/{SUB2}'"
    ));
    assert_eq!(eur, vec![json!({"c": "EUR", "d": "CostQuery ActualCost"})]);

    // Metrics: two days of hours for every VM (6 metrics), disk (4) and storage account (2).
    let per_type = |t: &str| resources.iter().filter(|r| r["type"] == t).count() as i64;
    let expected = 48
        * (6 * per_type("microsoft.compute/virtualmachines")
            + 4 * per_type("microsoft.compute/disks")
            + 2 * per_type("microsoft.storage/storageaccounts"));
    assert_eq!(ws.count("metrics"), expected);
    let first = ws.sql("SELECT CAST(MIN(\"timestamp\") AS VARCHAR) AS t FROM metrics");
    let first = first[0]["t"].as_str().unwrap();
    assert!(
        first.starts_with("2026-11-03") && first.contains("00:00:00"),
        "{first}"
    );

    // Retail prices: the VM sizes in use, per region, every NextPageLink page.
    let prices = ws.sql(
        "SELECT COUNT(*) AS n, COUNT(DISTINCT x_ArmSkuName) AS skus, MIN(x_SourceDataset) AS d FROM prices",
    );
    assert_eq!(prices[0]["n"], 12, "3 sizes x 2 regions x Linux/Windows");
    assert_eq!(prices[0]["skus"], 3);
    assert_eq!(prices[0]["d"], "RetailPrices");
    assert!(requests(&log, "/api/retail/prices").len() > 2, "paged");

    // Advisor: both subscriptions, two pages each.
    let advice = ws.sql(
        "SELECT COUNT(*) AS n, SUM(annual_savings) AS s, COUNT(DISTINCT subscription_id) AS subs FROM advisor_recommendations",
    );
    assert_eq!(advice[0]["n"], 8);
    assert_eq!(advice[0]["s"].as_f64(), Some(2000.0));
    assert_eq!(advice[0]["subs"], 2);

    // Raw responses landed unchanged: every landed file is byte for byte a body the emulator sent
    // (beside them, `landing/_runs/` records what each run landed).
    let served: Vec<&str> = log.iter().filter_map(|r| r["sha256"].as_str()).collect();
    let mut landed = Vec::new();
    sha256_of_files(&ws.path().join("lake/landing"), &mut landed);
    assert!(landed.len() > 20);
    for hash in &landed {
        assert!(
            served.contains(&hash.as_str()),
            "landed file not served as is"
        );
    }

    // The run can be transformed again from landing alone: not one request, the same tables.
    let run_id = run_output
        .lines()
        .find_map(|l| l.strip_prefix("Run ")?.strip_suffix(": succeeded"))
        .expect("run id printed");
    let tables = [
        "costs",
        "resources",
        "metrics",
        "prices",
        "advisor_recommendations",
    ];
    let counts: Vec<i64> = tables.iter().map(|t| ws.count(t)).collect();
    let requests_before = emu.log().len();
    let replay = ok(&ws, &emu, &["run", "--replay", run_id]);
    assert!(
        replay.contains(&format!("replayed from run {run_id}")),
        "{replay}"
    );
    assert!(replay.contains("as of 2026-11-05"), "{replay}");
    assert_eq!(emu.log().len(), requests_before, "no Azure call");
    assert_eq!(
        tables.iter().map(|t| ws.count(t)).collect::<Vec<_>>(),
        counts
    );
}

#[test]
fn throttling_server_errors_timeouts_cut_bodies_and_expired_tokens_are_survived() {
    let emu = AzureEmulator::start();
    let ws = workspace(
        &emu,
        &ingest_only(&format!(
            r#"
[[sources]]
kind = "azure_resource_graph"
subscriptions = ["{SUB1}"]
[[sources]]
kind = "azure_cost_query"
scopes = ["/subscriptions/{SUB1}"]
months = 1
[[sources]]
kind = "azure_retail_prices"
"#
        )),
    );
    // Up to six faults in a row hit one request here: allow it more attempts than the default.
    let config = ws.path().join("config/cloudoptima.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("max_attempts = 4", "max_attempts = 8"),
    )
    .unwrap();
    let cm = "x-ms-ratelimit-microsoft.costmanagement";
    emu.faults(json!([
        {"match": "Microsoft.ResourceGraph", "kind": "throttle", "header": "Retry-After", "value": 2, "times": 1},
        {"match": "Microsoft.ResourceGraph", "kind": "status", "status": 503, "times": 1},
        {"match": "Microsoft.ResourceGraph", "kind": "truncate", "times": 1},
        {"match": "CostManagement/query", "kind": "throttle", "header": format!("{cm}-qpu-retry-after"), "value": 1, "times": 1},
        {"match": "CostManagement/query", "kind": "throttle", "header": format!("{cm}-entity-retry-after"), "value": 1, "times": 1},
        {"match": "CostManagement/query", "kind": "throttle", "header": format!("{cm}-tenant-retry-after"), "value": 1, "times": 1},
        {"match": "CostManagement/query", "kind": "throttle", "header": format!("{cm}-client-retry-after"), "value": 2, "times": 1},
        {"match": "CostManagement/query", "kind": "expire_token", "times": 1},
        {"match": "CostManagement/query", "kind": "slow", "delay": 4, "times": 1},
        {"match": "/api/retail/prices", "kind": "throttle", "header": "Retry-After", "value": 1, "times": 1},
        {"match": "/api/retail/prices", "kind": "truncate", "times": 1},
    ]));
    let out = ok(&ws, &emu, &["run", "--as-of", "2026-11-05"]);
    assert!(out.contains("succeeded"), "{out}");
    let log = emu.log();

    // Each retry came no sooner than the throttling header asked.
    for (i, r) in log.iter().enumerate() {
        if r["status"] != 429 {
            continue;
        }
        let path = r["path"].as_str().unwrap();
        let headers = r["headers"].as_object().unwrap();
        assert_eq!(headers.len(), 1, "{r}");
        let asked: f64 = headers
            .values()
            .next()
            .unwrap()
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let next = log[i + 1..]
            .iter()
            .find(|n| n["path"].as_str().unwrap().split('?').next() == path.split('?').next())
            .expect("retried");
        let waited = next["time"].as_f64().unwrap() - r["time"].as_f64().unwrap();
        assert!(waited >= asked - 0.05, "{path}: retried after {waited:.2}s");
    }
    assert_eq!(log.iter().filter(|r| r["status"] == 429).count(), 6);

    // The expired token was replaced by a new one, and the call went through with it.
    let refused = log
        .iter()
        .position(|r| r["status"] == 401)
        .expect("one 401");
    let old = log[refused]["token"].as_str().unwrap();
    let next = log[refused + 1..]
        .iter()
        .find(|r| r["path"].as_str().unwrap().contains("CostManagement/query"))
        .unwrap();
    assert_ne!(next["token"].as_str().unwrap(), old);

    // Nothing was lost or doubled by the retries.
    let (rows, cost) = cost_oracle(&emu, SUB1, "2026-11-01", "2026-11-04");
    let (n, c) = lake_costs(&ws)[SUB1];
    assert_eq!(n, rows);
    assert!((c - cost).abs() < 1e-6);
    assert_eq!(ws.count("resources"), 73);
    assert_eq!(ws.count("prices"), 12);
}

#[test]
fn a_scope_that_keeps_failing_is_named_and_its_lake_data_is_left_as_it_was() {
    let emu = AzureEmulator::start();
    let pipeline = ingest_only(&format!(
        r#"
[[sources]]
kind = "azure_resource_graph"
subscriptions_per_query = 1
[[sources]]
kind = "azure_cost_query"
scopes = ["/subscriptions/{SUB1}", "/subscriptions/{SUB2}"]
months = 1
[[sources]]
kind = "azure_advisor"
"#
    ));
    let ws = workspace(&emu, &pipeline);
    ok(&ws, &emu, &["run", "--as-of", "2026-11-05"]);
    let before = lake_costs(&ws);

    // A day later, subscription 2 answers 503 to every cost query, 403 to Resource Graph and
    // Advisor: the run fails naming the scopes and statuses; subscription 1 moves on a day.
    emu.faults(json!([
        {"match": format!("/subscriptions/{SUB2}/providers/Microsoft.CostManagement/query"), "kind": "status", "status": 503, "times": 100},
        {"match": "Microsoft.ResourceGraph", "body": SUB2, "kind": "status", "status": 403, "times": 100},
        {"match": format!("/subscriptions/{SUB2}/providers/Microsoft.Advisor"), "kind": "status", "status": 403, "times": 100},
    ]));
    let out = run(&ws, &emu, &["run", "--as-of", "2026-11-06"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&format!(
            "/subscriptions/{SUB2} (2026-11): HTTP 503 ServiceUnavailable"
        )),
        "{said}"
    );
    assert!(said.contains("gave up after 4 attempts"), "{said}");
    assert!(
        said.contains(&format!(
            "subscriptions {SUB2}: HTTP 403 AuthorizationFailed"
        )),
        "{said}"
    );
    assert!(
        said.contains("some scopes or files were not read"),
        "{said}"
    );

    let after = lake_costs(&ws);
    assert_eq!(after[SUB2], before[SUB2], "subscription 2 untouched");
    let (rows, cost) = cost_oracle(&emu, SUB1, "2026-11-01", "2026-11-05");
    assert_eq!(after[SUB1].0, rows);
    assert!((after[SUB1].1 - cost).abs() < 1e-6);
    let inventory = ws.sql(
        "SELECT subscription_id AS s, CAST(MAX(snapshot_date) AS VARCHAR) AS d, COUNT(*) AS n FROM resources GROUP BY subscription_id ORDER BY s",
    );
    assert_eq!(
        inventory,
        vec![
            json!({"s": SUB1, "d": "2026-11-06", "n": 146}),
            json!({"s": SUB2, "d": "2026-11-05", "n": 73}),
        ]
    );
    let advice = ws.sql(
        "SELECT subscription_id AS s, COUNT(*) AS n, CAST(MAX(snapshot_date) AS VARCHAR) AS d FROM advisor_recommendations GROUP BY subscription_id ORDER BY s",
    );
    assert_eq!(
        advice,
        vec![
            json!({"s": SUB1, "n": 4, "d": "2026-11-06"}),
            json!({"s": SUB2, "n": 4, "d": "2026-11-05"}),
        ]
    );
}

#[test]
fn metrics_fall_back_to_the_single_resource_api_and_load_incrementally() {
    let emu = AzureEmulator::start();
    let pipeline = ingest_only(&format!(
        r#"
[[sources]]
kind = "azure_resource_graph"
subscriptions = ["{SUB1}"]
[[sources]]
kind = "azure_monitor"
lookback_days = 1
"#
    ));
    let ws = workspace(&emu, &pipeline);
    // The batch API is refused, so resources are read one call at a time, four calls side by
    // side; one of them is throttled.
    emu.faults(json!([
        {"match": "metrics:getBatch", "kind": "status", "status": 403, "times": 1000},
        {"match": "/providers/Microsoft.Insights/metrics", "kind": "throttle", "header": "Retry-After", "value": 2, "times": 1},
    ]));
    // The last three hours are not aggregated yet: Azure Monitor returns them without a value.
    emu.call(
        "POST",
        "/_emulator/settings",
        &json!({"metrics_until": "2026-11-04T21:00:00Z"}),
    );
    ok(&ws, &emu, &["run", "--as-of", "2026-11-05"]);
    // 30 VMs x 6 metrics, 35 disks x 4, 3 storage accounts x 2, for 24 hours.
    let per_hour = 30 * 6 + 35 * 4 + 3 * 2;
    let per_day = 24 * per_hour;
    assert_eq!(
        ws.count("metrics"),
        21 * per_hour,
        "hours without a value are not rows"
    );
    let log = emu.log();
    let single = requests(&log, "/providers/Microsoft.Insights/metrics?");
    assert_eq!(
        single.len(),
        30 + 35 + 3 + 1,
        "one call per resource, and one retry"
    );
    // The throttle answer paused every call to the API, not just the one it answered (calls
    // already under way when it came are let through).
    let at = single
        .iter()
        .find(|r| r["status"] == 429)
        .expect("the throttle")["time"]
        .as_f64()
        .unwrap();
    let during: Vec<_> = single
        .iter()
        .filter(|r| (at + 0.2..at + 1.95).contains(&r["time"].as_f64().unwrap()))
        .collect();
    assert!(during.is_empty(), "calls during the pause: {during:#?}");

    // The next day reads the new day and, again, the hours before it where late values arrive:
    // the three late hours are in the lake now, through the batch API again.
    emu.faults(json!([]));
    emu.call(
        "POST",
        "/_emulator/settings",
        &json!({"metrics_until": null}),
    );
    ok(&ws, &emu, &["run", "--as-of", "2026-11-06"]);
    assert_eq!(ws.count("metrics"), 2 * per_day);
    let late = ws.sql(
        "SELECT COUNT(*) AS n FROM metrics WHERE \"timestamp\" >= TIMESTAMP '2026-11-04T21:00:00Z' \
         AND \"timestamp\" < TIMESTAMP '2026-11-05T00:00:00Z'",
    );
    assert_eq!(late[0]["n"], 3 * per_hour);
    let batch: Vec<Value> = requests(&emu.log(), "metrics:getBatch")
        .into_iter()
        .filter(|r| r["status"] == 200)
        .cloned()
        .collect();
    assert!(!batch.is_empty());
    for r in batch {
        assert!(
            r["path"]
                .as_str()
                .unwrap()
                // The hour after the last with a value (20:00) less the 6 late hours, but no
                // earlier than the lookback window (one day) less those hours.
                .contains("starttime=2026-11-04T18:00:00Z")
        );
    }
}

#[test]
fn check_reports_what_can_be_read_and_which_role_is_missing() {
    let emu = AzureEmulator::start();
    let with_exports = format!(
        "{EVERY_SOURCE}\n[[sources]]\nkind = \"azure_exports\"\nlocation = \"exports\"\n\
         scope = \"/subscriptions/{SUB1}\"\n"
    );
    let ws = workspace(&emu, &with_exports);
    std::fs::create_dir_all(ws.path().join("exports/daily/20261101-20261130/run-1")).unwrap();
    std::fs::write(
        ws.path()
            .join("exports/daily/20261101-20261130/run-1/part_0.csv"),
        "BilledCost\n",
    )
    .unwrap();
    // The identity has no cost role on subscription 2 and no Advisor access on subscription 1.
    emu.call(
        "POST",
        "/_emulator/settings",
        &json!({"deny": [
            format!("/subscriptions/{SUB2}/providers/Microsoft.CostManagement"),
            format!("/subscriptions/{SUB1}/providers/Microsoft.Advisor"),
        ]}),
    );
    let out = run(&ws, &emu, &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let shown = String::from_utf8(out.stdout)
        .unwrap()
        .replace(&emu.url(), "http://EMULATOR")
        .replace(&ws.pipelines.display().to_string(), "PIPELINES");
    let snapshot = repo().join("tests/snapshots/check.txt");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&snapshot, &shown).unwrap();
    }
    let expected =
        std::fs::read_to_string(&snapshot).expect("snapshot (UPDATE_SNAPSHOTS=1 writes it)");
    assert_eq!(shown, expected);
    assert!(
        emu.log().iter().all(|r| r["method"] != "PUT"),
        "check writes nothing"
    );

    // The run fails exactly the scopes check failed, for the same reason.
    let out = run(&ws, &emu, &["run", "--as-of", "2026-11-05"]);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{said}");
    let failed = |source: &str, sub: &str| {
        said.split("scope not read: ").skip(1).any(|f| {
            let named = f.split(": HTTP").next().unwrap_or_default();
            f.starts_with(&format!("{source}:")) && named.contains(sub) && f.contains("HTTP 403")
        })
    };
    for line in expected.lines().filter(|l| l.contains("/subscriptions/")) {
        for (source, sub) in [
            ("azure_cost_query", SUB1),
            ("azure_cost_query", SUB2),
            ("azure_advisor", SUB1),
            ("azure_advisor", SUB2),
        ] {
            if line.contains(source) && line.contains(sub) {
                let check_failed = line.trim_start().starts_with("FAIL");
                assert_eq!(
                    failed(source, sub),
                    check_failed,
                    "{source} {sub}: check said `{line}`, the run said:\n{said}"
                );
            }
        }
    }
}

#[test]
fn exports_are_created_once_and_backfilled_one_month_per_run() {
    let emu = AzureEmulator::start();
    let pipeline = ingest_only(&format!(
        r#"
[[sources]]
kind = "azure_exports"
location = "exports"
scope = "/subscriptions/{SUB1}"
[sources.manage]
storage_account = "/subscriptions/{SUB1}/resourceGroups/finops/providers/Microsoft.Storage/storageAccounts/finopsexports"
container = "exports"
root_folder = "finops"
backfill_months = 2
"#
    ));
    let ws = workspace(&emu, &pipeline);
    std::fs::create_dir_all(ws.path().join("exports")).unwrap();
    // Nothing delivered yet: the run succeeds with nothing to read.
    ok(&ws, &emu, &["run", "--as-of", "2026-11-05"]);
    let truth = emu.truth();
    let daily = &truth["exports"]["cloudoptima-daily"]["properties"];
    assert_eq!(daily["schedule"]["recurrence"], "Daily");
    assert_eq!(daily["definition"]["timeframe"], "MonthToDate");
    assert_eq!(daily["definition"]["type"], "FocusCost");
    assert_eq!(daily["format"], "Parquet");
    assert_eq!(daily["deliveryInfo"]["destination"]["container"], "exports");
    let monthly = &truth["exports"]["cloudoptima-monthly"]["properties"];
    assert_eq!(monthly["schedule"]["recurrence"], "Monthly");
    assert_eq!(monthly["definition"]["timeframe"], "TheLastMonth");

    let backfilled = |truth: &Value| -> Vec<String> {
        truth["export_runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let from = r["body"]["timePeriod"]["from"].as_str().unwrap_or("now");
                format!(
                    "{} {}",
                    r["export"].as_str().unwrap(),
                    &from[..from.len().min(7)]
                )
            })
            .collect()
    };
    assert_eq!(
        backfilled(&truth),
        ["cloudoptima-daily now", "cloudoptima-monthly 2026-10"]
    );
    ok(&ws, &emu, &["run", "--as-of", "2026-11-06"]);
    ok(&ws, &emu, &["run", "--as-of", "2026-11-07"]);
    assert_eq!(
        backfilled(&emu.truth()),
        [
            "cloudoptima-daily now",
            "cloudoptima-monthly 2026-10",
            "cloudoptima-monthly 2026-09"
        ]
    );
    let log = emu.log();
    assert_eq!(
        log.iter().filter(|r| r["method"] == "PUT").count(),
        2,
        "created once"
    );

    // Once Cost Management delivers, the same source reads what arrived.
    ws.ok(&[
        "demo-export",
        "--out",
        ws.path().join("exports").to_str().unwrap(),
        "--as-of",
        "2026-11-07",
        "--history-days",
        "20",
    ]);
    ok(&ws, &emu, &["run", "--as-of", "2026-11-07"]);
    assert!(ws.count("costs") > 0);
}

#[test]
fn tokens_are_renewed_before_they_expire() {
    let emu = AzureEmulator::start();
    // Tokens that live 302 s are due for renewal (5 minutes before expiry) 2 s after they are issued.
    emu.call("POST", "/_emulator/settings", &json!({"token_life": 302}));
    let ws = workspace(
        &emu,
        &ingest_only(&format!(
            "[[sources]]\nkind = \"azure_cost_query\"\nscopes = [\"/subscriptions/{SUB1}\"]\nmonths = 2\n"
        )),
    );
    ok(&ws, &emu, &["run", "--as-of", "2026-11-05"]);
    let log = emu.log();
    assert!(
        log.iter().all(|r| r["status"] != 401),
        "no request was refused"
    );
    let tokens: std::collections::BTreeSet<&str> =
        log.iter().filter_map(|r| r["token"].as_str()).collect();
    assert!(tokens.len() >= 2, "renewed while running: {tokens:?}");
}

#[test]
fn a_resource_group_scope_reads_only_its_resources() {
    let emu = AzureEmulator::start();
    let ws = workspace(
        &emu,
        &ingest_only(&format!(
            "[[sources]]\nkind = \"azure_cost_query\"\nscopes = [\"/subscriptions/{SUB1}/resourceGroups/RG-DATA\"]\nmonths = 1\n"
        )),
    );
    ok(&ws, &emu, &["run", "--as-of", "2026-11-05"]);
    let rows = ws.sql(
        "SELECT COUNT(*) AS n, COUNT(DISTINCT ResourceId) AS r, MIN(x_ResourceGroupName) AS g, MIN(x_SourceName) AS o FROM costs",
    );
    // Five unattached disks and three storage accounts, four days each.
    assert_eq!(rows[0]["n"], 32);
    assert_eq!(rows[0]["r"], 8);
    assert_eq!(rows[0]["g"], "rg-data");
    assert_eq!(
        rows[0]["o"],
        format!("azure_cost_query/subscriptions/{SUB1}/resourceGroups/RG-DATA")
    );
}

#[test]
fn the_demo_replaces_only_what_it_owns_beside_a_real_tenant() {
    let emu = AzureEmulator::start();
    let azure = ingest_only(
        "[[sources]]\nkind = \"azure_resource_graph\"\n[[sources]]\nkind = \"azure_monitor\"\nlookback_days = 2\n",
    );
    let demo = "name = \"demo\"\n[rules]\nenabled = false\n[forecast]\nenabled = false\n[report]\nenabled = false\n";
    let ws = Workspace::with_pipelines(&[("azure.toml", &azure), ("demo.toml", demo)]);
    std::fs::create_dir_all(ws.path().join("config")).unwrap();
    std::fs::write(
        ws.path().join("config/cloudoptima.toml"),
        emu.config("lake"),
    )
    .unwrap();
    let as_of = "2026-11-05";
    ok(&ws, &emu, &["run", "azure", "--as-of", as_of]);
    let tenant = |ws: &Workspace, table: &str| {
        let rows = ws.sql(&format!(
            "SELECT COUNT(*) AS n FROM {table} WHERE lower(resource_id) LIKE '/subscriptions/{SUB1}%' \
             OR lower(resource_id) LIKE '/subscriptions/{SUB2}%'"
        ));
        rows[0]["n"].as_i64().unwrap()
    };
    let (resources, metrics) = (tenant(&ws, "resources"), tenant(&ws, "metrics"));
    assert!(resources > 0 && metrics > 0, "{resources} {metrics}");

    // The demo on the same day and lake: its own subscriptions' inventory and its own resources'
    // metrics, next to the tenant's, which stay as they were.
    ok(&ws, &emu, &["run", "demo", "--as-of", as_of]);
    assert_eq!(tenant(&ws, "resources"), resources);
    assert_eq!(tenant(&ws, "metrics"), metrics);
    assert!(ws.count("resources") > resources);
    // Run again: still each row once.
    ok(&ws, &emu, &["run", "demo", "--as-of", as_of]);
    let total = ws.count("resources");
    ok(&ws, &emu, &["run", "demo", "--as-of", as_of]);
    assert_eq!(ws.count("resources"), total);
    assert_eq!(tenant(&ws, "metrics"), metrics);
}

#[test]
fn cost_details_reports_are_awaited_and_every_blob_lands_with_its_total() {
    let emu = AzureEmulator::start();
    let ws = workspace(
        &emu,
        &ingest_only(&format!(
            "[[sources]]\nkind = \"azure_cost_details\"\nscopes = [\"/subscriptions/{SUB1}\"]\nmonths = 2\n"
        )),
    );
    ok(&ws, &emu, &["run", "--as-of", "2026-11-05"]);

    // Every charge of October and November 1-4, from every blob of both reports.
    let (rows, cost) = cost_oracle(&emu, SUB1, "2026-10-01", "2026-11-04");
    let (n, c) = lake_costs(&ws)[SUB1];
    assert_eq!(n, rows);
    assert!((c - cost).abs() < 1e-6, "billed {c} vs {cost}");
    // Row-level detail the Query API's two groupings cannot carry.
    let detail = ws.sql(
        "SELECT COUNT(DISTINCT \"SkuMeter\") AS meters, MIN(\"ChargeCategory\") AS category, \
         MIN(\"x_SourceDataset\") AS dataset FROM costs",
    );
    assert!(detail[0]["meters"].as_i64().unwrap() > 1);
    assert_eq!(detail[0]["category"], "Usage");
    assert_eq!(detail[0]["dataset"], "CostDetails ActualCost");

    let log = emu.log();
    // Each report was polled until ready (202, then the manifest).
    let polls = requests(&log, "costDetailsOperationResults");
    assert_eq!(polls.iter().filter(|r| r["status"] == 202).count(), 2);
    assert_eq!(polls.iter().filter(|r| r["status"] == 200).count(), 2);
    // October's report has two blobs; no token went to a blob link.
    let blobs = requests(&log, "/_reports/");
    assert_eq!(blobs.len(), 3, "{blobs:#?}");
    assert!(
        blobs
            .iter()
            .all(|r| r["token"].is_null() && r["status"] == 200)
    );
    // Each month was reconciled against its files' own totals.
    let checks = ws.sql("SELECT billing_period, reconciled FROM reconciliation ORDER BY 1");
    assert_eq!(checks.len(), 2);
    assert!(checks.iter().all(|c| c["reconciled"] == true));
    // No run log line, error or landed name holds a blob link's signature.
    let landed: Vec<String> = ws
        .sql("SELECT source_file FROM data_quality")
        .iter()
        .map(|r| r["source_file"].as_str().unwrap().to_string())
        .collect();
    assert!(landed.iter().all(|f| !f.contains("sig=")), "{landed:?}");
}

#[test]
fn a_cost_details_source_at_a_resource_group_is_refused_before_it_runs() {
    let emu = AzureEmulator::start();
    let ws = workspace(
        &emu,
        &ingest_only(&format!(
            "[[sources]]\nkind = \"azure_cost_details\"\nscopes = [\"/subscriptions/{SUB1}/resourceGroups/rg-app\"]\n"
        )),
    );
    let out = run(&ws, &emu, &["run", "--as-of", "2026-11-05"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("resource group"), "{stderr}");
}
