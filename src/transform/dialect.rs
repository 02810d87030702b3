//! Which cost dataset a file holds, and where each FOCUS 1.2 column comes from in it.
//!
//! Three families reach the transform: FOCUS files of any version (Cost Management's `FocusCost`
//! 1.0-preview(v1), 1.0, 1.0r2, 1.2-preview, 1.2, and other providers' FOCUS), and the legacy Cost
//! Management `ActualCost` / `AmortizedCost` datasets in their Enterprise Agreement (PascalCase,
//! `Cost`) and Microsoft Customer Agreement (camelCase, `costInBillingCurrency`) column sets. The
//! family comes from the export's manifest when there is one, otherwise from the header.
//! Names are matched without regard to case, surrounding spaces or a byte-order mark.

use std::collections::HashMap;

use crate::lake::landing::DatasetHint;
use crate::lake::schema::RESERVATION_TABLES;
use crate::{Error, Result};

/// What a cost file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialect {
    /// FOCUS columns (any version; older names are brought up to 1.2).
    Focus,
    /// A legacy actual or amortized cost dataset.
    Legacy { amortized: bool, mca: bool },
    /// A price sheet (goes to the `prices` table, and fills missing prices of cost rows).
    PriceSheet { mca: bool },
    /// A reservation dataset, by its lake table (`reservation_details`, …).
    Reservation { table: &'static str },
}

impl Dialect {
    /// How the dataset is named in `x_SourceDataset`.
    pub fn label(&self, version: Option<&str>) -> String {
        match self {
            Dialect::Focus => match version {
                Some(v) => format!("FocusCost {v}"),
                None => "FOCUS".into(),
            },
            Dialect::Legacy { amortized, mca } => format!(
                "{} ({})",
                if *amortized {
                    "AmortizedCost"
                } else {
                    "ActualCost"
                },
                if *mca { "MCA" } else { "EA" }
            ),
            Dialect::PriceSheet { mca } => {
                format!("PriceSheet ({})", if *mca { "MCA" } else { "EA" })
            }
            Dialect::Reservation { table } => RESERVATION_TABLES
                .iter()
                .find(|(t, _, _)| t == table)
                .map(|(_, dataset, _)| dataset.to_string())
                .unwrap_or_default(),
        }
    }
}

/// A header name as compared: byte-order mark and all spaces removed, lowercased
/// (`Cost With No ReservedInstances` matches `CostWithNoReservedInstances`). A localized header
/// that carries the English name in parentheses is compared by that name (`Kosten (Cost)`).
pub fn normalize_name(name: &str) -> String {
    let name = name.trim_start_matches('\u{feff}').trim();
    let name = match name.strip_suffix(')').and_then(|n| n.rsplit_once('(')) {
        Some((before, english))
            if !before.trim().is_empty()
                && !english.is_empty()
                && english
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == ' ') =>
        {
            english
        }
        _ => name,
    };
    name.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Decide what a file with these (normalized) header names is. `key` names the file in errors.
pub fn detect(names: &[String], hint: &DatasetHint, key: &str) -> Result<Dialect> {
    let has = |n: &str| names.iter().any(|x| x == n);
    if let Some(dataset) = &hint.dataset {
        let lower = dataset.to_lowercase();
        if lower == "focuscost" {
            return Ok(Dialect::Focus);
        }
        if let Some((table, _, _)) = RESERVATION_TABLES
            .iter()
            .find(|(_, d, _)| d.eq_ignore_ascii_case(&lower))
        {
            return Ok(Dialect::Reservation { table });
        }
        if lower == "pricesheet" {
            return Ok(Dialect::PriceSheet {
                mca: has("billingprofileid"),
            });
        }
        if lower == "actualcost" || lower == "amortizedcost" || lower == "usage" {
            return Ok(Dialect::Legacy {
                amortized: lower == "amortizedcost",
                mca: has("costinbillingcurrency"),
            });
        }
        return Err(Error::Data {
            file: key.into(),
            message: format!(
                "dataset type `{dataset}` is not one cloudoptima reads; it reads {}",
                crate::lake::landing::INGESTED_DATASETS.join(", ")
            ),
        });
    }
    if has("billedcost") || has("effectivecost") || has("chargeperiodstart") {
        return Ok(Dialect::Focus);
    }
    if has("reservedhours") && has("usedhours") {
        return Ok(Dialect::Reservation {
            table: "reservation_details",
        });
    }
    if has("recommendedquantity") && has("lookbackperiod") {
        return Ok(Dialect::Reservation {
            table: "reservation_recommendations",
        });
    }
    if has("reservationordername") && has("eventtype") {
        return Ok(Dialect::Reservation {
            table: "reservation_transactions",
        });
    }
    if has("meterid") && has("unitprice") && has("effectivestartdate") {
        return Ok(Dialect::PriceSheet {
            mca: has("billingprofileid"),
        });
    }
    let cost = has("cost") || has("costinbillingcurrency") || has("pretaxcost");
    if cost && (has("date") || has("usagedate") || has("usagedatetime")) {
        let lower_key = key.to_lowercase();
        return Ok(Dialect::Legacy {
            amortized: lower_key.contains("amortized"),
            mca: has("costinbillingcurrency"),
        });
    }
    let shown = names.iter().take(8).cloned().collect::<Vec<_>>().join(", ");
    Err(Error::Data {
        file: key.into(),
        message: format!(
            "not a cost file: the header has {shown}{}; expected FOCUS columns (BilledCost, \
             ChargePeriodStart, …) or Cost Management actual/amortized columns (Date, Cost or \
             CostInBillingCurrency, …)",
            if names.len() > 8 { ", …" } else { "" }
        ),
    })
}

/// FOCUS names from earlier versions (and Cost Management's earlier `x_` names) → their 1.2 name.
const FOCUS_RENAMES: &[(&str, &str)] = &[
    ("UsageQuantity", "ConsumedQuantity"),
    ("UsageUnit", "ConsumedUnit"),
    ("Region", "RegionName"),
    ("x_InvoiceId", "InvoiceId"),
    ("x_PricingCurrency", "PricingCurrency"),
    ("x_SkuMeterName", "SkuMeter"),
];

/// Other names of legacy columns: the pay-as-you-go (Web Direct) usage file's columns, read as the
/// Enterprise Agreement column of the same meaning.
const LEGACY_ALIASES: &[(&str, &str)] = &[
    ("pretaxcost", "cost"),
    ("subscriptionguid", "subscriptionid"),
    ("usagedatetime", "date"),
    ("instanceid", "resourceid"),
    ("currency", "billingcurrency"),
    ("usagequantity", "quantity"),
    ("resourcerate", "effectiveprice"),
];

/// Legacy column → FOCUS 1.2 (or `x_`) column that takes its value as is. Costs, categories and
/// periods that need converting are derived in [`super::costs`], not listed here.
const LEGACY_COLUMNS: &[(&str, &str)] = &[
    ("BillingAccountId", "BillingAccountId"),
    ("BillingAccountName", "BillingAccountName"),
    ("BillingCurrency", "BillingCurrency"),
    ("BillingCurrencyCode", "BillingCurrency"),
    ("BillingPeriodStartDate", "BillingPeriodStart"),
    ("Date", "ChargePeriodStart"),
    ("UsageDate", "ChargePeriodStart"),
    ("PaygCostInBillingCurrency", "ListCost"),
    ("PaygCostInUsd", "x_ListCostInUsd"),
    ("PayGPrice", "ListUnitPrice"),
    ("UnitPrice", "ContractedUnitPrice"),
    ("EffectivePrice", "x_EffectiveUnitPrice"),
    ("Quantity", "ConsumedQuantity"),
    ("Quantity", "PricingQuantity"),
    ("UnitOfMeasure", "ConsumedUnit"),
    ("UnitOfMeasure", "PricingUnit"),
    ("UnitOfMeasure", "x_PricingUnitDescription"),
    ("PricingCurrency", "PricingCurrency"),
    ("PricingCurrencyCode", "PricingCurrency"),
    ("ExchangeRatePricingToBilling", "x_BillingExchangeRate"),
    ("ExchangeRateDate", "x_BillingExchangeRateDate"),
    ("ServicePeriodStartDate", "x_ServicePeriodStart"),
    ("ServicePeriodEndDate", "x_ServicePeriodEnd"),
    ("BillingProfileId", "x_BillingProfileId"),
    ("BillingProfileName", "x_BillingProfileName"),
    ("AccountOwnerId", "x_AccountOwnerId"),
    ("AccountName", "x_AccountName"),
    ("SubscriptionName", "SubAccountName"),
    ("ResourceGroup", "x_ResourceGroupName"),
    ("ResourceGroupName", "x_ResourceGroupName"),
    ("ResourceId", "ResourceId"),
    ("InstanceName", "ResourceId"),
    ("ResourceName", "ResourceName"),
    ("MeterRegion", "x_SkuRegion"),
    ("MeterCategory", "x_SkuMeterCategory"),
    ("MeterSubCategory", "x_SkuMeterSubcategory"),
    ("MeterName", "SkuMeter"),
    ("MeterId", "x_SkuMeterId"),
    ("ProductId", "SkuId"),
    ("PartNumber", "x_SkuPartNumber"),
    ("ServiceFamily", "x_SkuServiceFamily"),
    ("Product", "x_SkuDescription"),
    ("ProductName", "x_SkuDescription"),
    ("OfferId", "x_SkuOfferId"),
    ("ProductOrderId", "x_SkuOrderId"),
    ("ProductOrderName", "x_SkuOrderName"),
    ("PlanName", "x_SkuPlanName"),
    ("Term", "x_SkuTerm"),
    ("IsAzureCreditEligible", "x_SkuIsCreditEligible"),
    ("PublisherName", "PublisherName"),
    ("PublisherType", "x_PublisherCategory"),
    ("PublisherId", "x_PublisherId"),
    ("InvoiceId", "InvoiceId"),
    ("InvoiceSectionId", "x_InvoiceSectionId"),
    ("InvoiceSection", "x_InvoiceSectionName"),
    ("InvoiceSectionName", "x_InvoiceSectionName"),
    ("CostCenter", "x_CostCenter"),
    ("CostAllocationRuleName", "x_CostAllocationRuleName"),
    ("BenefitId", "CommitmentDiscountId"),
    ("ReservationId", "CommitmentDiscountId"),
    ("BenefitName", "CommitmentDiscountName"),
    ("ReservationName", "CommitmentDiscountName"),
    ("Tags", "Tags"),
    ("ResellerMpnId", "x_ResellerId"),
    ("ResellerName", "x_ResellerName"),
    ("CustomerTenantId", "x_CustomerId"),
    ("CustomerName", "x_CustomerName"),
    ("AdditionalInfo", "x_SkuDetails"),
    ("ServiceInfo1", "x_ServiceInfo1"),
    ("ServiceInfo2", "x_ServiceInfo2"),
    ("AvailabilityZone", "AvailabilityZone"),
    ("ConsumedService", "x_ConsumedService"),
];

/// Price sheet column (EA or MCA) → `prices` column.
const PRICE_COLUMNS: &[(&str, &str)] = &[
    ("EnrollmentNumber", "BillingAccountId"),
    ("BillingAccountId", "BillingAccountId"),
    ("BillingAccountName", "BillingAccountName"),
    ("BillingProfileId", "x_BillingProfileId"),
    ("BillingProfileName", "x_BillingProfileName"),
    ("MeterId", "x_SkuMeterId"),
    ("MeterName", "SkuMeter"),
    ("MeterType", "x_SkuMeterType"),
    ("MeterCategory", "x_SkuMeterCategory"),
    ("MeterSubCategory", "x_SkuMeterSubcategory"),
    ("MeterRegion", "x_SkuRegion"),
    ("ServiceFamily", "x_SkuServiceFamily"),
    ("Product", "x_SkuDescription"),
    ("SkuId", "SkuId"),
    ("ProductId", "x_SkuProductId"),
    ("PartNumber", "x_SkuPartNumber"),
    ("UnitOfMeasure", "x_PricingUnitDescription"),
    ("EffectiveStartDate", "x_EffectivePeriodStart"),
    ("EffectiveEndDate", "x_EffectivePeriodEnd"),
    ("UnitPrice", "ContractedUnitPrice"),
    ("MarketPrice", "ListUnitPrice"),
    ("BasePrice", "x_BaseUnitPrice"),
    ("CurrencyCode", "BillingCurrency"),
    ("BillingCurrency", "BillingCurrency"),
    ("Currency", "PricingCurrency"),
    ("IncludedQuantity", "x_SkuTierMinimumUnits"),
    ("TierMinimumUnits", "x_SkuTierMinimumUnits"),
    ("OfferId", "x_SkuOfferId"),
    ("Term", "x_SkuTerm"),
    ("PriceType", "x_SkuPriceType"),
    ("ArmSkuName", "x_ArmSkuName"),
];

/// Legacy columns read by the derivations in [`super::costs`] (not copied as they are).
pub const LEGACY_DERIVED_INPUTS: &[&str] = &[
    "Cost",
    "CostInBillingCurrency",
    "CostInUsd",
    "BillingPeriodEndDate",
    "SubscriptionId",
    "ResourceLocation",
    "ChargeType",
    "PricingModel",
    "Frequency",
];

/// FOCUS 1.0-preview columns read by the derivations in [`super::costs`].
pub const FOCUS_DERIVED_INPUTS: &[&str] = &["ChargeSubcategory"];

/// For each target column, the source column (exact header text) that feeds it, and the source
/// columns nothing reads (reported as ignored, so no column disappears unnoticed).
pub struct ColumnMap {
    /// Target → source columns (exact header text) in order of preference.
    pub by_target: HashMap<String, Vec<String>>,
    /// Normalized legacy name → exact header text, for the derivations.
    pub by_source: HashMap<String, String>,
    pub ignored: Vec<String>,
}

/// The file's cost column (exact header) and the lake column that takes its values unchanged, for
/// reconciling the lake against the source: FOCUS `BilledCost`; a legacy dataset's cost column,
/// which is billed cost in actual-cost datasets and effective cost in amortized ones. `None` for
/// price sheets and reservation datasets.
pub fn reconciled_cost(dialect: &Dialect, map: &ColumnMap) -> Option<(String, &'static str)> {
    match dialect {
        Dialect::Focus => map
            .by_target
            .get("BilledCost")
            .and_then(|h| h.first())
            .map(|h| (h.clone(), "BilledCost")),
        Dialect::Legacy { amortized, .. } => ["costinbillingcurrency", "cost"]
            .iter()
            .find_map(|n| map.by_source.get(*n))
            .map(|h| {
                let column = if *amortized {
                    "EffectiveCost"
                } else {
                    "BilledCost"
                };
                (h.clone(), column)
            }),
        Dialect::PriceSheet { .. } | Dialect::Reservation { .. } => None,
    }
}

/// Map `headers` (exact text) for `dialect` onto the `targets` (FOCUS 1.2 and `x_` names).
pub fn map_columns(headers: &[String], dialect: &Dialect, targets: &[&str]) -> ColumnMap {
    let mut by_source: HashMap<String, String> = headers
        .iter()
        .map(|h| (normalize_name(h), h.clone()))
        .collect();
    let mut aliased = HashMap::new();
    if matches!(dialect, Dialect::Legacy { .. }) {
        for (alias, name) in LEGACY_ALIASES {
            if alias != name
                && !by_source.contains_key(*name)
                && let Some(exact) = by_source.get(*alias).cloned()
            {
                by_source.insert(name.to_string(), exact);
                aliased.insert(alias.to_string(), name.to_string());
            }
        }
    }
    let mut by_target: HashMap<String, Vec<String>> = HashMap::new();
    let take = |target: &str, source: &str, by_target: &mut HashMap<String, Vec<String>>| {
        if let Some(exact) = by_source.get(&normalize_name(source)) {
            let sources = by_target.entry(target.to_string()).or_default();
            if !sources.contains(exact) {
                sources.push(exact.clone());
            }
        }
    };
    match dialect {
        Dialect::Focus => {
            for t in targets {
                take(t, t, &mut by_target);
            }
            for (old, new) in FOCUS_RENAMES {
                take(new, old, &mut by_target);
            }
        }
        Dialect::Legacy { .. } => {
            for (old, new) in LEGACY_COLUMNS {
                take(new, old, &mut by_target);
            }
        }
        Dialect::PriceSheet { .. } => {
            for (old, new) in PRICE_COLUMNS {
                take(new, old, &mut by_target);
            }
        }
        Dialect::Reservation { .. } => {
            for t in targets {
                take(t, t, &mut by_target);
            }
            // The MCA recommendations name the SKU `SkuName`.
            take("SKU", "SkuName", &mut by_target);
        }
    }
    let read: std::collections::HashSet<String> = by_target
        .values()
        .flatten()
        .map(|h| normalize_name(h))
        .chain(
            match dialect {
                Dialect::Legacy { .. } => LEGACY_DERIVED_INPUTS,
                Dialect::Focus => FOCUS_DERIVED_INPUTS,
                Dialect::PriceSheet { .. } | Dialect::Reservation { .. } => &[],
            }
            .iter()
            .map(|n| n.to_lowercase()),
        )
        .collect();
    let ignored = headers
        .iter()
        .filter(|h| {
            let n = normalize_name(h);
            !read.contains(&n) && !aliased.get(&n).is_some_and(|name| read.contains(name))
        })
        .cloned()
        .collect();
    ColumnMap {
        by_target,
        by_source,
        ignored,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|n| normalize_name(n)).collect()
    }

    #[test]
    fn detects_families_from_header_and_manifest() {
        let focus = names(&["\u{feff}BilledCost", "ChargePeriodStart"]);
        assert_eq!(
            detect(&focus, &DatasetHint::default(), "f.csv").unwrap(),
            Dialect::Focus
        );
        let ea = names(&["Date", "Cost", "MeterCategory"]);
        assert_eq!(
            detect(&ea, &DatasetHint::default(), "EA_AmortizedCost_Small.csv").unwrap(),
            Dialect::Legacy {
                amortized: true,
                mca: false
            }
        );
        let mca = names(&["date", "costInBillingCurrency"]);
        let hint = DatasetHint {
            dataset: Some("ActualCost".into()),
            ..Default::default()
        };
        assert_eq!(
            detect(&mca, &hint, "part_0.csv").unwrap(),
            Dialect::Legacy {
                amortized: false,
                mca: true
            }
        );
        let balance = DatasetHint {
            dataset: Some("BalanceSummary".into()),
            ..Default::default()
        };
        let err = detect(&mca, &balance, "p.csv").unwrap_err().to_string();
        assert!(
            err.contains("BalanceSummary") && err.contains("p.csv"),
            "{err}"
        );
        let prices = DatasetHint {
            dataset: Some("PriceSheet".into()),
            ..Default::default()
        };
        assert_eq!(
            detect(&names(&["billingprofileid", "meterid"]), &prices, "p.csv").unwrap(),
            Dialect::PriceSheet { mca: true }
        );
        let err = detect(&names(&["a", "b"]), &DatasetHint::default(), "x.csv")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not a cost file") && err.contains("x.csv"),
            "{err}"
        );
    }

    #[test]
    fn older_focus_names_come_up_to_1_2() {
        let headers: Vec<String> = ["BilledCost", "UsageQuantity", "Region", "x_Unknown"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let map = map_columns(
            &headers,
            &Dialect::Focus,
            &["BilledCost", "ConsumedQuantity", "RegionName"],
        );
        assert_eq!(map.by_target["ConsumedQuantity"], ["UsageQuantity"]);
        assert_eq!(map.by_target["RegionName"], ["Region"]);
        assert_eq!(map.ignored, vec!["x_Unknown".to_string()]);
    }
}
