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

use std::fmt::Write as _;

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

const SUBSCRIPTIONS: [(&str, &str); 3] = [
    ("3f2a8c1e-7b4d-4e0a-9c61-5d2b8e7f1a01", "contoso-prod"),
    ("8b1d5e2c-4a6f-4c3b-8e7d-2f9a0c1b3d02", "contoso-dev"),
    ("c7e4a9b3-1d2f-4b8e-a5c6-9e0d7f2b4c03", "contoso-data"),
];
/// The subscription whose shared usage lines carry a cost center tag.
const TAGGED_SHARED_COSTS: usize = 2;
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
            r.planted.iter().map(move |&(rule_id, truth)| Planted {
                rule_id,
                resource_id: id.clone(),
                truth,
            })
        });
        // Subscription-level usage (Log Analytics, bandwidth) is untagged except in one subscription.
        let subscriptions = SUBSCRIPTIONS
            .iter()
            .enumerate()
            .map(|(i, (id, _))| Planted {
                rule_id: rule::UNTAGGED,
                resource_id: format!("/subscriptions/{id}"),
                truth: if i == TAGGED_SHARED_COSTS {
                    Truth::NotWaste
                } else {
                    Truth::Waste
                },
            });
        // Per copy of the estate, rg-data's cost jumps (a new feature store) while rg-web's stays flat.
        let groups = (0..self.spec.scale.max(1)).flat_map(|unit| {
            let sfx = if unit == 0 {
                String::new()
            } else {
                format!("-{unit}")
            };
            [(2, "rg-data", Truth::Waste), (0, "rg-web", Truth::NotWaste)].map(
                |(sub, group, truth)| Planted {
                    rule_id: rule::COST_GROWTH,
                    resource_id: format!(
                        "/subscriptions/{}/resourcegroups/{group}{sfx}",
                        SUBSCRIPTIONS[sub].0
                    ),
                    truth,
                },
            )
        });
        // Reservations: one bought for more VMs than it covers now, one fully used.
        let reservations = RESERVATIONS.iter().map(|ri| Planted {
            rule_id: rule::COMMITMENT_UNUSED,
            resource_id: ri.resource_id().to_lowercase(),
            truth: if ri.covers.len() < ri.quantity as usize {
                Truth::Waste
            } else {
                Truth::NotWaste
            },
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
            for sub in 0..SUBSCRIPTIONS.len() {
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
                    .replace("{sub}", SUBSCRIPTIONS[r.sub].0)
                    .replace("{rg}", &r.group);
                (
                    other_type.as_str(),
                    json!({"name": sku}),
                    serde_json::from_str(&text).expect("demo properties are JSON"),
                )
            }
            Kind::NatGateway { subnets, .. } => {
                let subnets: Vec<Value> = (0..subnets)
                    .map(|i| json!({"id": format!("/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/s{i}", SUBSCRIPTIONS[r.sub].0, r.group)}))
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
            "subscriptionId": SUBSCRIPTIONS[r.sub].0,
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

/// Tags as written on a resource (deliberately untidy: the transform canonicalizes them).
type Tags = &'static [(&'static str, &'static str)];

/// Rule ids the demo plants cases for.
mod rule {
    pub const IDLE: &str = "compute_vm_idle";
    pub const STOPPED: &str = "compute_vm_stopped_not_deallocated";
    pub const DEALLOCATED: &str = "compute_vm_deallocated_long";
    pub const UNATTACHED: &str = "storage_disk_unattached";
    pub const PREMIUM_IDLE_VM: &str = "storage_disk_premium_on_stopped_vm";
    pub const LEGACY_STORAGE: &str = "storage_account_legacy";
    pub const UNASSOCIATED: &str = "network_public_ip_unassociated";
    pub const ORPHAN_NIC: &str = "network_nic_orphaned";
    pub const UNTAGGED: &str = "governance_cost_untagged";
    pub const EMPTY_PLAN: &str = "appservice_plan_empty";
    pub const OLD_SNAPSHOT: &str = "storage_snapshot_old";
    pub const PREMIUM_SNAPSHOT: &str = "storage_snapshot_premium";
    pub const LB_NO_BACKEND: &str = "network_lb_no_backend";
    pub const NAT_NO_SUBNET: &str = "network_nat_gateway_no_subnet";
    pub const COST_GROWTH: &str = "cost_growth_resource_group";
    pub const IDLE_VNET_GATEWAY: &str = "network_vnet_gateway_idle";
    pub const UNPROVISIONED_CIRCUIT: &str = "network_expressroute_unprovisioned";
    pub const APP_GATEWAY_NO_BACKEND: &str = "network_app_gateway_no_backend";
    pub const DDOS_PLAN_UNUSED: &str = "network_ddos_plan_unassociated";
    pub const EMPTY_ELASTIC_POOL: &str = "sql_elastic_pool_empty";
    pub const ORPHAN_SNAPSHOT: &str = "storage_snapshot_orphaned";
    pub const DISCONNECTED_ENDPOINT: &str = "network_private_endpoint_disconnected";
    pub const UNMANAGED_DISKS: &str = "compute_vm_unmanaged_disks";
    pub const IDLE_STORAGE: &str = "storage_account_idle";
    pub const UNDERUSED_PLAN: &str = "appservice_plan_underused";
    pub const UNDERUSED_DATABASE: &str = "sql_database_underused";
    pub const UNDERUSED_PREMIUM_DISK: &str = "storage_disk_premium_underused";
    pub const UNDERUSED_VM: &str = "compute_vm_underused";
    pub const STEADY_ON_DEMAND: &str = "rate_vm_on_demand_steady";
    pub const GROWING_STORAGE: &str = "storage_account_growing";
    pub const HYBRID_BENEFIT: &str = "compute_vm_hybrid_benefit";
    pub const COMMITMENT_UNUSED: &str = "rate_commitment_underused";
}

/// The estate repeated per scale unit; resource group names carry the unit number past the first copy.
fn estate(unit: u32) -> Vec<Resource> {
    use Power::*;
    use Truth::*;
    use rule::*;
    const PROD: Tags = &[
        ("Env", "prod"),
        ("CostCenter", "4711"),
        ("owner", "web-team"),
    ];
    const DEV: Tags = &[(" env ", "dev"), ("costcenter", "4712")];
    const DATA: Tags = &[("env", "prod"), ("CostCenter", "4713")];
    let sfx = if unit == 0 {
        String::new()
    } else {
        format!("-{unit}")
    };
    let g = |name: &str| format!("{name}{sfx}");
    let mut out = Vec::new();
    let mut add = |sub: usize,
                   group: &str,
                   name: &str,
                   region,
                   kind: Kind,
                   tags: Tags,
                   attached: Option<String>,
                   planted: &[(&'static str, Truth)]| {
        out.push(Resource {
            sub,
            group: g(group),
            name: name.to_string(),
            region,
            kind,
            tags: tags.to_vec(),
            managed_by: attached
                .clone()
                .filter(|_| matches!(kind, Kind::Disk { .. })),
            attached_to: attached,
            created_days_ago: 420,
            planted: planted.to_vec(),
            metrics: &[],
        });
    };

    // Virtual machines: busy, idle (planted), borderline busy, stopped-but-billed, deallocated long
    // ago and deallocated recently. Each has an OS disk (Premium unless noted) and a NIC.
    #[rustfmt::skip]
    let vms: [(usize, &str, &str, &str, &str, f64, Power, Tags, &str, &[(&str, Truth)], &[(&str, Truth)]); 10] = [
        (0, "rg-web", "vm-web-01", "westeurope", "Standard_D4s_v3", 0.192, Running(52.0), PROD, "Premium_LRS",
            &[(IDLE, NotWaste), (STOPPED, NotWaste), (DEALLOCATED, NotWaste), (UNMANAGED_DISKS, NotWaste)], &[(UNATTACHED, NotWaste), (PREMIUM_IDLE_VM, NotWaste)]),
        (0, "rg-web", "vm-web-02", "westeurope", "Standard_D4s_v3", 0.192, Running(44.0), PROD, "Premium_LRS", &[], &[]),
        (0, "rg-api", "vm-api-01", "westeurope", "Standard_D2s_v3", 0.096, Running(31.0), PROD, "Premium_LRS", &[], &[]),
        (0, "rg-api", "vm-api-batch", "westeurope", "Standard_D2s_v3", 0.096, Running(7.5), PROD, "Premium_LRS", &[(IDLE, NotWaste)], &[]),
        (1, "rg-dev", "vm-dev-build", "westeurope", "Standard_D4s_v3", 0.192, Running(1.4), DEV, "Premium_LRS", &[(IDLE, Waste)], &[]),
        (1, "rg-test", "vm-test-legacy", "eastus", "Standard_B2ms", 0.0832, Running(2.6), DEV, "Premium_LRS", &[(IDLE, Waste)], &[]),
        (2, "rg-data", "vm-etl-01", "eastus", "Standard_E8s_v5", 0.504, Running(9.0), DATA, "Premium_LRS", &[(IDLE, NotWaste)], &[]),
        (1, "rg-dev", "vm-dev-old", "westeurope", "Standard_D2s_v3", 0.096, Deallocated(45), DEV, "Premium_LRS",
            &[(IDLE, NotWaste), (STOPPED, NotWaste), (DEALLOCATED, Waste)], &[(UNATTACHED, NotWaste), (PREMIUM_IDLE_VM, Waste)]),
        (1, "rg-test", "vm-test-stopped", "eastus", "Standard_D2s_v3", 0.096, Stopped, DEV, "Premium_LRS",
            &[(IDLE, NotWaste), (STOPPED, Waste), (DEALLOCATED, NotWaste)], &[(PREMIUM_IDLE_VM, Waste)]),
        (1, "rg-test", "vm-test-paused", "eastus", "Standard_D2s_v3", 0.096, Deallocated(10), DEV, "StandardSSD_LRS",
            &[(STOPPED, NotWaste), (DEALLOCATED, NotWaste)], &[(PREMIUM_IDLE_VM, NotWaste)]),
    ];
    for (sub, group, name, region, size, hourly, power, tags, os_sku, vm_truth, disk_truth) in vms {
        add(
            sub,
            group,
            name,
            region,
            Kind::Vm {
                size,
                hourly,
                power,
            },
            tags,
            None,
            vm_truth,
        );
        let vm_id = resource_id(sub, &g(group), "Microsoft.Compute/virtualMachines", name);
        let monthly = if os_sku.starts_with("Premium") {
            19.71
        } else {
            9.6
        };
        let os_disk = Kind::Disk {
            sku: os_sku,
            size_gb: 128,
            monthly,
            state: "Reserved",
        };
        add(
            sub,
            group,
            &format!("{name}-osdisk"),
            region,
            os_disk,
            tags,
            Some(vm_id.clone()),
            disk_truth,
        );
        let nic_truth: &[(&str, Truth)] = if name == "vm-web-01" {
            &[(ORPHAN_NIC, NotWaste)]
        } else {
            &[]
        };
        add(
            sub,
            group,
            &format!("{name}-nic"),
            region,
            Kind::Nic,
            tags,
            Some(vm_id),
            nic_truth,
        );
    }
    // NICs without a VM: one left behind (planted), one serving a private endpoint (not waste).
    add(
        1,
        "rg-test",
        "nic-left-behind",
        "eastus",
        Kind::Nic,
        DEV,
        None,
        &[(ORPHAN_NIC, Waste)],
    );
    let endpoint = resource_id(
        2,
        &g("rg-data"),
        "Microsoft.Network/privateEndpoints",
        "pe-sql",
    );
    add(
        2,
        "rg-data",
        "nic-pe-sql",
        "eastus",
        Kind::Nic,
        DATA,
        Some(endpoint),
        &[(ORPHAN_NIC, NotWaste)],
    );

    // Data disks: two unattached (planted), and look-alikes: attached, ASR replica, in use through a SAS.
    let etl_vm = resource_id(
        2,
        &g("rg-data"),
        "Microsoft.Compute/virtualMachines",
        "vm-etl-01",
    );
    #[rustfmt::skip]
    let disks: [(usize, &str, &str, &str, &str, u32, f64, &str, Tags, Option<String>, Truth); 5] = [
        (2, "rg-data", "disk-etl-scratch", "eastus", "Premium_LRS", 512, 73.22, "Attached", DATA, Some(etl_vm), NotWaste),
        (1, "rg-dev", "disk-old-data", "westeurope", "Premium_LRS", 1024, 135.17, "Unattached", DEV, None, Waste),
        (0, "rg-web", "disk-migration-temp", "westeurope", "Standard_LRS", 256, 11.33, "Unattached", PROD, None, Waste),
        (1, "rg-test", "disk-asr-replica", "eastus", "Standard_LRS", 128, 5.89, "Unattached", &[("ASR-ReplicaDisk", "vm-test-legacy"), ("env", "dev")], None, NotWaste),
        (0, "rg-api", "disk-export-sas", "westeurope", "StandardSSD_LRS", 256, 19.2, "ActiveSAS", PROD, None, NotWaste),
    ];
    for (sub, group, name, region, sku, size_gb, monthly, state, tags, owner, truth) in disks {
        add(
            sub,
            group,
            name,
            region,
            Kind::Disk {
                sku,
                size_gb,
                monthly,
                state,
            },
            tags,
            owner,
            &[(UNATTACHED, truth)],
        );
    }

    // Public IPs: three bound to NICs, one to a NAT gateway, two bound to nothing (planted).
    let nic_config = |sub, group: &str, vm: &str| {
        let nic = resource_id(
            sub,
            &g(group),
            "Microsoft.Network/networkInterfaces",
            &format!("{vm}-nic"),
        );
        Some(format!("{nic}/ipConfigurations/ipconfig1"))
    };
    #[rustfmt::skip]
    let ips: [(usize, &str, &str, &str, &str, f64, Tags, Option<String>, &[(&str, Truth)]); 6] = [
        (0, "rg-web", "pip-web-01", "westeurope", "Standard", 0.005, PROD, nic_config(0, "rg-web", "vm-web-01"), &[(UNASSOCIATED, NotWaste)]),
        (0, "rg-web", "pip-web-02", "westeurope", "Standard", 0.005, PROD, nic_config(0, "rg-web", "vm-web-02"), &[]),
        (0, "rg-api", "pip-api-01", "westeurope", "Standard", 0.005, PROD, nic_config(0, "rg-api", "vm-api-01"), &[]),
        (2, "rg-data", "pip-natgw-egress", "eastus", "Standard", 0.005, DATA,
            Some(resource_id(2, &g("rg-data"), "Microsoft.Network/natGateways", "natgw-data")), &[(UNASSOCIATED, NotWaste)]),
        (0, "rg-web", "pip-old-lb", "westeurope", "Standard", 0.005, PROD, None, &[(UNASSOCIATED, Waste)]),
        (1, "rg-test", "pip-dev-test", "eastus", "Basic", 0.0036, DEV, None, &[(UNASSOCIATED, Waste)]),
    ];
    for (sub, group, name, region, sku, hourly, tags, bound_to, truth) in ips {
        add(
            sub,
            group,
            name,
            region,
            Kind::PublicIp { sku, hourly },
            tags,
            bound_to,
            truth,
        );
    }

    // Storage accounts (one of the legacy kind, planted) and App Service.
    let v2 = |daily| Kind::Storage {
        daily,
        kind: "StorageV2",
        growth: None,
    };
    add(
        0,
        "rg-web",
        &format!("stprodweb{unit}"),
        "westeurope",
        v2(2.5),
        PROD,
        None,
        &[
            (LEGACY_STORAGE, NotWaste),
            (IDLE_STORAGE, NotWaste),
            (GROWING_STORAGE, NotWaste),
        ],
    );
    add(
        2,
        "rg-data",
        &format!("starchivedata{unit}"),
        "eastus",
        v2(3.0),
        DATA,
        None,
        &[(IDLE_STORAGE, Waste)],
    );
    add(
        2,
        "rg-data",
        &format!("stdatalake{unit}"),
        "eastus",
        v2(6.0),
        DATA,
        None,
        &[],
    );
    let legacy = Kind::Storage {
        daily: 0.8,
        kind: "Storage",
        growth: None,
    };
    // Backups written every night and never expired: a third more data each month (planted).
    add(
        0,
        "rg-web",
        &format!("stbackupsweb{unit}"),
        "westeurope",
        Kind::Storage {
            daily: 4.5,
            kind: "StorageV2",
            growth: Some(0.33),
        },
        PROD,
        None,
        &[(GROWING_STORAGE, Waste)],
    );
    add(
        1,
        "rg-test",
        &format!("stlegacylogs{unit}"),
        "eastus",
        legacy,
        DEV,
        None,
        &[(LEGACY_STORAGE, Waste)],
    );
    // App Service plans: one hosting sites, one empty (planted).
    let plan = |sku, hourly, sites| Kind::AppServicePlan { sku, hourly, sites };
    add(
        0,
        "rg-web",
        "asp-prod-web",
        "westeurope",
        plan("P1v3", 0.226, 3),
        PROD,
        None,
        &[(EMPTY_PLAN, NotWaste), (UNDERUSED_PLAN, NotWaste)],
    );
    add(
        0,
        "rg-web",
        "asp-web-oversized",
        "westeurope",
        plan("P2v3", 0.452, 2),
        PROD,
        None,
        &[(EMPTY_PLAN, NotWaste), (UNDERUSED_PLAN, Waste)],
    );
    add(
        1,
        "rg-dev",
        "asp-dev-leftover",
        "westeurope",
        plan("B2", 0.075, 0),
        DEV,
        None,
        &[(EMPTY_PLAN, Waste), (UNDERUSED_PLAN, NotWaste)],
    );

    // Snapshots: old (planted), premium (planted for its own rule), and a recent standard one.
    let snapshot = |sku, size_gb, per_gb: f64, age_days, source| Kind::Snapshot {
        sku,
        size_gb,
        monthly: per_gb * f64::from(size_gb),
        age_days,
        source,
    };
    #[rustfmt::skip]
    let snapshots: [(usize, &str, &str, &str, Kind, Tags, &[(&str, Truth)]); 3] = [
        (1, "rg-dev", "snap-before-upgrade-2025", "westeurope", snapshot("Standard_LRS", 1024, 0.05, 200, "vm-dev-retired-osdisk"), DEV,
            &[(OLD_SNAPSHOT, Waste), (PREMIUM_SNAPSHOT, NotWaste), (ORPHAN_SNAPSHOT, Waste)]),
        (0, "rg-api", "snap-api-release", "westeurope", snapshot("Premium_LRS", 128, 0.132, 20, "vm-api-01-osdisk"), PROD,
            &[(OLD_SNAPSHOT, NotWaste), (PREMIUM_SNAPSHOT, Waste), (ORPHAN_SNAPSHOT, NotWaste)]),
        (2, "rg-data", "snap-etl-weekly", "eastus", snapshot("Standard_ZRS", 512, 0.0625, 6, "disk-etl-scratch"), DATA,
            &[(OLD_SNAPSHOT, NotWaste), (PREMIUM_SNAPSHOT, NotWaste), (ORPHAN_SNAPSHOT, NotWaste)]),
    ];
    for (sub, group, name, region, kind, tags, truth) in snapshots {
        add(sub, group, name, region, kind, tags, None, truth);
    }

    // Load balancers (one with no backend pool, planted) and NAT gateways (one with no subnet, planted).
    let lb = |backend_pools| Kind::LoadBalancer {
        hourly: 0.025,
        backend_pools,
    };
    add(
        0,
        "rg-web",
        "lb-web",
        "westeurope",
        lb(1),
        PROD,
        None,
        &[(LB_NO_BACKEND, NotWaste)],
    );
    add(
        1,
        "rg-test",
        "lb-test-old",
        "eastus",
        lb(0),
        DEV,
        None,
        &[(LB_NO_BACKEND, Waste)],
    );
    let nat = |subnets| Kind::NatGateway {
        hourly: 0.045,
        subnets,
    };
    add(
        2,
        "rg-data",
        "natgw-data",
        "eastus",
        nat(2),
        DATA,
        None,
        &[(NAT_NO_SUBNET, NotWaste)],
    );
    add(
        1,
        "rg-dev",
        "natgw-dev-unused",
        "westeurope",
        nat(0),
        DEV,
        None,
        &[(NAT_NO_SUBNET, Waste)],
    );

    // Gateways, circuits, DDoS plans, elastic pools and private endpoints: each in use (with what uses
    // it) and unused (planted); and a VM on unmanaged disks.
    let other = |provider, service, category, meter, hourly, sku, properties| Kind::Other {
        provider,
        service,
        category,
        meter,
        hourly,
        sku,
        properties,
    };
    const VGW: &str = "Microsoft.Network/virtualNetworkGateways";
    const PE: &str = "Microsoft.Network/privateEndpoints";
    // The network team tags by environment only: this cost counts as untagged for chargeback.
    const NET: Tags = &[("env", "prod"), ("owner", "network-team")];
    const NET_DEV: Tags = &[("env", "dev"), ("owner", "network-team")];
    #[rustfmt::skip]
    let others: [(usize, &str, &str, &str, Kind, Tags, &[(&str, Truth)]); 16] = [
        (0, "rg-net", "vgw-hub", "westeurope", other(VGW, "VPN Gateway", "Networking", "VpnGw1", 0.19, "VpnGw1",
            r#"{"gatewayType":"Vpn","provisioningState":"Succeeded"}"#), NET, &[(IDLE_VNET_GATEWAY, NotWaste)]),
        (0, "rg-net", "cn-hub-onprem", "westeurope", other("Microsoft.Network/connections", "VPN Gateway", "Networking", "S2S Connection", 0.0, "",
            r#"{"connectionType":"IPsec","connectionStatus":"Connected","virtualNetworkGateway1":{"id":"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworkGateways/vgw-hub"}}"#), NET, &[]),
        (1, "rg-dev", "vgw-dev-poc", "westeurope", other(VGW, "VPN Gateway", "Networking", "VpnGw1", 0.19, "VpnGw1",
            r#"{"gatewayType":"Vpn","provisioningState":"Succeeded"}"#), NET_DEV, &[(IDLE_VNET_GATEWAY, Waste)]),
        (0, "rg-net", "erc-primary", "westeurope", other("Microsoft.Network/expressRouteCircuits", "ExpressRoute", "Networking", "Standard Metered Data 50 Mbps", 0.0753, "Standard_MeteredData",
            r#"{"serviceProviderProvisioningState":"Provisioned","circuitProvisioningState":"Enabled"}"#), NET, &[(UNPROVISIONED_CIRCUIT, NotWaste)]),
        (2, "rg-data", "erc-second-site", "eastus", other("Microsoft.Network/expressRouteCircuits", "ExpressRoute", "Networking", "Standard Metered Data 50 Mbps", 0.0753, "Standard_MeteredData",
            r#"{"serviceProviderProvisioningState":"NotProvisioned","circuitProvisioningState":"Enabled"}"#), DATA, &[(UNPROVISIONED_CIRCUIT, Waste)]),
        (0, "rg-web", "agw-web", "westeurope", other("Microsoft.Network/applicationGateways", "Application Gateway", "Networking", "Standard v2 Fixed", 0.246, "Standard_v2",
            r#"{"backendAddressPools":[{"name":"web","properties":{"backendAddresses":[{"ipAddress":"10.0.1.4"}]}}]}"#), NET, &[(APP_GATEWAY_NO_BACKEND, NotWaste)]),
        (1, "rg-test", "agw-test-old", "eastus", other("Microsoft.Network/applicationGateways", "Application Gateway", "Networking", "Standard v2 Fixed", 0.246, "Standard_v2",
            r#"{"backendAddressPools":[{"name":"empty","properties":{"backendAddresses":[]}}]}"#), NET_DEV, &[(APP_GATEWAY_NO_BACKEND, Waste)]),
        (0, "rg-net", "ddos-hub", "westeurope", other("Microsoft.Network/ddosProtectionPlans", "DDoS Protection", "Security", "Network Protection", 4.03, "",
            r#"{"virtualNetworks":[{"id":"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/vnet-hub"}]}"#), NET, &[(DDOS_PLAN_UNUSED, NotWaste)]),
        (1, "rg-dev", "ddos-trial", "westeurope", other("Microsoft.Network/ddosProtectionPlans", "DDoS Protection", "Security", "Network Protection", 4.03, "",
            r#"{"provisioningState":"Succeeded"}"#), NET_DEV, &[(DDOS_PLAN_UNUSED, Waste)]),
        (2, "rg-data", "sqlsrv-data/pool-prod", "eastus", other("Microsoft.Sql/servers/elasticPools", "SQL Database", "Databases", "Standard eDTU", 0.302, "StandardPool",
            r#"{"state":"Ready","maxSizeBytes":107374182400}"#), DATA, &[(EMPTY_ELASTIC_POOL, NotWaste)]),
        (2, "rg-data", "sqlsrv-data/pool-legacy", "eastus", other("Microsoft.Sql/servers/elasticPools", "SQL Database", "Databases", "Standard eDTU", 0.302, "StandardPool",
            r#"{"state":"Ready","maxSizeBytes":107374182400}"#), DATA, &[(EMPTY_ELASTIC_POOL, Waste)]),
        // Private endpoints: one serving the data team's SQL server, one whose connection was
        // rejected (planted); and a VM still on unmanaged (VHD) disks (planted).
        (2, "rg-data", "pe-sql", "eastus", other(PE, "Virtual Network", "Networking", "Standard Private Endpoint", 0.01, "",
            r#"{"privateLinkServiceConnections":[{"name":"sql","properties":{"privateLinkServiceConnectionState":{"status":"Approved"}}}]}"#), DATA, &[(DISCONNECTED_ENDPOINT, NotWaste)]),
        (1, "rg-test", "pe-vendor-trial", "eastus", other(PE, "Virtual Network", "Networking", "Standard Private Endpoint", 0.01, "",
            r#"{"manualPrivateLinkServiceConnections":[{"name":"vendor","properties":{"privateLinkServiceConnectionState":{"status":"Disconnected"}}}]}"#), DEV, &[(DISCONNECTED_ENDPOINT, Waste)]),
        (0, "rg-web", "vm-web-classic", "westeurope", other("Microsoft.Compute/virtualMachines", "Virtual Machines", "Compute", "D2 v2", 0.114, "",
            r#"{"hardwareProfile":{"vmSize":"Standard_D2_v2"},"extended":{"instanceView":{"powerState":{"code":"PowerState/running"}}},"storageProfile":{"osDisk":{"osType":"Linux","vhd":{"uri":"https://stclassicvhds.blob.core.windows.net/vhds/vm-web-classic.vhd"}}}}"#), NET, &[(UNMANAGED_DISKS, Waste)]),
        // Windows Server VMs: one paying for its licence by the hour (planted), one with Hybrid Benefit.
        (0, "rg-win", "vm-win-app", "westeurope", other("Microsoft.Compute/virtualMachines", "Virtual Machines", "Compute", "D4s v3 Windows", 0.376, "",
            r#"{"hardwareProfile":{"vmSize":"Standard_D4s_v3"},"extended":{"instanceView":{"powerState":{"code":"PowerState/running"}}},"storageProfile":{"osDisk":{"osType":"Windows"},"imageReference":{"publisher":"MicrosoftWindowsServer","offer":"WindowsServer","sku":"2022-datacenter-azure-edition"}}}"#),
            PROD, &[(HYBRID_BENEFIT, Waste), (STEADY_ON_DEMAND, Waste)]),
        (0, "rg-win", "vm-win-licensed", "westeurope", other("Microsoft.Compute/virtualMachines", "Virtual Machines", "Compute", "D4s v3", 0.192, "",
            r#"{"licenseType":"Windows_Server","hardwareProfile":{"vmSize":"Standard_D4s_v3"},"extended":{"instanceView":{"powerState":{"code":"PowerState/running"}}},"storageProfile":{"osDisk":{"osType":"Windows"},"imageReference":{"publisher":"MicrosoftWindowsServer","offer":"WindowsServer","sku":"2022-datacenter-azure-edition"}}}"#),
            PROD, &[(HYBRID_BENEFIT, NotWaste), (STEADY_ON_DEMAND, Waste)]),
    ];
    for (sub, group, name, region, kind, tags, truth) in others {
        add(sub, group, name, region, kind, tags, None, truth);
    }

    // The prod pool's database (billed through its pool).
    add(
        2,
        "rg-data",
        "sqlsrv-data/sales",
        "eastus",
        other(
            "Microsoft.Sql/servers/databases",
            "SQL Database",
            "Databases",
            "Standard eDTU",
            0.0,
            "ElasticPool",
            r#"{"status":"Online","elasticPoolId":"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/sqlsrv-data/elasticPools/pool-prod"}"#,
        ),
        DATA,
        None,
        &[],
    );

    // Two single SQL databases: a busy one and one using a fraction of its DTUs (planted).
    for (name, meter, hourly, truth) in [
        ("sqlsrv-data/orders", "S2 DTUs", 0.1008, NotWaste),
        ("sqlsrv-data/reporting", "S3 DTUs", 0.2016, Waste),
    ] {
        add(
            2,
            "rg-data",
            name,
            "eastus",
            other(
                "Microsoft.Sql/servers/databases",
                "SQL Database",
                "Databases",
                meter,
                hourly,
                meter.split(' ').next().unwrap_or(meter),
                r#"{"status":"Online","currentServiceObjectiveName":"Standard"}"#,
            ),
            DATA,
            None,
            &[(UNDERUSED_DATABASE, truth), (EMPTY_ELASTIC_POOL, NotWaste)],
        );
    }

    // A feature store added to rg-data 40 days ago at 20 a day: the group's cost jumps month over month.
    add(
        2,
        "rg-data",
        &format!("stmlfeatures{unit}"),
        "eastus",
        v2(20.0),
        DATA,
        None,
        &[],
    );
    let feature_store = out.len() - 1;
    out[feature_store].created_days_ago = 40;

    // Hourly metrics the rules read beyond VM CPU: a busy and an idle storage account, a busy and an
    // oversized App Service plan (the empty plan reports low use too: it is another rule's case).
    for r in &mut out {
        r.metrics = match r.name.as_str() {
            n if n.starts_with("stprodweb") => &[("Transactions", "Count", 5200.0)],
            n if n.starts_with("starchivedata") => &[("Transactions", "Count", 0.4)],
            "asp-prod-web" => &[
                ("CpuPercentage", "Percent", 45.0),
                ("MemoryPercentage", "Percent", 68.0),
            ],
            "asp-web-oversized" | "asp-dev-leftover" => &[
                ("CpuPercentage", "Percent", 6.0),
                ("MemoryPercentage", "Percent", 21.0),
            ],
            // Available memory of two VMs: the ETL VM (64 GiB) has most of its memory free, the
            // batch VM (8 GiB) little of it.
            "vm-etl-01" => &[("Available Memory Bytes", "Bytes", 46.0e9)],
            "vm-api-batch" => &[("Available Memory Bytes", "Bytes", 1.2e9)],
            "sqlsrv-data/orders" => &[("dtu_consumption_percent", "Percent", 62.0)],
            "sqlsrv-data/reporting" => &[("dtu_consumption_percent", "Percent", 9.0)],
            "vm-web-01-osdisk" => &[
                (
                    "Composite Disk Read Operations/sec",
                    "CountPerSecond",
                    180.0,
                ),
                (
                    "Composite Disk Write Operations/sec",
                    "CountPerSecond",
                    90.0,
                ),
                ("Composite Disk Read Bytes/sec", "BytesPerSecond", 4.0e6),
                ("Composite Disk Write Bytes/sec", "BytesPerSecond", 2.0e6),
            ],
            "vm-api-batch-osdisk" => &[
                ("Composite Disk Read Operations/sec", "CountPerSecond", 1.2),
                ("Composite Disk Write Operations/sec", "CountPerSecond", 0.8),
                ("Composite Disk Read Bytes/sec", "BytesPerSecond", 20000.0),
                ("Composite Disk Write Bytes/sec", "BytesPerSecond", 10000.0),
            ],
            _ => &[],
        };
        // Every VM running all month on demand is a reservation case, unless it is idle or a
        // reservation already covers it.
        match r.name.as_str() {
            _ if reservation_covering(r).is_some() => r.planted.push((STEADY_ON_DEMAND, NotWaste)),
            "vm-web-01" | "vm-web-02" | "vm-api-01" | "vm-api-batch" | "vm-etl-01"
            | "vm-web-classic" => r.planted.push((STEADY_ON_DEMAND, Waste)),
            "vm-dev-build" | "vm-test-legacy" | "vm-test-stopped" | "vm-dev-old"
            | "vm-test-paused" => r.planted.push((STEADY_ON_DEMAND, NotWaste)),
            _ => {}
        }
        match r.name.as_str() {
            "vm-etl-01" => r.planted.push((UNDERUSED_VM, Waste)),
            "vm-api-batch" | "vm-web-02" => r.planted.push((UNDERUSED_VM, NotWaste)),
            "vm-web-01-osdisk" => r.planted.push((UNDERUSED_PREMIUM_DISK, NotWaste)),
            "vm-api-batch-osdisk" => r.planted.push((UNDERUSED_PREMIUM_DISK, Waste)),
            _ => {}
        }
    }

    // A snapshot exists only from the day it was taken.
    for r in &mut out {
        if let Kind::Snapshot { age_days, .. } = r.kind {
            r.created_days_ago = age_days;
        }
    }
    out
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
        tags: if sub == TAGGED_SHARED_COSTS {
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
    covers: &'static [(&'static str, &'static str)],
}

impl Reservation {
    fn resource_id(&self) -> String {
        format!(
            "/providers/Microsoft.Capacity/reservationOrders/{}/reservations/{}",
            self.order, self.id
        )
    }
}

/// One reservation fully used by the two web VMs; one bought for two API VMs of which only one
/// is left, so half of it goes unused (planted for `rate_commitment_underused`).
const RESERVATIONS: [Reservation; 2] = [
    Reservation {
        name: "ri-web-d4s-v3",
        order: "5d1f3a2b-6c4e-4f8a-9b0d-1e2f3a4b5c01",
        id: "9c0e1d2f-3a4b-4c5d-8e6f-7a8b9c0d1e01",
        size: "Standard_D4s_v3",
        quantity: 2,
        hourly: 0.1248,
        covers: &[("rg-web", "vm-web-01"), ("rg-web", "vm-web-02")],
    },
    Reservation {
        name: "ri-api-d2s-v3",
        order: "5d1f3a2b-6c4e-4f8a-9b0d-1e2f3a4b5c02",
        id: "9c0e1d2f-3a4b-4c5d-8e6f-7a8b9c0d1e02",
        size: "Standard_D2s_v3",
        quantity: 2,
        hourly: 0.0624,
        covers: &[("rg-api", "vm-api-01")],
    },
];

fn reservation_covering(r: &Resource) -> Option<&'static Reservation> {
    RESERVATIONS
        .iter()
        .find(|ri| ri.covers.contains(&(r.group.as_str(), r.name.as_str())))
}

/// A day's reservation rows: each one's unused hours, and on the first of a month its purchase.
fn reservation_costs(day: NaiveDate) -> Vec<CostLine> {
    let mut out = Vec::new();
    for ri in &RESERVATIONS {
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
    let (sub_id, sub_name) = SUBSCRIPTIONS[l.sub];
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
        SUBSCRIPTIONS[sub].0
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
