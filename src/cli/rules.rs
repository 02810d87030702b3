//! `cloudoptima rules list|show ID|docs`: the rule catalog from the headers of `sql/rules/*.sql`.

use super::{Context, EXIT_OK};
use crate::analyze::rules;
use crate::{Error, Result, suggest};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// One line per rule: id, category, severity, status, title.
    List,
    /// A rule's documentation, params and SQL.
    Show {
        /// Rule id, e.g. `compute_vm_idle`.
        id: String,
    },
    /// Print the rules reference as Markdown (the source of `docs/rules.md`).
    Docs,
}

pub fn exec(cx: &Context, cmd: Command) -> Result<u8> {
    let set = cx.rules_set();
    let all = rules::load(&set)?;
    match cmd {
        Command::List => {
            println!("{} rule(s) from {}", all.len(), set.describe());
            println!(
                "{:<34} {:<10} {:<8} {:<7} title",
                "id", "category", "severity", "status"
            );
            for r in &all {
                println!(
                    "{:<34} {:<10} {:<8} {:<7} {}",
                    r.id, r.category, r.severity, r.status, r.title
                );
            }
        }
        Command::Docs => print!("{}", rules::reference_markdown(&all)),
        Command::Show { id } => {
            let Some(r) = all.iter().find(|r| r.id == id) else {
                return Err(Error::Config {
                    file: set.describe(),
                    message: format!(
                        "no rule `{id}`{}",
                        suggest::hint(&id, all.iter().map(|r| r.id.as_str()))
                    ),
                });
            };
            println!(
                "{} ({}, {}, {})\n\n{}\n",
                r.id, r.category, r.severity, r.status, r.title
            );
            println!(
                "What it finds: {}\nWhy it matters: {}\nFix: {}\n",
                r.what, r.why, r.fix
            );
            println!("Params:");
            for (k, v) in &r.params {
                println!("  {k} = {v}");
                if let Some(doc) = r.param_docs.get(k) {
                    println!("      {doc}");
                }
            }
            println!(
                "\nFile: {} ({})\n\n{}",
                r.file.display(),
                set.describe(),
                r.sql
            );
        }
    }
    Ok(EXIT_OK)
}
