//! The run manifest: one `_runs` row per run with its stages, timings, row counts and errors.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{
    ArrayRef, Date32Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use serde_json::json;

use super::run::RunSummary;
use crate::lake::columns::epoch_days;
use crate::lake::{Lake, WriteMode, schema};
use crate::{Error, Result};

pub async fn write(
    lake: &Lake,
    summary: &RunSummary,
    started: DateTime<Utc>,
    finished: DateTime<Utc>,
) -> Result<()> {
    let def = schema::runs();
    let stages = json!(summary
        .stages
        .iter()
        .map(|s| json!({"stage": s.name, "status": s.status.label(), "elapsed_ms": s.elapsed_ms, "rows": s.rows, "error": s.status.error(), "detail": s.detail}))
        .collect::<Vec<_>>());
    let errors: Vec<String> = summary
        .stages
        .iter()
        .filter_map(|s| s.status.error().map(|e| format!("{}: {e}", s.name)))
        .collect();
    let ts = |t: DateTime<Utc>| -> ArrayRef {
        Arc::new(TimestampMicrosecondArray::from(vec![t.timestamp_micros()]).with_timezone("UTC"))
    };
    let s = |v: String| -> ArrayRef { Arc::new(StringArray::from(vec![v])) };
    let batch = RecordBatch::try_new(
        def.schema.clone(),
        vec![
            s(summary.run_id.clone()),
            s(summary.pipeline.clone()),
            Arc::new(Date32Array::from(vec![epoch_days(summary.as_of)])),
            ts(started),
            ts(finished),
            s(if summary.succeeded() {
                "succeeded".into()
            } else {
                "failed".into()
            }),
            s(stages.to_string()),
            s(serde_json::to_string(&errors).expect("strings serialize")),
        ],
    )
    .map_err(|e| Error::Internal(e.to_string()))?;
    lake.write_batches(&def, vec![batch], WriteMode::Append)
        .await
}
