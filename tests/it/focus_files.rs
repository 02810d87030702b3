//! FOCUS files from a folder: real spec examples (blank CRLF lines, `null` text, an impossible time)
//! and a deliberately messy file; bad rows are quarantined with file, line and reason, never dropped.

use crate::support::{Workspace, repo};

const MESSY: &str = "\u{feff}billedcost,EFFECTIVECOST,ChargePeriodStart,BillingCurrency,ProviderName,ResourceId,Tags,ServiceName\n\
1.5E+1,15,2026-01-05T00:00:00Z,USD,AWS,/SUBSCRIPTIONS/ABC/Res,\"\"\"Env\"\": \"\"prod\"\"\",EC2\n\
NULL,3,01/06/2026,USD,AWS,,{},S3\n\
abc,1,2026-01-07,USD,AWS,,,S3\n\
2,2,,USD,AWS,,,S3\n\
4,4,2026-01-08,USD,AWS,,\"{\"\"note\"\":\"\"a,b\"\"}\",S3\n";

fn pipeline(dir: &std::path::Path, strict: bool) -> String {
    format!(
        "name = \"focus\"\nstrict = {strict}\n[[sources]]\nkind = \"focus_files\"\npath = {:?}\n[forecast]\nenabled = false\n[report]\nenabled = false\n",
        dir.display().to_string()
    )
}

#[test]
fn focus_files_ingest_and_quarantine_with_reasons() {
    let probe = Workspace::new();
    let input = probe.path().join("input");
    std::fs::create_dir_all(&input).unwrap();
    let spec = repo().join("tests/fixtures/focus-spec-examples");
    for folder in [
        "commitment_discount_scenarios",
        "commitment_discount_flexibility",
    ] {
        for entry in
            std::fs::read_dir(spec.join(folder)).expect("tests/fixtures/focus-spec-examples")
        {
            let p = entry.unwrap().path();
            std::fs::copy(&p, input.join(p.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(input.join("messy.csv"), MESSY).unwrap();

    let ws = Workspace::with_pipelines(&[("focus.toml", &pipeline(&input, false))]);
    let out = ws.ok(&["run"]);
    assert!(out.contains("Quarantined rows: 4"), "{out}");

    let q = ws.sql("SELECT source_file, line, reason FROM quarantine ORDER BY source_file, line");
    let reasons: Vec<String> = q
        .iter()
        .map(|r| {
            format!(
                "{}:{} {}",
                r["source_file"].as_str().unwrap(),
                r["line"],
                r["reason"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("messy.csv:4 BilledCost: cannot read \"abc\"")),
        "{reasons:#?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("messy.csv:5 ChargePeriodStart: missing")),
        "{reasons:#?}"
    );
    assert!(
        reasons
            .iter()
            .filter(|r| r.contains("2023-02-01T30:00:00Z"))
            .count()
            == 2,
        "the spec examples' impossible time is quarantined, not guessed: {reasons:#?}"
    );

    let aws = ws.sql(
        "SELECT SUM(BilledCost) AS billed, COUNT(*) AS n FROM costs WHERE ProviderName = 'AWS'",
    );
    assert_eq!(aws[0]["n"], 3);
    assert!(
        (aws[0]["billed"].as_f64().unwrap() - 22.0).abs() < 1e-9,
        "{aws:?}"
    );
    let first =
        ws.sql("SELECT ResourceId, Tags, x_SourceChanges FROM costs WHERE ServiceName = 'EC2'");
    assert_eq!(first[0]["ResourceId"], "/subscriptions/abc/res");
    assert_eq!(first[0]["Tags"], r#"{"env":"prod"}"#);
    let changes = first[0]["x_SourceChanges"].as_str().unwrap();
    assert!(
        changes.contains("ResourceId:lowercased") && changes.contains("Tags:canonicalized"),
        "{changes}"
    );
    let filled = ws.sql("SELECT BilledCost, x_SourceChanges FROM costs WHERE ServiceName = 'S3' AND EffectiveCost = 3");
    assert_eq!(filled[0]["BilledCost"], 3.0);
    assert!(
        filled[0]["x_SourceChanges"]
            .as_str()
            .unwrap()
            .contains("BilledCost:filled-from-EffectiveCost")
    );
    let quoted = ws.sql("SELECT Tags FROM costs WHERE EffectiveCost = 4 AND ProviderName = 'AWS'");
    assert_eq!(quoted[0]["Tags"], r#"{"note":"a,b"}"#);

    // Blank lines between records are not records (the flexibility examples have CRLF blank lines).
    let spec_rows = ws.count("costs") - 3;
    assert_eq!(
        spec_rows, 23,
        "12 readable scenario rows and 11 flexibility rows"
    );

    // The spec's worked examples keep the billed and effective totals the spec gives: per file, the
    // lake's totals plus the quarantined rows' equal the file's own sums (read here by the csv crate).
    let lake = ws.sql(
        "SELECT x_SourceFile AS file, SUM(BilledCost) AS billed, SUM(EffectiveCost) AS effective \
         FROM costs GROUP BY 1",
    );
    let mut checked = 0;
    for folder in [
        "commitment_discount_scenarios",
        "commitment_discount_flexibility",
    ] {
        for entry in std::fs::read_dir(spec.join(folder)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let (mut billed, mut effective, mut quarantined) = (0.0, 0.0, (0.0, 0.0));
            let mut reader = csv::Reader::from_path(&path).unwrap();
            let headers = reader.headers().unwrap().clone();
            let at = |n: &str| headers.iter().position(|h| h == n).unwrap();
            let (b, e) = (at("BilledCost"), at("EffectiveCost"));
            for record in reader.records() {
                let record = record.unwrap();
                if record.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                let value = |i: usize| record[i].parse::<f64>().unwrap_or(0.0);
                if record.iter().any(|f| f.contains("T30:00:00Z")) {
                    quarantined = (quarantined.0 + value(b), quarantined.1 + value(e));
                } else {
                    billed += value(b);
                    effective += value(e);
                }
            }
            let row = lake
                .iter()
                .find(|r| r["file"].as_str().unwrap().ends_with(&name))
                .unwrap_or_else(|| panic!("{name} not in the lake: {lake:?}"));
            let got = (
                row["billed"].as_f64().unwrap(),
                row["effective"].as_f64().unwrap(),
            );
            assert!(
                (got.0 - billed).abs() < 1e-9 && (got.1 - effective).abs() < 1e-9,
                "{name}: lake {got:?}, file {billed} / {effective} (quarantined {quarantined:?})"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 11);
    // The purchase scenarios are the commitment's principal; covered usage is its amortized charge.
    let classes = ws.sql(
        "SELECT x_AmortizationClass AS class, COUNT(*) AS n FROM costs \
         WHERE x_SourceFile LIKE '%commitment_discount_%' GROUP BY 1 ORDER BY 1",
    );
    assert!(
        classes.iter().any(|r| r["class"] == "Principal"),
        "{classes:?}"
    );

    // Re-ingesting the same files replaces them: no duplicates in costs or quarantine.
    ws.ok(&["run"]);
    assert_eq!(ws.count("costs"), spec_rows + 3);
    assert_eq!(ws.count("quarantine"), 4);

    // Under `strict`, a quarantined row fails the run (exit 1), though the readable rows still land.
    let strict = Workspace::with_pipelines(&[("focus.toml", &pipeline(&input, true))]);
    let out = strict.run(&["run"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(strict.count("costs"), spec_rows + 3);
}

#[test]
fn a_missing_source_folder_fails_the_run_and_skips_analysis() {
    let ws = Workspace::with_pipelines(&[(
        "focus.toml",
        &pipeline(std::path::Path::new("/no/such/folder"), false),
    )]);
    let out = ws.run(&["run"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("[FAIL] extract") && stdout.contains("/no/such/folder"),
        "{stdout}"
    );
    for stage in ["transform", "rules", "forecast", "report", "deliver"] {
        assert!(
            stdout.contains(&format!("[skip] {stage}")),
            "{stage} not skipped:\n{stdout}"
        );
    }
    assert_eq!(ws.count("costs"), 0);
    let run = ws.sql("SELECT status, errors FROM _runs");
    assert_eq!(run[0]["status"], "failed");
    assert!(
        run[0]["errors"]
            .as_str()
            .unwrap()
            .contains("/no/such/folder")
    );
}
