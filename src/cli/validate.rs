//! `cloudoptima validate`: load config, pipelines and rules, and plan every selected rule against the
//! lake's table schemas. Every problem is listed at once; exit 2 if there is any.

use super::{Context, EXIT_OK, EXIT_USAGE};
use crate::analyze::rules;
use crate::lake::{register_empty, schema};
use crate::pipeline::spec;
use crate::{Error, Result};

#[derive(Debug, clap::Args)]
pub struct Args {}

fn collect(problems: &mut Vec<String>, e: Error) {
    match e {
        Error::Invalid(list) => problems.extend(list),
        other => problems.push(other.to_string()),
    }
}

pub async fn exec(cx: &Context, _args: Args) -> Result<u8> {
    let mut problems = Vec::new();
    let mut checks = Vec::new();
    match cx.config() {
        Ok(_) => checks.push(format!(
            "config {}",
            cx.config_path
                .as_ref()
                .map_or("(defaults)".into(), |p| p.display().to_string())
        )),
        Err(e) => collect(&mut problems, e),
    }
    let specs = spec::load_dir(&cx.pipelines).unwrap_or_else(|e| {
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
                    .problems()
                    .into_iter()
                    .map(|p| format!("{}: {p}", spec.file.display())),
            );
        }
    }
    checks.push(format!(
        "{} pipeline(s) in {}",
        specs.len(),
        cx.pipelines.display()
    ));
    let all = rules::load_dir(&cx.rules).unwrap_or_else(|e| {
        collect(&mut problems, e);
        Vec::new()
    });
    checks.push(format!("{} rule(s) in {}", all.len(), cx.rules.display()));

    // Plan against the contract schemas, not the lake's current contents: an empty lake validates too.
    let ctx = crate::lake::session();
    for def in schema::all() {
        register_empty(&ctx, &def)?;
    }
    match rules::register_views(
        &ctx,
        &cx.rules,
        chrono::NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date"),
        rules::Views::Lazy,
    )
    .await
    {
        Ok(views) => checks.push(format!(
            "{} shared view(s) in {}",
            views.len(),
            cx.rules.join(rules::VIEWS_SUBDIR).display()
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
    for c in &checks {
        println!("ok   {c}");
    }
    if problems.is_empty() {
        println!("Everything is valid.");
        return Ok(EXIT_OK);
    }
    for p in &problems {
        println!("x    {p}");
    }
    println!("{} problem(s) found.", problems.len());
    Ok(EXIT_USAGE)
}
