//! The demo tenant's estate: read once from `data/demo/estate.toml` (compiled in) into the resources,
//! subscriptions, planted resource groups and reservations the generator writes costs, inventory and
//! metrics for; repeated per copy of the estate.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;
use serde_json::Value;

use super::Truth;

impl Power {
    pub(super) fn name(self) -> &'static str {
        match self {
            Power::Running { .. } => "running",
            Power::Stopped => "stopped",
            Power::Deallocated { .. } => "deallocated",
        }
    }
}

/// A VM's power state as Azure reports it: `power = { state = "running", cpu = 52.0 }`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case", deny_unknown_fields)]
pub(super) enum Power {
    /// Running, with this average CPU (percent).
    Running { cpu: f64 },
    /// Stopped from inside the OS: not deallocated, so compute is still billed.
    Stopped,
    /// Deallocated this many days ago: no compute charges since.
    Deallocated { days: i64 },
}

/// Text read from the estate, kept for the life of the process. (An alias, so serde reads it with
/// [`leaked`] rather than borrowing from the input.)
type Text = &'static str;

/// What a resource is, with what its costs, inventory row and metrics need:
/// `kind = { type = "disk", sku = "Premium_LRS", … }`. Its text lives as long as the process (the
/// estate is read once), so the generator copies kinds freely.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub(super) enum Kind {
    Vm {
        #[serde(deserialize_with = "leaked")]
        size: Text,
        hourly: f64,
        power: Power,
    },
    Disk {
        #[serde(deserialize_with = "leaked")]
        sku: Text,
        size_gb: u32,
        monthly: f64,
        #[serde(deserialize_with = "leaked")]
        state: Text,
    },
    PublicIp {
        #[serde(deserialize_with = "leaked")]
        sku: Text,
        hourly: f64,
    },
    Nic,
    Storage {
        daily: f64,
        /// Account kind: `StorageV2`, or a legacy `Storage` / `BlobStorage`.
        #[serde(deserialize_with = "leaked")]
        kind: Text,
        /// Data compounding by this share a month (`None`: the steady 2% a month of most accounts).
        #[serde(default)]
        growth: Option<f64>,
    },
    AppServicePlan {
        #[serde(deserialize_with = "leaked")]
        sku: Text,
        hourly: f64,
        sites: u32,
    },
    /// A managed-disk snapshot taken `age_days` ago of the disk named `source` (same group).
    Snapshot {
        #[serde(deserialize_with = "leaked")]
        sku: Text,
        size_gb: u32,
        monthly: f64,
        age_days: i64,
        #[serde(deserialize_with = "leaked")]
        source: Text,
    },
    /// `backend_pools` pools of `pool_members` NIC IP configurations each.
    LoadBalancer {
        hourly: f64,
        backend_pools: u32,
        #[serde(default)]
        pool_members: u32,
    },
    NatGateway {
        hourly: f64,
        subnets: u32,
    },
    /// Any other resource the rules judge by its Resource Graph `properties`: billed `hourly` on one
    /// meter (nothing when 0). `{sub}` and `{rg}` in `properties` become its subscription id and
    /// resource group, so it can point at its neighbours.
    Other {
        #[serde(deserialize_with = "leaked")]
        provider: Text,
        #[serde(deserialize_with = "leaked")]
        service: Text,
        #[serde(deserialize_with = "leaked")]
        category: Text,
        #[serde(deserialize_with = "leaked")]
        meter: Text,
        hourly: f64,
        #[serde(deserialize_with = "leaked")]
        sku: Text,
        #[serde(deserialize_with = "leaked")]
        properties: Text,
    },
}

#[derive(Debug, Clone)]
pub(super) struct Resource {
    pub(super) sub: usize,
    pub(super) group: String,
    pub(super) name: String,
    pub(super) region: &'static str,
    pub(super) kind: Kind,
    pub(super) tags: Vec<(&'static str, &'static str)>,
    pub(super) managed_by: Option<String>,
    pub(super) attached_to: Option<String>,
    pub(super) created_days_ago: i64,
    pub(super) planted: Vec<(&'static str, Truth)>,
    /// Hourly metrics beyond a running VM's CPU: (name, unit, typical hourly value).
    pub(super) metrics: &'static [(&'static str, &'static str, f64)],
    /// A cost anomaly this resource causes, which the anomaly detector must find.
    pub(super) anomaly: Option<PlantedAnomaly>,
}

/// `anomaly = { shape = "spike", scope = "service", days_ago = 1, factor = 8.0 }`: one day's cost
/// multiplied; or `{ shape = "shift", scope = "resource_group" }`: a new resource (see
/// `created_days_ago`) that lifts its scope's level from the day it appears.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(tag = "shape", rename_all = "snake_case", deny_unknown_fields)]
pub enum PlantedAnomaly {
    Spike {
        #[serde(deserialize_with = "leaked")]
        scope: Text,
        days_ago: i64,
        factor: f64,
    },
    Shift {
        #[serde(deserialize_with = "leaked")]
        scope: Text,
    },
}

/// The estate, read once per process from `data/demo/estate.toml` (compiled in); its names live as
/// long as the process, as `&'static str` like the generator's other constants.
pub(super) static ESTATE: LazyLock<Estate> = LazyLock::new(|| {
    Estate::parse(include_str!("../../../data/demo/estate.toml"))
        .unwrap_or_else(|e| panic!("data/demo/estate.toml: {e}"))
});

/// The demo tenant's estate: subscriptions, planted resource groups, reservations and the
/// resources of one copy of the estate.
pub(super) struct Estate {
    pub(super) subscriptions: Vec<Subscription>,
    pub(super) groups: Vec<PlantedGroup>,
    pub(super) reservations: Vec<Reservation>,
    /// The first copy of the estate (see [`estate`]).
    pub(super) resources: Vec<Resource>,
}

pub(super) struct Subscription {
    pub(super) id: &'static str,
    pub(super) name: &'static str,
    /// Subscription-level usage carries a cost center tag.
    pub(super) shared_costs_tagged: bool,
    pub(super) planted: Vec<(&'static str, Truth)>,
}

/// A resource group planted for a group-level rule (in every copy of the estate).
pub(super) struct PlantedGroup {
    pub(super) subscription: usize,
    pub(super) name: &'static str,
    pub(super) planted: Vec<(&'static str, Truth)>,
}

pub(super) fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// Reads text that lives as long as the process (see [`ESTATE`]).
fn leaked<'de, D: serde::Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    String::deserialize(d).map(leak)
}

/// `plants = { rule_id = "waste" | "look-alike" }`.
pub(super) type RawPlants = BTreeMap<String, RawTruth>;

#[derive(Debug, Clone, Copy, Deserialize)]
pub(super) enum RawTruth {
    #[serde(rename = "waste")]
    Waste,
    #[serde(rename = "look-alike")]
    LookAlike,
}

pub(super) fn plants(raw: RawPlants) -> Vec<(&'static str, Truth)> {
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
pub(super) struct RawEstate {
    pub(super) subscriptions: Vec<RawSubscription>,
    pub(super) groups: Vec<RawGroup>,
    pub(super) reservations: Vec<RawReservation>,
    pub(super) tag_sets: BTreeMap<String, Vec<(String, String)>>,
    pub(super) resources: Vec<RawResource>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSubscription {
    pub(super) id: String,
    pub(super) name: String,
    #[serde(default)]
    pub(super) shared_costs_tagged: bool,
    #[serde(default)]
    pub(super) plants: RawPlants,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGroup {
    pub(super) subscription: usize,
    pub(super) name: String,
    pub(super) plants: RawPlants,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReservation {
    pub(super) name: String,
    pub(super) order: String,
    pub(super) id: String,
    pub(super) size: String,
    pub(super) quantity: u32,
    pub(super) hourly: f64,
    pub(super) covers: Vec<(String, String)>,
    #[serde(default)]
    pub(super) covered_plants: RawPlants,
    #[serde(default)]
    pub(super) plants: RawPlants,
}

/// One resource as written in the file, for the first copy of the estate.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawResource {
    /// `{unit}` becomes the copy number (storage account names are global).
    pub(super) name: String,
    pub(super) subscription: usize,
    pub(super) group: String,
    pub(super) region: String,
    pub(super) kind: Kind,
    /// A set from `[tag_sets]`, or the tags themselves as `[key, value]` pairs.
    pub(super) tags: RawTags,
    /// A resource id relative to the resource's subscription and group
    /// (`Microsoft.Compute/virtualMachines/vm-web-01`).
    pub(super) attached_to: Option<String>,
    pub(super) created_days_ago: Option<i64>,
    pub(super) anomaly: Option<PlantedAnomaly>,
    #[serde(default)]
    pub(super) metrics: Vec<RawMetric>,
    #[serde(default)]
    pub(super) plants: RawPlants,
}

#[derive(Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum RawTags {
    Set(String),
    List(Vec<(String, String)>),
}

/// An hourly metric beyond a running VM's CPU, around its typical value.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMetric {
    pub(super) name: String,
    pub(super) unit: String,
    pub(super) typical: f64,
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
            if let Kind::Other { properties, .. } = &r.kind
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

pub(super) fn subscription(i: usize) -> &'static Subscription {
    &ESTATE.subscriptions[i]
}

/// Resource group names past the first copy of the estate end in `-<copy>`.
pub(super) fn copy_suffix(unit: u32) -> String {
    if unit == 0 {
        String::new()
    } else {
        format!("-{unit}")
    }
}

/// Copy `unit` of the estate.
pub(super) fn estate(unit: u32) -> Vec<Resource> {
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
        let kind = self.kind;
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
            anomaly: self.anomaly,
            kind,
        }
    }
}

/// A reservation the demo's production subscription bought for D-series VMs in West Europe.
#[derive(Debug)]
pub(super) struct Reservation {
    pub(super) name: &'static str,
    pub(super) order: &'static str,
    pub(super) id: &'static str,
    pub(super) size: &'static str,
    pub(super) quantity: u32,
    /// Amortized price per hour of one instance.
    pub(super) hourly: f64,
    /// The VMs (resource group, name) it covers, in the first copy of the estate.
    pub(super) covers: Vec<(String, String)>,
    /// What the VMs it covers are, in place of their own plants for these rules.
    pub(super) covered_planted: Vec<(&'static str, Truth)>,
    pub(super) planted: Vec<(&'static str, Truth)>,
}

impl Reservation {
    pub(super) fn resource_id(&self) -> String {
        format!(
            "/providers/Microsoft.Capacity/reservationOrders/{}/reservations/{}",
            self.order, self.id
        )
    }
}

pub(super) fn reservation_covering(r: &Resource) -> Option<&'static Reservation> {
    ESTATE
        .reservations
        .iter()
        .find(|ri| ri.covers.iter().any(|(g, n)| *g == r.group && *n == r.name))
}

pub(super) fn resource_id(sub: usize, group: &str, provider: &str, name: &str) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{group}/providers/{provider}/{name}",
        subscription(sub).id
    )
}
