//! The `demo` source: a synthetic Azure tenant, deterministic from a seed and the run date.
//!
//! It writes what the real sources would land: a FOCUS 1.2 cost export per billing month (the column
//! names and `x_` extensions of Cost Management's FocusCost export), a Resource Graph response with the
//! inventory, and a Monitor `metrics:getBatch` response with 35 days of hourly `Percentage CPU`.
//! Beside the normal estate it plants known waste for every rule in `sql/rules/` (idle, stopped and
//! long-deallocated VMs, unattached disks, premium disks on stopped VMs, legacy storage accounts,
//! unassociated public IPs, orphaned NICs, a half-used reservation, …) and look-alikes that are *not* waste (busy or recently
//! deallocated VMs, ASR replica and `ActiveSAS` disks, IPs bound to a NAT gateway, NICs of private
//! endpoints); [`DemoTenant::planted`] says which is which so tests can score rules.
//! `scale` repeats the estate in more resource groups: scale 1 is about 16,000 cost rows, each further
//! unit adds about 14,000 (scale 100 is about 1.4 million).

// The planted estate is written as tables of tuples, one row per resource: clearer than types.
#![allow(clippy::type_complexity)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::LazyLock;

use chrono::{Datelike, Duration, NaiveDate};
use serde::Deserialize;
use serde_json::{Value, json};

use super::source::Source;
use super::{Dataset, ExtractContext, Extracted, Landed};
use crate::Result;

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

impl Power {
    fn name(self) -> &'static str {
        match self {
            Power::Running(_) => "running",
            Power::Stopped => "stopped",
            Power::Deallocated(_) => "deallocated",
        }
    }
}

/// A VM's power state as Azure reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Power {
    /// Running, with this average CPU (percent).
    Running(f64),
    /// Stopped from inside the OS: not deallocated, so compute is still billed.
    Stopped,
    /// Deallocated this many days ago: no compute charges since.
    Deallocated(i64),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Vm {
        size: &'static str,
        hourly: f64,
        power: Power,
    },
    Disk {
        sku: &'static str,
        size_gb: u32,
        monthly: f64,
        state: &'static str,
    },
    PublicIp {
        sku: &'static str,
        hourly: f64,
    },
    Nic,
    Storage {
        daily: f64,
        /// Account kind: `StorageV2`, or a legacy `Storage` / `BlobStorage`.
        kind: &'static str,
        /// Data compounding by this share a month (`None`: the steady 2% a month of most accounts).
        growth: Option<f64>,
    },
    AppServicePlan {
        sku: &'static str,
        hourly: f64,
        sites: u32,
    },
    /// A managed-disk snapshot taken `age_days` ago of the disk named `source` (same group).
    Snapshot {
        sku: &'static str,
        size_gb: u32,
        monthly: f64,
        age_days: i64,
        source: &'static str,
    },
    LoadBalancer {
        hourly: f64,
        backend_pools: u32,
    },
    NatGateway {
        hourly: f64,
        subnets: u32,
    },
    /// Any other resource the rules judge by its Resource Graph `properties`: billed `hourly` on one
    /// meter (nothing when 0). `{sub}` and `{rg}` in `properties` become its subscription id and
    /// resource group, so it can point at its neighbours.
    Other {
        provider: &'static str,
        service: &'static str,
        category: &'static str,
        meter: &'static str,
        hourly: f64,
        sku: &'static str,
        properties: &'static str,
    },
}

#[derive(Debug, Clone)]
struct Resource {
    sub: usize,
    group: String,
    name: String,
    region: &'static str,
    kind: Kind,
    tags: Vec<(&'static str, &'static str)>,
    managed_by: Option<String>,
    attached_to: Option<String>,
    created_days_ago: i64,
    planted: Vec<(&'static str, Truth)>,
    /// Hourly metrics beyond a running VM's CPU: (name, unit, typical hourly value).
    metrics: &'static [(&'static str, &'static str, f64)],
}

const BILLING_ACCOUNT: &str = "/providers/Microsoft.Billing/billingAccounts/8611537";

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

    /// The FOCUS cost export, one CSV per billing month: `(yyyy-mm, bytes)`.
    pub fn cost_exports(&self) -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        self.write_cost_exports(|month, bytes| {
            if files.last().is_none_or(|(m, _)| m != month) {
                files.push((month.to_string(), Vec::new()));
            }
            files
                .last_mut()
                .expect("pushed above")
                .1
                .extend_from_slice(bytes);
            Ok(())
        })
        .expect("writing to memory cannot fail");
        files
    }

    /// Stream the cost export, one file per month: `write(month, bytes)` receives the header when a
    /// month starts, then each day's rows. Memory stays at one day of rows. Returns rows written.
    pub fn write_cost_exports(
        &self,
        mut write: impl FnMut(&str, &[u8]) -> std::io::Result<()>,
    ) -> std::io::Result<u64> {
        let mut rng = Rng::new(self.spec.seed ^ 0xC057);
        let spike_day = self.as_of - Duration::days(20);
        let mut month = String::new();
        let mut rows = 0u64;
        let mut out = String::new();
        for day in self.days() {
            let this_month = day.format("%Y-%m").to_string();
            if this_month != month {
                month = this_month;
                write(&month, (COST_HEADER.join(",") + "\n").as_bytes())?;
            }
            out.clear();
            for r in &self.resources {
                let age = (self.as_of - day).num_days();
                if age > r.created_days_ago {
                    continue;
                }
                if let Some(line) = self.resource_cost(r, day) {
                    write_cost_row(&mut out, &line, day);
                    rows += 1;
                }
            }
            for sub in 0..ESTATE.subscriptions.len() {
                for line in shared_costs(sub, day, self.as_of, spike_day, &mut rng) {
                    write_cost_row(&mut out, &line, day);
                    rows += 1;
                }
            }
            for line in reservation_costs(day) {
                write_cost_row(&mut out, &line, day);
                rows += 1;
            }
            write(&month, out.as_bytes())?;
        }
        Ok(rows)
    }

    fn resource_cost(&self, r: &Resource, day: NaiveDate) -> Option<CostLine> {
        let id = self.id(r);
        let tags = tags_json(&r.tags);
        let base = |service: &str,
                    category: &str,
                    meter: &str,
                    unit: &str,
                    qty: f64,
                    price: f64,
                    rtype: &str| CostLine {
            sub: r.sub,
            group: r.group.clone(),
            resource_id: Some(id.clone()),
            resource_name: Some(r.name.clone()),
            resource_type: rtype.to_string(),
            region: r.region,
            service: service.to_string(),
            service_category: category.to_string(),
            meter: meter.to_string(),
            unit: unit.to_string(),
            quantity: qty,
            unit_price: price,
            tags: tags.clone(),
            commitment: None,
        };
        Some(match r.kind {
            Kind::Vm {
                size,
                hourly,
                power,
            } => {
                if let Power::Deallocated(days) = power
                    && (self.as_of - day).num_days() <= days
                {
                    return None;
                }
                let mut l = base(
                    "Virtual Machines",
                    "Compute",
                    size,
                    "1 Hour",
                    24.0,
                    hourly,
                    "Virtual machine",
                );
                l.resource_type = "Virtual machine".into();
                l.commitment = reservation_covering(r).map(|ri| (ri, CommitmentUse::Used));
                l
            }
            Kind::Disk { sku, monthly, .. } => {
                let days = days_in_month(day) as f64;
                base(
                    "Storage",
                    "Storage",
                    sku,
                    "1/Month",
                    1.0 / days,
                    monthly,
                    "Disk",
                )
            }
            Kind::PublicIp { sku, hourly } => base(
                "Virtual Network",
                "Networking",
                &format!("{sku} IPv4 Static Public IP"),
                "1 Hour",
                24.0,
                hourly,
                "Public IP address",
            ),
            Kind::Nic => return None,
            Kind::Storage { daily, growth, .. } => {
                let months = (day - (self.as_of - Duration::days(400))).num_days() as f64 / 30.0;
                let trend = match growth {
                    // `daily` is today's level; the data compounded up to it.
                    Some(g) => (1.0 + g).powf(months - 400.0 / 30.0),
                    None => 1.0 + 0.02 * months,
                };
                let gb_months = daily / 0.0184 * trend * weekday_factor(day, 0.1);
                base(
                    "Storage",
                    "Storage",
                    "Hot LRS Data Stored",
                    "1 GB/Month",
                    gb_months,
                    0.0184,
                    "Storage account",
                )
            }
            Kind::AppServicePlan { sku, hourly, .. } => base(
                "Azure App Service",
                "Compute",
                sku,
                "1 Hour",
                24.0,
                hourly,
                "App Service plan",
            ),
            Kind::Snapshot { sku, monthly, .. } => {
                let days = days_in_month(day) as f64;
                base(
                    "Storage",
                    "Storage",
                    &format!("{sku} Snapshots"),
                    "1/Month",
                    1.0 / days,
                    monthly,
                    "Snapshot",
                )
            }
            Kind::LoadBalancer { hourly, .. } => base(
                "Load Balancer",
                "Networking",
                "Standard Overage LB Rules and Outbound Rules",
                "1 Hour",
                24.0,
                hourly,
                "Load balancer",
            ),
            Kind::NatGateway { hourly, .. } => base(
                "NAT Gateway",
                "Networking",
                "Standard Gateway",
                "1 Hour",
                24.0,
                hourly,
                "NAT gateway",
            ),
            Kind::Other { hourly: 0.0, .. } => return None,
            Kind::Other {
                provider,
                service,
                category,
                meter,
                hourly,
                ..
            } => base(
                service,
                category,
                meter,
                "1 Hour",
                24.0,
                hourly,
                provider.rsplit('/').next().unwrap_or(provider),
            ),
        })
    }

    /// The Resource Graph response (`Resources | …`) holding the whole inventory.
    pub fn resource_graph(&self) -> Vec<u8> {
        let data: Vec<Value> = self.resources.iter().map(|r| self.arg_row(r)).collect();
        let body = json!({
            "totalRecords": data.len(),
            "count": data.len(),
            "resultTruncated": "false",
            "facets": [],
            "data": data,
        });
        serde_json::to_vec_pretty(&body).expect("JSON values serialize")
    }

    fn arg_row(&self, r: &Resource) -> Value {
        let id = self.id(r);
        let created = (self.as_of - Duration::days(r.created_days_ago))
            .format("%Y-%m-%dT08:15:00.0000000+00:00")
            .to_string();
        // Resource Graph spells types in lowercase.
        let other_type = match r.kind {
            Kind::Other { provider, .. } => provider.to_lowercase(),
            _ => String::new(),
        };
        let (rtype, sku, props) = match r.kind {
            Kind::Vm { size, power, .. } => (
                "microsoft.compute/virtualmachines",
                Value::Null,
                json!({
                    "hardwareProfile": {"vmSize": size},
                    "provisioningState": "Succeeded",
                    "timeCreated": created,
                    "extended": {"instanceView": {"powerState": {
                        "code": format!("PowerState/{}", power.name()),
                        "displayStatus": format!("VM {}", power.name()),
                    }}},
                    "storageProfile": {"osDisk": {"managedDisk": {"id": resource_id(r.sub, &r.group, "Microsoft.Compute/disks", &format!("{}-osdisk", r.name))}}},
                }),
            ),
            Kind::Disk {
                sku,
                size_gb,
                state,
                ..
            } => (
                "microsoft.compute/disks",
                json!({"name": sku, "tier": sku.split('_').next().unwrap_or(sku)}),
                json!({"diskSizeGB": size_gb, "diskState": state, "provisioningState": "Succeeded", "timeCreated": created}),
            ),
            Kind::PublicIp { sku, .. } => (
                "microsoft.network/publicipaddresses",
                json!({"name": sku, "tier": "Regional"}),
                match (&r.attached_to, r.name.contains("natgw")) {
                    (Some(target), true) => {
                        json!({"publicIPAllocationMethod": "Static", "provisioningState": "Succeeded", "natGateway": {"id": target}})
                    }
                    (Some(target), false) => {
                        json!({"publicIPAllocationMethod": "Static", "provisioningState": "Succeeded", "ipConfiguration": {"id": target}})
                    }
                    (None, _) => {
                        json!({"publicIPAllocationMethod": "Static", "provisioningState": "Succeeded"})
                    }
                },
            ),
            Kind::Nic => (
                "microsoft.network/networkinterfaces",
                Value::Null,
                match &r.attached_to {
                    Some(pe) if pe.contains("/privateEndpoints/") => {
                        json!({"provisioningState": "Succeeded", "privateEndpoint": {"id": pe}})
                    }
                    other => {
                        json!({"provisioningState": "Succeeded", "virtualMachine": other.as_ref().map(|m| json!({"id": m}))})
                    }
                },
            ),
            Kind::Storage { .. } => (
                "microsoft.storage/storageaccounts",
                json!({"name": "Standard_LRS", "tier": "Standard"}),
                json!({"accessTier": "Hot", "provisioningState": "Succeeded", "creationTime": created}),
            ),
            Kind::AppServicePlan { sku, sites, .. } => (
                "microsoft.web/serverfarms",
                json!({"name": sku, "tier": if sku.starts_with('P') { "PremiumV3" } else { "Basic" }, "capacity": 1}),
                json!({"numberOfSites": sites, "provisioningState": "Succeeded", "status": "Ready"}),
            ),
            Kind::Snapshot {
                sku,
                size_gb,
                source,
                ..
            } => (
                "microsoft.compute/snapshots",
                json!({"name": sku, "tier": sku.split('_').next().unwrap_or(sku)}),
                json!({
                    "diskSizeGB": size_gb, "provisioningState": "Succeeded", "timeCreated": created, "incremental": false,
                    "creationData": {"createOption": "Copy", "sourceResourceId": resource_id(r.sub, &r.group, "Microsoft.Compute/disks", source)},
                }),
            ),
            Kind::LoadBalancer { backend_pools, .. } => {
                let pools: Vec<Value> = (0..backend_pools)
                    .map(|i| json!({"id": format!("{id}/backendAddressPools/pool{i}"), "name": format!("pool{i}")}))
                    .collect();
                (
                    "microsoft.network/loadbalancers",
                    json!({"name": "Standard", "tier": "Regional"}),
                    json!({"provisioningState": "Succeeded", "backendAddressPools": pools, "frontendIPConfigurations": [{"name": "fe"}]}),
                )
            }
            Kind::Other {
                sku, properties, ..
            } => {
                let text = properties
                    .replace("{sub}", subscription(r.sub).id)
                    .replace("{rg}", &r.group);
                (
                    other_type.as_str(),
                    json!({"name": sku}),
                    serde_json::from_str(&text).expect("demo properties are JSON"),
                )
            }
            Kind::NatGateway { subnets, .. } => {
                let subnets: Vec<Value> = (0..subnets)
                    .map(|i| json!({"id": format!("/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/s{i}", subscription(r.sub).id, r.group)}))
                    .collect();
                (
                    "microsoft.network/natgateways",
                    json!({"name": "Standard"}),
                    json!({"provisioningState": "Succeeded", "subnets": subnets, "idleTimeoutInMinutes": 4}),
                )
            }
        };
        let mut row = json!({
            "id": id,
            "name": r.name,
            "type": rtype,
            "location": r.region,
            "resourceGroup": r.group,
            "subscriptionId": subscription(r.sub).id,
            "tags": r.tags.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "sku": sku,
            "kind": if let Kind::Storage { kind, .. } = r.kind { json!(kind) } else { json!("") },
            "properties": props,
        });
        if let Some(m) = &r.managed_by
            && matches!(r.kind, Kind::Disk { .. })
        {
            row["managedBy"] = json!(m);
        }
        row
    }

    /// The Monitor `metrics:getBatch` response: hourly `Percentage CPU` for running VMs, and the
    /// metrics a resource is given in [`Resource::metrics`].
    pub fn metrics_batch(&self) -> Vec<u8> {
        let end = self.as_of.and_hms_opt(0, 0, 0).expect("midnight exists");
        let start = end - Duration::days(METRIC_DAYS);
        let mut values = Vec::new();
        for r in &self.resources {
            let mut series: Vec<(&str, &str, f64)> = r.metrics.to_vec();
            if let Kind::Vm {
                power: Power::Running(base),
                ..
            } = r.kind
            {
                series.insert(0, ("Percentage CPU", "Percent", base));
            }
            if series.is_empty() {
                continue;
            }
            let mut rng = Rng::new(self.spec.seed ^ hash(&r.name) ^ hash(&r.group));
            let id = self.id(r);
            let metrics: Vec<Value> = series
                .iter()
                .map(|&(name, unit, base)| {
                    let cap = if unit == "Percent" { 100.0 } else { f64::MAX };
                    // Memory barely moves through the day; load does.
                    let (swing, noise) = if unit == "Bytes" {
                        (0.05, 0.03)
                    } else {
                        (0.4, 0.15)
                    };
                    let points: Vec<Value> = (0..METRIC_DAYS * 24)
                        .map(|h| {
                            let t = start + Duration::hours(h);
                            let hour = (h % 24) as f64;
                            let daily =
                                1.0 + swing * ((hour - 14.0) / 24.0 * std::f64::consts::TAU).cos();
                            let avg = (base * daily * (1.0 + noise * rng.normal())).clamp(0.1, cap);
                            let max = (avg * (1.3 + 0.4 * rng.unit())).min(cap);
                            json!({
                                "timeStamp": t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                                "average": round(avg, 4), "minimum": round(avg * 0.6, 4),
                                "maximum": round(max, 4), "total": round(avg, 4),
                            })
                        })
                        .collect();
                    json!({
                        "id": format!("{id}/providers/Microsoft.Insights/metrics/{name}"),
                        "type": "Microsoft.Insights/metrics",
                        "name": {"value": name, "localizedValue": name},
                        "unit": unit,
                        "errorCode": "Success",
                        "timeseries": [{"metadatavalues": [], "data": points}],
                    })
                })
                .collect();
            values.push(json!({
                "starttime": start.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                "endtime": end.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                "interval": "PT1H",
                "namespace": crate::open_data::resource_type(&id),
                "resourceregion": r.region,
                "resourceid": id,
                "value": metrics,
            }));
        }
        serde_json::to_vec(&json!({ "values": values })).expect("JSON values serialize")
    }
}

/// The estate, read once per process from `data/demo/estate.toml` (compiled in); its names live as
/// long as the process, as `&'static str` like the generator's other constants.
static ESTATE: LazyLock<Estate> = LazyLock::new(|| {
    Estate::parse(include_str!("../../data/demo/estate.toml"))
        .unwrap_or_else(|e| panic!("data/demo/estate.toml: {e}"))
});

/// The demo tenant's estate: subscriptions, planted resource groups, reservations and the
/// resources of one copy of the estate.
struct Estate {
    subscriptions: Vec<Subscription>,
    groups: Vec<PlantedGroup>,
    reservations: Vec<Reservation>,
    /// The first copy of the estate (see [`estate`]).
    resources: Vec<Resource>,
}

struct Subscription {
    id: &'static str,
    name: &'static str,
    /// Subscription-level usage carries a cost center tag.
    shared_costs_tagged: bool,
    planted: Vec<(&'static str, Truth)>,
}

/// A resource group planted for a group-level rule (in every copy of the estate).
struct PlantedGroup {
    subscription: usize,
    name: &'static str,
    planted: Vec<(&'static str, Truth)>,
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// `plants = { rule_id = "waste" | "look-alike" }`.
type RawPlants = BTreeMap<String, RawTruth>;

#[derive(Debug, Clone, Copy, Deserialize)]
enum RawTruth {
    #[serde(rename = "waste")]
    Waste,
    #[serde(rename = "look-alike")]
    LookAlike,
}

fn plants(raw: RawPlants) -> Vec<(&'static str, Truth)> {
    raw.into_iter()
        .map(|(rule, truth)| {
            let truth = match truth {
                RawTruth::Waste => Truth::Waste,
                RawTruth::LookAlike => Truth::NotWaste,
            };
            (leak(rule), truth)
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEstate {
    subscriptions: Vec<RawSubscription>,
    groups: Vec<RawGroup>,
    reservations: Vec<RawReservation>,
    tag_sets: BTreeMap<String, Vec<(String, String)>>,
    resources: Vec<RawResource>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubscription {
    id: String,
    name: String,
    #[serde(default)]
    shared_costs_tagged: bool,
    #[serde(default)]
    plants: RawPlants,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    subscription: usize,
    name: String,
    plants: RawPlants,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReservation {
    name: String,
    order: String,
    id: String,
    size: String,
    quantity: u32,
    hourly: f64,
    covers: Vec<(String, String)>,
    #[serde(default)]
    covered_plants: RawPlants,
    #[serde(default)]
    plants: RawPlants,
}

/// One resource as written in the file, for the first copy of the estate.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResource {
    /// `{unit}` becomes the copy number (storage account names are global).
    name: String,
    subscription: usize,
    group: String,
    region: String,
    kind: RawKind,
    /// A set from `[tag_sets]`, or the tags themselves as `[key, value]` pairs.
    tags: RawTags,
    /// A resource id relative to the resource's subscription and group
    /// (`Microsoft.Compute/virtualMachines/vm-web-01`).
    attached_to: Option<String>,
    created_days_ago: Option<i64>,
    #[serde(default)]
    metrics: Vec<RawMetric>,
    #[serde(default)]
    plants: RawPlants,
}

#[derive(Clone, Deserialize)]
#[serde(untagged)]
enum RawTags {
    Set(String),
    List(Vec<(String, String)>),
}

/// An hourly metric beyond a running VM's CPU, around its typical value.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetric {
    name: String,
    unit: String,
    typical: f64,
}

#[derive(Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum RawKind {
    Vm {
        size: String,
        hourly: f64,
        power: RawPower,
    },
    Disk {
        sku: String,
        size_gb: u32,
        monthly: f64,
        state: String,
    },
    PublicIp {
        sku: String,
        hourly: f64,
    },
    Nic,
    Storage {
        daily: f64,
        kind: String,
        growth: Option<f64>,
    },
    AppServicePlan {
        sku: String,
        hourly: f64,
        sites: u32,
    },
    Snapshot {
        sku: String,
        size_gb: u32,
        monthly: f64,
        age_days: i64,
        source: String,
    },
    LoadBalancer {
        hourly: f64,
        backend_pools: u32,
    },
    NatGateway {
        hourly: f64,
        subnets: u32,
    },
    Other {
        provider: String,
        service: String,
        category: String,
        meter: String,
        hourly: f64,
        sku: String,
        properties: String,
    },
}

#[derive(Clone, Copy, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case", deny_unknown_fields)]
enum RawPower {
    Running { cpu: f64 },
    Stopped,
    Deallocated { days: i64 },
}

impl RawKind {
    fn kind(self) -> Kind {
        match self {
            RawKind::Vm {
                size,
                hourly,
                power,
            } => Kind::Vm {
                size: leak(size),
                hourly,
                power: match power {
                    RawPower::Running { cpu } => Power::Running(cpu),
                    RawPower::Stopped => Power::Stopped,
                    RawPower::Deallocated { days } => Power::Deallocated(days),
                },
            },
            RawKind::Disk {
                sku,
                size_gb,
                monthly,
                state,
            } => Kind::Disk {
                sku: leak(sku),
                size_gb,
                monthly,
                state: leak(state),
            },
            RawKind::PublicIp { sku, hourly } => Kind::PublicIp {
                sku: leak(sku),
                hourly,
            },
            RawKind::Nic => Kind::Nic,
            RawKind::Storage {
                daily,
                kind,
                growth,
            } => Kind::Storage {
                daily,
                kind: leak(kind),
                growth,
            },
            RawKind::AppServicePlan { sku, hourly, sites } => Kind::AppServicePlan {
                sku: leak(sku),
                hourly,
                sites,
            },
            RawKind::Snapshot {
                sku,
                size_gb,
                monthly,
                age_days,
                source,
            } => Kind::Snapshot {
                sku: leak(sku),
                size_gb,
                monthly,
                age_days,
                source: leak(source),
            },
            RawKind::LoadBalancer {
                hourly,
                backend_pools,
            } => Kind::LoadBalancer {
                hourly,
                backend_pools,
            },
            RawKind::NatGateway { hourly, subnets } => Kind::NatGateway { hourly, subnets },
            RawKind::Other {
                provider,
                service,
                category,
                meter,
                hourly,
                sku,
                properties,
            } => Kind::Other {
                provider: leak(provider),
                service: leak(service),
                category: leak(category),
                meter: leak(meter),
                hourly,
                sku: leak(sku),
                properties: leak(properties),
            },
        }
    }
}

impl Estate {
    fn parse(text: &str) -> std::result::Result<Estate, String> {
        let raw: RawEstate = toml::from_str(text).map_err(|e| e.to_string())?;
        let subscriptions: Vec<Subscription> = raw
            .subscriptions
            .into_iter()
            .map(|s| Subscription {
                id: leak(s.id),
                name: leak(s.name),
                shared_costs_tagged: s.shared_costs_tagged,
                planted: plants(s.plants),
            })
            .collect();
        let known_subscription = |i: usize, what: &str| {
            if i < subscriptions.len() {
                Ok(())
            } else {
                Err(format!("{what}: subscription {i} is not listed"))
            }
        };
        for r in &raw.resources {
            known_subscription(r.subscription, &r.name)?;
            if let RawTags::Set(set) = &r.tags
                && !raw.tag_sets.contains_key(set)
            {
                return Err(format!("{}: no tag set `{set}` in [tag_sets]", r.name));
            }
            if let RawKind::Other { properties, .. } = &r.kind
                && let Err(e) = serde_json::from_str::<Value>(properties)
            {
                return Err(format!("{}: properties are not JSON: {e}", r.name));
            }
        }
        for g in &raw.groups {
            known_subscription(g.subscription, &g.name)?;
        }
        Ok(Estate {
            groups: raw
                .groups
                .into_iter()
                .map(|g| PlantedGroup {
                    subscription: g.subscription,
                    name: leak(g.name),
                    planted: plants(g.plants),
                })
                .collect(),
            reservations: raw
                .reservations
                .into_iter()
                .map(|r| Reservation {
                    name: leak(r.name),
                    order: leak(r.order),
                    id: leak(r.id),
                    size: leak(r.size),
                    quantity: r.quantity,
                    hourly: r.hourly,
                    covers: r.covers,
                    covered_planted: plants(r.covered_plants),
                    planted: plants(r.plants),
                })
                .collect(),
            subscriptions,
            resources: raw
                .resources
                .into_iter()
                .map(|r| r.template(&raw.tag_sets))
                .collect(),
        })
    }
}

fn subscription(i: usize) -> &'static Subscription {
    &ESTATE.subscriptions[i]
}

/// Resource group names past the first copy of the estate end in `-<copy>`.
fn copy_suffix(unit: u32) -> String {
    if unit == 0 {
        String::new()
    } else {
        format!("-{unit}")
    }
}

/// Copy `unit` of the estate.
fn estate(unit: u32) -> Vec<Resource> {
    ESTATE
        .resources
        .iter()
        .map(|template| {
            let mut r = template.clone();
            r.group = format!("{}{}", r.group, copy_suffix(unit));
            r.name = r.name.replace("{unit}", &unit.to_string());
            r.attached_to = r.attached_to.map(|relative| {
                format!(
                    "/subscriptions/{}/resourceGroups/{}/providers/{relative}",
                    subscription(r.sub).id,
                    r.group
                )
            });
            r.managed_by = r
                .attached_to
                .clone()
                .filter(|_| matches!(r.kind, Kind::Disk { .. }));
            r
        })
        .collect()
}

impl RawResource {
    /// The resource as the generator uses it, for the first copy of the estate: `{unit}` left in
    /// its name, its attachment still relative to its group.
    fn template(self, tag_sets: &BTreeMap<String, Vec<(String, String)>>) -> Resource {
        let kind = self.kind.kind();
        let tags = match self.tags {
            RawTags::Set(set) => tag_sets[&set].clone(),
            RawTags::List(list) => list,
        };
        let metrics: Vec<(&'static str, &'static str, f64)> = self
            .metrics
            .into_iter()
            .map(|m| (leak(m.name), leak(m.unit), m.typical))
            .collect();
        Resource {
            sub: self.subscription,
            group: self.group,
            name: self.name,
            region: leak(self.region),
            tags: tags.into_iter().map(|(k, v)| (leak(k), leak(v))).collect(),
            managed_by: None,
            attached_to: self.attached_to,
            // A snapshot exists only from the day it was taken.
            created_days_ago: match kind {
                Kind::Snapshot { age_days, .. } => age_days,
                _ => self.created_days_ago.unwrap_or(420),
            },
            planted: plants(self.plants),
            metrics: Box::leak(metrics.into_boxed_slice()),
            kind,
        }
    }
}

/// Subscription-level usage with weekly seasonality, growth, noise and one spike (Log Analytics).
fn shared_costs(
    sub: usize,
    day: NaiveDate,
    as_of: NaiveDate,
    spike_day: NaiveDate,
    rng: &mut Rng,
) -> Vec<CostLine> {
    let months_back = (as_of - day).num_days() as f64 / 30.0;
    let growth = 1.0 / (1.0 + 0.03 * months_back);
    let spike = if sub == 0 && day == spike_day {
        8.0
    } else {
        1.0
    };
    let la_gb = (3.0 + sub as f64)
        * growth
        * weekday_factor(day, 0.2)
        * spike
        * (1.0 + 0.05 * rng.normal());
    let egress_gb = (12.0 + 4.0 * sub as f64)
        * growth
        * weekday_factor(day, 0.25)
        * (1.0 + 0.05 * rng.normal());
    let line = |service: &str, category: &str, meter: &str, qty: f64, price: f64| CostLine {
        sub,
        group: String::new(),
        resource_id: None,
        resource_name: None,
        resource_type: String::new(),
        region: "westeurope",
        service: service.into(),
        service_category: category.into(),
        meter: meter.into(),
        unit: "1 GB".into(),
        quantity: qty.max(0.0),
        unit_price: price,
        tags: if subscription(sub).shared_costs_tagged {
            r#"{"CostCenter":"4713"}"#.into()
        } else {
            "{}".into()
        },
        commitment: None,
    };
    vec![
        line(
            "Log Analytics",
            "Management and Governance",
            "Analytics Logs Data Ingestion",
            la_gb,
            2.76,
        ),
        line(
            "Bandwidth",
            "Networking",
            "Standard Data Transfer Out",
            egress_gb,
            0.087,
        ),
    ]
}

/// One line item before it is written as a FOCUS row.
struct CostLine {
    sub: usize,
    group: String,
    resource_id: Option<String>,
    resource_name: Option<String>,
    resource_type: String,
    region: &'static str,
    service: String,
    service_category: String,
    meter: String,
    unit: String,
    quantity: f64,
    unit_price: f64,
    tags: String,
    /// Usage a reservation covered, a reservation's unused hours, or its monthly purchase.
    commitment: Option<(&'static Reservation, CommitmentUse)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CommitmentUse {
    Used,
    Unused,
    Purchase,
}

/// A reservation the demo's production subscription bought for D-series VMs in West Europe.
#[derive(Debug)]
struct Reservation {
    name: &'static str,
    order: &'static str,
    id: &'static str,
    size: &'static str,
    quantity: u32,
    /// Amortized price per hour of one instance.
    hourly: f64,
    /// The VMs (resource group, name) it covers, in the first copy of the estate.
    covers: Vec<(String, String)>,
    /// What the VMs it covers are, in place of their own plants for these rules.
    covered_planted: Vec<(&'static str, Truth)>,
    planted: Vec<(&'static str, Truth)>,
}

impl Reservation {
    fn resource_id(&self) -> String {
        format!(
            "/providers/Microsoft.Capacity/reservationOrders/{}/reservations/{}",
            self.order, self.id
        )
    }
}

fn reservation_covering(r: &Resource) -> Option<&'static Reservation> {
    ESTATE
        .reservations
        .iter()
        .find(|ri| ri.covers.iter().any(|(g, n)| *g == r.group && *n == r.name))
}

/// A day's reservation rows: each one's unused hours, and on the first of a month its purchase.
fn reservation_costs(day: NaiveDate) -> Vec<CostLine> {
    let mut out = Vec::new();
    for ri in &ESTATE.reservations {
        let line = |qty: f64, how| CostLine {
            sub: 0,
            group: String::new(),
            resource_id: None,
            resource_name: None,
            resource_type: String::new(),
            region: "westeurope",
            service: "Virtual Machines".into(),
            service_category: "Compute".into(),
            meter: ri.size.into(),
            unit: "1 Hour".into(),
            quantity: qty,
            unit_price: ri.hourly,
            tags: "{}".into(),
            commitment: Some((ri, how)),
        };
        let unused = ri.quantity as usize - ri.covers.len();
        if unused > 0 {
            out.push(line(unused as f64 * 24.0, CommitmentUse::Unused));
        }
        if day.day() == 1 {
            let hours = ri.quantity as f64 * 24.0 * days_in_month(day) as f64;
            out.push(line(hours, CommitmentUse::Purchase));
        }
    }
    out
}

/// The columns the demo export writes: a subset of Cost Management's FocusCost 1.2 export.
pub const COST_HEADER: &[&str] = &[
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingAccountType",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingCurrency",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "RegionName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "SkuId",
    "SkuMeter",
    "SubAccountId",
    "SubAccountName",
    "SubAccountType",
    "Tags",
    "x_BilledCostInUsd",
    "x_ContractedCostInUsd",
    "x_EffectiveCostInUsd",
    "x_ListCostInUsd",
    "x_ResourceGroupName",
    "x_ResourceType",
    "x_SkuMeterCategory",
];

/// EA-style negotiated discount on list prices.
const DISCOUNT: f64 = 0.12;

fn write_cost_row(out: &mut String, l: &CostLine, day: NaiveDate) {
    let (sub_id, sub_name) = (subscription(l.sub).id, subscription(l.sub).name);
    let list = l.quantity * l.unit_price;
    let contracted = list * (1.0 - DISCOUNT);
    let period_start =
        NaiveDate::from_ymd_opt(day.year(), day.month(), 1).expect("first of month exists");
    let period_end = period_start + Duration::days(days_in_month(day) as i64);
    let ts = |d: NaiveDate| d.format("%Y-%m-%dT00:00:00Z").to_string();
    let money = |v: f64| format!("{:.10}", v);
    let region_name = if l.region == "eastus" {
        "East US"
    } else {
        "West Europe"
    };
    let rtype_arm = l.resource_id.as_deref().map(arm_type).unwrap_or_default();
    // Reservation rows: usage it covered and unused hours carry its amortized cost and bill
    // nothing; the monthly purchase bills the month and carries no effective cost.
    let (billed, effective, pricing, charge, frequency) = match l.commitment {
        None => (contracted, contracted, "Standard", "Usage", "Usage-Based"),
        Some((ri, CommitmentUse::Used | CommitmentUse::Unused)) => {
            let amortized = l.quantity * ri.hourly;
            (0.0, amortized, "Committed", "Usage", "Usage-Based")
        }
        Some((_, CommitmentUse::Purchase)) => {
            (contracted, 0.0, "Committed", "Purchase", "Recurring")
        }
    };
    let (ri_category, ri_id, ri_name, ri_status, ri_type) = match l.commitment {
        None => Default::default(),
        Some((ri, how)) => (
            "Usage".to_string(),
            ri.resource_id(),
            ri.name.to_string(),
            match how {
                CommitmentUse::Used => "Used".to_string(),
                CommitmentUse::Unused => "Unused".to_string(),
                CommitmentUse::Purchase => String::new(),
            },
            "Reservation".to_string(),
        ),
    };
    let fields: [String; 52] = [
        money(billed),
        BILLING_ACCOUNT.into(),
        "Contoso Ltd".into(),
        "Billing Account".into(),
        "USD".into(),
        ts(period_end),
        ts(period_start),
        charge.into(),
        String::new(),
        format!("{} - {}", l.service, l.meter),
        frequency.into(),
        ts(day + Duration::days(1)),
        ts(day),
        ri_category,
        ri_id,
        ri_name,
        ri_status,
        ri_type,
        format!("{:.6}", l.quantity),
        l.unit.clone(),
        money(contracted),
        money(l.unit_price * (1.0 - DISCOUNT)),
        money(effective),
        "Microsoft".into(),
        money(list),
        money(l.unit_price),
        pricing.into(),
        "USD".into(),
        format!("{:.6}", l.quantity),
        l.unit.clone(),
        "Microsoft".into(),
        "Microsoft".into(),
        l.region.into(),
        region_name.into(),
        l.resource_id.clone().unwrap_or_default(),
        l.resource_name.clone().unwrap_or_default(),
        l.resource_type.clone(),
        l.service_category.clone(),
        l.service.clone(),
        format!("DZH318Z0{:04}", hash(&l.meter) % 10_000),
        l.meter.clone(),
        format!("/subscriptions/{sub_id}"),
        sub_name.into(),
        "Subscription".into(),
        l.tags.clone(),
        money(billed),
        money(contracted),
        money(effective),
        money(list),
        l.group.clone(),
        rtype_arm,
        l.service.clone(),
    ];
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_csv_field(out, f);
    }
    out.push('\n');
}

/// CSV quoting: fields with a comma, quote or newline are quoted, quotes doubled.
pub(crate) fn push_csv_field(out: &mut String, field: &str) {
    if field.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

fn arm_type(id: &str) -> String {
    let after = id.split("/providers/").nth(1).unwrap_or_default();
    let parts: Vec<&str> = after.split('/').collect();
    if parts.len() >= 2 {
        format!("{}/{}", parts[0], parts[1]).to_lowercase()
    } else {
        String::new()
    }
}

fn resource_id(sub: usize, group: &str, provider: &str, name: &str) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{group}/providers/{provider}/{name}",
        subscription(sub).id
    )
}

fn tags_json(tags: &[(&str, &str)]) -> String {
    let mut s = String::from("{");
    for (i, (k, v)) in tags.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{}:{}", json!(k), json!(v));
    }
    s.push('}');
    s
}

fn days_in_month(day: NaiveDate) -> u32 {
    let (y, m) = (day.year(), day.month());
    let next = if m == 12 {
        NaiveDate::from_ymd_opt(y + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(y, m + 1, 1)
    };
    (next.expect("valid month") - NaiveDate::from_ymd_opt(y, m, 1).expect("valid month")).num_days()
        as u32
}

/// Weekdays cost more than weekends: `1 + amplitude` on weekdays, `1 - 2.5 amplitude` at weekends.
fn weekday_factor(day: NaiveDate, amplitude: f64) -> f64 {
    if day.weekday().number_from_monday() >= 6 {
        1.0 - 2.5 * amplitude
    } else {
        1.0 + amplitude
    }
}

fn round(v: f64, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    (v * p).round() / p
}

fn hash(s: &str) -> u64 {
    // FNV-1a: stable across platforms and releases, unlike `DefaultHasher`.
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// SplitMix64: small, fast and stable, so a seed means the same tenant in every release.
struct Rng(u64);

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

#[async_trait::async_trait(?Send)]
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
        landed.push(
            cx.land(
                "demo",
                Dataset::Resources,
                "resource_graph.json",
                tenant.resource_graph(),
            )
            .await?,
        );
        landed.push(
            cx.land(
                "demo",
                Dataset::Metrics,
                "metrics_batch.json",
                tenant.metrics_batch(),
            )
            .await?,
        );
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
