//! `cloudoptima validate`: load config, pipelines and rules, and plan every selected rule against the
//! lake's table schemas. Every problem is listed at once; exit 2 if there is any. `run` goes through
//! the same checks and refuses to start on any problem, so nothing is found wrong halfway through.

use super::{Context, EXIT_OK, EXIT_USAGE};
use crate::analyze::rules;
use crate::assets::SqlSet;
use crate::config::Config;
use crate::lake::{register_empty, schema};
use crate::pipeline::PipelineSpec;
use crate::{Error, Result};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also print the effective settings: the config with defaults filled in and every pipeline,
    /// secrets shown as `***`.
    #[arg(long)]
    show: bool,
}

/// Everything the commands need, checked: what loaded, and every problem found.
pub(crate) struct Checked {
    pub config: Option<Config>,
    pub specs: Vec<PipelineSpec>,
    pub rules: SqlSet,
    pub report_sql: SqlSet,
    /// What was checked and found fine, one line each.
    pub checks: Vec<String>,
    pub problems: Vec<String>,
}

fn collect(problems: &mut Vec<String>, e: Error) {
    match e {
        Error::Invalid(list) => problems.extend(list),
        other => problems.push(other.to_string()),
    }
}

/// What `command` starts from: everything checked and loaded, or `None` after printing every
/// problem (the caller exits 2 before doing anything: nothing is found wrong halfway).
pub(crate) async fn ready(cx: &Context, command: &str) -> Option<(Config, Checked)> {
    let mut checked = check(cx).await;
    if checked.problems.is_empty()
        && let Some(config) = checked.config.take()
    {
        return Some((config, checked));
    }
    eprintln!(
        "error: the {command} did not start: {} problem(s) (`cloudoptima validate` lists the same):",
        checked.problems.len()
    );
    for p in &checked.problems {
        eprintln!("  - {p}");
    }
    None
}

/// Load and check the config, the pipelines, the rules and the report queries.
pub(crate) async fn check(cx: &Context) -> Checked {
    let mut problems = Vec::new();
    let mut checks = Vec::new();
    let config = match cx.config() {
        Ok(c) => {
            checks.push(format!(
                "config {}",
                cx.config_path
                    .as_ref()
                    .map_or("(defaults)".into(), |p| p.display().to_string())
            ));
            Some(c)
        }
        Err(e) => {
            collect(&mut problems, e);
            None
        }
    };
    let specs = cx.pipelines().unwrap_or_else(|e| {
        collect(&mut problems, e);
        Vec::new()
    });
    for spec in &specs {
        if let Some(path) = &spec.rules.suppressions
            && let Err(e) = crate::analyze::lifecycle::Suppressions::load(path)
        {
            collect(&mut problems, e);
        }
        for source in &spec.sources {
            problems.extend(
                source
                    .source()
                    .problems()
                    .into_iter()
                    .map(|p| format!("{}: {p}", spec.file.display())),
            );
        }
    }
    if let Some(config) = &config {
        for spec in &specs {
            let file = spec.file.display().to_string();
            problems.extend(crate::alert::route_problems(&spec.alerts, config, &file));
            if spec.report.llm_summary && config.llm.is_none() {
                problems.push(format!(
                    "{file}: report.llm_summary: the config has no [llm] section to write it with"
                ));
            }
        }
    }
    checks.push(format!(
        "{} pipeline(s) from {}",
        specs.len(),
        crate::pipeline::spec::origin(&specs)
    ));
    let rules_set = cx.rules_set();
    let all = rules::load(&rules_set).unwrap_or_else(|e| {
        collect(&mut problems, e);
        Vec::new()
    });
    checks.push(format!(
        "{} rule(s) from {}",
        all.len(),
        rules_set.describe()
    ));
    let report_sql = cx.report_sql_set();
    match report_sql.files(false) {
        Ok(files) => checks.push(format!(
            "{} report query file(s) from {}",
            files.len(),
            report_sql.describe()
        )),
        Err(e) => collect(&mut problems, e),
    }

    // Plan against the contract schemas, not the lake's current contents: an empty lake validates too.
    let ctx = crate::lake::session();
    for def in schema::all() {
        if let Err(e) = register_empty(&ctx, &def) {
            collect(&mut problems, e);
        }
    }
    let any_date = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date");
    match rules::register_views(&ctx, &rules_set, any_date, rules::Views::Lazy).await {
        Ok(views) => checks.push(format!(
            "{} shared view(s) from {}",
            views.len(),
            rules_set.views().describe()
        )),
        Err(e) => collect(&mut problems, e),
    }
    for rule in &all {
        if let Err(e) = rule.check(&ctx, None).await {
            collect(&mut problems, e);
        }
    }
    for spec in &specs {
        let origin = spec.file.display().to_string();
        match rules::select(&all, &spec.rules, &origin) {
            Ok(selected) => {
                for rule in selected
                    .into_iter()
                    .filter(|r| spec.rules.params.contains_key(&r.id))
                {
                    if let Err(e) = rule.check(&ctx, spec.rules.params.get(&rule.id)).await {
                        collect(
                            &mut problems,
                            Error::Config {
                                file: origin.clone(),
                                message: e.to_string(),
                            },
                        );
                    }
                }
            }
            Err(e) => collect(&mut problems, e),
        }
    }
    Checked {
        config,
        specs,
        rules: rules_set,
        report_sql,
        checks,
        problems,
    }
}

pub async fn exec(cx: &Context, args: Args) -> Result<u8> {
    let checked = check(cx).await;
    for c in &checked.checks {
        println!("ok   {c}");
    }
    if args.show {
        if let Some(config) = &checked.config {
            println!("\nEffective config:\n{config:#?}");
        }
        for spec in &checked.specs {
            println!(
                "\nPipeline {} ({}):\n{spec:#?}",
                spec.name,
                spec.file.display()
            );
        }
        println!();
    }
    if checked.problems.is_empty() {
        println!("Everything is valid.");
        return Ok(EXIT_OK);
    }
    for p in &checked.problems {
        println!("x    {p}");
    }
    println!("{} problem(s) found.", checked.problems.len());
    Ok(EXIT_USAGE)
}
