//! `cloudoptima serve`: the lake over the PostgreSQL wire protocol, read-only, until SIGTERM or
//! Ctrl-C.

use super::{Context, EXIT_OK};
use crate::Result;
use crate::lake::Lake;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Clients sign in as `[serve] user` (default `cloudoptima`) with the password in \
CLOUDOPTIMA_SERVE_PASSWORD (SCRAM-SHA-256), e.g.
  CLOUDOPTIMA_SERVE_PASSWORD=… cloudoptima serve
  psql \"host=127.0.0.1 port=5432 user=cloudoptima dbname=lake\" -c 'SELECT \"ServiceName\", SUM(\"EffectiveCost\") FROM costs GROUP BY 1'
Column names are as FOCUS spells them: quote mixed-case names, as PostgreSQL requires.
Only queries run: DDL, INSERT, COPY and engine settings are refused (SQLSTATE 25006). Each query
runs within the `[query]` memory and time limits."
)]
pub struct Args {
    /// HOST:PORT to listen on [default: `[serve] listen`, 127.0.0.1:5432].
    #[arg(long)]
    listen: Option<String>,
}

pub async fn exec(cx: &Context, args: Args) -> Result<u8> {
    let config = cx.config()?;
    let lake = Lake::open_existing(&config.lake.url)?;
    let mut serve = config.serve.clone();
    if let Some(listen) = args.listen {
        serve.listen = listen;
    }
    crate::serve::serve(lake, &serve, &config.query).await?;
    Ok(EXIT_OK)
}
