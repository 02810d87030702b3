//! Anomalies, budgets and alerts end to end: the demo's planted spike and level shift are found with
//! their causing resources, its budget is forecast over, and the alerts reach a real HTTP server
//! (answering as Teams Workflows, Slack and a signature-checking webhook do) and a real SMTP
//! server; failing channels are retried, reported, and do not stop the run's other stages; a second
//! run sends nothing twice.

use std::ffi::OsStr;

use chrono::NaiveDate;
use cloudoptima::extract::demo::{DemoSpec, DemoTenant};

use crate::support::{Served, Workspace, files_with_ext};

const PIPELINE: &str = r#"
name = "watch"
[[sources]]
kind = "demo"
history_days = 70
[rules]
enabled = false
[forecast]
enabled = false
[[budgets]]
name = "tenant-monthly"
scope = "total"
amount = 10000
currency = "USD"
period = "month"
[[budgets]]
name = "data-quarter"
scope = "subscription:contoso-data"
amount = 1000000
currency = "USD"
period = "quarter"
[[alerts]]
channel = "teams"
[[alerts]]
channel = "slack"
kinds = ["anomaly", "spike"]
[[alerts]]
channel = "hook"
[[alerts]]
channel = "mail"
kinds = ["budget"]
[[alerts]]
channel = "slow"
[[alerts]]
channel = "broken"
"#;

const TOKEN: &str = "tok-8d1f0b7c2e";
const KEY: &str = "signing-5a9e3c";

fn log(port: u16) -> Vec<serde_json::Value> {
    let text = std::process::Command::new(crate::support::python())
        .args([
            "-c",
            &format!("import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:{port}/_log').read().decode())"),
        ])
        .output()
        .unwrap();
    serde_json::from_slice(&text.stdout).expect("the sink's log")
}

#[test]
fn planted_anomalies_and_budget_are_found_and_alerts_arrive_once() {
    let web = Served::start(
        "webhook_sink.py",
        &[
            OsStr::new("--key"),
            OsStr::new(KEY),
            OsStr::new("--fail"),
            OsStr::new("/slack/finops:1"),
            OsStr::new("--fail"),
            OsStr::new("/hook/broken:1000"),
            OsStr::new("--hang"),
            OsStr::new("/teams/slow"),
        ],
    );
    let ws = Workspace::with_pipelines(&[("watch.toml", PIPELINE)]);
    let inbox = ws.path().join("inbox");
    let smtp = Served::start("smtp_sink.py", &[inbox.as_os_str()]);
    let config = ws.path().join("cloudoptima.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[smtp]
host = "127.0.0.1"
port = {smtp}
tls = "none"
from = "cloudoptima@example.com"

[channels.teams]
kind = "teams"
url = "${{ALERT_TEAMS_URL}}"
[channels.slack]
kind = "slack"
url = "${{ALERT_SLACK_URL}}"
[channels.hook]
kind = "webhook"
url = "${{ALERT_HOOK_URL}}"
signing_key = "${{ALERT_HOOK_KEY}}"
[channels.mail]
kind = "email"
to = ["finops@example.com"]
[channels.slow]
kind = "teams"
url = "${{ALERT_SLOW_URL}}"
timeout_secs = 1
attempts = 2
[channels.broken]
kind = "webhook"
url = "${{ALERT_BROKEN_URL}}"
signing_key = "${{ALERT_HOOK_KEY}}"
"#,
            smtp = smtp.port
        ),
    )
    .unwrap();
    let base = format!("http://127.0.0.1:{}", web.port);
    let run = || {
        ws.cmd(&[
            "--config",
            config.to_str().unwrap(),
            "run",
            "--as-of",
            "2026-06-15",
        ])
        .env(
            "ALERT_TEAMS_URL",
            format!("{base}/teams/finops?sig={TOKEN}"),
        )
        .env("ALERT_SLACK_URL", format!("{base}/slack/finops?t={TOKEN}"))
        .env("ALERT_HOOK_URL", format!("{base}/hook/ops?t={TOKEN}"))
        .env("ALERT_BROKEN_URL", format!("{base}/hook/broken?t={TOKEN}"))
        .env("ALERT_SLOW_URL", format!("{base}/teams/slow?t={TOKEN}"))
        .env("ALERT_HOOK_KEY", KEY)
        .output()
        .unwrap()
    };

    let first = run();
    let stdout = String::from_utf8_lossy(&first.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&first.stderr).into_owned();
    // Two channels fail: the run says so and exits 1, but every other stage completed.
    assert_eq!(first.status.code(), Some(1), "{stdout}\n{stderr}");
    for stage in ["anomalies", "budgets", "report"] {
        assert!(
            stdout.contains(&format!("[ok  ] {stage}")),
            "{stage} did not complete:\n{stdout}"
        );
    }
    assert!(stdout.contains("[FAIL] alerts"), "{stdout}");
    assert!(
        stdout.contains("channel slow") && stdout.contains("channel broken"),
        "{stdout}"
    );
    assert!(
        !stdout.contains(TOKEN) && !stderr.contains(TOKEN) && !stderr.contains(KEY),
        "a webhook secret was printed:\n{stdout}\n{stderr}"
    );

    // The planted anomalies, each with the resource that causes it.
    let as_of = NaiveDate::from_ymd_opt(2026, 6, 15).unwrap();
    let spec = DemoSpec {
        history_days: 70,
        ..DemoSpec::default()
    };
    let planted = DemoTenant::new(&spec, as_of).planted_anomalies();
    assert_eq!(planted.len(), 2, "{planted:?}");
    for (resource, shape, dimension, first_day) in &planted {
        let rows = ws.sql(&format!(
            "SELECT value, status, direction, CAST(first_day AS VARCHAR) AS first_day, cause_resource_id \
             FROM anomalies WHERE dimension = '{dimension}' AND cause_resource_id = '{resource}'"
        ));
        assert_eq!(
            rows.len(),
            1,
            "{shape} by {resource} in {dimension}: {rows:?}"
        );
        assert_eq!(rows[0]["status"], "new", "{rows:?}");
        assert_eq!(rows[0]["direction"], "spike", "{rows:?}");
        assert_eq!(rows[0]["first_day"], first_day.to_string(), "{rows:?}");
    }
    // Nothing else is new: a quiet tenant raises no other anomaly on the last day.
    let new =
        ws.sql("SELECT dimension, value, cause_resource_id FROM anomalies WHERE status = 'new'");
    for row in &new {
        let cause = row["cause_resource_id"].as_str().unwrap_or("");
        assert!(
            planted.iter().any(|p| p.0 == cause),
            "an anomaly no plant explains: {row}"
        );
    }

    // The budget the forecast will exceed, and one it will not.
    let budgets =
        ws.sql("SELECT budget, status, forecast_pct, crossed FROM budget_status ORDER BY budget");
    assert_eq!(budgets[1]["budget"], "tenant-monthly");
    assert_eq!(budgets[1]["status"], "forecast_over", "{budgets:?}");
    assert!(
        budgets[1]["crossed"]
            .as_str()
            .unwrap()
            .contains("forecast 100%")
    );
    assert_eq!(budgets[0]["status"], "ok", "{budgets:?}");

    // What the channels received.
    let received = log(web.port);
    let on = |prefix: &str| -> Vec<&serde_json::Value> {
        received
            .iter()
            .filter(|e| e["path"].as_str().unwrap().starts_with(prefix))
            .collect()
    };
    let teams = on("/teams/finops");
    assert!(teams.iter().all(|e| e["status"] == 202), "{teams:?}");
    let sql_spike = teams.iter().any(|e| {
        let card = e["body"]["attachments"][0]["content"].to_string();
        card.contains("SQL Database") && card.contains(&planted[0].0)
            || card.contains(&planted[1].0)
    });
    assert!(sql_spike, "no card names a planted cause: {teams:?}");
    // Slack: the first request got a 500 and was retried; every alert then arrived well-formed.
    let slack = on("/slack/finops");
    assert_eq!(slack[0]["status"], 500);
    assert!(slack[1..].iter().all(|e| e["status"] == 200), "{slack:?}");
    // The generic webhook: every request carried a valid signature.
    let hook = on("/hook/ops");
    assert!(
        !hook.is_empty() && hook.iter().all(|e| e["signature_ok"] == true),
        "{hook:?}"
    );
    assert!(hook.iter().any(|e| e["body"]["kind"] == "budget"));
    // A channel answering 500 is tried three times, then the rest of its alerts wait for the next
    // run; one that never answers is tried twice (its `attempts`).
    assert_eq!(on("/hook/broken").len(), 3);
    assert_eq!(on("/teams/slow").len(), 2);
    // The budget email.
    let mails = files_with_ext(&inbox, "eml");
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = std::fs::read_to_string(&mails[0]).unwrap();
    assert!(
        mail.contains("tenant-monthly") && mail.contains("forecast"),
        "{mail}"
    );

    let sent_rows =
        ws.sql("SELECT channel, status, COUNT(*) AS n FROM alerts GROUP BY 1, 2 ORDER BY 1, 2");
    assert!(
        sent_rows
            .iter()
            .any(|r| r["channel"] == "broken" && r["status"] == "failed"),
        "{sent_rows:?}"
    );
    let alerts_text = ws
        .sql("SELECT * FROM alerts")
        .iter()
        .map(|r| r.to_string())
        .collect::<String>();
    assert!(
        !alerts_text.contains(TOKEN) && !alerts_text.contains(KEY),
        "a secret reached the lake"
    );

    // Again on the same date: what was sent is not sent again; the failed channels are retried.
    let before = received.len();
    let second = run();
    assert_eq!(second.status.code(), Some(1));
    let again = log(web.port);
    let new_paths: Vec<&str> = again[before..]
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert!(
        new_paths
            .iter()
            .all(|p| *p == "/hook/broken" || *p == "/teams/slow"),
        "sent twice: {new_paths:?}"
    );
    assert!(!new_paths.is_empty(), "failed alerts were not retried");
    assert_eq!(
        files_with_ext(&inbox, "eml").len(),
        1,
        "the email was sent twice"
    );
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(stdout.contains("sent earlier"), "{stdout}");
}

#[test]
fn validate_names_bad_routes_budgets_and_unset_webhook_variables() {
    let ws = Workspace::with_pipelines(&[(
        "p.toml",
        r#"
name = "p"
[[budgets]]
name = "b"
scope = "total"
amount = 100
currency = "USD"
period = "month"
thresholds = [50, -5]
[[alerts]]
channel = "nowhere"
"#,
    )]);
    let config = ws.path().join("c.toml");
    std::fs::write(
        &config,
        "[channels.teams]\nkind = \"teams\"\nurl = \"${CLOUDOPTIMA_TEST_UNSET_URL_41}\"\n",
    )
    .unwrap();
    let out = ws.run(&["--config", config.to_str().unwrap(), "validate"]);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("c.toml")
            && text.contains("channels.teams.url")
            && text.contains("CLOUDOPTIMA_TEST_UNSET_URL_41"),
        "{text}"
    );
    assert!(
        text.contains("p.toml") && text.contains("budgets[0] (b).thresholds: -5"),
        "{text}"
    );

    // With the variable set and the budget mended, the unknown channel is named with the ones that
    // exist.
    let pipeline = ws.pipelines.join("p.toml");
    let text = std::fs::read_to_string(&pipeline).unwrap();
    std::fs::write(&pipeline, text.replace("[50, -5]", "[50]")).unwrap();
    let out = ws
        .cmd(&["--config", config.to_str().unwrap(), "validate"])
        .env("CLOUDOPTIMA_TEST_UNSET_URL_41", "http://127.0.0.1:9/x")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("alerts[0].channel")
            && text.contains("nowhere")
            && text.contains("channels: teams"),
        "{text}"
    );

    // A literal URL is refused without echoing it.
    std::fs::write(
        &config,
        "[channels.teams]\nkind = \"teams\"\nurl = \"https://example.webhook/secret-path\"\n",
    )
    .unwrap();
    let out = ws.run(&["--config", config.to_str().unwrap(), "validate"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("channels.teams.url") && !text.contains("secret-path"),
        "{text}"
    );
}
