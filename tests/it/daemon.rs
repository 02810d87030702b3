//! `cloudoptima daemon`: two pipelines on second-level schedules run at their times and never
//! overlap (a slow one's ticks are skipped and logged); a `run` of the same pipeline meanwhile
//! refuses; `/metrics` parses with Prometheus' own parser; SIGTERM mid-run stops within the grace
//! period with the lake consistent; restarted, the daemon goes on.

use std::io::{Read as _, Write as _};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Workspace, free_port, python_json, repo};

const FAST: &str = r#"
name = "fast"
schedule = "*/3 * * * * *"
# Two rows of the spec's examples are quarantined: accepted here.
strict = false
[[sources]]
kind = "focus_files"
path = "input"
[rules]
enabled = false
[forecast]
enabled = false
[anomalies]
enabled = false
[report]
enabled = false
"#;

/// Takes longer than its 2-second period: most of its ticks come while it runs.
const SLOW: &str = r#"
name = "slow"
schedule = "*/2 * * * * *"
timezone = "Europe/Berlin"
[[sources]]
kind = "demo"
history_days = 40
[forecast]
enabled = false
[report]
enabled = false
"#;

const CONFIG: &str = "[daemon]\nshutdown_grace_seconds = 3\n[lake]\nlease_ttl_seconds = 10\n";

fn get(port: u16, path: &str) -> (String, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_string(), body.to_string())
}

/// The samples of `/metrics`, parsed by prometheus_client.
fn metrics(port: u16) -> Vec<serde_json::Value> {
    let (status, body) = get(port, "/metrics");
    assert!(status.contains("200"), "{status}");
    let samples = python_json("prom_parse.py", &[], &body);
    samples.as_array().expect("a list").clone()
}

fn sample(samples: &[serde_json::Value], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| s["name"] == name && labels.iter().all(|(k, v)| s["labels"][*k] == *v))
        .and_then(|s| s["value"].as_f64())
}

fn start(ws: &Workspace, port: u16, log: &std::path::Path) -> Child {
    ws.cmd(&[
        "--config",
        "cloudoptima.toml",
        "--log-format",
        "json",
        "daemon",
        "--listen",
    ])
    .arg(format!("127.0.0.1:{port}"))
    .stdout(Stdio::null())
    .stderr(std::fs::File::create(log).unwrap())
    .spawn()
    .unwrap()
}

fn wait_until(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn terminate(child: &mut Child) -> (Duration, std::process::ExitStatus) {
    let t = Instant::now();
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the daemon did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    (t.elapsed(), status)
}

/// `(pipeline, started, finished)` of every recorded run, in seconds since the epoch.
fn runs(ws: &Workspace) -> Vec<(String, f64, f64)> {
    ws.sql(
        "SELECT pipeline, CAST(date_part('epoch', started_at) AS DOUBLE) AS s, \
         CAST(date_part('epoch', finished_at) AS DOUBLE) AS f FROM _runs ORDER BY started_at",
    )
    .iter()
    .map(|r| {
        (
            r["pipeline"].as_str().unwrap().to_string(),
            r["s"].as_f64().unwrap(),
            r["f"].as_f64().unwrap(),
        )
    })
    .collect()
}

#[test]
fn daemon_runs_pipelines_on_schedule_without_overlap_and_stops_cleanly() {
    let ws = Workspace::with_pipelines(&[("fast.toml", FAST), ("slow.toml", SLOW)]);
    crate::support::copy_dir(
        &repo().join("tests/fixtures/focus-spec-examples/commitment_discount_scenarios"),
        &ws.path().join("input"),
    );
    std::fs::write(ws.path().join("cloudoptima.toml"), CONFIG).unwrap();
    // Before any run (no lake yet) `status` still shows the schedules.
    let status = String::from_utf8(ws.run(&["status"]).stdout).unwrap();
    assert!(
        status.contains("`*/2 * * * * *` Europe/Berlin, next run"),
        "{status}"
    );

    let port = free_port();
    let log = ws.path().join("daemon-1.log");
    let mut daemon = start(&ws, port, &log);
    wait_until("the endpoint", Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert_eq!(get(port, "/healthz").0, "HTTP/1.1 200 OK");
    assert!(get(port, "/nothing").0.contains("404"));

    // While the daemon runs `slow`, a `run` of it elsewhere refuses (or, between two of the
    // daemon's runs, runs on its own: either way never beside one).
    wait_until("slow running", Duration::from_secs(40), || {
        sample(
            &metrics(port),
            "cloudoptima_running",
            &[("pipeline", "slow")],
        ) == Some(1.0)
    });
    let cli = ws.run(&["--config", "cloudoptima.toml", "run", "slow"]);
    if !cli.status.success() {
        let err = String::from_utf8_lossy(&cli.stderr);
        assert!(
            err.contains("already running") && err.contains("process"),
            "{err}"
        );
    }
    wait_until("two runs of each", Duration::from_secs(90), || {
        let m = metrics(port);
        ["fast", "slow"].iter().all(|p| {
            sample(
                &m,
                "cloudoptima_runs_total",
                &[("pipeline", p), ("outcome", "succeeded")],
            )
            .is_some_and(|n| n >= 2.0)
        })
    });
    let m = metrics(port);
    for p in ["fast", "slow"] {
        let pl = [("pipeline", p)];
        assert!(
            sample(&m, "cloudoptima_next_run_timestamp_seconds", &pl).is_some(),
            "{m:?}"
        );
        assert!(
            sample(&m, "cloudoptima_seconds_since_last_success", &pl).is_some_and(|s| s >= 0.0)
        );
        assert!(
            sample(
                &m,
                "cloudoptima_stage_duration_seconds",
                &[("pipeline", p), ("stage", "transform")]
            )
            .is_some_and(|s| s > 0.0)
        );
        assert!(
            sample(
                &m,
                "cloudoptima_table_rows",
                &[("pipeline", p), ("table", "costs")]
            )
            .is_some_and(|n| n > 0.0)
        );
    }
    assert!(sample(&m, "cloudoptima_findings", &[("pipeline", "slow")]).is_some_and(|n| n > 0.0));
    assert!(
        sample(
            &m,
            "cloudoptima_skipped_runs_total",
            &[("pipeline", "slow")]
        )
        .is_some_and(|n| n > 0.0)
    );

    // SIGTERM while `slow` runs: stops within the grace period (3 s) plus the time to cancel.
    wait_until("slow running again", Duration::from_secs(40), || {
        sample(
            &metrics(port),
            "cloudoptima_running",
            &[("pipeline", "slow")],
        ) == Some(1.0)
    });
    let (took, exit) = terminate(&mut daemon);
    assert!(
        exit.success(),
        "{exit}: {}",
        std::fs::read_to_string(&log).unwrap()
    );
    assert!(took < Duration::from_secs(8), "stopping took {took:?}");
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{e} in line {l:?} of:\n{text}"))
        })
        .collect();
    let said = |message: &str, pipeline: &str| {
        lines.iter().any(|l| {
            l["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(message))
                && l["fields"]["pipeline"] == pipeline
        })
    };
    assert!(said("Skipped scheduled run(s)", "slow"), "{text}");
    assert!(said("Stage ended.", "fast"), "{text}");

    // The lake is consistent, each pipeline's runs never overlapped (CLI run included), and the
    // daemon's runs started on their ticks.
    let recorded = runs(&ws);
    for p in ["fast", "slow"] {
        let mine: Vec<_> = recorded.iter().filter(|r| r.0 == p).collect();
        assert!(mine.len() >= 2, "{recorded:?}");
        for pair in mine.windows(2) {
            assert!(pair[0].2 <= pair[1].1, "{p} overlapped: {pair:?}");
        }
    }
    let fast: Vec<_> = recorded.iter().filter(|r| r.0 == "fast").collect();
    for r in &fast[1..] {
        assert!(
            (r.1 as i64) % 3 == 0 && r.1.fract() < 0.9,
            "fast started off its tick: {r:?}"
        );
    }
    assert!(ws.count("costs") > 0);

    // Restarted, it goes on: the cancelled run released its lease, nothing is "in progress".
    let before = recorded.len();
    let log = ws.path().join("daemon-2.log");
    let mut daemon = start(&ws, port, &log);
    wait_until("the endpoint again", Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    // The last success is known from the lake before this process has run anything.
    let m = metrics(port);
    for p in ["fast", "slow"] {
        assert!(
            sample(
                &m,
                "cloudoptima_seconds_since_last_success",
                &[("pipeline", p)]
            )
            .is_some_and(|s| s > 0.0),
            "{m:?}"
        );
    }
    wait_until("more runs", Duration::from_secs(60), || {
        runs(&ws).len() >= before + 2
    });
    let (_, exit) = terminate(&mut daemon);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(exit.success(), "{exit}: {text}");
    assert!(!text.contains("in progress elsewhere"), "{text}");
    assert!(!text.contains("panicked"), "{text}");
    assert!(
        !ws.path()
            .join("lake/_staging")
            .read_dir()
            .is_ok_and(|mut d| d.next().is_some())
    );
}
