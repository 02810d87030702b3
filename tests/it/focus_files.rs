//! FOCUS files from a folder or object storage: real spec examples (blank CRLF lines, `null` text, an impossible time)
//! and a deliberately messy file; bad rows are quarantined with file, line and reason, never dropped.

use crate::support::{Azurite, Workspace, python, repo};

const MESSY: &str = "\u{feff}billedcost,EFFECTIVECOST,ChargePeriodStart,BillingCurrency,ProviderName,ResourceId,Tags,ServiceName\n\
1.5E+1,15,2026-01-05T00:00:00Z,USD,AWS,/SUBSCRIPTIONS/ABC/Res,\"\"\"Env\"\": \"\"prod\"\"\",EC2\n\
NULL,3,01/16/2026,USD,AWS,,{},S3\n\
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

/// A FOCUS file with one good row before and after each kind of bad record: amounts that are not
/// finite, a byte that is not UTF-8, a ragged row and a two-digit year.
const DAMAGED: &[u8] =
    b"BilledCost,EffectiveCost,ChargePeriodStart,ChargePeriodEnd,BillingCurrency,ServiceName\n\
10.25,10.25,2026-03-01T00:00:00Z,2026-03-02T00:00:00Z,USD,Compute\n\
NaN,1,2026-03-01T00:00:00Z,2026-03-02T00:00:00Z,USD,Compute\n\
inf,1,2026-03-01T00:00:00Z,2026-03-02T00:00:00Z,USD,Compute\n\
1e309,1,2026-03-01T00:00:00Z,2026-03-02T00:00:00Z,USD,Compute\n\
2.5,2.5,2026-03-01T00:00:00Z,2026-03-02T00:00:00Z,USD,Caf\xE9\n\
3,3,2026-03-01T00:00:00Z,2026-03-02T00:00:00Z,USD,Compute,extra\n\
4,4,9/2/23,9/3/23,USD,Compute\n\
20.5,20.5,2026-03-02T00:00:00Z,2026-03-03T00:00:00Z,USD,Storage\n";

/// The pay-as-you-go (Web Direct) usage file's columns, as the Azure portal's usage download
/// wrote them; the rows are made up for this test.
const PAYG: &str = "SubscriptionGuid,ResourceGroup,ResourceLocation,UsageDateTime,MeterCategory,\
MeterSubcategory,MeterId,MeterName,MeterRegion,UsageQuantity,ResourceRate,PreTaxCost,ConsumedService,\
ResourceType,InstanceId,Tags,OfferId,AdditionalInfo,ServiceInfo1,ServiceInfo2,Currency\n\
1caaa5a3-2b66-438e-8ab4-bce37d518c5d,RG-WEB,westeurope,2026-03-01T00:00:00,Virtual Machines,,\
0b4b1d4f-7a5a-4b6a-9c3d-2d1c1f0e9a11,D2s v3,EU West,24,0.0514375,1.2345,Microsoft.Compute,\
Microsoft.Compute/virtualMachines,/subscriptions/1caaa5a3-2b66-438e-8ab4-bce37d518c5d/resourceGroups/RG-WEB/providers/Microsoft.Compute/virtualMachines/web1,\
\"{\"\"env\"\":\"\"prod\"\"}\",MS-AZR-0003P,,,,EUR\n\
1caaa5a3-2b66-438e-8ab4-bce37d518c5d,RG-WEB,westeurope,03/15/2026,Storage,,\
5c0f3c1e-1d9a-4f7e-8b0a-0f6d3f2a7b22,LRS Data Stored,EU West,100,0.025,2.5,Microsoft.Storage,\
Microsoft.Storage/storageAccounts,/subscriptions/1caaa5a3-2b66-438e-8ab4-bce37d518c5d/resourceGroups/RG-WEB/providers/Microsoft.Storage/storageAccounts/web1data,\
,MS-AZR-0003P,,,,EUR\n";

#[test]
fn bad_records_and_files_are_quarantined_by_line_and_the_rest_commits_and_reconciles() {
    use std::io::Write;
    let probe = Workspace::new();
    let input = probe.path().join("input");
    std::fs::create_dir_all(input.join("nested")).unwrap();
    std::fs::write(input.join("damaged.csv"), DAMAGED).unwrap();
    std::fs::write(input.join("payg.csv"), PAYG).unwrap();
    // The same column twice in different case: one would replace the other, so the file is refused.
    std::fs::write(
        input.join("twice.csv"),
        "BilledCost,ChargePeriodStart,billedcost\n1,2026-03-01,2\n",
    )
    .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(
        b"BilledCost,EffectiveCost,ChargePeriodStart,ChargePeriodEnd,BillingCurrency\n\
          5,5,2026-03-03T00:00:00Z,2026-03-04T00:00:00Z,USD\n\
          7,7,2026-03-04T00:00:00Z,2026-03-05T00:00:00Z,USD\n",
    )
    .unwrap();
    std::fs::write(input.join("nested/aws.csv.gz"), gz.finish().unwrap()).unwrap();

    let ws = Workspace::with_pipelines(&[("focus.toml", &pipeline(&input, false))]);
    let out = ws.run(&["run", "--as-of", "2026-03-20"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The refused file fails the run and names itself; analysis is skipped, the rest committed.
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("twice.csv") && stdout.contains("`BilledCost` and `billedcost`"),
        "{stdout}"
    );
    assert!(stdout.contains("[skip] rules"), "{stdout}");

    let totals = ws.sql(
        "SELECT \"x_SourceFile\" AS f, ROUND(SUM(\"BilledCost\"), 4) AS billed, COUNT(*) AS n, \
         MIN(\"ChargePeriodStart\") AS first FROM costs GROUP BY 1 ORDER BY 1",
    );
    let got: Vec<(String, f64, i64)> = totals
        .iter()
        .map(|r| {
            (
                r["f"].as_str().unwrap().to_string(),
                r["billed"].as_f64().unwrap(),
                r["n"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("focus_files/costs/damaged.csv".to_string(), 30.75, 2),
            ("focus_files/costs/nested__aws.csv.gz".to_string(), 12.0, 2),
            ("focus_files/costs/payg.csv".to_string(), 3.7345, 2),
        ]
    );
    for r in &totals {
        assert!(r["first"].as_str().unwrap() >= "2026-03-01", "{r}");
    }
    // The pay-as-you-go file's columns land under FOCUS names.
    let payg = ws.sql(
        "SELECT \"SubAccountId\", \"ResourceId\", \"BillingCurrency\", \"ConsumedQuantity\", \
         CAST(\"ChargePeriodStart\" AS VARCHAR) AS day FROM costs WHERE \"x_SourceFile\" LIKE '%payg%' \
         ORDER BY day",
    );
    assert_eq!(
        payg[0]["SubAccountId"],
        "/subscriptions/1caaa5a3-2b66-438e-8ab4-bce37d518c5d"
    );
    assert!(payg[0]["ResourceId"].as_str().unwrap().ends_with("/web1"));
    assert_eq!(payg[0]["BillingCurrency"], "EUR");
    assert_eq!(payg[0]["ConsumedQuantity"], 24.0);
    assert!(payg[1]["day"].as_str().unwrap().starts_with("2026-03-15"));

    let q = ws.sql("SELECT source_file, line, reason FROM quarantine ORDER BY source_file, line");
    let lines: Vec<(String, i64)> = q
        .iter()
        .map(|r| {
            (
                r["source_file"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string(),
                r["line"].as_i64().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, i64)> = [3, 4, 5, 6, 7, 8]
        .iter()
        .map(|l| ("damaged.csv".to_string(), *l))
        .chain([("twice.csv".to_string(), 0)])
        .collect();
    assert_eq!(lines, want, "{q:#?}");
    let reason = |line: i64| {
        q.iter()
            .find(|r| {
                r["line"] == line && r["source_file"].as_str().unwrap().ends_with("damaged.csv")
            })
            .map(|r| r["reason"].as_str().unwrap().to_string())
            .unwrap()
    };
    for line in [3, 4, 5] {
        assert!(
            reason(line).contains("BilledCost: cannot read"),
            "{}",
            reason(line)
        );
    }
    assert!(
        reason(6).contains("ServiceName: not UTF-8"),
        "{}",
        reason(6)
    );
    assert!(
        reason(7).contains("7 field(s) where the header has 6"),
        "{}",
        reason(7)
    );
    assert!(reason(8).contains("before 2000"), "{}", reason(8));

    // Each source and period is checked against the files' own totals, and `status` shows it.
    let checks = ws.sql(
        "SELECT checked_against, billing_period, source_total, lake_total, quarantined_total, \
         reconciled FROM reconciliation ORDER BY 1",
    );
    assert_eq!(checks.len(), 2, "{checks:#?}");
    for c in &checks {
        assert_eq!(c["reconciled"], true, "{c}");
        assert_eq!(c["billing_period"], "2026-03");
    }
    // FOCUS files: every finite BilledCost as written (NaN, inf and 1e309 are not numbers; the
    // ragged record's fields cannot be placed, so it has no cost to count).
    let focus = checks
        .iter()
        .find(|c| c["checked_against"] == "files: FOCUS")
        .unwrap();
    let total = |k: &str| focus[k].as_f64().unwrap();
    assert!(
        (total("source_total") - (30.75 + 12.0 + 2.5 + 4.0)).abs() < 1e-9,
        "{focus}"
    );
    assert!((total("quarantined_total") - 6.5).abs() < 1e-9, "{focus}");
    let status = ws.ok(&["status"]);
    assert!(
        status.contains("Cost totals against their sources"),
        "{status}"
    );
    assert!(
        status.contains("2026-03") && status.contains("yes"),
        "{status}"
    );
}

#[test]
fn focus_columns_keep_their_names_older_files_are_brought_up_to_1_2_and_disallowed_values_are_flagged()
 {
    let probe = Workspace::new();
    let input = probe.path().join("input");
    std::fs::create_dir_all(&input).unwrap();
    // FOCUS 1.0 style: no billing period, no pricing currency, no service subcategory; one
    // ChargeFrequency spelt the wrong way and a ChargeCategory FOCUS does not have.
    std::fs::write(
        input.join("older.csv"),
        "BilledCost,EffectiveCost,ListUnitPrice,ChargePeriodStart,ChargePeriodEnd,BillingCurrency,\
         ChargeCategory,ChargeFrequency,AvailabilityZone,ResourceId,x_ConsumedService,Tags\n\
         10,8,0.5,2026-03-14T00:00:00Z,2026-03-15T00:00:00Z,USD,Usage,Usage-based,westeurope-1,\
         /subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1,Microsoft.Compute,\
         \"{\"\"Environment\"\":\"\"prod\"\"}\"\n\
         2,2,,2026-03-15T00:00:00Z,2026-03-16T00:00:00Z,USD,Fee,Usage-Based,,,,\
         \"{\"\"Environment\"\":\"\"prod\"\",\"\"env\"\":\"\"dev\"\"}\"\n",
    )
    .unwrap();
    let ws = Workspace::with_pipelines(&[("focus.toml", &pipeline(&input, false))]);
    std::fs::create_dir_all(ws.path().join("config")).unwrap();
    std::fs::write(
        ws.path().join("config/cloudoptima.toml"),
        "[tags]\naliases = { Environment = \"env\" }\n",
    )
    .unwrap();
    ws.ok(&["run", "--as-of", "2026-03-20"]);

    let rows = ws.sql(
        "SELECT \"AvailabilityZone\", \"PricingCurrency\", \"PricingCurrencyEffectiveCost\", \
         \"PricingCurrencyListUnitPrice\", \"ServiceSubcategory\", \
         CAST(\"BillingPeriodStart\" AS VARCHAR) AS bps, CAST(\"BillingPeriodEnd\" AS VARCHAR) AS bpe \
         FROM costs ORDER BY \"BilledCost\" DESC",
    );
    assert_eq!(rows[0]["AvailabilityZone"], "westeurope-1");
    assert_eq!(rows[0]["PricingCurrency"], "USD");
    assert_eq!(rows[0]["PricingCurrencyEffectiveCost"], 8.0);
    assert_eq!(rows[0]["PricingCurrencyListUnitPrice"], 0.5);
    assert_eq!(rows[0]["ServiceSubcategory"], "Virtual Machines");
    assert!(rows[0]["bps"].as_str().unwrap().starts_with("2026-03-01"));
    assert!(rows[0]["bpe"].as_str().unwrap().starts_with("2026-04-01"));
    // The row without a resource has no subcategory to look up.
    assert_eq!(rows[1]["ServiceSubcategory"], serde_json::Value::Null);
    // Tag aliases from the config; two values for one key both stay visible.
    let tags = ws.sql("SELECT \"Tags\" FROM costs ORDER BY \"BilledCost\" DESC");
    assert_eq!(tags[0]["Tags"], r#"{"env":"prod"}"#);
    assert_eq!(tags[1]["Tags"], r#"{"Environment":"prod","env":"dev"}"#);

    let quality = ws.sql("SELECT values_not_allowed, values_not_allowed_detail FROM data_quality");
    assert_eq!(quality[0]["values_not_allowed"], 2, "{quality:?}");
    let detail = quality[0]["values_not_allowed_detail"].as_str().unwrap();
    assert!(
        detail.contains("ChargeCategory \"Fee\" ×1")
            && detail.contains("ChargeFrequency \"Usage-based\" ×1"),
        "{detail}"
    );
}

#[test]
fn focus_files_read_gzip_csv_from_object_storage_as_from_disk() {
    use std::io::Write;
    let ws = Workspace::new();
    let local = ws.path().join("aws-focus");
    std::fs::create_dir_all(local.join("2026-03")).unwrap();
    let csv = "BilledCost,EffectiveCost,ChargePeriodStart,ChargePeriodEnd,BillingCurrency,ProviderName,ResourceId\n\
               1.25,1.25,2026-03-01T00:00:00Z,2026-03-02T00:00:00Z,USD,AWS,arn:aws:ec2:us-east-1:1:instance/i-0AB\n\
               2.5,2.5,2026-03-02T00:00:00Z,2026-03-03T00:00:00Z,USD,AWS,arn:aws:s3:::Bucket-A\n";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(csv.as_bytes()).unwrap();
    std::fs::write(local.join("2026-03/part-0.csv.gz"), gz.finish().unwrap()).unwrap();
    std::fs::write(local.join("2026-03/part-1.csv"), csv).unwrap();

    let azurite = Azurite::start(&ws.path().join("azurite"), "focus");
    let out = std::process::Command::new(python())
        .arg(repo().join("tests/support/azurite_upload.py"))
        .arg(azurite.port.to_string())
        .arg("focus")
        .arg(&local)
        .arg("aws")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let p = ws.path().join("pipelines");
    std::fs::create_dir_all(&p).unwrap();
    let ws = Workspace {
        pipelines: p.clone(),
        ..ws
    };
    let mut totals = Vec::new();
    for (n, location) in [local.to_str().unwrap(), "az://focus/aws"]
        .iter()
        .enumerate()
    {
        std::fs::write(
            p.join("focus.toml"),
            format!(
                "name = \"focus\"\n[[sources]]\nkind = \"focus_files\"\npath = {location:?}\n\
                 [forecast]\nenabled = false\n[report]\nenabled = false\n"
            ),
        )
        .unwrap();
        let lake = ws.path().join(format!("lake{n}"));
        let lake = lake.to_str().unwrap();
        let out = ws
            .cmd(&["--lake", lake, "run", "--as-of", "2026-03-20"])
            .envs(azurite.env())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{location}: {text}");
        assert!(text.contains("2 file(s) landed"), "{location}: {text}");
        let rows = ws
            .cmd(&[
                "--lake",
                lake,
                "sql",
                "--format",
                "json",
                "SELECT COUNT(*) AS n, SUM(BilledCost) AS c, MIN(ResourceId) AS id FROM costs",
            ])
            .output()
            .unwrap();
        let rows: Vec<serde_json::Value> = serde_json::from_slice(&rows.stdout).unwrap();
        totals.push(rows[0].clone());
        let formats = ws
            .cmd(&[
                "--lake",
                lake,
                "sql",
                "--format",
                "csv",
                "SELECT format FROM data_quality ORDER BY source_file",
            ])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&formats.stdout),
            "format\ncsv.gz\ncsv\n",
            "{location}"
        );
    }
    assert_eq!(totals[0], totals[1]);
    assert_eq!(totals[0]["n"], 4);
    assert_eq!(totals[0]["c"], 7.5);
    // AWS ARNs keep their case.
    assert_eq!(totals[0]["id"], "arn:aws:ec2:us-east-1:1:instance/i-0AB");
}
