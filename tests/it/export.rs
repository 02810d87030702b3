//! `export` for BI tools: what DuckDB reads back from the hive-partitioned files (local disk, and
//! Azurite downloaded with the Azure SDK) equals the Delta table, by partition, after several runs
//! and a vacuum; odd partition values (NULL, empty, `/`, `=`, `%`, non-ASCII) survive the trip.

use crate::support::{Azurite, Workspace, python_json};

const PIPELINE: &str = r#"
name = "bi"
[[sources]]
kind = "demo"
history_days = 45
[forecast]
enabled = false
[report]
enabled = false
[[exports]]
to = "bi"
tables = ["costs", "recommendations"]
"#;

/// Per billing period: rows and cost, as the lake has them.
const LAKE_COSTS: &str = "SELECT BillingPeriod AS a, COUNT(*) AS b, ROUND(SUM(EffectiveCost), 6) AS c \
                          FROM costs GROUP BY 1 ORDER BY 1";
const ABC: [&str; 3] = ["a", "b", "c"];
const HIVE_COSTS: &str = "SELECT CAST(BillingPeriod AS VARCHAR), COUNT(*), ROUND(SUM(EffectiveCost), 6) FROM t GROUP BY 1 ORDER BY 1";

/// A query export whose partition column holds every awkward value.
const ODD: &str = "SELECT x_ResourceGroupName AS rg, CASE WHEN ServiceName LIKE 'V%' THEN NULL \
                   WHEN ServiceName LIKE 'L%' THEN '' ELSE ServiceName || ' / ä&=?%#' END AS svc, \
                   SUM(EffectiveCost) AS cost FROM costs GROUP BY 1, 2";

/// DuckDB's answers to `queries` over the export at `location` (a folder, or `azurite:…`).
fn hive(location: &str, format: &str, queries: &[&str]) -> Vec<Vec<Vec<serde_json::Value>>> {
    let answers = python_json(
        "hive_read.py",
        &[location.as_ref(), format.as_ref()],
        &serde_json::to_string(queries).unwrap(),
    );
    serde_json::from_value(answers).unwrap()
}

/// The lake's rows for `sql` as lists of values in the order of `columns`, comparable with
/// [`hive`]'s (the JSON output leaves NULL columns out).
fn lake_rows(ws: &Workspace, sql: &str, columns: &[&str]) -> Vec<Vec<serde_json::Value>> {
    ws.sql(sql)
        .into_iter()
        .map(|row| {
            columns
                .iter()
                .map(|c| row.get(*c).cloned().unwrap_or(serde_json::Value::Null))
                .collect()
        })
        .collect()
}

#[test]
fn exports_read_by_duckdb_equal_the_lake_after_runs_and_vacuum() {
    let ws = Workspace::with_pipelines(&[("bi.toml", PIPELINE)]);
    ws.ok(&["run", "--as-of", "2026-06-14"]);
    let out = ws.ok(&["run", "--as-of", "2026-06-15"]);
    assert!(
        out.contains("export") && out.contains("2 table(s) to bi"),
        "{out}"
    );
    let bi = ws.path().join("bi");
    let marker: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bi.join("costs/_SUCCESS")).unwrap()).unwrap();
    let lake = lake_rows(&ws, LAKE_COSTS, &ABC);
    assert!(lake.len() >= 2, "{lake:?}");
    let total: i64 = lake.iter().map(|r| r[1].as_i64().unwrap()).sum();
    assert_eq!(marker["rows"].as_i64().unwrap(), total, "{marker}");
    assert_eq!(
        hive(
            &bi.join("costs").display().to_string(),
            "parquet",
            &[HIVE_COSTS]
        )[0],
        lake
    );
    let findings = ws.count("recommendations");
    assert!(findings > 0);
    assert_eq!(
        hive(
            &bi.join("recommendations").display().to_string(),
            "parquet",
            &["SELECT COUNT(*) FROM t"]
        )[0][0][0]
            .as_i64(),
        Some(findings)
    );

    // After a vacuum and a third run the export still equals the table (no file twice, no stale
    // partition), and the staging folder is gone.
    ws.ok(&["vacuum", "--retention-hours", "0"]);
    ws.ok(&["run", "--as-of", "2026-06-15"]);
    assert_eq!(
        hive(
            &bi.join("costs").display().to_string(),
            "parquet",
            &[HIVE_COSTS]
        )[0],
        lake_rows(&ws, LAKE_COSTS, &ABC)
    );
    let leftovers: Vec<_> = std::fs::read_dir(&bi)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // A query, as CSV, partitioned by a column of awkward values.
    let out = ws.ok(&[
        "export",
        "--to",
        "bi",
        "--format",
        "csv",
        "--query",
        ODD,
        "--name",
        "odd",
        "--partition-by",
        "svc",
    ]);
    assert!(out.contains("from costs@v"), "{out}");
    let duck = hive(
        &bi.join("odd").display().to_string(),
        "csv",
        &["SELECT svc, COUNT(*), ROUND(SUM(cost), 6) FROM t GROUP BY 1 ORDER BY 1 NULLS LAST"],
    );
    let lake = lake_rows(
        &ws,
        &format!(
            "SELECT CASE WHEN svc = '' THEN NULL ELSE svc END AS a, COUNT(*) AS b, ROUND(SUM(cost), 6) AS c \
             FROM ({ODD}) GROUP BY 1 ORDER BY 1 NULLS LAST"
        ),
        &ABC,
    );
    assert_eq!(duck[0], lake);
    assert!(lake.iter().any(|r| r[0].is_null()));
    assert!(
        lake.iter()
            .any(|r| r[0].as_str().is_some_and(|s| s.contains("/ ä&=?%#")))
    );

    // Mistakes are named before anything is written.
    let bad = ws.run(&["export", "cost", "--to", "bi"]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("`cost`") && err.contains("costs"), "{err}");
    let bad = ws.run(&[
        "export",
        "--to",
        "bi",
        "--query",
        "DROP TABLE costs",
        "--name",
        "x",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("read-only"));
}

#[test]
fn exports_to_blob_storage_replace_the_previous_export_whole() {
    let ws = Workspace::with_pipelines(&[("bi.toml", PIPELINE)]);
    let azurite = Azurite::start(&ws.path().join("azurite"), "exports");
    ws.ok(&["run", "--as-of", "2026-06-15"]);
    let export = |args: &[&str]| {
        let out = ws
            .cmd(&[&["export", "--to", "az://exports/finops bi"], args].concat())
            .envs(azurite.env())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let location = format!("azurite:{}/exports/finops bi/costs", azurite.port);
    export(&["costs"]);
    assert_eq!(
        hive(&location, "parquet", &[HIVE_COSTS])[0],
        lake_rows(&ws, LAKE_COSTS, &ABC)
    );
    // A second export of a changed table replaces the first: no file of the old one is left.
    ws.ok(&["run", "--as-of", "2026-06-16"]);
    ws.ok(&["vacuum", "--retention-hours", "0"]);
    export(&["costs"]);
    export(&["--query", ODD, "--name", "odd", "--partition-by", "svc"]);
    assert_eq!(
        hive(&location, "parquet", &[HIVE_COSTS])[0],
        lake_rows(&ws, LAKE_COSTS, &ABC)
    );
    let odd = hive(
        &format!("azurite:{}/exports/finops bi/odd", azurite.port),
        "parquet",
        &["SELECT COUNT(*), ROUND(SUM(cost), 6) FROM t"],
    );
    let lake = lake_rows(
        &ws,
        &format!("SELECT COUNT(*) AS a, ROUND(SUM(cost), 6) AS b FROM ({ODD})"),
        &ABC[..2],
    );
    assert_eq!(odd[0], lake);
}
