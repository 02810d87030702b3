//! The `demo` source: a synthetic Azure tenant, deterministic from a seed and the run date.
//!
//! It writes what the real sources would land: a FOCUS 1.2 cost export per billing month (the column
//! names and `x_` extensions of Cost Management's FocusCost export), a Resource Graph response with the
//! inventory, and a Monitor `metrics:getBatch` response with 35 days of hourly `Percentage CPU`.
//! The estate is data (`data/demo/estate.toml`, read by `estate`): beside the normal estate it
//! plants known waste for every rule in `sql/rules/` (idle, stopped and long-deallocated VMs,
//! unattached disks, legacy storage accounts, unassociated public IPs, orphaned NICs, a half-used
//! reservation, …) and look-alikes that are *not* waste (busy or recently deallocated VMs, ASR
//! replica and `ActiveSAS` disks, IPs bound to a NAT gateway, NICs of private endpoints);
//! [`DemoTenant::planted`] says which is which so tests can score rules. `costs`, `inventory`
//! and `metrics` write what lands. `scale` repeats the estate in more resource groups: scale 1 is
//! about 16,000 cost rows, each further unit adds about 14,000 (scale 100 is about 1.4 million).

mod costs;
mod estate;
mod inventory;
mod metrics;

use chrono::{Duration, NaiveDate};
use serde::Deserialize;

use self::estate::{
    ESTATE, Kind, Resource, copy_suffix, estate, reservation_covering, resource_id, subscription,
};
use super::source::Source;
use super::{Covers, Dataset, ExtractContext, Extracted, Landed};
use crate::Result;

pub use self::costs::COST_HEADER;

/// `[[sources]] kind = "demo"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoSpec {
    /// Seed for every random choice. Same seed and run date, same tenant.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// How many copies of the estate to generate (1 ≈ 16k cost rows; 100 ≈ 1.4M).
    #[serde(default = "default_scale")]
    pub scale: u32,
    /// Days of cost history, ending the day before the run date. Default 395 (13 months).
    #[serde(default = "default_history")]
    pub history_days: u32,
}

impl Default for DemoSpec {
    fn default() -> Self {
        DemoSpec {
            seed: default_seed(),
            scale: default_scale(),
            history_days: default_history(),
        }
    }
}

fn default_seed() -> u64 {
    42
}
fn default_scale() -> u32 {
    1
}
fn default_history() -> u32 {
    395
}

/// Days of hourly metrics generated before the run date.
pub const METRIC_DAYS: i64 = 35;

/// Whether a planted resource is waste a rule must find, or a look-alike it must leave alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    Waste,
    NotWaste,
}

/// One planted case: which rule it is for, which resource (lowercase id), and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planted {
    pub rule_id: &'static str,
    pub resource_id: String,
    pub truth: Truth,
}

/// The generated tenant.
#[derive(Debug, Clone)]
pub struct DemoTenant {
    spec: DemoSpec,
    /// The run date: costs end the day before, metrics at its midnight.
    pub as_of: NaiveDate,
    resources: Vec<Resource>,
}

impl DemoTenant {
    pub fn new(spec: &DemoSpec, as_of: NaiveDate) -> Self {
        let mut resources = Vec::new();
        for unit in 0..spec.scale.max(1) {
            resources.extend(estate(unit));
        }
        DemoTenant {
            spec: spec.clone(),
            as_of,
            resources,
        }
    }

    fn id(&self, r: &Resource) -> String {
        let provider = match r.kind {
            Kind::Vm { .. } => "Microsoft.Compute/virtualMachines",
            Kind::Disk { .. } => "Microsoft.Compute/disks",
            Kind::PublicIp { .. } => "Microsoft.Network/publicIPAddresses",
            Kind::Nic => "Microsoft.Network/networkInterfaces",
            Kind::Storage { .. } => "Microsoft.Storage/storageAccounts",
            Kind::AppServicePlan { .. } => "Microsoft.Web/serverfarms",
            Kind::Snapshot { .. } => "Microsoft.Compute/snapshots",
            Kind::LoadBalancer { .. } => "Microsoft.Network/loadBalancers",
            Kind::NatGateway { .. } => "Microsoft.Network/natGateways",
            Kind::Other { provider, .. } => provider,
        };
        // A child resource (`server/database`) interleaves its names with the provider's types.
        let mut types = provider.split('/');
        let namespace = types.next().unwrap_or(provider);
        let types: Vec<&str> = types.collect();
        let names: Vec<&str> = r.name.split('/').collect();
        if names.len() > 1 && names.len() == types.len() {
            let path: Vec<String> = types
                .iter()
                .zip(&names)
                .map(|(t, n)| format!("{t}/{n}"))
                .collect();
            return resource_id(r.sub, &r.group, namespace, &path.join("/"));
        }
        resource_id(r.sub, &r.group, provider, &r.name)
    }

    /// Every planted cost anomaly: `(causing resource id (lowercase), shape, scope dimension, first
    /// day)`, shape `spike` or `shift`.
    pub fn planted_anomalies(&self) -> Vec<(String, &'static str, &'static str, NaiveDate)> {
        self.resources
            .iter()
            .filter_map(|r| {
                let id = self.id(r).to_lowercase();
                match r.anomaly? {
                    estate::PlantedAnomaly::Spike {
                        scope, days_ago, ..
                    } => Some((id, "spike", scope, self.as_of - Duration::days(days_ago))),
                    estate::PlantedAnomaly::Shift { scope } => Some((
                        id,
                        "shift",
                        scope,
                        self.as_of - Duration::days(r.created_days_ago),
                    )),
                }
            })
            .collect()
    }

    /// Every planted case and look-alike, with the rule it is meant for.
    pub fn planted(&self) -> Vec<Planted> {
        let resources = self.resources.iter().flat_map(|r| {
            let id = self.id(r).to_lowercase();
            let mut plants = r.planted.clone();
            if let Some(ri) = reservation_covering(r) {
                for &(rule, truth) in &ri.covered_planted {
                    plants.retain(|(r, _)| *r != rule);
                    plants.push((rule, truth));
                }
            }
            plants.into_iter().map(move |(rule_id, truth)| Planted {
                rule_id,
                resource_id: id.clone(),
                truth,
            })
        });
        // Subscription-level usage (Log Analytics, bandwidth): untagged except in one subscription.
        let subscriptions = ESTATE.subscriptions.iter().flat_map(|sub| {
            sub.planted.iter().map(|&(rule_id, truth)| Planted {
                rule_id,
                resource_id: format!("/subscriptions/{}", sub.id),
                truth,
            })
        });
        // Resource groups, in every copy of the estate.
        let groups = (0..self.spec.scale.max(1)).flat_map(|unit| {
            ESTATE.groups.iter().flat_map(move |g| {
                g.planted.iter().map(move |&(rule_id, truth)| Planted {
                    rule_id,
                    resource_id: format!(
                        "/subscriptions/{}/resourcegroups/{}{}",
                        subscription(g.subscription).id,
                        g.name,
                        copy_suffix(unit)
                    ),
                    truth,
                })
            })
        });
        let reservations = ESTATE.reservations.iter().flat_map(|ri| {
            ri.planted.iter().map(|&(rule_id, truth)| Planted {
                rule_id,
                resource_id: ri.resource_id().to_lowercase(),
                truth,
            })
        });
        resources
            .chain(subscriptions)
            .chain(groups)
            .chain(reservations)
            .collect()
    }

    /// Billing months covered, oldest first, as `yyyy-mm`.
    pub fn billing_months(&self) -> Vec<String> {
        let mut months: Vec<String> = self.days().map(|d| d.format("%Y-%m").to_string()).collect();
        months.dedup();
        months
    }

    fn days(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        let first = self.as_of - Duration::days(i64::from(self.spec.history_days));
        (0..i64::from(self.spec.history_days)).map(move |i| first + Duration::days(i))
    }
}

pub(super) fn round(v: f64, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    (v * p).round() / p
}

pub(super) fn hash(s: &str) -> u64 {
    // FNV-1a: stable across platforms and releases, unlike `DefaultHasher`.
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// SplitMix64: small, fast and stable, so a seed means the same tenant in every release.
pub(super) struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed)
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Roughly standard normal (sum of uniforms), bounded to ±3.
    fn normal(&mut self) -> f64 {
        // Six uniforms sum to variance 1/2: dividing by its root gives variance 1.
        ((0..6).map(|_| self.unit()).sum::<f64>() - 3.0) / std::f64::consts::FRAC_1_SQRT_2
    }
}

#[async_trait::async_trait]
impl Source for DemoSpec {
    async fn extract(&self, cx: &ExtractContext<'_>, _earlier: &[Landed]) -> Result<Extracted> {
        let tenant = DemoTenant::new(self, cx.as_of);
        let mut landed = Vec::new();
        for (month, bytes) in tenant.cost_exports() {
            landed.push(
                cx.land(
                    "demo",
                    Dataset::Costs,
                    &format!("focuscost_{month}.csv"),
                    bytes,
                )
                .await?,
            );
        }
        // The demo replaces only what it owns: its subscriptions' inventory, and its resources'
        // metrics from the first hour it generates; other sources' rows on the same days stay.
        let mut inventory = cx
            .land(
                "demo",
                Dataset::Resources,
                "resource_graph.json",
                tenant.resource_graph(),
            )
            .await?;
        inventory.covers = Covers::Subscriptions(
            ESTATE
                .subscriptions
                .iter()
                .map(|s| s.id.to_lowercase())
                .collect(),
        );
        landed.push(inventory);
        let mut metrics = cx
            .land(
                "demo",
                Dataset::Metrics,
                "metrics_batch.json",
                tenant.metrics_batch(),
            )
            .await?;
        metrics.covers = Covers::Resources {
            ids: tenant
                .resources
                .iter()
                .map(|r| tenant.id(r).to_lowercase())
                .collect(),
            from_micros: tenant.metrics_start().and_utc().timestamp_micros(),
        };
        landed.push(metrics);
        Ok(landed.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant() -> DemoTenant {
        DemoTenant::new(
            &DemoSpec::default(),
            NaiveDate::from_ymd_opt(2026, 3, 15).unwrap(),
        )
    }

    #[test]
    fn same_seed_same_bytes() {
        assert_eq!(tenant().cost_exports(), tenant().cost_exports());
        assert_eq!(tenant().metrics_batch(), tenant().metrics_batch());
    }

    #[test]
    fn plants_waste_and_lookalikes_for_each_rule() {
        let planted = tenant().planted();
        // A rule's id is its file name (the rule loader refuses any other).
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sql/rules");
        let rules: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        assert!(rules.len() >= 25, "{} rules", rules.len());
        for rule in rules.iter().map(String::as_str) {
            assert!(
                planted
                    .iter()
                    .any(|p| p.rule_id == rule && p.truth == Truth::Waste),
                "{rule}"
            );
            assert!(
                planted
                    .iter()
                    .any(|p| p.rule_id == rule && p.truth == Truth::NotWaste),
                "{rule}"
            );
        }
    }

    #[test]
    fn history_covers_thirteen_billing_months() {
        let t = tenant();
        assert_eq!(
            t.billing_months().len(),
            14,
            "395 days from mid-month touch 14 months"
        );
        assert_eq!(t.billing_months().last().unwrap(), "2026-03");
    }
}
