//! Retention: replaced Delta files stay for `[lake] retention_hours` (readers of older versions
//! need them), then `vacuum` (and each run) deletes them, after which a plain Parquet reader of a
//! table's folder counts each row once — while Delta readers see the same table throughout.

use crate::support::{Workspace, python, repo};

const PIPELINE: &str = r#"
name = "keep"
[[sources]]
kind = "demo"
history_days = 45
[forecast]
enabled = false
[anomalies]
enabled = false
[report]
enabled = false
"#;

/// `(sum of EffectiveCost, rows)` of `lake/costs` read by `script` (a plain Parquet read, or the
/// Delta log replayed).
fn read(ws: &Workspace, script: &str) -> (f64, i64) {
    let out = std::process::Command::new(python())
        .arg(repo().join("tests/support").join(script))
        .arg(ws.path().join("lake/costs"))
        .arg("EffectiveCost")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (v["sum"].as_f64().unwrap(), v["rows"].as_i64().unwrap())
}

#[test]
fn vacuum_deletes_replaced_files_so_a_plain_parquet_read_counts_each_row_once() {
    let ws = Workspace::with_pipelines(&[("keep.toml", PIPELINE)]);
    ws.ok(&["run", "--as-of", "2026-06-15"]);
    ws.ok(&["run", "--as-of", "2026-06-15"]);
    let lake = ws.sql("SELECT SUM(\"EffectiveCost\") AS v, COUNT(*) AS n FROM costs");
    let (sum, rows) = (
        lake[0]["v"].as_f64().unwrap(),
        lake[0]["n"].as_i64().unwrap(),
    );

    // Within the retention period the replaced files stay: a plain reader double counts.
    let (plain_sum, plain_rows) = read(&ws, "parquet_sum.py");
    assert_eq!(
        plain_rows,
        2 * rows,
        "the first run's files are kept for a week"
    );
    assert!(
        (plain_sum - 2.0 * sum).abs() < 1e-6 * sum.abs(),
        "{plain_sum} vs {sum}"
    );

    // A dry run lists them and deletes nothing.
    let dry = ws.ok(&["vacuum", "--retention-hours", "0", "--dry-run"]);
    assert!(
        dry.contains("would be deleted") && dry.contains("costs"),
        "{dry}"
    );
    assert_eq!(read(&ws, "parquet_sum.py").1, plain_rows);

    let out = ws.ok(&["vacuum", "--retention-hours", "0"]);
    assert!(out.contains("costs") && out.contains("deleted"), "{out}");
    let (plain_sum, plain_rows) = read(&ws, "parquet_sum.py");
    assert_eq!(plain_rows, rows);
    assert!(
        (plain_sum - sum).abs() < 1e-6 * sum.abs(),
        "{plain_sum} vs {sum}"
    );
    // Delta readers see the same table, and the lake goes on.
    let (delta_sum, delta_rows) = read(&ws, "delta_sum.py");
    assert_eq!(delta_rows, rows);
    assert!((delta_sum - sum).abs() < 1e-6 * sum.abs());
    assert_eq!(ws.count("costs"), rows);
    // (This run also checks the logs: `--log-format json` writes one JSON object a line, and text
    // logs to a pipe carry no colour codes.)
    let out = ws.run(&["-v", "--log-format", "json", "run", "--as-of", "2026-06-15"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["level"] == "INFO" && l["fields"]["message"] == "Vacuumed replaced files."),
        "{stderr}"
    );
    assert_eq!(ws.count("costs"), rows);
    let text = ws.run(&["-v", "run", "--no-extract", "--as-of", "2026-06-15"]);
    let text = String::from_utf8_lossy(&text.stderr);
    assert!(text.contains("Committed table write."), "{text}");
    assert!(!text.contains('\u{1b}'), "colour codes on a pipe: {text:?}");
    // Vacuumed twice in a row, the second finds nothing left.
    ws.ok(&["vacuum", "--retention-hours", "0"]);
    let again = ws.ok(&["vacuum", "--retention-hours", "0"]);
    assert!(again.starts_with("0 file(s)"), "{again}");
}
