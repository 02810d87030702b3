//! Findings across runs on the demo tenant: remembered (first seen, runs in a row), snoozed until a
//! date, dismissed, resolved with the saving realized, and a broken suppressions file refused.

use serde_json::Value;

use crate::support::Workspace;

const PIPELINE: &str = r#"
name = "daily"
[[sources]]
kind = "demo"
[rules]
suppressions = "suppressions.toml"
[forecast]
enabled = false
[report]
enabled = false
"#;

fn finding(ws: &Workspace, rule: &str, name: &str) -> Value {
    let rows = ws.sql(&format!(
        "SELECT status, CAST(first_seen AS VARCHAR) AS first_seen, CAST(last_seen AS VARCHAR) AS last_seen, \
         consecutive_runs AS runs, CAST(resolved_on AS VARCHAR) AS resolved_on, \
         realized_monthly_savings AS realized, suppression_reason AS reason \
         FROM findings WHERE rule_id = '{rule}' AND resource_name = '{name}'"
    ));
    assert_eq!(rows.len(), 1, "{rule} {name}: {rows:?}");
    rows[0].clone()
}

#[test]
fn findings_are_remembered_snoozed_dismissed_and_resolved() {
    let ws = Workspace::with_pipelines(&[("daily.toml", PIPELINE)]);
    let suppressions = ws.path().join("suppressions.toml");
    std::fs::write(&suppressions, "# nothing suppressed yet\n").unwrap();
    ws.ok(&["run", "--as-of", "2026-06-15"]);
    let open =
        ws.sql("SELECT COUNT(*) AS n FROM findings WHERE status = 'open' AND consecutive_runs = 1");
    assert_eq!(open[0]["n"].as_i64().unwrap(), ws.count("recommendations"));

    std::fs::write(
        &suppressions,
        r#"
[[suppress]]
rule = "compute_vm_idle"
resource = "/subscriptions/8b1d5e2c-4a6f-4c3b-8e7d-2f9a0c1b3d02/resourceGroups/rg-dev/providers/Microsoft.Compute/virtualMachines/vm-dev-build"
status = "snoozed"
until = "2026-06-18"
reason = "build farm moves to containers in June"

[[suppress]]
rule = "storage_snapshot_premium"
resource_group = "rg-api"
status = "snoozed"
until = "2026-06-18"
reason = "release snapshot kept until the audit"

[[suppress]]
rule = "network_public_ip_unassociated"
resource_group = "rg-test"
status = "dismissed"
reason = "kept for a vendor allow-list"
"#,
    )
    .unwrap();
    ws.ok(&["run", "--as-of", "2026-06-16"]);
    let snoozed = finding(&ws, "compute_vm_idle", "vm-dev-build");
    assert_eq!(snoozed["status"], "snoozed");
    assert_eq!(snoozed["reason"], "build farm moves to containers in June");
    assert_eq!(
        finding(&ws, "network_public_ip_unassociated", "pip-dev-test")["status"],
        "dismissed"
    );
    assert_eq!(
        finding(&ws, "storage_snapshot_premium", "snap-api-release")["status"],
        "snoozed"
    );
    let disk = finding(&ws, "storage_disk_unattached", "disk-old-data");
    assert_eq!(
        (&disk["status"], &disk["first_seen"], &disk["runs"]),
        (
            &Value::from("open"),
            &Value::from("2026-06-15"),
            &Value::from(2)
        )
    );

    // Three days on, with the idle threshold lowered to 1%: the snooze has run out and both idle VMs
    // (1.4% and 2.6% CPU) are no longer findings — resolved, with what they saved since.
    std::fs::write(
        ws.pipelines.join("daily.toml"),
        format!(
            "{}\n[rules.params.compute_vm_idle]\ncpu_threshold_pct = 1.0\n",
            PIPELINE.replace("[report]\nenabled = false", "[report]\nenabled = true")
        ),
    )
    .unwrap();
    ws.ok(&["run", "--as-of", "2026-06-19"]);
    for vm in ["vm-dev-build", "vm-test-legacy"] {
        let f = finding(&ws, "compute_vm_idle", vm);
        assert_eq!(f["status"], "resolved", "{vm}");
        assert_eq!(f["resolved_on"], "2026-06-19");
        assert_eq!(f["last_seen"], "2026-06-16");
        assert!(f["realized"].as_f64().unwrap() >= 0.0);
    }
    assert_eq!(
        finding(&ws, "network_public_ip_unassociated", "pip-dev-test")["status"],
        "dismissed"
    );
    assert_eq!(
        finding(&ws, "storage_disk_unattached", "disk-old-data")["runs"],
        3
    );
    // The snapshot's snooze ran out on the 18th: open again, still counted from the first run.
    let snapshot = finding(&ws, "storage_snapshot_premium", "snap-api-release");
    assert_eq!(
        (&snapshot["status"], &snapshot["runs"], &snapshot["reason"]),
        (&Value::from("open"), &Value::from(3), &Value::Null)
    );
    // The report lists the open findings and leaves the dismissed one out (it is still found).
    let pdf = ws.path().join("out/reports/daily-2026-06-19.pdf");
    let text = crate::pipeline::pdftotext(&pdf);
    assert!(text.contains("disk-old-data"), "{text}");
    assert!(text.contains("snap-api-release"), "{text}");
    assert!(!text.contains("pip-dev-test"), "{text}");

    // A suppression without a reason or with an unknown status is refused by `validate`.
    std::fs::write(
        &suppressions,
        "[[suppress]]\nrule = \"compute_vm_idle\"\nstatus = \"ignored\"\nreason = \"\"\n",
    )
    .unwrap();
    let out = ws.run(&["validate"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("suppressions.toml: suppress #1: status `ignored`"),
        "{text}"
    );
    assert!(text.contains("suppress #1: `reason` is empty"), "{text}");
}
