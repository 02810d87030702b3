//! SMTP delivery against a real SMTP server over TCP (aiosmtpd, started and stopped by each test):
//! plain on loopback, and STARTTLS with a private CA and a login taken from the environment.

use std::path::Path;
use std::process::Command;

use crate::support::{AzureEmulator, Served, Workspace, files_with_ext, python, repo};

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

/// The SMTP server writing what it receives into `inbox`.
fn sink(inbox: &Path, extra: &[&str]) -> Served {
    let mut args = vec![inbox.as_os_str()];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    Served::start("smtp_sink.py", &args)
}

/// The one message in `inbox`, checked to carry the run's PDF as its attachment.
fn assert_received_report(ws: &Workspace, inbox: &Path) {
    let received = files_with_ext(inbox, "eml");
    assert_eq!(received.len(), 1, "{received:?}");
    let text = String::from_utf8_lossy(&std::fs::read(&received[0]).unwrap()).into_owned();
    assert!(
        text.contains("cfo@example.com") && text.contains("finops@example.com"),
        "{text}"
    );
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

#[test]
fn report_arrives_over_smtp_with_pdf_attached() {
    let ws = Workspace::with_pipelines(&[("mail.toml", PIPELINE)]);
    let inbox = ws.path().join("inbox");
    let sink = sink(&inbox, &[]);
    let config = ws.path().join("smtp.toml");
    std::fs::write(
        &config,
        format!("[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"FinOps <finops@example.com>\"\n", sink.port),
    )
    .unwrap();
    let out = ws.ok(&[
        "--config",
        config.to_str().unwrap(),
        "run",
        "--as-of",
        "2026-06-15",
    ]);
    assert!(out.contains(&format!("127.0.0.1:{}", sink.port)), "{out}");
    drop(sink);
    assert_received_report(&ws, &inbox);
}

#[test]
fn starttls_with_private_ca_and_login_from_environment() {
    let ws = Workspace::with_pipelines(&[("mail.toml", PIPELINE)]);
    let (ca, cert, key) = make_certificates(ws.path());
    let inbox = ws.path().join("inbox");
    let sink = sink(
        &inbox,
        &[
            "--starttls",
            cert.to_str().unwrap(),
            key.to_str().unwrap(),
            "--auth",
            "reporter:s3cret-pass",
        ],
    );
    let config = ws.path().join("smtp.toml");
    std::fs::write(
        &config,
        format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"starttls\"\nca_file = {:?}\n\
             timeout_secs = 5\nusername = \"${{TEST_SMTP_USER}}\"\npassword = \"${{TEST_SMTP_PASSWORD}}\"\nfrom = \"FinOps <finops@example.com>\"\n",
            sink.port,
            ca.display().to_string()
        ),
    )
    .unwrap();
    let run = |password: &str| {
        ws.cmd(&[
            "--config",
            config.to_str().unwrap(),
            "run",
            "--as-of",
            "2026-06-15",
        ])
        .env("TEST_SMTP_USER", "reporter")
        .env("TEST_SMTP_PASSWORD", password)
        .output()
        .unwrap()
    };

    // A wrong password: the delivery stage fails, the run exits 1, and the password is not printed.
    let bad = run("wrong-pass");
    let stdout = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("[FAIL] deliver"), "{stdout}");
    assert!(
        !stdout.contains("wrong-pass")
            && !String::from_utf8_lossy(&bad.stderr).contains("wrong-pass")
    );
    assert!(files_with_ext(&inbox, "eml").is_empty());

    let good = run("s3cret-pass");
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stdout)
    );
    drop(sink);
    assert_received_report(&ws, &inbox);
}

#[test]
fn xoauth2_signs_in_with_a_token_from_the_azure_credential_chain() {
    let azure = AzureEmulator::start();
    let ws = Workspace::with_pipelines(&[("mail.toml", PIPELINE)]);
    let inbox = ws.path().join("inbox");
    let sink = sink(&inbox, &["--xoauth2", "finops@contoso.com"]);
    let config = ws.path().join("smtp.toml");
    let write = |user: &str| {
        std::fs::write(
            &config,
            format!(
                "{}
[smtp]
host = \"127.0.0.1\"\nport = {}\ntls = \"none\"\ntimeout_secs = 10\n\
                 auth = \"xoauth2\"\nusername = \"{user}\"\nfrom = \"FinOps <finops@contoso.com>\"\n",
                azure.config("lake"),
                sink.port
            ),
        )
        .unwrap()
    };
    let run = || {
        ws.cmd(&[
            "--config",
            config.to_str().unwrap(),
            "run",
            "--as-of",
            "2026-06-15",
        ])
        .envs(azure.env())
        .output()
        .unwrap()
    };

    // The server takes only XOAUTH2, for its mailbox: another user is refused, the stage fails.
    write("someone@contoso.com");
    let bad = run();
    let stdout = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("[FAIL] deliver"), "{stdout}");
    assert!(files_with_ext(&inbox, "eml").is_empty());

    write("finops@contoso.com");
    let good = run();
    assert!(
        good.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&good.stdout),
        String::from_utf8_lossy(&good.stderr)
    );
    drop(sink);
    assert_received_report(&ws, &inbox);
    // The token the server accepted was issued by the identity endpoint for Exchange Online.
    let accepted = std::fs::read_to_string(inbox.join("xoauth2-tokens.txt")).unwrap();
    let token = accepted.lines().last().unwrap();
    assert_eq!(
        azure.truth()["issued"][token],
        "https://outlook.office365.com",
        "{accepted}"
    );
}

/// A CA and a server certificate for 127.0.0.1 signed by it, made with the openssl CLI.
fn make_certificates(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let p = |n: &str| dir.join(n);
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl is installed");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::write(
        p("leaf.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=cloudoptima test CA",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "2",
        "-extfile",
        "leaf.ext",
    ]);
    (p("ca.pem"), p("leaf.pem"), p("leaf.key"))
}
