//! Report: queries in `sql/report/` build a plain [`model::ReportModel`] from the lake; [`pdf`]
//! renders it; [`delivery`] sends it by SMTP or drops an `.eml` into the outbox.

pub mod delivery;
pub mod model;
pub mod pdf;

use std::path::{Path, PathBuf};

use datafusion::prelude::SessionContext;

use crate::assets::SqlSet;
use crate::lake::RunKey;
use crate::{Error, Result};

/// A report written to disk.
#[derive(Debug, Clone)]
pub struct Written {
    pub path: PathBuf,
    pub pdf: Vec<u8>,
    /// The executive summary, one sentence a line (the email's body).
    pub summary: String,
}

/// Build `run`'s report from the tables registered in `ctx` and write the PDF into `reports_dir`
/// as `<pipeline>-<date>.pdf`.
pub async fn write(
    ctx: &SessionContext,
    sql: &SqlSet,
    title: &str,
    run: &RunKey,
    reports_dir: &Path,
) -> Result<Written> {
    let m = model::ReportModel::build(ctx, sql, title, run).await?;
    let pdf = pdf::render(&m);
    std::fs::create_dir_all(reports_dir).map_err(|e| Error::io(reports_dir, e))?;
    let path = reports_dir.join(format!(
        "{}-{}.pdf",
        run.pipeline,
        run.as_of.format("%Y-%m-%d")
    ));
    std::fs::write(&path, &pdf).map_err(|e| Error::io(&path, e))?;
    Ok(Written {
        path,
        pdf,
        summary: m.summary().join("\n"),
    })
}
