//! `cloudoptima ask "question"`: the model in `[llm]` writes one SQL query from the lake's schema;
//! it is shown, run read-only and its result printed with a short answer. `--sql-only` prints the
//! query; `--eval FILE` measures execution accuracy over a question set.

use std::path::PathBuf;

use super::sql::{Format, print};
use super::{Context, EXIT_FAILED, EXIT_OK};
use crate::ask::{self, AskError};
use crate::lake::Lake;
use crate::llm::Llm;
use crate::{Error, Result};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The question, in plain language ("What did storage cost last month per subscription?").
    #[arg(required_unless_present = "eval")]
    question: Option<String>,
    /// Print the model's SQL and stop (nothing runs).
    #[arg(long, conflicts_with = "eval")]
    sql_only: bool,
    /// Output format of the result.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Run a question set (TOML: `[[question]]` with `question` and the `sql` whose result is the
    /// right answer) and print each outcome and the execution accuracy.
    #[arg(long, value_name = "FILE")]
    eval: Option<PathBuf>,
}

pub async fn exec(cx: &Context, args: Args) -> Result<u8> {
    let config = cx.config()?;
    let Some(llm_config) = &config.llm else {
        return Err(Error::Config {
            file: cx
                .config_path
                .as_ref()
                .map_or("config".into(), |p| p.display().to_string()),
            message: "`ask` needs a language model: add an [llm] section (see config/cloudoptima.example.toml)".into(),
        });
    };
    let lake = Lake::open_existing(&config.lake.url)?;
    let llm = Llm::connect(llm_config, &config.azure).await?;
    if let Some(file) = args.eval {
        let outcomes = ask::evaluate(&llm, &lake, &config.query, &file).await?;
        for o in &outcomes {
            println!(
                "{} {}{}",
                if o.correct { "[ok  ]" } else { "[miss]" },
                o.question,
                if o.note.is_empty() {
                    String::new()
                } else {
                    format!("\n       {}", o.note)
                }
            );
        }
        println!(
            "execution accuracy: {} with {}",
            ask::accuracy(&outcomes),
            llm_config.model
        );
        return Ok(EXIT_OK);
    }
    let question = args.question.unwrap_or_default();
    let schema = ask::schema_text(&lake, &config.query).await;
    if args.sql_only {
        let sql = ask::write_sql(&llm, &schema, &question)
            .await
            .map_err(|e| Error::Query(e.to_string()))?;
        println!("{sql}");
        return Ok(EXIT_OK);
    }
    match ask::ask(&llm, &lake, &config.query, &schema, &question).await {
        Ok(answer) => {
            if let Some((first, error)) = &answer.repaired {
                eprintln!(
                    "The model's first query failed ({error}); it was repaired once:\n{first}\n"
                );
            }
            println!("{}\n", answer.sql);
            print(&answer.batches, args.format)?;
            match ask::short_answer(&llm, &question, &answer).await {
                Ok(text) => println!("\n{text}"),
                Err(why) => eprintln!("\n(no short answer: {why})"),
            }
            Ok(EXIT_OK)
        }
        Err(AskError::Refused { sql, reason }) => {
            eprintln!("{sql}\n\nrefused: {reason}");
            Ok(super::EXIT_USAGE)
        }
        Err(AskError::Failed { sql, reason }) => {
            eprintln!("{sql}\n\nfailed after one repair: {reason}");
            Ok(EXIT_FAILED)
        }
        Err(AskError::Model(e)) => Err(e.into()),
        Err(AskError::Lake(e)) => Err(e),
    }
}
