//! A time limit on queries whose execution this process does not drive itself (`serve`: the
//! wire protocol library streams results to the client): a physical optimizer rule puts
//! [`TimeLimitExec`] on top of every plan, whose stream ends in an error once the query has run
//! longer than `[query] time_limit_seconds`. The error stops the query; dropping its stream
//! cancels the work below.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::config::ConfigOptions;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream, TaskContext};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PhysicalExpr, PlanProperties,
};
use futures::{FutureExt as _, Stream};

/// A query session within `limits` (see [`super::query::session`]) whose every plan also stops
/// at the time limit by itself.
pub fn session(limits: &super::query::QueryLimits) -> datafusion::prelude::SessionContext {
    let base = super::query::session(limits);
    let state = datafusion::execution::SessionStateBuilder::new_from_existing(base.state())
        .with_physical_optimizer_rule(Arc::new(TimeLimit(Duration::from_secs(
            limits.time_limit_seconds,
        ))))
        .build();
    datafusion::prelude::SessionContext::new_with_state(state)
}

/// The optimizer rule: wraps each plan once, at its root.
#[derive(Debug)]
pub struct TimeLimit(pub Duration);

impl PhysicalOptimizerRule for TimeLimit {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if plan.is::<TimeLimitExec>() {
            return Ok(plan);
        }
        Ok(Arc::new(TimeLimitExec {
            input: plan,
            limit: self.0,
        }))
    }

    fn name(&self) -> &str {
        "time_limit"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Passes its input through until the time limit, counted from when it starts executing.
#[derive(Debug)]
pub struct TimeLimitExec {
    input: Arc<dyn ExecutionPlan>,
    limit: Duration,
}

impl DisplayAs for TimeLimitExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TimeLimitExec: {} s", self.limit.as_secs())
    }
}

impl ExecutionPlan for TimeLimitExec {
    fn name(&self) -> &str {
        "TimeLimitExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if children.len() != 1 {
            return Err(DataFusionError::Internal(
                "TimeLimitExec has exactly one input".into(),
            ));
        }
        Ok(Arc::new(TimeLimitExec {
            input: children.swap_remove(0),
            limit: self.limit,
        }))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        Ok(Box::pin(TimeLimited {
            input: self.input.execute(partition, context)?,
            deadline: Box::pin(tokio::time::sleep(self.limit)),
            limit: self.limit,
            over: false,
        }))
    }
}

struct TimeLimited {
    input: SendableRecordBatchStream,
    deadline: Pin<Box<tokio::time::Sleep>>,
    limit: Duration,
    over: bool,
}

impl Stream for TimeLimited {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.over {
            return Poll::Ready(None);
        }
        if self.deadline.poll_unpin(cx).is_ready() {
            self.over = true;
            return Poll::Ready(Some(Err(DataFusionError::ResourcesExhausted(
                super::query::over_time(self.limit.as_secs()),
            ))));
        }
        self.input.as_mut().poll_next(cx)
    }
}

impl RecordBatchStream for TimeLimited {
    fn schema(&self) -> SchemaRef {
        self.input.schema()
    }
}
