//! SMTP delivery against a real SMTP server over TCP (aiosmtpd, started and stopped by the test).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::support::{Workspace, files_with_ext, python, repo};

const PIPELINE: &str = r#"
name = "mail"
[[sources]]
kind = "demo"
history_days = 60
[forecast]
enabled = false
[report]
recipients = ["cfo@example.com", "finops@example.com"]
"#;

#[test]
fn report_arrives_over_smtp_with_pdf_attached() {
    let ws = Workspace::with_pipelines(&[("mail.toml", PIPELINE)]);
    let inbox = ws.path().join("inbox");
    let mut server = Command::new(python())
        .arg(repo().join("tests/support/smtp_sink.py"))
        .arg(&inbox)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start aiosmtpd");
    let mut port = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut port)
        .unwrap();
    let port: u16 = port.trim().parse().expect("server printed its port");

    let config = ws.path().join("smtp.toml");
    std::fs::write(
        &config,
        format!("[smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nfrom = \"FinOps <finops@example.com>\"\n"),
    )
    .unwrap();
    let out = ws.ok(&[
        "--config",
        config.to_str().unwrap(),
        "run",
        "--as-of",
        "2026-06-15",
    ]);
    drop(server.stdin.take()); // closing stdin stops the server
    let _ = server.wait();

    assert!(out.contains(&format!("127.0.0.1:{port}")), "{out}");
    let received = files_with_ext(&inbox, "eml");
    assert_eq!(received.len(), 1, "{received:?}");
    let text = String::from_utf8_lossy(&std::fs::read(&received[0]).unwrap()).into_owned();
    assert!(text.contains("application/pdf"), "no PDF part");
    assert!(text.contains("cfo@example.com") && text.contains("finops@example.com"));
    let pdf = ws.path().join("attached.pdf");
    let meta = Command::new(python())
        .arg(repo().join("tests/support/eml_attachment.py"))
        .arg(&received[0])
        .arg(&pdf)
        .output()
        .unwrap();
    assert!(
        meta.status.success(),
        "{}",
        String::from_utf8_lossy(&meta.stderr)
    );
    let report = ws.path().join("out/reports/mail-2026-06-15.pdf");
    assert_eq!(std::fs::read(pdf).unwrap(), std::fs::read(report).unwrap());
    assert!(
        files_with_ext(&ws.path().join("out/outbox"), "eml").is_empty(),
        "SMTP configured: no outbox file"
    );
}
