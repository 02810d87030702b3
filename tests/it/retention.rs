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

/// Bytes of the files under `dir`, leaving out the landing records (`_runs`, a few KB a run).
fn landed_bytes(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if path.is_dir() && entry.file_name() != "_runs" {
            total += landed_bytes(&path);
        } else if path.is_file() {
            total += entry.metadata().unwrap().len();
        }
    }
    total
}

#[test]
fn unchanged_files_are_not_landed_again_and_dead_runs_leave_nothing() {
    let ws = Workspace::with_pipelines(&[("keep.toml", PIPELINE)]);
    let landing = ws.path().join("lake/landing");
    ws.ok(&["run", "--as-of", "2026-06-15"]);
    let first = landed_bytes(&landing);
    assert!(first > 1_000_000, "{first}");
    ws.ok(&["run", "--as-of", "2026-06-15"]);
    assert_eq!(landed_bytes(&landing), first, "the same files landed twice");
    // The second run's record points at the first run's files; a replay of it still works.
    let runs = ws.sql("SELECT run_id FROM _runs ORDER BY started_at");
    let second = runs[1]["run_id"].as_str().unwrap();
    ws.ok(&["run", "--replay", second]);

    // A run killed part-way left its staging folder and landing files and no record; another
    // pipeline's run may be in progress (its files stay).
    let dead = "keep-20260101T000000Z-abcd";
    let alive = "other-20260101T000000Z-abcd";
    for run in [dead, alive] {
        std::fs::create_dir_all(ws.path().join("lake/_staging").join(run)).unwrap();
        let folder = landing.join("demo/costs").join(run);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("focuscost_2026-06.csv"), "half a file").unwrap();
    }
    // While another process holds the pipeline's lease, a run refuses (or waits, with --wait).
    let lease = ws.path().join("lake/_leases/pipeline-keep");
    std::fs::create_dir_all(&lease).unwrap();
    let until = chrono::Utc::now() + chrono::Duration::seconds(60);
    std::fs::write(
        lease.join("00000000000000000099.json"),
        serde_json::json!({"holder": "run elsewhere", "expires_at": until, "released": false})
            .to_string(),
    )
    .unwrap();
    let busy = ws.run(&["run", "--as-of", "2026-06-15", "--wait", "2"]);
    assert_eq!(busy.status.code(), Some(1));
    let err = String::from_utf8_lossy(&busy.stderr);
    assert!(
        err.contains("already running") && err.contains("run elsewhere"),
        "{err}"
    );
    assert!(ws.path().join("lake/_staging").join(dead).exists());
    // Once it expired (its holder died), the next run takes over and cleans up.
    std::fs::write(
        lease.join("00000000000000000100.json"),
        serde_json::json!({"holder": "run elsewhere", "expires_at": chrono::Utc::now(), "released": false})
            .to_string(),
    )
    .unwrap();
    ws.ok(&["run", "--as-of", "2026-06-15"]);
    assert!(!ws.path().join("lake/_staging").join(dead).exists());
    assert!(!landing.join("demo/costs").join(dead).exists());
    assert!(ws.path().join("lake/_staging").join(alive).exists());
    assert!(landing.join("demo/costs").join(alive).exists());
}
