//! Cost Management exports into the `costs` table: the real EA export files, an MCA (camelCase)
//! variant, every export schema's column list, gzip CSV and Parquet exports with manifests from local
//! disk and from Azurite, and month-to-date runs that overlap. Totals are checked against sums the
//! test computes itself from the source files.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Azurite, Workspace, python, repo};

fn fixtures() -> PathBuf {
    repo().join("tests/fixtures")
}

/// `[[sources]]` entries of kind `azure_exports`, one per (name, folder).
fn exports_pipeline(sources: &[(&str, &str)]) -> String {
    let mut text = String::from(
        // The real export files include a deliberately unreadable row: accepted, not fatal, here.
        "name = \"exports\"\nstrict = false\n[forecast]\nenabled = false\n[report]\nenabled = false\n",
    );
    for (name, location) in sources {
        text.push_str(&format!(
            "[[sources]]\nkind = \"azure_exports\"\nname = \"{name}\"\nlocation = '{location}'\n"
        ));
    }
    text
}

/// Rows of a CSV file as maps from header to value (byte-order mark removed).
fn read_csv(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    reader
        .records()
        .map(|r| {
            headers
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(str::to_string))
                .collect()
        })
        .collect()
}

fn sum(
    rows: &[std::collections::HashMap<String, String>],
    keep: impl Fn(&std::collections::HashMap<String, String>) -> bool,
) -> f64 {
    rows.iter()
        .filter(|r| keep(r))
        .map(|r| r["Cost"].parse::<f64>().unwrap())
        .sum()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn legacy_ea_and_mca_exports_come_out_as_focus() {
    let ws = Workspace::new();
    let actual_dir = ws.path().join("actual");
    let amortized_dir = ws.path().join("amortized");
    let mca_dir = ws.path().join("mca");
    for d in [&actual_dir, &amortized_dir, &mca_dir] {
        std::fs::create_dir_all(d).unwrap();
    }
    let src = fixtures().join("cost-exports");
    std::fs::copy(
        src.join("EA_ActualCost_Small.csv"),
        actual_dir.join("EA_ActualCost_Small.csv"),
    )
    .unwrap();
    std::fs::copy(src.join("EA_NoRows.csv"), actual_dir.join("EA_NoRows.csv")).unwrap();
    std::fs::write(actual_dir.join("empty.csv"), "").unwrap();
    std::fs::copy(
        src.join("EA_AmortizedCost_Small.csv"),
        amortized_dir.join("EA_AmortizedCost_Small.csv"),
    )
    .unwrap();

    // The MCA column set is camelCase and names the cost `costInBillingCurrency`. Built from the
    // EA file: one field gets a quoted line break, and the row after it a cost that is not a number.
    let ea = std::fs::read_to_string(src.join("EA_ActualCost_Small.csv")).unwrap();
    let ea = ea.trim_start_matches('\u{feff}');
    let mut reader = csv::Reader::from_reader(ea.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(|h| match h {
            "Cost" => "costInBillingCurrency".to_string(),
            "ResourceGroup" => "resourceGroupName".to_string(),
            other => {
                let mut c = other.chars();
                let first = c.next().unwrap().to_ascii_lowercase();
                std::iter::once(first).chain(c).collect()
            }
        })
        .collect();
    let info = headers.iter().position(|h| h == "additionalInfo").unwrap();
    let cost = headers
        .iter()
        .position(|h| h == "costInBillingCurrency")
        .unwrap();
    let mut writer = csv::Writer::from_path(mca_dir.join("mca_actual.csv")).unwrap();
    writer.write_record(&headers).unwrap();
    for (i, record) in reader.records().enumerate() {
        let mut fields: Vec<String> = record.unwrap().iter().map(str::to_string).collect();
        if i == 2 {
            fields[info] = "{\"note\": \"line one\nline two, with a comma\"}".into();
        }
        if i == 3 {
            fields[cost] = "abc".into();
        }
        writer.write_record(&fields).unwrap();
    }
    writer.flush().unwrap();
    drop(writer);

    let pipeline = exports_pipeline(&[
        ("actual", actual_dir.to_str().unwrap()),
        ("amortized", amortized_dir.to_str().unwrap()),
        ("mca", mca_dir.to_str().unwrap()),
    ]);
    std::fs::create_dir_all(ws.path().join("pipelines")).unwrap();
    let ws = Workspace {
        pipelines: {
            let p = ws.path().join("pipelines");
            std::fs::write(p.join("exports.toml"), &pipeline).unwrap();
            p
        },
        ..ws
    };
    let out = ws.ok(&["run", "--as-of", "2023-10-02"]);
    assert!(out.contains("1 quarantined"), "{out}");
    let usd = ws.sql(
        "SELECT COUNT(*) AS n FROM costs WHERE BillingCurrency = 'USD' \
         AND (x_EffectiveCostInUsd IS NULL OR x_EffectiveCostInUsd <> EffectiveCost)",
    );
    assert_eq!(usd[0]["n"], 0, "USD beside the billing currency");

    let actual = read_csv(&src.join("EA_ActualCost_Small.csv"));
    let amortized = read_csv(&src.join("EA_AmortizedCost_Small.csv"));
    let totals = ws.sql(
        "SELECT x_SourceName AS owner, x_SourceDataset AS dataset, COUNT(*) AS n, \
         SUM(BilledCost) AS billed, SUM(EffectiveCost) AS effective FROM costs GROUP BY 1, 2 ORDER BY 1",
    );
    let row = |owner: &str| {
        totals
            .iter()
            .find(|r| r["owner"] == owner)
            .unwrap_or_else(|| panic!("{owner} missing: {totals:?}"))
    };
    let commitment = |r: &std::collections::HashMap<String, String>| {
        r["PricingModel"] == "Reservation" || r["PricingModel"] == "SavingsPlan"
    };

    // Actual cost: billed as charged; the reservation purchase is not an effective cost (its
    // amortized share shows up on the usage it covers).
    let a = row("actual/files");
    assert_eq!(a["dataset"], "ActualCost (EA)");
    assert_eq!(a["n"], actual.len() as i64);
    assert!(
        close(a["billed"].as_f64().unwrap(), sum(&actual, |_| true)),
        "{a}"
    );
    assert!(
        close(
            a["effective"].as_f64().unwrap(),
            sum(&actual, |r| !(commitment(r)
                && r["ChargeType"] == "Purchase"))
        ),
        "{a}"
    );
    // Amortized cost: effective as given; usage covered by a prepaid commitment is not billed again.
    let m = row("amortized/files");
    assert_eq!(m["dataset"], "AmortizedCost (EA)");
    assert_eq!(m["n"], amortized.len() as i64);
    assert!(
        close(m["effective"].as_f64().unwrap(), sum(&amortized, |_| true)),
        "{m}"
    );
    assert!(
        close(
            m["billed"].as_f64().unwrap(),
            sum(&amortized, |r| !commitment(r))
        ),
        "{m}"
    );
    // MCA camelCase: the same charges minus the one quarantined row.
    let c = row("mca/files");
    assert_eq!(c["dataset"], "ActualCost (MCA)");
    assert_eq!(c["n"], actual.len() as i64 - 1);
    let bad_cost: f64 = actual[3]["Cost"].parse().unwrap();
    assert!(
        close(
            c["billed"].as_f64().unwrap(),
            sum(&actual, |_| true) - bad_cost
        ),
        "{c}"
    );

    // The quarantined row is named by file and the line it starts on: the header is line 1, and
    // the quoted line break in the third record pushes the fourth record to line 6.
    let q = ws.sql("SELECT source_file, line, reason FROM quarantine");
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!(q[0]["source_file"], "mca/costs/mca_actual.csv");
    assert_eq!(q[0]["line"], 6, "{q:?}");
    assert!(
        q[0]["reason"]
            .as_str()
            .unwrap()
            .contains("costInBillingCurrency: cannot read \"abc\" as a number"),
        "{q:?}"
    );

    // FOCUS columns derived from the legacy ones.
    let purchase = ws.sql(
        "SELECT ChargeCategory, PricingCategory, CommitmentDiscountType, x_AmortizationClass, \
         CAST(BillingPeriodEnd AS VARCHAR) AS period_end, CAST(ChargePeriodStart AS VARCHAR) AS day \
         FROM costs WHERE x_SourceName = 'actual/files' AND ChargeCategory = 'Purchase'",
    );
    assert_eq!(purchase.len(), 1, "{purchase:?}");
    assert_eq!(purchase[0]["PricingCategory"], "Committed");
    assert_eq!(purchase[0]["CommitmentDiscountType"], "Reservation");
    assert_eq!(purchase[0]["x_AmortizationClass"], "Principal");
    assert!(
        purchase[0]["period_end"]
            .as_str()
            .unwrap()
            .starts_with("2023-10-01")
    );
    assert!(
        purchase[0]["day"]
            .as_str()
            .unwrap()
            .starts_with("2023-09-21"),
        "US dates"
    );
    let storage = ws.sql(
        "SELECT SubAccountId, RegionId, RegionName, ServiceName, ServiceCategory, Tags, x_ResourceGroupName, \
         PricingQuantity, ConsumedQuantity, PricingUnit, x_PricingBlockSize, x_ResourceType, ResourceType \
         FROM costs WHERE x_SourceName = 'actual/files' AND ResourceName = 'dbstoragewp6hglwvvrad2'",
    );
    let s = &storage[0];
    assert_eq!(
        s["SubAccountId"],
        "/subscriptions/ed570627-0265-4620-bb42-bae06bcfa914"
    );
    assert_eq!(
        (s["RegionId"].as_str(), s["RegionName"].as_str()),
        (Some("eastus2"), Some("East US 2"))
    );
    assert_eq!(s["ServiceCategory"], "Storage", "{s}");
    assert_eq!(
        s["x_ResourceGroupName"],
        "databricks-rg-peskydata-s6taefbli5c5e"
    );
    assert_eq!(s["x_ResourceType"], "microsoft.storage/storageaccounts");
    assert_eq!(s["ResourceType"], "Storage account", "{s}");
    // `10K` units: the legacy quantity counts blocks of 10,000; FOCUS consumed quantity counts units.
    assert_eq!(
        (
            s["PricingQuantity"].as_f64(),
            s["x_PricingBlockSize"].as_f64()
        ),
        (Some(0.0004), Some(10000.0))
    );
    assert!(
        (s["ConsumedQuantity"].as_f64().unwrap() - 4.0).abs() < 1e-9,
        "{s}"
    );
    assert_eq!(s["PricingUnit"], "Units");
    // EA tags come without the outer braces; they land as a canonical JSON object.
    let tags: serde_json::Value = serde_json::from_str(s["Tags"].as_str().unwrap()).unwrap();
    assert_eq!(tags["costcenter"], "1234", "{tags}");

    // Data quality: one row per file, the header-only export included, nothing left unmapped.
    let dq = ws.sql(
        "SELECT source_file, dataset, rows_read, rows_written, rows_quarantined, ignored_columns \
         FROM data_quality ORDER BY source_file",
    );
    assert_eq!(dq.len(), 5, "{dq:?}");
    let zero = dq
        .iter()
        .find(|r| r["source_file"].as_str().unwrap().ends_with("empty.csv"))
        .unwrap();
    assert_eq!(zero["dataset"], "empty file");
    let empty = dq
        .iter()
        .find(|r| r["source_file"].as_str().unwrap().contains("EA_NoRows"))
        .unwrap();
    assert_eq!(empty["rows_read"], 0);
    let mca = dq
        .iter()
        .find(|r| r["source_file"].as_str().unwrap().contains("mca"))
        .unwrap();
    assert_eq!(
        (mca["rows_read"].as_i64(), mca["rows_quarantined"].as_i64()),
        (Some(11), Some(1))
    );
    for r in &dq {
        assert_eq!(
            r["ignored_columns"], "",
            "every legacy column has a home: {r}"
        );
    }
}

/// Header names of one export schema file in `fixtures/export-schemas/`.
fn schema_columns(file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(fixtures().join("export-schemas").join(file)).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["translator"]["mappings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["source"]["name"].as_str().unwrap().to_string())
        .collect()
}

/// (name, type) of every column of one export schema file.
fn schema_typed_columns(file: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(fixtures().join("export-schemas").join(file)).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["translator"]["mappings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["source"]["name"].as_str().unwrap().to_string(),
                m["source"]["type"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn every_export_schema_column_has_a_home() {
    let ws = Workspace::new();
    let dir = ws.path().join("schemas");
    std::fs::create_dir_all(&dir).unwrap();
    // (schema file, dataset the transform must read it as, with a data row?)
    let files = [
        ("focuscost_1.0-preview(v1).json", "FOCUS", true),
        ("focuscost_1.0.json", "FOCUS", true),
        ("focuscost_1.0r2.json", "FOCUS", true),
        ("focuscost_1.2-preview.json", "FOCUS", true),
        ("focuscost_1.2.json", "FOCUS", true),
        ("actualcost_c360-2025-04.json", "ActualCost (EA)", true),
        (
            "amortizedcost_c360-2025-04.json",
            "AmortizedCost (EA)",
            true,
        ),
        ("pricesheet_2023-05-01_ea.json", "PriceSheet (EA)", true),
        ("pricesheet_2023-05-01_mca.json", "PriceSheet (MCA)", true),
        (
            "reservationdetails_2023-03-01.json",
            "ReservationDetails",
            true,
        ),
        (
            "reservationrecommendations_2023-05-01_ea.json",
            "ReservationRecommendations",
            true,
        ),
        (
            "reservationrecommendations_2023-05-01_mca.json",
            "ReservationRecommendations",
            true,
        ),
        (
            "reservationtransactions_2023-05-01_ea.json",
            "ReservationTransactions",
            true,
        ),
        (
            "reservationtransactions_2023-05-01_mca.json",
            "ReservationTransactions",
            true,
        ),
    ];
    for (f, _, with_row) in files {
        // One export per schema with its exact header (and, for the non-cost datasets, one row of
        // values of each column's type): the transform reads the header like a real file's.
        let columns = schema_typed_columns(f);
        let mut text = columns
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(",")
            + "\n";
        if with_row {
            let row: Vec<&str> = columns
                .iter()
                .map(|(name, kind)| match kind.as_str() {
                    "Decimal" => "1.5",
                    "DateTimeOffset" => "2023-09-01T00:00:00Z",
                    "Boolean" => "true",
                    _ if name.eq_ignore_ascii_case("MeterId") => "m-1",
                    // Typed as text in the schemas, but numbers in real files.
                    _ if ["Units", "Cost", "Savings"]
                        .iter()
                        .any(|w| name.contains(w)) =>
                    {
                        "0"
                    }
                    _ => "text",
                })
                .collect();
            text += &(row.join(",") + "\n");
        }
        std::fs::write(dir.join(f.replace(".json", ".csv")), text).unwrap();
    }
    let p = ws.path().join("pipelines");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(
        p.join("schemas.toml"),
        exports_pipeline(&[("schemas", dir.to_str().unwrap())]),
    )
    .unwrap();
    let ws = Workspace { pipelines: p, ..ws };
    ws.ok(&["run"]);
    let dq = ws.sql("SELECT source_file, dataset, rows_written, ignored_columns FROM data_quality");
    assert_eq!(dq.len(), files.len(), "{dq:?}");
    // Only Cost Management's 1.0-preview charge id and on-demand columns have no home
    // (ListCost and ListUnitPrice carry the on-demand price since 1.0).
    let allowed = [
        "x_ChargeId",
        "x_OnDemandCost",
        "x_OnDemandCostInUsd",
        "x_OnDemandUnitPrice",
    ];
    for (f, dataset, with_row) in files {
        let stem = f.replace(".json", ".csv");
        let r = dq
            .iter()
            .find(|r| r["source_file"].as_str().unwrap().ends_with(&stem))
            .unwrap_or_else(|| panic!("{stem} not read: {dq:?}"));
        assert_eq!(r["dataset"], dataset, "{r}");
        assert_eq!(r["rows_written"], i64::from(with_row), "{r}");
        for column in r["ignored_columns"]
            .as_str()
            .unwrap()
            .split(',')
            .filter(|c| !c.is_empty())
        {
            assert!(allowed.contains(&column), "{column} of {f} is dropped");
        }
    }
    // Every FOCUS version's row arrives under the 1.2 names (1.0-preview's `UsageQuantity` and
    // `Region` included), and each legacy row as a FOCUS row.
    let focus = ws.sql(
        "SELECT x_SourceFile AS file, BilledCost, ConsumedQuantity, RegionName, \
         CAST(ChargePeriodStart AS VARCHAR) AS day FROM costs ORDER BY 1",
    );
    assert_eq!(focus.len(), 7, "{focus:?}");
    for r in &focus {
        assert_eq!(r["BilledCost"], 1.5, "{r}");
        assert!(r["day"].as_str().unwrap().starts_with("2023-09-01"), "{r}");
        if r["file"].as_str().unwrap().contains("focuscost") {
            assert_eq!(r["ConsumedQuantity"], 1.5, "{r}");
            assert_eq!(r["RegionName"], "text", "{r}");
        }
    }
    // Typed values arrive in each table, the EA and MCA column sets in one shape.
    let typed = ws.sql(
        "SELECT (SELECT SUM(ContractedUnitPrice) FROM prices) AS prices, \
                (SELECT SUM(UsedHours) FROM reservation_details) AS used_hours, \
                (SELECT SUM(RecommendedQuantity) FROM reservation_recommendations) AS recommended, \
                (SELECT COUNT(SKU) FROM reservation_recommendations) AS skus, \
                (SELECT SUM(Amount) FROM reservation_transactions) AS amount, \
                (SELECT MIN(CAST(EventDate AS VARCHAR)) FROM reservation_transactions) AS event",
    );
    let t = &typed[0];
    assert_eq!(t["prices"], 3.0, "{t}");
    assert_eq!(t["used_hours"], 1.5, "{t}");
    assert_eq!(t["recommended"], 3.0, "{t}");
    assert_eq!(t["skus"], 2, "EA `SKU` and MCA `SkuName`: {t}");
    assert_eq!(t["amount"], 3.0, "{t}");
    assert!(
        t["event"].as_str().unwrap().starts_with("2023-09-01"),
        "{t}"
    );
}

/// Run `cloudoptima demo-export` into `out`.
fn demo_export(ws: &Workspace, out: &Path, as_of: &str, run_id: &str, extra: &[&str]) {
    let mut args = vec![
        "demo-export",
        "--out",
        out.to_str().unwrap(),
        "--as-of",
        as_of,
        "--history-days",
        "40",
        "--run-id",
        run_id,
    ];
    args.extend_from_slice(extra);
    ws.ok(&args);
}

fn check(out: std::process::Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The `costs` table in a canonical text form (rounded money, sorted rows), for comparing lakes.
fn dump(ws: &Workspace, lake: &str, env: &[(&'static str, String)]) -> String {
    let query = "SELECT CAST(ChargePeriodStart AS VARCHAR) AS day, ResourceId, SkuMeter, ServiceName, \
                 SubAccountId, x_ResourceGroupName, Tags, ChargeCategory, PricingCategory, BillingCurrency, \
                 ROUND(BilledCost, 6) AS billed, ROUND(EffectiveCost, 6) AS effective, ROUND(ListCost, 6) AS list, \
                 ROUND(ConsumedQuantity, 6) AS qty, BillingPeriod, x_SourceName \
                 FROM costs ORDER BY 1, 2, 3, 11";
    let out = ws
        .cmd(&["--lake", lake, "sql", "--format", "csv", query])
        .envs(env.iter().cloned())
        .output()
        .unwrap();
    check(out.clone(), "sql");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn gzip_csv_and_parquet_exports_from_disk_and_azurite_give_identical_tables() {
    let ws = Workspace::new();
    let gz = ws.path().join("gz");
    let parquet = ws.path().join("parquet");
    demo_export(&ws, &gz, "2026-06-15", "run-1", &["--gzip"]);
    let out = Command::new(python())
        .arg(repo().join("tests/support/export_to_parquet.py"))
        .args([&gz, &parquet])
        .output()
        .unwrap();
    check(out, "export_to_parquet");
    let azurite = Azurite::start(&ws.path().join("azurite"), "exports");
    let env = azurite.env();
    for (folder, prefix) in [(&gz, "gz"), (&parquet, "parquet")] {
        let out = Command::new(python())
            .arg(repo().join("tests/support/azurite_upload.py"))
            .arg(azurite.port.to_string())
            .arg("exports")
            .arg(folder)
            .arg(format!("finops/{prefix}"))
            .output()
            .unwrap();
        check(out, "upload");
    }

    let p = ws.path().join("pipelines");
    std::fs::create_dir_all(&p).unwrap();
    let ws = Workspace {
        pipelines: p.clone(),
        ..ws
    };
    let mut dumps = Vec::new();
    for (n, location) in [
        gz.to_str().unwrap().to_string(),
        parquet.to_str().unwrap().to_string(),
        "az://exports/finops/gz".to_string(),
        "az://exports/finops/parquet".to_string(),
    ]
    .iter()
    .enumerate()
    {
        std::fs::write(
            p.join("exports.toml"),
            exports_pipeline(&[("cm", location)]),
        )
        .unwrap();
        let lake = ws.path().join(format!("lake{n}"));
        let lake = lake.to_str().unwrap();
        let out = ws
            .cmd(&["--lake", lake, "run", "--as-of", "2026-06-15"])
            .envs(env.iter().cloned())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        check(out, location);
        assert!(
            text.contains("cost totals reconcile with the sources")
                && text.contains("0 quarantined"),
            "{text}"
        );
        dumps.push((location.clone(), dump(&ws, lake, &env)));
    }
    let rows = dumps[0].1.lines().count();
    assert!(rows > 1000, "{rows} rows");
    for (location, d) in &dumps[1..] {
        assert!(
            *d == dumps[0].1,
            "{location} differs from the local gzip CSV export"
        );
    }
}

#[test]
fn overlapping_month_to_date_runs_leave_each_charge_once() {
    let ws = Workspace::new();
    let exports = ws.path().join("exports");
    // Day 10's run, then day 15's: both cover May and June to date; the later run wins.
    demo_export(&ws, &exports, "2026-06-10", "run-10", &[]);
    let p = ws.path().join("pipelines");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(
        p.join("exports.toml"),
        exports_pipeline(&[("cm", exports.to_str().unwrap())]),
    )
    .unwrap();
    let ws = Workspace { pipelines: p, ..ws };
    let rows_in = |run: &str| -> i64 {
        let mut n = 0;
        for entry in walk(&exports) {
            if entry.ends_with("manifest.json") && entry.to_string_lossy().contains(run) {
                let m: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&entry).unwrap()).unwrap();
                n += m["dataRowCount"].as_i64().unwrap();
            }
        }
        n
    };
    let june = "SELECT COUNT(*) AS n, MAX(CAST(ChargePeriodStart AS VARCHAR)) AS last FROM costs WHERE BillingPeriod = '2026-06'";

    let out = ws.ok(&["run", "--as-of", "2026-06-10"]);
    assert!(
        out.contains("cost totals reconcile with the sources"),
        "{out}"
    );
    assert_eq!(ws.count("costs"), rows_in("run-10"));

    demo_export(&ws, &exports, "2026-06-15", "run-15", &[]);
    let out = ws.ok(&["run", "--as-of", "2026-06-15"]);
    assert!(
        out.contains("cost totals reconcile with the sources"),
        "{out}"
    );
    // Both runs are in the folder; only the later one is read, and it replaces the earlier rows.
    assert_eq!(ws.count("costs"), rows_in("run-15"));
    let j = ws.sql(june);
    assert!(
        j[0]["last"].as_str().unwrap().starts_with("2026-06-14"),
        "{j:?}"
    );
    // Ingesting the same export again changes nothing.
    ws.ok(&["run", "--as-of", "2026-06-15"]);
    assert_eq!(ws.count("costs"), rows_in("run-15"));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_price_sheet_fills_the_prices_an_export_lacks() {
    let ws = Workspace::new();
    let dir = ws.path().join("ea");
    std::fs::create_dir_all(&dir).unwrap();
    let src = fixtures().join("cost-exports/EA_ActualCost_Small.csv");

    // The actual cost export without its price columns.
    let text = std::fs::read_to_string(&src).unwrap();
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader.headers().unwrap().clone();
    let blank: Vec<usize> = ["PayGPrice", "UnitPrice"]
        .iter()
        .map(|n| headers.iter().position(|h| h == *n).unwrap())
        .collect();
    let meter_at = headers.iter().position(|h| h == "MeterId").unwrap();
    let mut writer = csv::Writer::from_path(dir.join("actual.csv")).unwrap();
    writer.write_record(&headers).unwrap();
    let mut meters = Vec::new();
    for record in reader.records() {
        let mut fields: Vec<String> = record.unwrap().iter().map(str::to_string).collect();
        for i in &blank {
            fields[*i].clear();
        }
        if !meters.contains(&fields[meter_at]) {
            meters.push(fields[meter_at].clone());
        }
        writer.write_record(&fields).unwrap();
    }
    writer.flush().unwrap();

    // An EA price sheet (columns from the export schema) with, per meter, the consumption price,
    // a higher tier and a reservation price; only the first is a meter's price.
    let columns = schema_columns("pricesheet_2023-05-01_ea.json");
    let mut sheet = csv::Writer::from_path(dir.join("pricesheet.csv")).unwrap();
    sheet.write_record(&columns).unwrap();
    let price = |i: usize| 1.0 + i as f64 * 0.5;
    for (i, meter) in meters.iter().enumerate() {
        for (kind, tier, market) in [
            ("Consumption", "0", price(i)),
            ("Consumption", "100", price(i) / 2.0),
            ("ReservedInstance", "0", price(i) / 10.0),
        ] {
            let row: Vec<String> = columns
                .iter()
                .map(|c| match c.as_str() {
                    "MeterID" => meter.to_uppercase(),
                    "MarketPrice" => market.to_string(),
                    "UnitPrice" => (market * 0.8).to_string(),
                    "BasePrice" => market.to_string(),
                    "CurrencyCode" => "USD".into(),
                    "PriceType" => kind.into(),
                    "IncludedQuantity" => tier.into(),
                    "EffectiveStartDate" => "2023-09-01".into(),
                    "EffectiveEndDate" => "2023-09-30".into(),
                    "UnitOfMeasure" => "1 Hour".into(),
                    "EnrollmentNumber" => "8611537".into(),
                    _ => String::new(),
                })
                .collect();
            sheet.write_record(&row).unwrap();
        }
    }
    sheet.flush().unwrap();
    drop((writer, sheet));

    let p = ws.path().join("pipelines");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(
        p.join("ea.toml"),
        exports_pipeline(&[("ea", dir.to_str().unwrap())]),
    )
    .unwrap();
    let ws = Workspace { pipelines: p, ..ws };
    let out = ws.ok(&["run", "--as-of", "2023-10-02"]);
    assert!(
        out.contains("cost totals reconcile with the sources"),
        "{out}"
    );
    assert_eq!(ws.count("prices"), meters.len() as i64 * 3);

    let rows = ws.sql(
        "SELECT x_SkuMeterId AS meter, ListUnitPrice, ContractedUnitPrice, ListCost, PricingQuantity, \
         x_SourceChanges FROM costs",
    );
    assert_eq!(rows.len(), 11);
    for r in &rows {
        let i = meters
            .iter()
            .position(|m| m.to_lowercase() == r["meter"].as_str().unwrap())
            .unwrap();
        let list = r["ListUnitPrice"].as_f64().unwrap();
        assert!(close(list, price(i)), "consumption, first tier: {r}");
        assert!(
            close(r["ContractedUnitPrice"].as_f64().unwrap(), price(i) * 0.8),
            "{r}"
        );
        assert!(
            close(
                r["ListCost"].as_f64().unwrap(),
                list * r["PricingQuantity"].as_f64().unwrap()
            ),
            "{r}"
        );
        assert!(
            r["x_SourceChanges"]
                .as_str()
                .unwrap()
                .contains("ListUnitPrice:from-price-sheet"),
            "{r}"
        );
    }
    let dq = ws.sql("SELECT dataset, rows_written FROM data_quality ORDER BY dataset");
    assert_eq!(dq[1]["dataset"], "PriceSheet (EA)", "{dq:?}");
    assert_eq!(dq[1]["rows_written"], meters.len() as i64 * 3);
}
