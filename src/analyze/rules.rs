//! SQL rules: one file per waste pattern in `sql/rules/`, run on DataFusion.
//!
//! A rule file opens with a TOML header in a block comment (`/* --- … --- */`): `id`, `title`,
//! `category`, `severity`, `status` (`preview` or `stable`), the docs `what`, `why`, `fix`, and a
//! `[params]` table of named thresholds with defaults. After it comes one `SELECT` returning the
//! [`CONTRACT`] columns. `{{name}}` in the SQL is replaced by the param's value (pipelines may override
//! it), and `{{as_of}}` by the run date as a `DATE` literal. Adding a rule is adding a file.
//!
//! Rules may read the shared views in `views/` beside them; each is registered under its file name
//! (with `{{as_of}}` filled in) before any rule is planned or run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;
use serde::Deserialize;

use crate::assets::SqlSet;
use crate::lake::RunKey;
use crate::lake::columns::sql_string;
use crate::suggest;
use crate::{Error, Result};

/// Sub-folder of the rules folder holding shared views (`latest_resources`, `resource_cost_30d`, …)
/// that rules build on, so each rule states only what is particular to it.
pub use crate::assets::VIEWS_SUBDIR;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSelection {
    /// Run the rules at all (off for an ingest-only pipeline). Default true.
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// Rule ids or categories to run; empty means every stable rule.
    #[serde(default)]
    pub select: Vec<String>,
    /// With an empty `select`, also run the preview rules. Default false.
    #[serde(default)]
    pub preview: bool,
    /// Per-rule parameter overrides: `[rules.params.compute_vm_idle] cpu_threshold_pct = 3`.
    #[serde(default)]
    pub params: BTreeMap<String, BTreeMap<String, toml::Value>>,
    /// A suppressions file (`[[suppress]]` entries that snooze or dismiss findings), relative to
    /// the working directory.
    pub suppressions: Option<PathBuf>,
}

impl Default for RuleSelection {
    fn default() -> Self {
        RuleSelection {
            enabled: true,
            select: Vec::new(),
            preview: false,
            params: BTreeMap::new(),
            suppressions: None,
        }
    }
}

fn enabled() -> bool {
    true
}

/// Columns every rule must return, in this order.
pub const CONTRACT: &[&str] = &[
    "resource_id",
    "subscription_id",
    "resource_group",
    "resource_name",
    "region",
    "rule_id",
    "reason",
    "evidence",
    "monthly_cost",
    "est_monthly_savings",
    "fit_score",
    "remediation",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    id: String,
    title: String,
    category: String,
    severity: String,
    #[serde(default = "default_status")]
    status: String,
    #[serde(default = "default_effort")]
    effort: String,
    #[serde(default)]
    overlap: Overlap,
    what: String,
    why: String,
    fix: String,
    #[serde(default)]
    params: BTreeMap<String, toml::Value>,
}

fn default_status() -> String {
    "preview".into()
}

fn default_effort() -> String {
    "medium".into()
}

/// How a finding's priority follows from its savings, fit score and the rule's effort: `high` when
/// it saves at least 50 a month with fit 4 or more and is not a high-effort change; `low` when it
/// saves under 5 a month or its fit is under 3; `medium` otherwise.
pub const PRIORITY_SQL: &str = "CASE \
    WHEN est_monthly_savings >= 50 AND fit_score >= 4 AND effort <> 'high' THEN 'high' \
    WHEN est_monthly_savings < 5 OR fit_score < 3 THEN 'low' \
    ELSE 'medium' END";

/// How a rule's savings combine with the other findings on the same resource, so that money is
/// counted once: a resource is resized or reserved, a snapshot deleted as old or as orphaned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Overlap {
    /// The default: of a resource's alternative findings only the largest saving counts.
    #[default]
    Alternative,
    /// The saving acts on another part of the resource's bill and adds to the others.
    Additive,
}

impl Overlap {
    pub fn as_str(self) -> &'static str {
        match self {
            Overlap::Alternative => "alternative",
            Overlap::Additive => "additive",
        }
    }
}

/// One loaded rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub category: String,
    pub severity: String,
    pub status: String,
    /// How much work the fix is: `low`, `medium` (default) or `high`; weighs into priority.
    pub effort: String,
    /// How the rule's savings combine with other findings on the same resource.
    pub overlap: Overlap,
    pub what: String,
    pub why: String,
    pub fix: String,
    pub params: BTreeMap<String, toml::Value>,
    /// Each param's description: the `#` comment lines just above it in the header.
    pub param_docs: BTreeMap<String, String>,
    pub sql: String,
    pub file: PathBuf,
}

/// `# comment` lines directly above `key = …` inside the header's `[params]` table.
fn param_comments(header: &str) -> BTreeMap<String, String> {
    let mut docs = BTreeMap::new();
    let (mut in_params, mut pending) = (false, Vec::new());
    for line in header.lines().map(str::trim) {
        if line.starts_with('[') {
            in_params = line == "[params]";
            pending.clear();
        } else if let Some(comment) = line.strip_prefix('#') {
            pending.push(comment.trim().to_string());
        } else if let (true, Some((key, _))) = (in_params, line.split_once('=')) {
            if !pending.is_empty() {
                docs.insert(key.trim().to_string(), pending.join(" "));
            }
            pending.clear();
        } else {
            pending.clear();
        }
    }
    docs
}

impl Rule {
    pub fn parse(text: &str, file: &Path) -> Result<Rule> {
        let fname = file.display().to_string();
        let err = |message: String| Error::Config {
            file: fname.clone(),
            message,
        };
        let body = text.trim_start();
        let rest = body.strip_prefix("/* ---").ok_or_else(|| {
            err("a rule file must open with a `/* --- … --- */` TOML header".into())
        })?;
        let (header, sql) = rest
            .split_once("--- */")
            .ok_or_else(|| err("the header is not closed with `--- */`".into()))?;
        let h: Header = toml::from_str(header).map_err(|e| {
            err(format!(
                "header: {}",
                crate::config::describe_toml_error(&e, header)
            ))
        })?;
        if !["low", "medium", "high"].contains(&h.effort.as_str()) {
            return Err(err(format!(
                "effort `{}`: expected `low`, `medium` or `high`",
                h.effort
            )));
        }
        if !["preview", "stable"].contains(&h.status.as_str()) {
            return Err(err(format!(
                "status `{}`: expected `preview` or `stable`",
                h.status
            )));
        }
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if h.id != stem {
            return Err(err(format!(
                "id `{}` must match the file name `{stem}.sql`",
                h.id
            )));
        }
        Ok(Rule {
            id: h.id,
            title: h.title,
            category: h.category,
            severity: h.severity,
            status: h.status,
            effort: h.effort,
            overlap: h.overlap,
            what: h.what,
            why: h.why,
            fix: h.fix,
            params: h.params,
            param_docs: param_comments(header),
            sql: sql.trim().trim_end_matches(';').to_string(),
            file: file.to_path_buf(),
        })
    }

    /// The SQL with params (defaults, then `overrides`) and `as_of` filled in.
    pub fn render(
        &self,
        overrides: Option<&BTreeMap<String, toml::Value>>,
        as_of: NaiveDate,
    ) -> Result<String> {
        let mut values = self.params.clone();
        for (k, v) in overrides.into_iter().flatten() {
            if let Some(problem) = self.override_problem(k, v) {
                return Err(self.error(problem));
            }
            values.insert(k.clone(), v.clone());
        }
        let mut sql = self
            .sql
            .replace("{{as_of}}", &format!("DATE '{}'", as_of.format("%Y-%m-%d")));
        for (k, v) in &values {
            let literal = sql_literal(v).map_err(|e| self.error(format!("param `{k}`: {e}")))?;
            sql = sql.replace(&format!("{{{{{k}}}}}"), &literal);
        }
        if let Some(start) = sql.find("{{") {
            let name: String = sql[start + 2..].chars().take_while(|c| *c != '}').collect();
            return Err(self.error(format!(
                "`{{{{{name}}}}}` is not a declared param{}",
                suggest::hint(&name, self.params.keys().map(String::as_str))
            )));
        }
        Ok(sql)
    }

    /// Why `value` cannot override param `key`, if it cannot: no such param, or a value of
    /// another kind than the default's.
    fn override_problem(&self, key: &str, value: &toml::Value) -> Option<String> {
        let Some(default) = self.params.get(key) else {
            return Some(format!(
                "unknown param `{key}`{}; params are: {}",
                suggest::hint(key, self.params.keys().map(String::as_str)),
                self.params.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        };
        (kind(default) != kind(value)).then(|| {
            format!(
                "param `{key}` takes {} (default {default}), not {} {value}",
                kind(default),
                kind(value)
            )
        })
    }

    fn error(&self, message: String) -> Error {
        Error::Rule {
            rule: self.id.clone(),
            file: self.file.display().to_string(),
            message,
        }
    }

    /// Plan the rule against `ctx`'s tables and check the output contract; nothing is executed.
    pub async fn check(
        &self,
        ctx: &SessionContext,
        overrides: Option<&BTreeMap<String, toml::Value>>,
    ) -> Result<()> {
        let sql = self.render(
            overrides,
            NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date"),
        )?;
        let df = crate::lake::query::plan(ctx, &sql, None)
            .await
            .map_err(|e| self.error(e.to_string()))?;
        let have: Vec<&str> = df
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        let missing: Vec<&str> = CONTRACT
            .iter()
            .copied()
            .filter(|c| !have.contains(c))
            .collect();
        if !missing.is_empty() {
            return Err(self.error(format!(
                "the SELECT lacks contract column(s): {}",
                missing.join(", ")
            )));
        }
        Ok(())
    }

    /// Run the rule and return its findings with the runner's columns added (recommendations schema).
    pub async fn run(
        &self,
        ctx: &SessionContext,
        overrides: Option<&BTreeMap<String, toml::Value>>,
        run: &RunKey,
    ) -> Result<Vec<RecordBatch>> {
        let q = sql_string;
        let inner = self.render(overrides, run.as_of)?;
        let sql = format!(
            "SELECT *, {PRIORITY_SQL} AS priority FROM (\
             SELECT {run_id} AS run_id, {pipeline} AS pipeline, r.rule_id, {title} AS title, {category} AS category, {severity} AS severity, \
             r.resource_id, r.subscription_id, r.resource_group, r.resource_name, r.region, r.reason, \
             CAST(r.evidence AS VARCHAR) AS evidence, CAST(r.monthly_cost AS DOUBLE) AS monthly_cost, \
             CAST(r.est_monthly_savings AS DOUBLE) AS est_monthly_savings, \
             CAST(r.est_monthly_savings AS DOUBLE) * 12 AS est_annual_savings, \
             CAST(r.fit_score AS DOUBLE) AS fit_score, {effort} AS effort, r.remediation, DATE '{date}' AS run_date, \
             u.billing_currency, CAST(r.est_monthly_savings AS DOUBLE) * u.usd_per_unit AS est_monthly_savings_usd, \
             {overlap} AS savings_overlap \
             FROM (SELECT *, lower(subscription_id) AS rate_key FROM ({inner}) i) r \
             LEFT JOIN usd_rate u ON u.rate_subscription_id = r.rate_key) findings",
            run_id = q(&run.run_id),
            pipeline = q(&run.pipeline),
            title = q(&self.title),
            category = q(&self.category),
            severity = q(&self.severity),
            effort = q(&self.effort),
            overlap = q(self.overlap.as_str()),
            date = run.as_of.format("%Y-%m-%d"),
        );
        crate::lake::query::run(ctx, &sql)
            .await
            .map_err(|e| self.error(e.to_string()))
    }
}

/// What sort of value a param holds, as `validate` names it (integers and floats are both numbers).
fn kind(v: &toml::Value) -> &'static str {
    match v {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) | toml::Value::Float(_) => "a number",
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Array(_) => "a list",
        _ => "a table or date",
    }
}

/// A param value as SQL: strings quoted, numbers and booleans as they are, a list as an array
/// literal (`['a', 'b']`, for `unnest`, `array_has`, …) of at least one such value.
fn sql_literal(v: &toml::Value) -> std::result::Result<String, String> {
    match v {
        toml::Value::String(s) => Ok(sql_string(s)),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Float(f) => Ok(format!("{f:?}")),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        toml::Value::Array(items) if items.is_empty() => {
            Err("a list needs at least one value".into())
        }
        toml::Value::Array(items) => {
            let mut parts = Vec::with_capacity(items.len());
            for item in items {
                if matches!(item, toml::Value::Array(_)) {
                    return Err("a list of lists is not supported".into());
                }
                parts.push(sql_literal(item)?);
            }
            Ok(format!("[{}]", parts.join(", ")))
        }
        other => Err(format!("unsupported value {other}")),
    }
}

/// How the shared views are registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Views {
    /// As SQL views, evaluated by each query that reads them (tests insert rows after registering).
    Lazy,
    /// Computed once and held in memory: what a run does, so the rules do not each aggregate the
    /// 30 days of costs again.
    Materialized,
}

/// Register every shared view of the `rules` set (`views/*.sql` beside them) under its file name,
/// for `as_of`, in file-name order (a view may read the views whose names sort before its own).
/// Returns the view names.
pub async fn register_views(
    ctx: &SessionContext,
    rules: &SqlSet,
    as_of: NaiveDate,
    mode: Views,
) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for file in rules.views().files(true)? {
        let name = file.stem();
        let sql = file
            .text
            .replace("{{as_of}}", &format!("DATE '{}'", as_of.format("%Y-%m-%d")));
        let sql = sql.trim().trim_end_matches(';');
        let config_error = |e: datafusion::error::DataFusionError| Error::Config {
            file: file.path.display().to_string(),
            message: e.strip_backtrace(),
        };
        let plan_error = |e: Error| Error::Config {
            file: file.path.display().to_string(),
            message: e.to_string(),
        };
        match mode {
            Views::Lazy => {
                crate::lake::query::plan(
                    ctx,
                    &format!("CREATE OR REPLACE VIEW \"{name}\" AS {sql}"),
                    None,
                )
                .await
                .map_err(plan_error)?;
            }
            Views::Materialized => {
                let table = crate::lake::query::plan(ctx, sql, None)
                    .await
                    .map_err(plan_error)?
                    .cache()
                    .await
                    .map_err(config_error)?;
                ctx.deregister_table(name.as_str()).map_err(config_error)?;
                ctx.register_table(name.as_str(), table.into_view())
                    .map_err(config_error)?;
            }
        }
        names.push(name);
    }
    Ok(names)
}

/// The rules reference (`docs/rules.md`), generated from the rule headers.
pub fn reference_markdown(rules: &[Rule]) -> String {
    let mut out = String::from(
        "# Rules reference\n\nGenerated by `cloudoptima rules docs` from the headers of `sql/rules/*.sql`; do not edit.\n\n\
         A pipeline runs every stable rule, or the ids and categories its `[rules] select` names; preview \
         rules run when named there or with `preview = true`. Params are overridden per rule under \
         `[rules.params.<id>]`.\n\n\
         | id | category | severity | effort | status | title |\n|---|---|---|---|---|---|\n",
    );
    for r in rules {
        out.push_str(&format!(
            "| [`{}`](#{}) | {} | {} | {} | {} | {} |\n",
            r.id, r.id, r.category, r.severity, r.effort, r.status, r.title
        ));
    }
    for r in rules {
        out.push_str(&format!(
            "\n## {}\n\n{} ({}, {} severity, {} effort, {}).\n\n**What it finds.** {}\n\n**Why it matters.** {}\n\n**Fix.** {}\n",
            r.id, r.title, r.category, r.severity, r.effort, r.status, r.what, r.why, r.fix
        ));
        if !r.params.is_empty() {
            out.push_str("\n| param | default | meaning |\n|---|---|---|\n");
            for (k, v) in &r.params {
                let doc = r.param_docs.get(k).map_or("", String::as_str);
                out.push_str(&format!(
                    "| `{k}` | `{}` | {doc} |\n",
                    v.to_string().replace('|', "\\|")
                ));
            }
        }
    }
    out
}

/// Load every rule of `set`, reporting every malformed file at once.
pub fn load(set: &SqlSet) -> Result<Vec<Rule>> {
    let (mut rules, mut problems) = (Vec::new(), Vec::new());
    for file in set.files(false)? {
        match Rule::parse(&file.text, &file.path) {
            Ok(rule) => rules.push(rule),
            Err(e) => problems.push(e.to_string()),
        }
    }
    if problems.is_empty() {
        Ok(rules)
    } else {
        Err(Error::Invalid(problems))
    }
}

/// Load every `*.sql` rule in `dir`.
pub fn load_dir(dir: &Path) -> Result<Vec<Rule>> {
    load(&SqlSet::Dir(dir.to_path_buf()))
}

/// The rules a pipeline's selection names (ids or categories; empty = every stable rule, and the
/// preview ones with `preview = true`).
/// Unknown names and unknown param overrides are reported with the closest valid name, and an
/// override of another kind than its default (a string for a number) with what it takes.
pub fn select<'a>(
    rules: &'a [Rule],
    selection: &RuleSelection,
    origin: &str,
) -> Result<Vec<&'a Rule>> {
    let mut problems = Vec::new();
    let names: Vec<&str> = rules
        .iter()
        .flat_map(|r| [r.id.as_str(), r.category.as_str()])
        .collect();
    for wanted in &selection.select {
        if !names.contains(&wanted.as_str()) {
            problems.push(format!(
                "{origin}: rules.select: no rule or category `{wanted}`{}",
                suggest::hint(wanted, names.iter().copied())
            ));
        }
    }
    for (id, params) in &selection.params {
        match rules.iter().find(|r| &r.id == id) {
            None => problems.push(format!(
                "{origin}: rules.params: no rule `{id}`{}",
                suggest::hint(id, rules.iter().map(|r| r.id.as_str()))
            )),
            Some(rule) => {
                for (key, value) in params {
                    if let Some(problem) = rule.override_problem(key, value) {
                        problems.push(format!("{origin}: rules.params.{id}: {problem}"));
                    }
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    Ok(rules
        .iter()
        .filter(|r| {
            if selection.select.is_empty() {
                r.status == "stable" || selection.preview
            } else {
                selection
                    .select
                    .iter()
                    .any(|s| *s == r.id || *s == r.category)
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "/* ---\nid = \"x_rule\"\ntitle = \"T\"\ncategory = \"compute\"\nseverity = \"low\"\nstatus = \"stable\"\nwhat = \"w\"\nwhy = \"y\"\nfix = \"f\"\n[params]\nlimit_pct = 5.0\n--- */\nSELECT {{limit_pct}} AS v, {{as_of}} AS d;";

    #[test]
    fn renders_params_and_overrides() {
        let rule = Rule::parse(RULE, Path::new("sql/rules/x_rule.sql")).unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 1, 2).unwrap();
        assert_eq!(
            rule.render(None, day).unwrap(),
            "SELECT 5.0 AS v, DATE '2026-01-02' AS d"
        );
        let o = BTreeMap::from([("limit_pct".to_string(), toml::Value::Integer(3))]);
        assert!(
            rule.render(Some(&o), day)
                .unwrap()
                .starts_with("SELECT 3 AS v")
        );
        let bad = BTreeMap::from([("limit_pc".to_string(), toml::Value::Integer(3))]);
        let e = rule.render(Some(&bad), day).unwrap_err().to_string();
        assert!(e.contains("did you mean `limit_pct`"), "{e}");
    }

    #[test]
    fn list_params_render_as_arrays_and_overrides_keep_the_default_kind() {
        let text = RULE
            .replace(
                "limit_pct = 5.0\n",
                "limit_pct = 5.0\ntags = [\"costcenter\"]\n",
            )
            .replace("AS d;", "AS d, {{tags}} AS t;");
        let rule = Rule::parse(&text, Path::new("x_rule.sql")).unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 1, 2).unwrap();
        let with =
            |k: &str, v: toml::Value| rule.render(Some(&BTreeMap::from([(k.to_string(), v)])), day);
        let two = toml::Value::Array(vec!["owner".into(), "it's".into()]);
        assert_eq!(
            with("tags", two).unwrap(),
            "SELECT 5.0 AS v, DATE '2026-01-02' AS d, ['owner', 'it''s'] AS t"
        );
        let e = with("tags", "costcenter".into()).unwrap_err().to_string();
        assert!(e.contains("param `tags` takes a list"), "{e}");
        let e = with("limit_pct", "high".into()).unwrap_err().to_string();
        assert!(
            e.contains("param `limit_pct` takes a number (default 5.0), not a string"),
            "{e}"
        );
        let e = with("tags", toml::Value::Array(vec![]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("at least one value"), "{e}");
    }

    #[test]
    fn param_comments_document_params() {
        let rule = Rule::parse(
            &RULE.replace("[params]\n", "[params]\n# Percent of CPU.\n# Averaged.\n"),
            Path::new("x_rule.sql"),
        )
        .unwrap();
        assert_eq!(
            rule.param_docs.get("limit_pct").map(String::as_str),
            Some("Percent of CPU. Averaged.")
        );
    }

    #[tokio::test]
    async fn priority_weighs_savings_fit_and_effort() {
        use datafusion::arrow::array::AsArray;
        let ctx = SessionContext::new();
        let sql = format!(
            "SELECT {PRIORITY_SQL} AS p FROM (VALUES (120.0, 5.0, 'low'), (120.0, 5.0, 'high'), (120.0, 2.0, 'low'), \
             (3.0, 5.0, 'low'), (20.0, 4.0, 'low')) AS t(est_monthly_savings, fit_score, effort)"
        );
        let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
        let got: Vec<String> = batches[0]
            .column(0)
            .as_string::<i32>()
            .iter()
            .map(|v| v.unwrap().to_string())
            .collect();
        assert_eq!(got, ["high", "medium", "low", "low", "medium"]);
    }

    #[test]
    fn selection_runs_stable_rules_unless_told_otherwise() {
        let stable = Rule::parse(RULE, Path::new("x_rule.sql")).unwrap();
        let preview = Rule::parse(
            &RULE
                .replace("x_rule", "y_rule")
                .replace("status = \"stable\"", "status = \"preview\""),
            Path::new("y_rule.sql"),
        )
        .unwrap();
        let rules = [stable, preview];
        let ids = |selection: &RuleSelection| -> Vec<String> {
            select(&rules, selection, "p.toml")
                .unwrap()
                .iter()
                .map(|r| r.id.clone())
                .collect()
        };
        let mut selection = RuleSelection::default();
        assert_eq!(ids(&selection), ["x_rule"]);
        selection.preview = true;
        assert_eq!(ids(&selection), ["x_rule", "y_rule"]);
        selection.preview = false;
        selection.select = vec!["y_rule".into()];
        assert_eq!(ids(&selection), ["y_rule"]);
        selection.select = vec!["compute".into()];
        assert_eq!(ids(&selection), ["x_rule", "y_rule"]);
        selection.select = vec!["y_rul".into()];
        let e = select(&rules, &selection, "p.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("did you mean `y_rule`"), "{e}");
    }

    #[test]
    fn id_must_match_file_name() {
        let e = Rule::parse(RULE, Path::new("sql/rules/other.sql"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("must match the file name"), "{e}");
    }
}
