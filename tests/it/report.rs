//! The report against data and a model nobody on the project wrote the answers for: a tenant
//! billed in two currencies (no figure may mix them), and an OpenAI-compatible server scripted to
//! write a correct summary, one with an invented number, malformed output, a slow answer and an
//! error (each must end in the right summary, the reason recorded).

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::Path;

use crate::pipeline::pdftotext;
use crate::support::{AzureEmulator, Served, Workspace};
use cloudoptima::format::money;

pub(crate) const AS_OF: &str = "2026-06-15";

/// 75 days before `AS_OF` of FOCUS rows: a USD subscription (virtual machines, 100 a day) and a
/// JPY one (storage, 100 a day, plus 50 a day on a second resource from June).
pub(crate) fn two_currency_tenant(dir: &Path) {
    let mut csv = String::from(
        "BilledCost,EffectiveCost,ListCost,ContractedCost,ChargePeriodStart,ChargePeriodEnd,BillingCurrency,\
         ProviderName,SubAccountId,SubAccountName,ServiceName,ResourceId,ResourceName,ChargeCategory,x_ResourceGroupName\n",
    );
    let start = chrono::NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
    for i in 0..75 {
        let d = start + chrono::Duration::days(i);
        let next = d + chrono::Duration::days(1);
        let mut row = |cost: f64, cur: &str, sub: &str, service: &str, name: &str| {
            writeln!(
                csv,
                "{cost},{cost},{cost},{cost},{d}T00:00:00Z,{next}T00:00:00Z,{cur},Microsoft,/subscriptions/{sub},{sub},{service},\
                 /subscriptions/{sub}/resourcegroups/rg-{sub}/providers/x/{name},{name},Usage,rg-{sub}"
            )
            .unwrap();
        };
        row(100.0, "USD", "sub-usd", "Virtual Machines", "vm-a");
        row(100.0, "JPY", "sub-jpy", "Storage", "st-a");
        if d >= chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap() {
            row(50.0, "JPY", "sub-jpy", "Storage", "st-b");
        }
    }
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("costs.csv"), csv).unwrap();
}

pub(crate) fn pipeline(input: &Path, llm: bool) -> String {
    format!(
        "name = \"two\"\nstrict = false\n[[sources]]\nkind = \"focus_files\"\npath = {:?}\n\
         [forecast]\nhorizon_days = 90\n[anomalies]\nenabled = false\n\
         [report]\ntitle = \"Two currencies\"\nrecipients = [\"lead@example.com\"]\nllm_summary = {llm}\n",
        input.display().to_string()
    )
}

#[test]
fn figures_of_two_currencies_are_never_summed() {
    let probe = Workspace::new();
    let input = probe.path().join("input");
    two_currency_tenant(&input);
    let ws = Workspace::with_pipelines(&[("two.toml", &pipeline(&input, false))]);
    ws.ok(&["run", "--as-of", AS_OF]);
    let text = pdftotext(&ws.path().join(format!("out/reports/two-{AS_OF}.pdf")));

    // Each currency's month to date and last day, computed here, stands in the PDF with its
    // currency; their sum stands nowhere.
    let per_currency = ws.sql(&format!(
        "SELECT \"BillingCurrency\" AS c, SUM(\"EffectiveCost\") AS mtd FROM costs \
         WHERE CAST(\"ChargePeriodStart\" AS DATE) >= DATE '2026-06-01' \
         AND CAST(\"ChargePeriodStart\" AS DATE) < DATE '{AS_OF}' GROUP BY 1 ORDER BY 1"
    ));
    assert_eq!(per_currency.len(), 2, "{per_currency:?}");
    let (jpy, usd) = (
        per_currency[0]["mtd"].as_f64().unwrap(),
        per_currency[1]["mtd"].as_f64().unwrap(),
    );
    assert_eq!((jpy, usd), (2100.0, 1400.0));
    assert!(text.contains("1,400.00 USD"), "{text}");
    assert!(text.contains("2,100.00 JPY"), "{text}");
    assert!(
        text.contains("cost 100.00 USD") && text.contains("cost 150.00 JPY"),
        "{text}"
    );
    for mixed in [money(jpy + usd), money(250.0)] {
        assert!(!text.contains(&mixed), "{mixed} mixes currencies:\n{text}");
    }
    // Every row of the showback tables names its currency, and JPY storage is never called USD.
    let storage: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("Storage ") && !l.contains("largest"))
        .collect();
    assert!(!storage.is_empty(), "{text}");
    assert!(
        storage.iter().all(|l| l.trim_end().ends_with("JPY")),
        "{storage:?}"
    );
    let vms: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("Virtual Machines ") && !l.contains("largest"))
        .collect();
    assert!(vms.iter().all(|l| l.trim_end().ends_with("USD")), "{vms:?}");
    // A forecast per currency, each with its 30/60/90-day totals.
    for c in ["USD", "JPY"] {
        let horizons = text
            .lines()
            .filter(|l| l.trim_start().starts_with("30 days") && l.trim_end().ends_with(c))
            .count();
        assert_eq!(horizons, 1, "one 30-day total in {c}:\n{text}");
    }
    // The HTML says the same.
    let html =
        std::fs::read_to_string(ws.path().join(format!("out/reports/two-{AS_OF}.html"))).unwrap();
    assert_eq!(
        crate::pipeline::amounts(&text),
        crate::pipeline::amounts(&crate::pipeline::html_text(&html))
    );
}

/// The two-currency tenant in a workspace, run once (the second workspace holds its input).
pub(crate) fn two_currency_lake() -> (Workspace, Workspace) {
    let probe = Workspace::new();
    let input = probe.path().join("input");
    two_currency_tenant(&input);
    let ws = Workspace::with_pipelines(&[("two.toml", &pipeline(&input, false))]);
    ws.ok(&["run", "--as-of", AS_OF]);
    (ws, probe)
}

/// The scripted model server answering `replies` in order (written into `dir`).
pub(crate) fn model_server(dir: &Path, replies: &serde_json::Value) -> Served {
    let file = dir.join("replies.json");
    std::fs::write(&file, replies.to_string()).unwrap();
    Served::start(
        "llm_server.py",
        &[
            OsStr::new("--key"),
            OsStr::new(KEY),
            OsStr::new("--replies"),
            file.as_os_str(),
        ],
    )
}

/// The workspace of the model tests: the two-currency tenant, run once, its pipeline then asking
/// for the model's summary.
struct ModelCase {
    ws: Workspace,
    _probe: Workspace,
}

pub(crate) const KEY: &str = "sk-test-cloudoptima-0123456789";

impl ModelCase {
    fn new() -> Self {
        let (ws, probe) = two_currency_lake();
        let input = probe.path().join("input");
        std::fs::write(ws.path().join("pipelines/two.toml"), pipeline(&input, true)).unwrap();
        ModelCase { ws, _probe: probe }
    }

    /// Start the scripted server with `replies`, point the config at it (`azure` for the
    /// deployment path), run the report again; the PDF's text, the run's report-stage detail and
    /// the requests the server saw.
    fn run(
        &self,
        replies: serde_json::Value,
        azure: bool,
    ) -> (String, String, Vec<serde_json::Value>) {
        self.run_with(replies, azure, None)
    }

    /// As `run`; with `entra`, Azure OpenAI is signed in to with a token from the Azure API
    /// emulator's managed identity instead of a key.
    fn run_with(
        &self,
        replies: serde_json::Value,
        azure: bool,
        entra: Option<&AzureEmulator>,
    ) -> (String, String, Vec<serde_json::Value>) {
        let server = model_server(self.ws.path(), &replies);
        let llm = if let Some(emulator) = entra {
            format!(
                "{}
[llm]
provider = \"azure\"\nbase_url = \"http://127.0.0.1:{}\"\nmodel = \"summaries\"\ntimeout_secs = 5\n",
                emulator.config("lake"),
                server.port
            )
        } else if azure {
            format!(
                "[llm]\nprovider = \"azure\"\nbase_url = \"http://127.0.0.1:{}\"\nmodel = \"summaries\"\n\
                 api_key = \"${{CO_TEST_LLM_KEY}}\"\ntimeout_secs = 2\n",
                server.port
            )
        } else {
            format!(
                "[llm]\nprovider = \"compatible\"\nbase_url = \"http://127.0.0.1:{}/v1\"\nmodel = \"local-model\"\n\
                 api_key = \"${{CO_TEST_LLM_KEY}}\"\ntimeout_secs = 2\n",
                server.port
            )
        };
        let config = self.ws.path().join("cloudoptima.toml");
        std::fs::write(&config, llm).unwrap();
        let out = self
            .ws
            .cmd(&[
                "--config",
                config.to_str().unwrap(),
                "run",
                "--no-extract",
                "--as-of",
                AS_OF,
            ])
            .env("CO_TEST_LLM_KEY", KEY)
            .envs(entra.map(AzureEmulator::env).unwrap_or_default())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stdout}\n{stderr}");
        assert!(
            !stdout.contains(KEY) && !stderr.contains(KEY),
            "the key leaked"
        );
        let pdf = pdftotext(&self.ws.path().join(format!("out/reports/two-{AS_OF}.pdf")));
        let stages = self
            .ws
            .sql("SELECT stages FROM _runs ORDER BY started_at DESC LIMIT 1")[0]["stages"]
            .as_str()
            .unwrap()
            .to_string();
        let log = crate::support::http_get_json(&format!("http://127.0.0.1:{}/_log", server.port));
        (pdf, stages, log)
    }
}

const DETERMINISTIC: &str = "2026-06-14 cost 100.00 USD.";

#[test]
fn a_model_summary_is_used_only_when_every_number_in_it_is_a_fact() {
    let case = ModelCase::new();

    // A correct summary, written from the facts it was sent: used, and said to be checked.
    let (pdf, stages, log) = case.run(serde_json::json!([{"summary_from_facts": true}]), false);
    assert!(pdf.contains("Findings could save"), "{pdf}");
    assert!(!pdf.contains(DETERMINISTIC), "{pdf}");
    assert!(pdf.contains("Written by the model local-model"), "{pdf}");
    assert!(
        stages.contains("summary by local-model, numbers checked"),
        "{stages}"
    );
    // The model saw aggregates only: no resource names.
    assert_eq!(log.len(), 1);
    let sent = log[0]["messages"].to_string();
    assert!(
        sent.contains("month_to_date") && !sent.contains("vm-a") && !sent.contains("st-b"),
        "{sent}"
    );

    // The same through Azure OpenAI's deployment path, api-version and api-key header.
    let (pdf, stages, log) = case.run(serde_json::json!([{"summary_from_facts": true}]), true);
    assert!(
        pdf.contains("Written by the model summaries"),
        "{stages}\n{pdf}"
    );
    assert_eq!(
        log[0]["path"],
        "/openai/deployments/summaries/chat/completions"
    );
    assert!(
        log[0]["query"]
            .as_str()
            .unwrap()
            .starts_with("api-version=")
    );

    // Each failure falls back to the deterministic summary, the reason recorded.
    for (replies, reason) in [
        (
            serde_json::json!([{"summary_from_facts": true, "invent": "987,654.32"}]),
            "gives 987,654.32, which is not among the report's figures",
        ),
        (
            serde_json::json!([{"status": 500}]),
            "HTTP 500 Internal Server Error",
        ),
        (
            serde_json::json!([{"delay": 5, "text": "Late."}]),
            "no answer",
        ),
        (
            serde_json::json!([{"malformed": true}]),
            "the model gave no summary",
        ),
        (
            serde_json::json!([{"text": "```json\n{}\n```"}]),
            "not plain prose",
        ),
    ] {
        let (pdf, stages, _) = case.run(replies.clone(), false);
        assert!(pdf.contains(DETERMINISTIC), "{replies}: {pdf}");
        assert!(!pdf.contains("Written by the model"), "{replies}");
        assert!(
            stages.contains("deterministic summary: ") && stages.contains(reason),
            "{replies}: {stages}"
        );
    }
}
