//! Who may write what: runs racing on a new lake never double a table, a run that stalled past its
//! lease writes and sends nothing more, pipelines sharing a run date keep their own findings and
//! forecasts, read-only commands change nothing, and the binary needs nothing but itself.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::support::{Workspace, files_with_ext};

const AS_OF: &str = "2026-06-15";

/// Every table a demo run writes.
const TABLES: [&str; 8] = [
    "costs",
    "resources",
    "metrics",
    "recommendations",
    "findings",
    "forecasts",
    "quarantine",
    "data_quality",
];

/// `cloudoptima` run from `dir` with no flags at all (no pipelines, rules or report folder given).
fn bare(bin: &Path, dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(bin)
        .current_dir(dir)
        .args(args)
        .env_remove("CLOUDOPTIMA_CONFIG")
        .env_remove("CLOUDOPTIMA_LAKE")
        .output()
        .expect("binary runs")
}

fn counts(bin: &Path, dir: &Path) -> BTreeMap<&'static str, i64> {
    TABLES
        .iter()
        .map(|table| {
            let out = bare(
                bin,
                dir,
                &[
                    "sql",
                    "--format",
                    "csv",
                    &format!("SELECT COUNT(*) FROM {table}"),
                ],
            );
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "{table}: {text}");
            let n = text.lines().nth(1).unwrap().trim().parse().unwrap();
            (*table, n)
        })
        .collect()
}

#[test]
fn the_binary_alone_runs_the_demo_and_racing_runs_never_double_a_table() {
    // The binary, copied alone into an empty folder, runs the demo pipeline end to end: its
    // rules, views, report queries and demo data are inside it.
    let alone = tempfile::tempdir().unwrap();
    let bin = alone.path().join("cloudoptima");
    std::fs::copy(env!("CARGO_BIN_EXE_cloudoptima"), &bin).unwrap();
    let out = bare(&bin, alone.path(), &["run", "--as-of", AS_OF]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("succeeded"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!files_with_ext(&alone.path().join("out/reports"), "pdf").is_empty());
    assert!(!files_with_ext(&alone.path().join("out/outbox"), "eml").is_empty());
    let one_run = counts(&bin, alone.path());
    assert!(
        one_run.values().filter(|n| **n > 0).count() >= 6,
        "{one_run:?}"
    );

    // Two runs started together on an empty lake, several times: whichever commits first stands,
    // the other fails cleanly (exit 1, its failure recorded) or replaces the same rows; no table
    // ever holds both runs' rows.
    for round in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let spawn = || {
            Command::new(&bin)
                .current_dir(dir.path())
                .args(["run", "--as-of", AS_OF])
                .env_remove("CLOUDOPTIMA_CONFIG")
                .env_remove("CLOUDOPTIMA_LAKE")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
        let codes: Vec<Option<i32>> = outs.iter().map(|o| o.status.code()).collect();
        let log: String = outs
            .iter()
            .map(|o| {
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                )
            })
            .collect();
        assert!(
            codes.contains(&Some(0)),
            "round {round}: no run succeeded: {codes:?}\n{log}"
        );
        assert!(
            codes.iter().all(|c| matches!(c, Some(0 | 1))),
            "round {round}: a run did not end cleanly: {codes:?}\n{log}"
        );
        assert!(!log.contains("panicked"), "round {round}:\n{log}");
        assert_eq!(
            counts(&bin, dir.path()),
            one_run,
            "round {round}: tables differ from one run's ({codes:?})\n{log}"
        );
    }
}

#[test]
fn a_run_stalled_past_its_lease_stops_and_the_run_that_took_over_stands() {
    let ws = Workspace::new();
    std::fs::write(
        ws.path().join("cloudoptima.toml"),
        "[lake]\nlease_ttl_seconds = 3\n",
    )
    .unwrap();
    let args = ["--config", "cloudoptima.toml", "run", "--as-of", AS_OF];
    let stalled = ws
        .cmd(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = stalled.id() as i32;
    // Once it holds its lease and is into its work, the process stalls (as under a suspended VM
    // or a long pause) for longer than the lease's time to live.
    let leases = ws.path().join("lake/_leases/pipeline-daily");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !leases.read_dir().is_ok_and(|mut d| d.next().is_some()) {
        assert!(std::time::Instant::now() < deadline, "no lease taken");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(1500));
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    std::thread::sleep(std::time::Duration::from_secs(5));
    // Another run takes the expired lease over and runs the date whole.
    let took_over = ws.ok(&args);
    assert!(took_over.contains("succeeded"), "{took_over}");
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGCONT) };
    let out = stalled.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("lost the lease `pipeline-daily`"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Only the run that took over is recorded, and the report went out once.
    let runs = ws.sql("SELECT status FROM _runs");
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["status"], "succeeded");
    assert_eq!(
        files_with_ext(&ws.path().join("out/outbox"), "eml").len(),
        1
    );
}

#[test]
fn pipelines_sharing_a_date_keep_their_own_findings_and_forecasts() {
    let ws = Workspace::with_pipelines(&[
        ("alpha.toml", "name = \"alpha\"\n"),
        (
            "beta.toml",
            "name = \"beta\"\n[rules]\nselect = [\"storage\"]\n[forecast]\nhorizon_days = 30\n",
        ),
    ]);
    ws.ok(&["run", "--as-of", AS_OF]);
    let per_pipeline = |table: &str| -> BTreeMap<String, (i64, String)> {
        ws.sql(&format!(
            "SELECT pipeline, COUNT(*) AS n, MIN(COALESCE({id}, '')) AS run_id FROM {table} GROUP BY pipeline",
            id = if table == "findings" { "rule_id" } else { "run_id" }
        ))
        .iter()
        .map(|r| {
            (
                r["pipeline"].as_str().unwrap().to_string(),
                (r["n"].as_i64().unwrap(), r["run_id"].as_str().unwrap().to_string()),
            )
        })
        .collect()
    };
    let before: Vec<_> = ["recommendations", "findings", "forecasts"]
        .iter()
        .map(|t| (*t, per_pipeline(t)))
        .collect();
    for (table, rows) in &before {
        assert_eq!(rows.len(), 2, "{table}: {rows:?}");
        let (alpha, beta) = (&rows["alpha"], &rows["beta"]);
        assert!(alpha.0 > beta.0 && beta.0 > 0, "{table}: {rows:?}");
    }
    // Each forecasts the same scopes, for its own horizon.
    let totals = ws.sql(
        "SELECT pipeline, COUNT(*) AS n FROM forecasts WHERE scope = 'total' GROUP BY 1 ORDER BY 1",
    );
    assert_eq!(
        (totals[0]["n"].as_i64(), totals[1]["n"].as_i64()),
        (Some(90), Some(30))
    );
    let forecasts = &before[2].1;
    assert_eq!(forecasts["alpha"].0, 3 * forecasts["beta"].0);

    // Re-running alpha replaces alpha's rows only: beta's are the same rows of the same run.
    ws.ok(&["run", "alpha", "--as-of", AS_OF]);
    for (table, rows) in &before {
        let after = per_pipeline(table);
        assert_eq!(after["beta"], rows["beta"], "{table}: beta's rows changed");
        assert_eq!(after["alpha"].0, rows["alpha"].0, "{table}: alpha's rows");
        if *table != "findings" {
            assert_ne!(
                after["alpha"].1, rows["alpha"].1,
                "{table}: alpha not re-run"
            );
        }
    }
    // Each pipeline's report lists its own findings only.
    let recs = ws.sql("SELECT COUNT(*) AS n FROM recommendations WHERE pipeline = 'beta'");
    assert_eq!(recs[0]["n"].as_i64(), Some(before[0].1["beta"].0));
}

#[test]
fn read_only_commands_need_a_lake_and_sql_exit_codes_say_whose_fault() {
    let ws = Workspace::with_pipelines(&[(
        "ingest.toml",
        "name = \"ingest\"\n[rules]\nenabled = false\n[forecast]\nenabled = false\n[report]\nenabled = false\n",
    )]);
    // A mistyped lake path is an error, and nothing is created there.
    for args in [
        ["--lake", "./lkae", "sql", "SELECT 1"].as_slice(),
        ["--lake", "./lkae", "status"].as_slice(),
    ] {
        let out = ws.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("no lake at `./lkae`"), "{stderr}");
        assert!(
            !ws.path().join("lkae").exists(),
            "{args:?} created the lake"
        );
    }

    ws.ok(&["run", "--as-of", AS_OF]);
    // A bad query is the user's to fix: exit 2.
    let out = ws.run(&["sql", "SELECT no_such_column FROM costs"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A data file the lake lists but the disk lost is not: exit 1.
    let costs = ws.path().join("lake/costs");
    let mut parquet = Vec::new();
    let mut stack = vec![costs];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "parquet") {
                parquet.push(p);
            }
        }
    }
    assert!(!parquet.is_empty());
    for p in &parquet {
        std::fs::remove_file(p).unwrap();
    }
    let out = ws.run(&["sql", "SELECT SUM(BilledCost) FROM costs"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error:"), "{stderr}");
}
