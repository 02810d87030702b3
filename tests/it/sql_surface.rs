//! SQL as users write it: FOCUS use-case-style queries (unquoted mixed-case identifiers such as
//! `BillingAccountID`, `YEAR()`, `MONTH()`, `DATE()`, `strftime`) give the same results through
//! `cloudoptima sql` as through DuckDB on the same Parquet files; a query over its memory or time
//! limit stops with a clear error and exit 1 while the process stays near its limit.

use crate::support::{Workspace, python, repo};

/// Written the way the FOCUS use cases and their readers write SQL: identifiers unquoted and in
/// whatever case, the date functions DuckDB and PostgreSQL users know.
const QUERIES: &[&str] = &[
    "SELECT DATE(BillingPeriodStart) AS BillingPeriod, SubAccountID, SUM(BilledCost) AS TotalBilledCost \
     FROM costs GROUP BY DATE(BillingPeriodStart), SubAccountID ORDER BY 1, 2",
    "SELECT YEAR(ChargePeriodStart) AS Year, MONTH(ChargePeriodStart) AS Month, SUM(EffectiveCost) AS Cost \
     FROM costs WHERE ChargeCategory = 'Usage' GROUP BY YEAR(ChargePeriodStart), MONTH(ChargePeriodStart) \
     ORDER BY 1, 2",
    "SELECT ServiceCategory, ServiceName, SUM(EffectiveCost) AS Cost FROM costs \
     GROUP BY ServiceCategory, ServiceName ORDER BY Cost DESC, ServiceName LIMIT 10",
    "SELECT BillingAccountID, InvoiceID, BillingCurrency, SUM(BilledCost) AS InvoiceTotal FROM costs \
     GROUP BY BillingAccountID, InvoiceID, BillingCurrency ORDER BY 1, 2, 3",
    "SELECT DATE(ChargePeriodStart) AS Day, SUM(BilledCost) AS DailyCost FROM costs \
     WHERE ChargePeriodStart >= DATE '2026-06-01' AND ChargePeriodStart < DATE '2026-06-08' \
     GROUP BY DATE(ChargePeriodStart) ORDER BY Day",
    "SELECT CommitmentDiscountID, CommitmentDiscountStatus, SUM(EffectiveCost) AS Cost, \
     SUM(ListCost - EffectiveCost) AS Savings FROM costs WHERE CommitmentDiscountID IS NOT NULL \
     GROUP BY CommitmentDiscountID, CommitmentDiscountStatus ORDER BY 1, 2",
    "SELECT RegionID, RegionName, SUM(EffectiveCost) AS Cost, COUNT(DISTINCT ResourceID) AS Resources \
     FROM costs GROUP BY RegionID, RegionName ORDER BY Cost DESC, RegionID",
    "SELECT strftime(ChargePeriodStart, '%Y-%m') AS Month, SUM(ListCost) - SUM(EffectiveCost) AS Savings \
     FROM costs GROUP BY strftime(ChargePeriodStart, '%Y-%m') ORDER BY Month",
    "SELECT DAY(ChargePeriodStart) AS DayOfMonth, COUNT(*) AS Charges FROM costs \
     WHERE YEAR(ChargePeriodStart) = 2026 AND MONTH(ChargePeriodStart) = 3 GROUP BY 1 ORDER BY 1",
    "SELECT CAST(date_trunc('month', ChargePeriodStart) AS DATE) AS Month, ProviderName, \
     SUM(EffectiveCost) AS Cost FROM costs GROUP BY 1, 2 ORDER BY 1, 2",
    "SELECT c.ResourceID, c.ResourceName, SUM(c.EffectiveCost) AS Cost FROM costs c \
     WHERE c.ResourceID IS NOT NULL GROUP BY c.ResourceID, c.ResourceName \
     ORDER BY Cost DESC, c.ResourceID LIMIT 5",
];

/// A CSV cell and a DuckDB value agree: numbers within rounding, text exactly, empty is NULL.
fn same(ours: &str, theirs: &serde_json::Value) -> bool {
    match theirs {
        serde_json::Value::Null => ours.is_empty(),
        serde_json::Value::Number(n) => {
            let (a, b) = (ours.parse::<f64>().ok(), n.as_f64());
            matches!((a, b), (Some(a), Some(b)) if (a - b).abs() <= 1e-6 + 1e-9 * b.abs())
        }
        serde_json::Value::String(s) => ours == s,
        other => format!("{other}") == ours,
    }
}

#[test]
fn focus_use_case_queries_give_duckdbs_results() {
    let ws = Workspace::new();
    ws.ok(&["run", "--as-of", "2026-06-15"]);

    let mut duck = std::process::Command::new(python())
        .arg(repo().join("tests/support/duckdb_query.py"))
        .arg(ws.path().join("lake/costs"))
        .arg("costs")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python with duckdb");
    {
        use std::io::Write;
        let mut stdin = duck.stdin.take().unwrap();
        stdin
            .write_all(serde_json::to_string(QUERIES).unwrap().as_bytes())
            .unwrap();
    }
    let out = duck.wait_with_output().unwrap();
    assert!(out.status.success(), "duckdb failed");
    let expected: Vec<Vec<Vec<serde_json::Value>>> = serde_json::from_slice(&out.stdout).unwrap();

    for (query, want) in QUERIES.iter().zip(&expected) {
        let csv = ws.ok(&["sql", "--format", "csv", query]);
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let got: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect();
        assert!(
            !want.is_empty(),
            "the query finds rows in the demo: {query}"
        );
        assert_eq!(got.len(), want.len(), "row count of {query}\n{csv}");
        for (row, (g, w)) in got.iter().zip(want).enumerate() {
            assert_eq!(g.len(), w.len(), "columns of {query}");
            for (a, b) in g.iter().zip(w) {
                assert!(
                    same(a, b),
                    "{query}\nrow {row}: cloudoptima {g:?}, DuckDB {w:?}"
                );
            }
        }
    }
}

/// Run `args` and return (exit code, stderr, peak resident memory in MiB) of that process alone.
// The child is reaped by `wait4` below, which also gives its peak memory.
#[allow(clippy::zombie_processes)]
fn run_measured(ws: &Workspace, args: &[&str]) -> (i32, String, i64) {
    let child = ws
        .cmd(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut stderr = child.stderr.unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut s).unwrap();
        s
    });
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, whose id we hold.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (code, reader.join().unwrap(), usage.ru_maxrss / 1024)
}

#[test]
fn queries_over_their_memory_or_time_limit_stop_with_a_clear_error() {
    let ws = Workspace::new();
    ws.ok(&["run", "--as-of", "2026-06-15"]);
    std::fs::create_dir_all(ws.path().join("config")).unwrap();
    std::fs::write(
        ws.path().join("config/cloudoptima.toml"),
        "[query]\nmemory_limit_mb = 256\ntime_limit_seconds = 3\n",
    )
    .unwrap();

    // A cross join of the cost table with itself: about 700 million wide rows.
    let (code, stderr, peak) = run_measured(
        &ws,
        &[
            "sql",
            "SELECT a.*, b.\"Tags\" FROM costs a CROSS JOIN costs b",
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("memory limit of 256 MiB"), "{stderr}");
    // The limit is on what the query adds to the process (about 100 MiB before it starts), checked
    // every 20 ms; unchecked it grows past 2 GiB.
    assert!(peak < 256 + 400, "peak resident memory {peak} MiB");

    // One value of two billion characters is refused before it is built.
    let (code, stderr, peak) =
        run_measured(&ws, &["sql", "SELECT length(repeat('x', 2000000000))"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("repeat"), "{stderr}");
    assert!(peak < 400, "peak resident memory {peak} MiB");

    // A recursive query that never ends is stopped at the time limit.
    let started = std::time::Instant::now();
    let (code, stderr, _) = run_measured(
        &ws,
        &[
            "sql",
            "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT count(*) FROM t",
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("time limit of 3 s"), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
}
