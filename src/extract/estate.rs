//! What the Azure sources that work per resource (metrics, retail prices) know of the estate: the
//! inventory landed earlier in this run, or else the lake's latest `resources` snapshot; and when
//! each resource's metrics were last loaded.

use std::collections::HashMap;

use super::{Dataset, Landed};
use crate::Result;
use crate::azure::resource_graph;
use crate::lake::columns::{numbers, strings};
use crate::lake::{Lake, schema};

/// One resource, ids and names lowercased.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Resource {
    pub id: String,
    pub resource_type: String,
    pub region: String,
    pub subscription: String,
    /// VM size (`Standard_D2s_v3`), as Azure spells it.
    pub vm_size: Option<String>,
}

/// The inventory: from this run's Resource Graph pages when there are any, else the lake.
pub async fn resources(lake: &Lake, earlier: &[Landed]) -> Result<Vec<Resource>> {
    let pages: Vec<&Landed> = earlier
        .iter()
        .filter(|l| l.dataset == Dataset::Resources)
        .collect();
    let mut out = Vec::new();
    if !pages.is_empty() {
        for page in pages {
            let rows = resource_graph::rows(&lake.get(&page.path).await?).map_err(|message| {
                crate::Error::Data {
                    file: page.key.clone(),
                    message,
                }
            })?;
            for r in &rows {
                out.push(Resource {
                    id: resource_graph::id(r).unwrap_or_default(),
                    resource_type: resource_graph::resource_type(r).unwrap_or_default(),
                    region: resource_graph::region(r).unwrap_or_default(),
                    subscription: resource_graph::subscription(r).unwrap_or_default(),
                    vm_size: resource_graph::vm_size(r),
                });
            }
        }
    } else {
        let ctx = crate::lake::session();
        lake.register(&ctx, &schema::resources()).await?;
        let batches = ctx
            .sql(
                "SELECT resource_id, resource_type, region, subscription_id, vm_size FROM resources \
                 WHERE snapshot_date = (SELECT max(snapshot_date) FROM resources)",
            )
            .await?
            .collect()
            .await?;
        let cols: Vec<Vec<String>> = (0..5)
            .map(|i| strings(&batches, i))
            .collect::<Result<_>>()?;
        for (i, id) in cols[0].iter().enumerate() {
            out.push(Resource {
                id: id.clone(),
                resource_type: cols[1][i].clone(),
                region: cols[2][i].clone(),
                subscription: cols[3][i].clone(),
                vm_size: Some(cols[4][i].clone()).filter(|s| !s.is_empty()),
            });
        }
    }
    out.retain(|r| !r.id.is_empty());
    out.sort();
    out.dedup();
    Ok(out)
}

/// The last hour loaded into `metrics` for each resource (microseconds since the epoch).
pub async fn last_metric_hour(lake: &Lake) -> Result<HashMap<String, i64>> {
    let ctx = crate::lake::session();
    lake.register(&ctx, &schema::metrics()).await?;
    let batches = ctx
        .sql(
            "SELECT resource_id, CAST(to_unixtime(max(\"timestamp\")) AS DOUBLE) FROM metrics \
             GROUP BY resource_id",
        )
        .await?
        .collect()
        .await?;
    let ids = strings(&batches, 0)?;
    let secs = numbers(&batches, 1)?;
    Ok(ids
        .into_iter()
        .zip(secs)
        .map(|(id, s)| (id, (s * 1e6) as i64))
        .collect())
}
