//! The demo pipeline end to end, run twice on a fixed date, checked from the outside.

use std::collections::BTreeSet;
use std::process::Command;

use chrono::NaiveDate;
use cloudoptima::extract::demo::{DemoSpec, DemoTenant, Truth};

use crate::support::{Workspace, files_with_ext, python, repo};

const AS_OF: &str = "2026-06-15";
const TABLES: [&str; 5] = [
    "costs",
    "resources",
    "metrics",
    "recommendations",
    "forecasts",
];

#[test]
fn demo_pipeline_end_to_end() {
    let ws = Workspace::new();
    let out = ws.ok(&["run", "--as-of", AS_OF]);
    assert!(out.contains("succeeded"), "{out}");
    assert!(
        out.contains("cost totals reconcile with the sources"),
        "{out}"
    );

    // The lake holds Delta tables.
    for table in TABLES {
        let log = ws.path().join("lake").join(table).join("_delta_log");
        assert!(
            !files_with_ext(&log, "json").is_empty(),
            "{table} is not a Delta table"
        );
        assert!(ws.count(table) > 0, "{table} is empty");
    }
    let plain = ws.ok(&["sql", "SELECT COUNT(*) FROM costs"]);
    assert!(plain.contains('|'), "table output expected: {plain}");

    // Every planted case is found; no look-alike is.
    let as_of = NaiveDate::parse_from_str(AS_OF, "%Y-%m-%d").unwrap();
    let planted = DemoTenant::new(&DemoSpec::default(), as_of).planted();
    let found: BTreeSet<(String, String)> = ws
        .sql("SELECT rule_id, resource_id FROM recommendations")
        .iter()
        .map(|r| {
            (
                r["rule_id"].as_str().unwrap().to_string(),
                r["resource_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for p in &planted {
        let hit = found.contains(&(p.rule_id.to_string(), p.resource_id.clone()));
        match p.truth {
            Truth::Waste => assert!(hit, "missed planted waste {} {}", p.rule_id, p.resource_id),
            Truth::NotWaste => assert!(!hit, "flagged non-waste {} {}", p.rule_id, p.resource_id),
        }
    }
    let waste = planted.iter().filter(|p| p.truth == Truth::Waste).count();
    assert_eq!(
        found.len(),
        waste,
        "findings beyond the planted ones: {found:?}"
    );
    // Every rule finds its planted case, and findings carry their resource's cost, except the
    // hygiene rules that estimate no direct saving.
    let per_rule = ws.sql(
        "SELECT rule_id, MIN(est_monthly_savings) AS lo FROM recommendations GROUP BY rule_id",
    );
    let rules = cloudoptima::analyze::rules::load_dir(&repo().join("sql/rules")).unwrap();
    assert_eq!(
        per_rule.len(),
        rules.len(),
        "rules without findings in the demo: {per_rule:?}"
    );
    const NO_DIRECT_SAVING: [&str; 5] = [
        "network_nic_orphaned",
        "storage_account_legacy",
        "compute_vm_unmanaged_disks",
        "governance_cost_untagged",
        "cost_growth_resource_group",
    ];
    for rule in per_rule
        .iter()
        .filter(|r| !NO_DIRECT_SAVING.contains(&r["rule_id"].as_str().unwrap()))
    {
        assert!(
            rule["lo"].as_f64().unwrap() > 0.0,
            "a finding without savings: {rule}"
        );
    }

    // The demo bills in USD: every finding says so, its USD savings the same figure.
    let currency = ws.sql(
        "SELECT COUNT(*) AS n FROM recommendations WHERE billing_currency = 'USD' \
         AND abs(est_monthly_savings_usd - est_monthly_savings) < 1e-9",
    );
    assert_eq!(currency[0]["n"].as_u64().unwrap() as usize, found.len());

    // Each finding has a priority; the demo's idle build VM is high, the orphaned NIC low.
    let priority = |name: &str| {
        ws.sql(&format!(
            "SELECT priority FROM recommendations WHERE resource_name = '{name}'"
        ))[0]["priority"]
            .clone()
    };
    assert_eq!(priority("vm-dev-build"), "high");
    assert_eq!(priority("nic-left-behind"), "low");

    // The PDF's headline figures are extractable text, and match the lake.
    let pdf = ws
        .path()
        .join("out/reports")
        .join(format!("daily-{AS_OF}.pdf"));
    let text = pdftotext(&pdf);
    for heading in [
        "Month-to-date cost",
        "Forecast month-end",
        "Potential monthly savings",
        "Recommendations",
    ] {
        assert!(text.contains(heading), "PDF lacks {heading:?}:\n{text}");
    }
    // The findings table lists every finding, highest priority first, then by savings: the
    // priority and savings of each row read back from the PDF, in order, are the lake's. A row's
    // first line ends with its priority, fit, savings and currency; an alternative's savings are
    // in parentheses.
    let listed: Vec<(String, String)> = text
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split_whitespace().rev().take(4).collect();
            match cells.as_slice() {
                [currency, savings, fit, priority]
                    if ["high", "medium", "low"].contains(priority)
                        && fit.parse::<f64>().is_ok()
                        && *currency == "USD" =>
                {
                    Some((
                        priority.to_string(),
                        savings.trim_matches(|c| c == '(' || c == ')').to_string(),
                    ))
                }
                _ => None,
            }
        })
        .collect();
    let expected: Vec<(String, String)> = ws
        .sql(
            "SELECT priority, est_monthly_savings AS s FROM recommendations ORDER BY \
             CASE priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, est_monthly_savings DESC, rule_id, resource_name",
        )
        .iter()
        .map(|r| {
            (
                r["priority"].as_str().unwrap().to_string(),
                cloudoptima::format::money(r["s"].as_f64().unwrap()),
            )
        })
        .collect();
    assert_eq!(listed, expected, "the PDF's findings, in order:\n{text}");

    // Savings count once per resource: a resource's findings are alternatives (resize or
    // reserve; an old or an orphaned snapshot), so the headline is the sum over resources of
    // each one's largest saving. The demo has such pairs, so the naive sum is larger.
    let per_resource = ws.sql(
        "SELECT SUM(m) AS v FROM (SELECT resource_id, MAX(est_monthly_savings) AS m \
         FROM recommendations GROUP BY resource_id) r",
    )[0]["v"]
        .as_f64()
        .unwrap();
    let naive = ws.sql("SELECT SUM(est_monthly_savings) AS v FROM recommendations")[0]["v"]
        .as_f64()
        .unwrap();
    assert!(naive > per_resource + 1.0, "{naive} vs {per_resource}");
    let headline = format!("{} USD", cloudoptima::format::money(per_resource));
    let savings_box = text
        .lines()
        .skip_while(|l| !l.contains("Potential monthly savings"))
        .take(3)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        savings_box.contains(&headline),
        "{headline} in:\n{savings_box}"
    );
    assert!(
        text.contains("[alternative to:"),
        "an alternative finding is marked:\n{text}"
    );

    // Every section a FinOps lead reads, in order.
    let mut at = 0;
    for heading in [
        "Month-to-date cost",
        "Summary",
        "Daily cost (USD)",
        "What changed",
        "Budgets",
        "Cost by subscription",
        "Cost by resource group",
        "Cost by service",
        "Cost by tag costcenter",
        "Top movers",
        "Forecast",
        "Recommendations",
        "Data health",
        "Appendix: remediation commands",
    ] {
        let found = text[at..].find(heading);
        assert!(found.is_some(), "no {heading:?} after byte {at}:\n{text}");
        at += found.unwrap();
    }
    for figure in [
        "30 days",
        "60 days",
        "90 days",
        "same point last month",
        "80%:",
    ] {
        assert!(text.contains(figure), "PDF lacks {figure:?}");
    }

    // The HTML beside the PDF holds the same figures: every amount the PDF prints, the HTML
    // prints as often.
    let html = std::fs::read_to_string(pdf.with_extension("html")).unwrap();
    assert!(
        !html.to_lowercase().contains("<script"),
        "no script in the HTML"
    );
    assert!(
        html.contains("data:image/png;base64,"),
        "the chart is inline"
    );
    assert_eq!(
        amounts(&text),
        amounts(&html_text(&html)),
        "the PDF's and the HTML's amounts differ"
    );
    crate::browser::assert_renders(&pdf.with_extension("html"), ws.path());
    // Full rule titles (the same blocks render the PDF), and the PDF dated when it was made.
    let html = html_text(&html);
    for r in ws.sql("SELECT DISTINCT title FROM recommendations") {
        let title = r["title"].as_str().unwrap();
        assert!(
            html.contains(title),
            "{title:?} is not in the report in full"
        );
    }
    let info = Command::new("pdfinfo").arg(&pdf).output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    let created = info
        .lines()
        .find(|l| l.starts_with("CreationDate:"))
        .unwrap_or_default()
        .to_string();
    let year = chrono::Utc::now().format("%Y").to_string();
    assert!(created.contains(&year), "{created}");

    let mtd = ws.sql(&format!(
        "SELECT SUM(\"EffectiveCost\") AS v FROM costs WHERE CAST(\"ChargePeriodStart\" AS DATE) >= DATE '2026-06-01' \
         AND CAST(\"ChargePeriodStart\" AS DATE) < DATE '{AS_OF}'"
    ))[0]["v"]
        .as_f64()
        .unwrap();
    assert!(
        text.contains(&cloudoptima::format::money(mtd)),
        "PDF lacks MTD {mtd}:\n{text}"
    );

    // One .eml in the outbox whose attachment is that PDF (read by Python's MIME parser).
    let outbox = files_with_ext(&ws.path().join("out/outbox"), "eml");
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    let extracted = ws.path().join("attachment.pdf");
    let meta = py(&[
        repo()
            .join("tests/support/eml_attachment.py")
            .to_str()
            .unwrap(),
        outbox[0].to_str().unwrap(),
        extracted.to_str().unwrap(),
    ]);
    assert!(meta.contains("application/pdf"), "{meta}");
    // The body: plain text and HTML as alternatives, the HTML's charts as inline PNG parts that
    // its `cid:` sources name.
    let meta: serde_json::Value = serde_json::from_str(&meta).unwrap();
    let parts: Vec<&str> = meta["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    for part in [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
        "application/pdf",
    ] {
        assert!(parts.contains(&part), "{part} missing: {parts:?}");
    }
    assert_eq!(meta["html_cids"], meta["inline_cids"], "{meta}");
    assert!(!meta["html_cids"].as_array().unwrap().is_empty());
    assert!(
        meta["plain"]
            .as_str()
            .unwrap()
            .contains("Month-to-date cost"),
        "{meta}"
    );
    assert_eq!(
        std::fs::read(&extracted).unwrap(),
        std::fs::read(&pdf).unwrap(),
        "attachment differs from the report"
    );

    // An independent reader (log replay + DuckDB) sees the same total as `cloudoptima sql`.
    let ours = ws.sql("SELECT SUM(\"EffectiveCost\") AS v, COUNT(*) AS n FROM costs");
    let theirs: serde_json::Value = serde_json::from_str(&py(&[
        repo().join("tests/support/delta_sum.py").to_str().unwrap(),
        ws.path().join("lake/costs").to_str().unwrap(),
        "EffectiveCost",
    ]))
    .unwrap();
    let (a, b) = (
        ours[0]["v"].as_f64().unwrap(),
        theirs["sum"].as_f64().unwrap(),
    );
    assert!(
        (a - b).abs() < 1e-6 * a.abs().max(1.0),
        "cloudoptima {a} vs DuckDB {b}"
    );
    assert_eq!(
        ours[0]["n"].as_i64().unwrap(),
        theirs["rows"].as_i64().unwrap()
    );

    // Read-only SQL: refused with a clear message, and nothing changes.
    let before = ws.count("costs");
    for statement in [
        "DROP TABLE costs",
        "COPY costs TO 'x.csv'",
        "INSERT INTO costs SELECT * FROM costs",
    ] {
        let out = ws.run(&["sql", statement]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{statement}: {err}");
        assert!(err.contains("read-only"), "{statement}: {err}");
    }
    assert!(!ws.path().join("x.csv").exists());
    assert_eq!(ws.count("costs"), before);

    // A second run of the same day leaves every table's row count unchanged (the `_runs` log grows by one).
    let counts: Vec<i64> = TABLES.iter().map(|t| ws.count(t)).collect();
    let runs = ws.count("_runs");
    let out = ws.ok(&["run", "--as-of", AS_OF]);
    // The report sent for this date is recorded in the lake as it is sent: a re-run (also one
    // after a run that died right after sending) does not email it again, unless asked to.
    assert!(
        out.contains("[skip] deliver") && out.contains("already sent for"),
        "{out}"
    );
    assert_eq!(
        files_with_ext(&ws.path().join("out/outbox"), "eml").len(),
        1
    );
    let again: Vec<i64> = TABLES.iter().map(|t| ws.count(t)).collect();
    assert_eq!(counts, again, "row counts changed on re-run ({TABLES:?})");
    assert_eq!(ws.count("_runs"), runs + 1);
    let manifest = ws.sql("SELECT status, stages FROM _runs ORDER BY started_at DESC LIMIT 1");
    assert_eq!(manifest[0]["status"], "succeeded");
    assert!(
        manifest[0]["stages"]
            .as_str()
            .unwrap()
            .contains("\"transform\"")
    );
    let status = ws.ok(&["status"]);
    assert_eq!(status.matches("succeeded").count(), 2, "{status}");

    // `--no-extract` reads and transforms nothing: the rules, forecast and report run over the
    // lake as it is, each rule's time on its line.
    let out = ws.ok(&["run", "--no-extract", "--resend", "--as-of", AS_OF]);
    assert!(
        out.contains("[skip] extract") && out.contains("--no-extract"),
        "{out}"
    );
    assert!(out.contains("[ok  ] deliver"), "{out}");
    assert_eq!(
        files_with_ext(&ws.path().join("out/outbox"), "eml").len(),
        2
    );
    assert!(out.contains("[ok  ] rules"), "{out}");
    let idle = out
        .lines()
        .find(|l| l.trim_start().starts_with("compute_vm_idle"));
    assert!(idle.is_some_and(|l| l.ends_with('s')), "{out}");
    let third: Vec<i64> = TABLES.iter().map(|t| ws.count(t)).collect();
    assert_eq!(counts, third, "row counts changed on a --no-extract run");
}

/// Every amount written as money (`1,234.56`) in `text`, sorted.
pub(crate) fn amounts(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .split(|c: char| !(c.is_ascii_digit() || c == ',' || c == '.' || c == '-'))
        .map(|t| t.trim_matches(|c| c == ',' || c == '.'))
        .filter(|t| {
            let (whole, cents) = t
                .trim_start_matches('-')
                .rsplit_once('.')
                .unwrap_or(("", ""));
            cents.len() == 2
                && !whole.is_empty()
                && whole.split(',').enumerate().all(|(i, g)| {
                    g.chars().all(|c| c.is_ascii_digit())
                        && (if i == 0 {
                            (1..=3).contains(&g.len())
                        } else {
                            g.len() == 3
                        })
                })
        })
        .map(str::to_string)
        .collect();
    out.sort();
    out
}

/// The text of an HTML page: tags removed, entities decoded.
pub(crate) fn html_text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

pub(crate) fn pdftotext(pdf: &std::path::Path) -> String {
    let out = Command::new("pdftotext")
        .args(["-layout"])
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext is installed (poppler-utils)");
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn py(args: &[&str]) -> String {
    let out = Command::new(python())
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "python {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
