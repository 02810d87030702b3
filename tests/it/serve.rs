//! `cloudoptima serve`: psql and a Python PostgreSQL driver (pg8000) sign in (SCRAM, with and
//! without TLS), list the tables, and get the same FOCUS answers as `cloudoptima sql`; DDL, COPY
//! and a wrong password are refused; a query over the time limit is stopped, the server goes on;
//! a run meanwhile is served within `refresh_seconds`.

use std::process::{Child, Command, Stdio};

use crate::support::{Workspace, free_port, python_json};

const PIPELINE: &str = r#"
name = "pg"
[[sources]]
kind = "demo"
history_days = 30
[forecast]
enabled = false
[report]
enabled = false
"#;

const PASSWORD: &str = "correct horse battery staple";

/// Runs for hours: every triple of cost rows.
const ENDLESS: &str = "SELECT SUM(a.\"EffectiveCost\" * b.\"EffectiveCost\" * c.\"EffectiveCost\") \
                       FROM costs a CROSS JOIN costs b CROSS JOIN costs c";

/// Per service: cost, as both sides compute it.
const QUERY: &str = "SELECT \"ServiceName\" AS a, ROUND(SUM(\"EffectiveCost\"), 4) AS b FROM costs \
                     GROUP BY \"ServiceName\" ORDER BY a";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn psql(port: u16, password: &str, tls: &str, args: &[&str]) -> std::process::Output {
    Command::new("psql")
        .arg(format!(
            "host=127.0.0.1 port={port} user=cloudoptima dbname=lake sslmode={tls} connect_timeout=20"
        ))
        .args(["-X", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1"])
        .args(args)
        .env("PGPASSWORD", password)
        .output()
        .expect("psql (Debian postgresql-client; ./scripts/test installs it)")
}

fn pg8000(
    port: u16,
    password: &str,
    tls: Option<&std::path::Path>,
    script: serde_json::Value,
) -> serde_json::Value {
    let port = port.to_string();
    let mut args: Vec<&std::ffi::OsStr> =
        vec![port.as_ref(), "cloudoptima".as_ref(), password.as_ref()];
    if let Some(ca) = tls {
        args.extend(["--tls".as_ref(), ca.as_os_str()]);
    }
    python_json("pg_client.py", &args, &script.to_string())
}

/// [`QUERY`]'s answer from `cloudoptima sql`.
fn per_service(ws: &Workspace) -> Vec<(String, f64)> {
    ws.sql(QUERY)
        .iter()
        .map(|r| {
            (
                r["a"].as_str().unwrap().to_string(),
                r["b"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn psql_and_a_driver_query_the_lake_read_only() {
    let ws = Workspace::with_pipelines(&[("pg.toml", PIPELINE)]);
    ws.ok(&["run", "--as-of", "2026-06-15"]);
    let expected = per_service(&ws);
    assert!(expected.len() > 3);

    // A self-signed certificate for TLS.
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
        ])
        .args(["-keyout", "key.pem", "-out", "cert.pem"])
        .current_dir(ws.path())
        .output()
        .expect("openssl");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    std::fs::write(
        ws.path().join("cloudoptima.toml"),
        "[serve]\ntls_cert = \"cert.pem\"\ntls_key = \"key.pem\"\nrefresh_seconds = 1\n\
         [query]\ntime_limit_seconds = 3\n",
    )
    .unwrap();

    // Without a password it does not start, and says how to give one.
    let out = ws.run(&["--config", "cloudoptima.toml", "serve"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CLOUDOPTIMA_SERVE_PASSWORD"));

    let port = free_port();
    let mut server = Server(
        ws.cmd(&["--config", "cloudoptima.toml", "serve", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .env("CLOUDOPTIMA_SERVE_PASSWORD", PASSWORD)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(ws.path().join("serve.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "serve did not listen");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }

    // psql over TLS: lists the tables and answers the query as `cloudoptima sql` does.
    let out = psql(port, PASSWORD, "require", &["-c", "\\dt"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for table in ["costs", "recommendations", "resources", "anomalies"] {
        assert!(
            text.lines().any(|l| l.split('|').nth(1) == Some(table)),
            "{text}"
        );
    }
    let out = psql(port, PASSWORD, "require", &["-c", QUERY]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Vec<(String, f64)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (a, b) = l.split_once('|').unwrap();
            (a.to_string(), b.parse().unwrap())
        })
        .collect();
    assert_eq!(got, expected);
    for refused in [
        "CREATE TABLE mine (a INT)",
        "DROP TABLE costs",
        "COPY costs TO '/tmp/costs.csv'",
        "INSERT INTO findings SELECT * FROM findings",
    ] {
        let out = psql(port, PASSWORD, "disable", &["-c", refused]);
        assert!(!out.status.success(), "{refused} ran");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("read-only"), "{refused}: {err}");
    }
    // A query over `[query] time_limit_seconds` is stopped with the reason; the server goes on.
    let started = std::time::Instant::now();
    let out = psql(port, PASSWORD, "require", &["-c", ENDLESS]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("time limit of 3 s"),
        "{err}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    let out = psql(port, "wrong", "require", &["-c", "SELECT 1"]);
    let log = || std::fs::read_to_string(ws.path().join("serve.log")).unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("authentication failed"));

    // A run meanwhile commits new table versions: served within `refresh_seconds` (1).
    let before = ws.count("_runs");
    ws.ok(&["run", "--as-of", "2026-06-25"]);
    let after = ws.count("_runs");
    assert!(after > before, "{before} -> {after}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let out = psql(
            port,
            PASSWORD,
            "require",
            &["-c", "SELECT COUNT(*) FROM _runs"],
        );
        let served = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if served == after.to_string() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still serving {served} runs, not {after}:\n{}",
            log()
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let expected = per_service(&ws);

    // pg8000 (extended protocol, bound parameters) with TLS verified against the certificate.
    let cert = ws.path().join("cert.pem");
    let answers = pg8000(
        port,
        PASSWORD,
        Some(&cert),
        serde_json::json!([
            {"sql": "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"},
            {"sql": QUERY},
            {"sql": "SELECT COUNT(*) FROM costs WHERE \"ServiceName\" = %s", "params": [expected[0].0]},
            {"sql": "DROP TABLE costs"},
            {"sql": "SELECT COUNT(*) FROM costs"},
            {"sql": ENDLESS},
            {"sql": "SELECT COUNT(*) FROM costs"},
        ]),
    );
    let tables: Vec<&str> = answers[0]["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("{answers} (server: {:?})\n{}", server.0.try_wait(), log()))
        .iter()
        .map(|r| r[0].as_str().unwrap())
        .collect();
    assert!(
        tables.contains(&"costs") && tables.contains(&"findings"),
        "{answers}"
    );
    let rows: Vec<(String, f64)> = answers[1]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[0].as_str().unwrap().to_string(), r[1].as_f64().unwrap()))
        .collect();
    assert_eq!(rows, expected);
    let one = ws.sql(&format!(
        "SELECT COUNT(*) AS n FROM costs WHERE \"ServiceName\" = '{}'",
        expected[0].0
    ));
    assert_eq!(
        answers[2]["rows"][0][0].as_i64(),
        one[0]["n"].as_i64(),
        "{answers}"
    );
    assert!(
        answers[3]["error"].as_str().unwrap().starts_with("25006"),
        "{answers}"
    );
    assert_eq!(answers[4]["rows"][0][0].as_i64(), Some(ws.count("costs")));
    assert!(
        answers[5]["error"]
            .as_str()
            .is_some_and(|e| e.contains("time limit of 3 s")),
        "{answers}"
    );
    assert_eq!(answers[6]["rows"][0][0].as_i64(), Some(ws.count("costs")));
    let wrong = pg8000(port, "nope", None, serde_json::json!([]));
    assert!(wrong["connect_error"].is_string(), "{wrong}");
    // Clients that went away mid-answer, errors and refusals never stopped the server.
    assert_eq!(server.0.try_wait().unwrap(), None, "{}", log());
}
