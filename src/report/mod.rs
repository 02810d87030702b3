//! Report: queries in `sql/report/` build a plain [`model::ReportModel`] from the lake;
//! [`summary`] writes its executive summary (by the numbers, or by a checked language model);
//! [`document`] lays it out as blocks that [`pdf`] and [`html`] render, with [`chart`]'s charts;
//! [`delivery`] sends it by SMTP or drops an `.eml` into the outbox.

pub mod chart;
pub mod delivery;
pub mod document;
pub mod html;
pub mod model;
pub mod pdf;
pub mod summary;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use datafusion::prelude::SessionContext;

use crate::assets::SqlSet;
use crate::lake::RunKey;
use crate::llm::{Llm, LlmConfig};
use crate::{Error, Result};

/// A report written to disk, with what its email needs.
#[derive(Debug, Clone)]
pub struct Written {
    /// The PDF.
    pub path: PathBuf,
    /// The HTML saved beside it (charts inline as `data:` URIs).
    pub html_path: PathBuf,
    pub pdf: Vec<u8>,
    /// The HTML for an email: charts as `cid:chart-N` parts.
    pub email_html: String,
    /// The charts as PNG, in `cid:chart-N` order.
    pub charts: Vec<Vec<u8>>,
    /// The whole report as plain text (the email's text part).
    pub text: String,
    pub summary: summary::Summary,
}

/// How the report is written: its title, the showback tag, and the model for its summary.
pub struct Options<'a> {
    pub title: &'a str,
    /// The tag key cost is broken down by (showback), when set.
    pub showback_tag: Option<&'a str>,
    /// The model that writes the summary, when asked for (`[report] llm_summary`).
    pub llm: Option<&'a LlmConfig>,
    /// Whether resource names go to the model (aggregates only otherwise).
    pub llm_names: bool,
    pub azure: &'a crate::azure::AzureConfig,
}

/// Build `run`'s report from the tables registered in `ctx` and write `<pipeline>-<date>.pdf` and
/// `.html` into `reports_dir`.
pub async fn write(
    ctx: &SessionContext,
    sql: &SqlSet,
    options: &Options<'_>,
    run: &RunKey,
    reports_dir: &Path,
) -> Result<Written> {
    let m = model::ReportModel::build(ctx, sql, options.title, run, options.showback_tag).await?;
    let summary = match options.llm {
        Some(config) => match Llm::connect(config, options.azure).await {
            Ok(llm) => summary::write(&m, Some((&llm, &config.model)), options.llm_names).await,
            Err(e) => {
                let mut s = summary::write(&m, None, false).await;
                tracing::warn!(error = %e, "The model's summary is not used; the report has the deterministic one.");
                s.fallback = Some(format!("the model gave no summary: {e}"));
                s
            }
        },
        None => summary::write(&m, None, false).await,
    };
    let doc = document::build(&m, &summary);
    let charts = chart::daily_cost(&m);
    let pdf = pdf::render(&doc, &charts, chrono::Utc::now());
    let pngs: Vec<Vec<u8>> = charts.iter().map(chart::Chart::png).collect();
    let saved_html = html::render(&doc, &|i| {
        format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&pngs[i])
        )
    });
    let email_html = html::render(&doc, &|i| format!("cid:chart-{i}"));
    std::fs::create_dir_all(reports_dir).map_err(|e| Error::io(reports_dir, e))?;
    let stem = format!("{}-{}", run.pipeline, run.as_of.format("%Y-%m-%d"));
    let path = reports_dir.join(format!("{stem}.pdf"));
    let html_path = reports_dir.join(format!("{stem}.html"));
    std::fs::write(&path, &pdf).map_err(|e| Error::io(&path, e))?;
    std::fs::write(&html_path, &saved_html).map_err(|e| Error::io(&html_path, e))?;
    Ok(Written {
        path,
        html_path,
        pdf,
        email_html,
        charts: pngs,
        text: html::plain(&doc),
        summary,
    })
}
