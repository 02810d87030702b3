//! The demo's cost export: one FOCUS 1.2 CSV per billing month, in the columns and `x_` extensions of
//! Cost Management's FocusCost export: each resource's daily charges, subscription-level usage, and
//! the reservations' purchases and unused hours.

use std::fmt::Write as _;

use chrono::{Datelike, Duration, NaiveDate};
use serde_json::json;

use super::estate::{
    ESTATE, Kind, PlantedAnomaly, Power, Reservation, Resource, reservation_covering, subscription,
};
use super::{DemoTenant, Rng, hash};

pub(super) const BILLING_ACCOUNT: &str = "/providers/Microsoft.Billing/billingAccounts/8611537";

impl DemoTenant {
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
                if let Some(mut line) = self.resource_cost(r, day) {
                    if let Some(PlantedAnomaly::Spike {
                        days_ago, factor, ..
                    }) = r.anomaly
                        && day == self.as_of - Duration::days(days_ago)
                    {
                        line.quantity *= factor;
                    }
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
                if let Power::Deallocated { days } = power
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
}

/// Subscription-level usage with weekly seasonality, growth, noise and one spike (Log Analytics).
pub(super) fn shared_costs(
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
pub(super) struct CostLine {
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
pub(super) enum CommitmentUse {
    Used,
    Unused,
    Purchase,
}

/// A day's reservation rows: each one's unused hours, and on the first of a month its purchase.
pub(super) fn reservation_costs(day: NaiveDate) -> Vec<CostLine> {
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
pub(super) const DISCOUNT: f64 = 0.12;

pub(super) fn write_cost_row(out: &mut String, l: &CostLine, day: NaiveDate) {
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

pub(super) fn arm_type(id: &str) -> String {
    let after = id.split("/providers/").nth(1).unwrap_or_default();
    let parts: Vec<&str> = after.split('/').collect();
    if parts.len() >= 2 {
        format!("{}/{}", parts[0], parts[1]).to_lowercase()
    } else {
        String::new()
    }
}

pub(super) fn tags_json(tags: &[(&str, &str)]) -> String {
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

pub(super) fn days_in_month(day: NaiveDate) -> u32 {
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
pub(super) fn weekday_factor(day: NaiveDate, amplitude: f64) -> f64 {
    if day.weekday().number_from_monday() >= 6 {
        1.0 - 2.5 * amplitude
    } else {
        1.0 + amplitude
    }
}
