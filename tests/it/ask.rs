//! Questions in plain language (`ask`, its repair round and its question-set harness) against a
//! scripted OpenAI-compatible server, and `mcp` driven by a real MCP client (the Python SDK).

use crate::report::{KEY, model_server, two_currency_lake};
use crate::support::{Workspace, http_get_json, python, repo};

/// The two-currency tenant, run once, with `[llm]` pointing at a scripted server.
struct Lake {
    ws: Workspace,
    _probe: Workspace,
}

impl Lake {
    fn new() -> Self {
        let (ws, probe) = two_currency_lake();
        Lake { ws, _probe: probe }
    }

    /// `cloudoptima ask ARGS` with the server answering `replies` in order: exit code, stdout,
    /// stderr and the requests the server saw.
    fn ask(
        &self,
        args: &[&str],
        replies: serde_json::Value,
    ) -> (i32, String, String, Vec<serde_json::Value>) {
        let server = model_server(self.ws.path(), &replies);
        let config = self.ws.path().join("cloudoptima.toml");
        std::fs::write(
            &config,
            format!(
                "[llm]\nprovider = \"compatible\"\nbase_url = \"http://127.0.0.1:{}/v1\"\nmodel = \"sql-model\"\n\
                 api_key = \"${{CO_TEST_LLM_KEY}}\"\ntimeout_secs = 5\n",
                server.port
            ),
        )
        .unwrap();
        let mut full = vec!["--config", config.to_str().unwrap(), "ask"];
        full.extend(args);
        let out = self
            .ws
            .cmd(&full)
            .env("CO_TEST_LLM_KEY", KEY)
            .output()
            .unwrap();
        let log = http_get_json(&format!("http://127.0.0.1:{}/_log", server.port));
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            log,
        )
    }
}

fn sql(q: &str) -> serde_json::Value {
    serde_json::json!({ "text": format!("```sql\n{q}\n```") })
}

const TOTALS: &str = "SELECT \"BillingCurrency\" AS currency, SUM(\"EffectiveCost\") AS cost FROM costs GROUP BY 1 ORDER BY 1";

#[test]
fn ask_shows_the_sql_runs_it_read_only_and_repairs_a_broken_query_once() {
    let lake = Lake::new();

    // A broken query, repaired once with the error; the result and a checked short answer.
    let (code, out, err, log) = lake.ask(
        &["What did we spend in total?"],
        serde_json::json!([
            sql("SELECT SUM(cost) FROM costs"),
            sql(TOTALS),
            {"text": "In total 8,200.00 JPY and 7,500.00 USD."}
        ]),
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        err.contains("repaired once") && err.contains("SELECT SUM(cost) FROM costs"),
        "{err}"
    );
    assert!(out.contains(TOTALS), "the SQL is shown:\n{out}");
    assert!(out.contains("8200") && out.contains("7500"), "{out}");
    assert!(
        out.contains("In total 8,200.00 JPY and 7,500.00 USD."),
        "{out}"
    );
    assert_eq!(log.len(), 3, "query, repair, answer");
    // The model saw the schema with meanings and sample values; the repair carried the error.
    let system = log[0]["messages"][0]["content"].as_str().unwrap();
    for needle in [
        "costs(",
        "\"EffectiveCost\" Float64",
        "never add costs of different currencies",
        "- ServiceName: Storage",
    ] {
        assert!(
            system.contains(needle),
            "{needle:?} not in the prompt:\n{system}"
        );
    }
    let repair = log[1]["messages"][1]["content"].as_str().unwrap();
    assert!(
        repair.contains("SELECT SUM(cost) FROM costs") && repair.contains("cost"),
        "{repair}"
    );

    // A key written into the config file is refused, without showing it.
    let config = lake.ws.path().join("literal.toml");
    std::fs::write(
        &config,
        "[llm]\nprovider = \"openai\"\nmodel = \"m\"\napi_key = \"sk-literal-123456\"\n",
    )
    .unwrap();
    let out = lake
        .ws
        .run(&["--config", config.to_str().unwrap(), "ask", "Totals?"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("llm.api_key") && !err.contains("sk-literal-123456"),
        "{err}"
    );

    // An answer with a number not in the result is not shown.
    let (code, out, err, _) = lake.ask(
        &["What did we spend in total?"],
        serde_json::json!([sql(TOTALS), {"text": "About 9,999.00 USD."}]),
    );
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("9,999.00"), "{out}");
    assert!(
        err.contains("no short answer") && err.contains("9,999.00"),
        "{err}"
    );

    // Destructive statements are refused by the guard, with no repair round, and nothing changes.
    let before = lake.ws.count("costs");
    for statement in [
        "DROP TABLE costs",
        "COPY costs TO 'dump.csv'",
        "SELECT 1; DROP TABLE costs",
    ] {
        let (code, _, err, log) = lake.ask(&["Clean up"], serde_json::json!([sql(statement)]));
        assert_eq!(code, 2, "{statement}: {err}");
        assert!(err.contains("refused"), "{statement}: {err}");
        assert_eq!(log.len(), 1, "no repair round for a refused statement");
    }
    assert_eq!(lake.ws.count("costs"), before);
    assert!(!lake.ws.path().join("dump.csv").exists());

    // A query that fails twice is reported with its error.
    let (code, _, err, log) = lake.ask(
        &["?"],
        serde_json::json!([
            sql("SELECT nope FROM costs"),
            sql("SELECT still_nope FROM costs")
        ]),
    );
    assert_eq!((code, log.len()), (1, 2), "{err}");
    assert!(
        err.contains("failed after one repair") && err.contains("still_nope"),
        "{err}"
    );

    // --sql-only prints the query and runs nothing.
    let (code, out, _, log) =
        lake.ask(&["--sql-only", "Totals?"], serde_json::json!([sql(TOTALS)]));
    assert_eq!((code, out.trim(), log.len()), (0, TOTALS, 1));
}

#[test]
fn the_question_set_harness_prints_execution_accuracy() {
    let lake = Lake::new();
    let set = lake.ws.path().join("questions.toml");
    std::fs::write(
        &set,
        format!(
            "[[question]]\nquestion = \"Total per currency?\"\nsql = '''{TOTALS}'''\n\n\
             [[question]]\nquestion = \"Storage cost per currency?\"\nsql = '''SELECT \"BillingCurrency\", SUM(\"EffectiveCost\") FROM costs WHERE \"ServiceName\" = 'Storage' GROUP BY 1'''\n\n\
             [[question]]\nquestion = \"How many resources have cost?\"\nsql = '''SELECT COUNT(DISTINCT \"ResourceId\") AS n FROM costs'''\n"
        ),
    )
    .unwrap();
    // Right (other column names), wrong (no filter), right.
    let (code, out, err, log) = lake.ask(
        &["--eval", set.to_str().unwrap()],
        serde_json::json!([
            sql("SELECT \"BillingCurrency\" AS c, SUM(\"EffectiveCost\") AS total FROM costs GROUP BY \"BillingCurrency\" ORDER BY c"),
            sql("SELECT \"BillingCurrency\", SUM(\"EffectiveCost\") FROM costs GROUP BY 1"),
            sql("SELECT COUNT(DISTINCT \"ResourceName\") FROM costs"),
        ]),
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(log.len(), 3);
    assert!(out.contains("[miss] Storage cost per currency?"), "{out}");
    assert!(
        out.contains("execution accuracy: 2 of 3 (66.7%) with sql-model"),
        "{out}"
    );
}

#[test]
fn mcp_serves_read_only_tools_to_a_real_client() {
    let lake = Lake::new();
    let calls = serde_json::json!([
        ["list_tables", {}],
        ["describe_table", {"table": "costs"}],
        ["query", {"sql": "SELECT COUNT(*) AS n FROM costs"}],
        ["query", {"sql": "SELECT * FROM costs", "limit": 3}],
        ["query", {"sql": "DROP TABLE costs"}],
        ["query", {"sql": "COPY costs TO 'dump.csv'"}],
        ["query", {"sql": "SELECT 1; SELECT 2"}],
        ["query", {"sql": "INSERT INTO costs SELECT * FROM costs"}],
        ["list_findings", {"priority": "high"}],
        ["list_anomalies", {}],
        ["list_budgets", {}],
        ["explain_rule", {"rule_id": "compute_vm_idle"}],
        ["explain_rule", {"rule_id": "nope"}],
    ]);
    let bin = env!("CARGO_BIN_EXE_cloudoptima");
    let lake_dir = lake.ws.path().join("lake");
    let out = std::process::Command::new(python())
        .arg(repo().join("tests/support/mcp_client.py"))
        .arg(calls.to_string())
        .arg(bin)
        .args(["--lake", lake_dir.to_str().unwrap(), "mcp"])
        .current_dir(lake.ws.path())
        .env_remove("CLOUDOPTIMA_CONFIG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(r["server"], "cloudoptima");
    let tools: Vec<&str> = r["tools"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        tools,
        [
            "describe_table",
            "explain_rule",
            "list_anomalies",
            "list_budgets",
            "list_findings",
            "list_tables",
            "query"
        ]
    );
    assert_eq!(r["tools"]["query"], serde_json::json!(["limit", "sql"]));
    let res = r["results"].as_array().unwrap();
    let ok = |i: usize| {
        assert_eq!(res[i]["is_error"], false, "call {i}: {}", res[i]);
        res[i]["text"].as_str().unwrap().to_string()
    };
    assert!(ok(0).contains("costs (") && ok(0).contains("recommendations ("));
    assert!(ok(1).contains("EffectiveCost Float64"));
    let n = lake.ws.count("costs");
    assert_eq!(ok(2), format!("[{{\"n\":{n}}}]"));
    let limited = ok(3);
    assert!(
        limited.contains(&format!("({n} rows; the first 3 shown")),
        "{limited}"
    );
    for (i, call) in res.iter().enumerate().take(8).skip(4) {
        assert_eq!(call["is_error"], true, "call {i} must be refused: {call}");
        let text = call["text"].as_str().unwrap();
        assert!(
            text.contains("read-only") || text.contains("one SQL statement"),
            "call {i}: {text}"
        );
    }
    assert_eq!(lake.ws.count("costs"), n);
    assert!(!lake.ws.path().join("dump.csv").exists());
    assert!(ok(8).starts_with('['));
    assert!(ok(9).starts_with('['));
    assert!(ok(10).starts_with('['));
    assert!(ok(11).contains("Why:") && ok(11).contains("SELECT"));
    assert_eq!(res[12]["is_error"], true);
}
