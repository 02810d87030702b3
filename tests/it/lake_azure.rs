//! The lake on Azure Blob storage (Azurite): the same pipeline, the same tables, the same answers as
//! on local disk, and re-runs stay idempotent.

use crate::support::{Azurite, Workspace};

const PIPELINE: &str = r#"
name = "blob"
[[sources]]
kind = "demo"
history_days = 60
[report]
recipients = ["finops@example.com"]
"#;

const AS_OF: &str = "2026-06-15";

fn summary(ws: &Workspace, lake: &str, env: &[(&'static str, String)]) -> serde_json::Value {
    let query = "SELECT (SELECT COUNT(*) FROM costs) AS costs, (SELECT ROUND(SUM(EffectiveCost), 4) FROM costs) AS total, \
                 (SELECT COUNT(*) FROM resources) AS resources, (SELECT COUNT(*) FROM metrics) AS metrics, \
                 (SELECT COUNT(*) FROM recommendations) AS findings, (SELECT COUNT(*) FROM forecasts) AS forecast_days";
    let out = ws
        .cmd(&["--lake", lake, "sql", "--format", "json", query])
        .envs(env.iter().cloned())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout)
        .unwrap()
        .remove(0)
}

#[test]
fn lake_on_azure_blob_matches_local_disk() {
    let ws = Workspace::with_pipelines(&[("blob.toml", PIPELINE)]);
    let azurite = Azurite::start(&ws.path().join("azurite"), "finops");
    let env = azurite.env();
    let lake = "az://finops/cloudoptima lake";

    let run = |lake: &str| {
        let out = ws
            .cmd(&["--lake", lake, "run", "--as-of", AS_OF])
            .envs(env.iter().cloned())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    let text = run(lake);
    assert!(
        text.contains("cost totals reconcile with the sources"),
        "{text}"
    );
    let remote = summary(&ws, lake, &env);
    assert!(remote["costs"].as_i64().unwrap() > 0, "{remote}");
    assert!(
        !ws.path().join("cloudoptima lake").exists(),
        "nothing of a blob lake lands on local disk"
    );

    run("local-lake");
    let local = summary(&ws, "local-lake", &[]);
    assert_eq!(remote, local, "blob and local lakes differ");

    run(lake);
    assert_eq!(
        summary(&ws, lake, &env),
        remote,
        "a re-run on blob storage changed row counts"
    );
}
