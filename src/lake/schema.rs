//! The column contract of every lake table: names, Arrow types and partition columns.
//!
//! Money is `Float64` in billing currency (and `x_*InUsd` columns in USD): one type everywhere, so
//! polars, DataFusion, DuckDB and Power BI agree without decimal rescaling. Timestamps are
//! `Timestamp(µs, UTC)`, calendar days are `Date32`, strings are `Utf8`.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// FOCUS 1.2 cost columns (as Cost Management writes them) that hold money or quantities.
pub const COST_DECIMAL_COLUMNS: &[&str] = &[
    "BilledCost",
    "CommitmentDiscountQuantity",
    "ConsumedQuantity",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "ListCost",
    "ListUnitPrice",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice",
    "PricingQuantity",
    "x_BilledCostInUsd",
    "x_BilledUnitPrice",
    "x_BillingExchangeRate",
    "x_ContractedCostInUsd",
    "x_EffectiveCostInUsd",
    "x_EffectiveUnitPrice",
    "x_ListCostInUsd",
    "x_PricingBlockSize",
    // Savings, computed by cloudoptima's transform where the inputs are known.
    "x_CommitmentDiscountSavings",
    "x_NegotiatedDiscountSavings",
    "x_TotalSavings",
];

/// FOCUS 1.2 cost columns that hold instants.
pub const COST_TIMESTAMP_COLUMNS: &[&str] = &[
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "x_BillingExchangeRateDate",
    "x_ServicePeriodEnd",
    "x_ServicePeriodStart",
];

/// FOCUS 1.2 cost columns that hold booleans.
pub const COST_BOOLEAN_COLUMNS: &[&str] = &["x_SkuIsCreditEligible"];

/// FOCUS 1.2 cost columns that hold text.
pub const COST_STRING_COLUMNS: &[&str] = &[
    "AvailabilityZone",
    "BillingAccountId",
    "BillingAccountName",
    "BillingAccountType",
    "BillingCurrency",
    "CapacityReservationId",
    "CapacityReservationStatus",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
    "CommitmentDiscountUnit",
    "ConsumedUnit",
    "InvoiceId",
    "InvoiceIssuerName",
    "PricingCategory",
    "PricingCurrency",
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
    "ServiceSubcategory",
    "SkuId",
    "SkuMeter",
    "SkuPriceDetails",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "SubAccountType",
    "Tags",
    "x_AccountId",
    "x_AccountName",
    "x_AccountOwnerId",
    "x_AmortizationClass",
    "x_BillingAccountId",
    "x_BillingAccountName",
    "x_BillingProfileId",
    "x_BillingProfileName",
    "x_CostAllocationRuleName",
    "x_CostCenter",
    "x_CustomerId",
    "x_CustomerName",
    "x_InvoiceIssuerId",
    "x_InvoiceSectionId",
    "x_InvoiceSectionName",
    "x_PartnerCreditApplied",
    "x_PartnerCreditRate",
    "x_PricingSubcategory",
    "x_PricingUnitDescription",
    "x_PublisherCategory",
    "x_PublisherId",
    "x_ResellerId",
    "x_ResellerName",
    "x_ResourceGroupName",
    "x_ResourceType",
    "x_ServiceModel",
    "x_SkuDescription",
    "x_SkuMeterCategory",
    "x_SkuMeterId",
    "x_SkuMeterSubcategory",
    "x_SkuOfferId",
    "x_SkuOrderId",
    "x_SkuOrderName",
    "x_SkuPartNumber",
    "x_SkuPlanName",
    "x_SkuRegion",
    "x_SkuServiceFamily",
    "x_SkuTerm",
    "x_SkuTier",
    // Kept from older FOCUS versions and legacy exports, which have no FOCUS 1.2 home for them.
    "x_ConsumedService",
    "x_ServiceInfo1",
    "x_ServiceInfo2",
    "x_SkuDetails",
    // Added by cloudoptima's transform: what each row was changed by, which file it came from, the
    // dataset it was read as (`FocusCost 1.0`, `ActualCost (EA)`, …) and the configured source that
    // owns it (re-ingesting a billing period replaces that source's rows for the period).
    "x_SourceChanges",
    "x_SourceDataset",
    "x_SourceFile",
    "x_SourceName",
];

/// Typed column groups of a table the transform fills from files.
pub struct ColumnTypes {
    pub decimal: &'static [&'static str],
    pub timestamp: &'static [&'static str],
    pub boolean: &'static [&'static str],
    pub string: &'static [&'static str],
}

pub const COST_TYPES: ColumnTypes = ColumnTypes {
    decimal: COST_DECIMAL_COLUMNS,
    timestamp: COST_TIMESTAMP_COLUMNS,
    boolean: COST_BOOLEAN_COLUMNS,
    string: COST_STRING_COLUMNS,
};

/// Price sheet columns (EA and MCA price sheets in one shape, FOCUS names where FOCUS has them).
/// Unit prices are per pricing block (`x_PricingUnitDescription`, e.g. `10K`), like `PricingQuantity`.
pub const PRICE_TYPES: ColumnTypes = ColumnTypes {
    decimal: &[
        "ContractedUnitPrice",
        "ListUnitPrice",
        "x_BaseUnitPrice",
        "x_PricingBlockSize",
        "x_SkuTierMinimumUnits",
    ],
    timestamp: &["x_EffectivePeriodEnd", "x_EffectivePeriodStart"],
    boolean: &[],
    string: &[
        "BillingAccountId",
        "BillingAccountName",
        "BillingCurrency",
        "PricingCurrency",
        "PricingUnit",
        "SkuId",
        "SkuMeter",
        "x_ArmSkuName",
        "x_BillingProfileId",
        "x_BillingProfileName",
        "x_PricingUnitDescription",
        "x_SkuDescription",
        "x_SkuMeterCategory",
        "x_SkuMeterId",
        "x_SkuMeterSubcategory",
        "x_SkuMeterType",
        "x_SkuOfferId",
        "x_SkuPartNumber",
        "x_SkuPriceType",
        "x_SkuProductId",
        "x_SkuRegion",
        "x_SkuServiceFamily",
        "x_SkuTerm",
        // Added by cloudoptima's transform, as in `costs`.
        "x_SourceChanges",
        "x_SourceDataset",
        "x_SourceFile",
        "x_SourceName",
    ],
};

/// Columns every table filled from Cost Management datasets carries, as in `costs`.
const SOURCE_COLUMNS: &[&str] = &[
    "x_SourceChanges",
    "x_SourceDataset",
    "x_SourceFile",
    "x_SourceName",
];

/// The reservation datasets: table name, dataset type, and typed columns (EA names; the MCA column
/// sets are matched to them without regard to case or spaces).
pub const RESERVATION_TABLES: &[(&str, &str, ColumnTypes)] = &[
    (
        "reservation_details",
        "ReservationDetails",
        ColumnTypes {
            decimal: &[
                "InstanceFlexibilityRatio",
                "ReservedHours",
                "TotalReservedQuantity",
                "UsedHours",
            ],
            timestamp: &["UsageDate"],
            boolean: &[],
            string: &[
                "InstanceFlexibilityGroup",
                "InstanceId",
                "Kind",
                "ReservationOrderId",
                "ReservationId",
                "SkuName",
            ],
        },
    ),
    (
        "reservation_recommendations",
        "ReservationRecommendations",
        ColumnTypes {
            decimal: &[
                "CostWithNoReservedInstances",
                "InstanceFlexibilityRatio",
                "NetSavings",
                "RecommendedQuantity",
                "RecommendedQuantityNormalized",
                "TotalCostWithReservedInstances",
            ],
            timestamp: &["FirstUsageDate"],
            boolean: &[],
            string: &[
                "InstanceFlexibilityGroup",
                "Location",
                "LookBackPeriod",
                "MeterId",
                "NormalizedSize",
                "ResourceType",
                "SKU",
                "Scope",
                "SkuProperties",
                "Term",
            ],
        },
    ),
    (
        "reservation_transactions",
        "ReservationTransactions",
        ColumnTypes {
            decimal: &["Amount", "MonetaryCommitment", "Overage", "Quantity"],
            timestamp: &["EventDate"],
            boolean: &[],
            string: &[
                "AccountName",
                "AccountOwnerEmail",
                "ArmSkuName",
                "BillingFrequency",
                "BillingMonth",
                "BillingProfileId",
                "BillingProfileName",
                "CostCenter",
                "Currency",
                "CurrentEnrollmentId",
                "DepartmentName",
                "Description",
                "EventType",
                "Invoice",
                "InvoiceId",
                "InvoiceSectionId",
                "InvoiceSectionName",
                "PurchasingEnrollment",
                "PurchasingSubscriptionGuid",
                "PurchasingSubscriptionName",
                "Region",
                "ReservationOrderId",
                "ReservationOrderName",
                "Term",
            ],
        },
    ),
];

/// A reservation dataset's table (see [`RESERVATION_TABLES`]).
pub fn reservation(name: &str) -> Option<TableDef> {
    let (table, _, t) = RESERVATION_TABLES.iter().find(|(n, _, _)| *n == name)?;
    let mut fields: Vec<(&str, DataType)> = Vec::new();
    fields.extend(t.decimal.iter().map(|c| (*c, DataType::Float64)));
    fields.extend(t.timestamp.iter().map(|c| (*c, utc())));
    fields.extend(t.string.iter().map(|c| (*c, DataType::Utf8)));
    fields.extend(SOURCE_COLUMNS.iter().map(|c| (*c, DataType::Utf8)));
    fields.sort_by(|a, b| a.0.cmp(b.0));
    Some(TableDef {
        name: table,
        schema: schema(fields),
        partition_by: &[],
    })
}

pub fn prices() -> TableDef {
    let t = &PRICE_TYPES;
    let mut fields: Vec<(&str, DataType)> = Vec::new();
    fields.extend(t.decimal.iter().map(|c| (*c, DataType::Float64)));
    fields.extend(t.timestamp.iter().map(|c| (*c, utc())));
    fields.extend(t.string.iter().map(|c| (*c, DataType::Utf8)));
    fields.sort_by(|a, b| a.0.cmp(b.0));
    TableDef {
        name: "prices",
        schema: schema(fields),
        partition_by: &["x_SourceDataset"],
    }
}

fn utc() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn schema(fields: Vec<(&str, DataType)>) -> SchemaRef {
    Arc::new(Schema::new(
        fields
            .into_iter()
            .map(|(n, t)| Field::new(n, t, true))
            .collect::<Vec<_>>(),
    ))
}

/// One lake table: its name, columns and partition columns.
#[derive(Debug, Clone)]
pub struct TableDef {
    pub name: &'static str,
    pub schema: SchemaRef,
    pub partition_by: &'static [&'static str],
}

pub fn costs() -> TableDef {
    let mut fields: Vec<(&str, DataType)> = Vec::new();
    fields.extend(COST_DECIMAL_COLUMNS.iter().map(|c| (*c, DataType::Float64)));
    fields.extend(COST_TIMESTAMP_COLUMNS.iter().map(|c| (*c, utc())));
    fields.extend(COST_BOOLEAN_COLUMNS.iter().map(|c| (*c, DataType::Boolean)));
    fields.extend(COST_STRING_COLUMNS.iter().map(|c| (*c, DataType::Utf8)));
    fields.sort_by(|a, b| a.0.cmp(b.0));
    fields.push(("BillingPeriod", DataType::Utf8));
    TableDef {
        name: "costs",
        schema: schema(fields),
        partition_by: &["BillingPeriod", "ProviderName"],
    }
}

pub fn resources() -> TableDef {
    use DataType::*;
    TableDef {
        name: "resources",
        schema: schema(vec![
            ("resource_id", Utf8),
            ("resource_name", Utf8),
            ("resource_type", Utf8),
            ("subscription_id", Utf8),
            ("resource_group", Utf8),
            ("region", Utf8),
            ("sku_name", Utf8),
            ("sku_tier", Utf8),
            ("kind", Utf8),
            ("tags", Utf8),
            ("power_state", Utf8),
            ("vm_size", Utf8),
            ("managed_by", Utf8),
            ("disk_state", Utf8),
            ("disk_size_gb", Float64),
            ("attached_to", Utf8),
            ("provisioning_state", Utf8),
            ("created_time", utc()),
            ("properties", Utf8),
            ("snapshot_date", Date32),
        ]),
        partition_by: &["snapshot_date"],
    }
}

pub fn metrics() -> TableDef {
    use DataType::*;
    TableDef {
        name: "metrics",
        schema: schema(vec![
            ("resource_id", Utf8),
            ("metric_name", Utf8),
            ("unit", Utf8),
            ("timestamp", utc()),
            ("average", Float64),
            ("minimum", Float64),
            ("maximum", Float64),
            ("total", Float64),
            ("count", Float64),
            ("date", Date32),
        ]),
        partition_by: &["date"],
    }
}

/// Azure Advisor's recommendations as Advisor reported them, one row per recommendation per
/// subscription read; each read replaces that subscription's rows.
pub fn advisor_recommendations() -> TableDef {
    use DataType::*;
    TableDef {
        name: "advisor_recommendations",
        schema: schema(vec![
            ("recommendation_id", Utf8),
            ("subscription_id", Utf8),
            ("resource_id", Utf8),
            ("category", Utf8),
            ("impact", Utf8),
            ("impacted_field", Utf8),
            ("impacted_value", Utf8),
            ("problem", Utf8),
            ("solution", Utf8),
            ("recommendation_type_id", Utf8),
            ("annual_savings", Float64),
            ("savings_currency", Utf8),
            ("last_updated", utc()),
            ("properties", Utf8),
            ("snapshot_date", Date32),
        ]),
        partition_by: &[],
    }
}

/// Every finding's lifecycle across runs (see `analyze::lifecycle`); each pipeline rewrites its own
/// rows each run.
pub fn findings() -> TableDef {
    use DataType::*;
    TableDef {
        name: "findings",
        schema: schema(vec![
            // The pipeline that owns the row: each pipeline advances and rewrites only its own.
            ("pipeline", Utf8),
            ("rule_id", Utf8),
            ("resource_id", Utf8),
            ("subscription_id", Utf8),
            ("resource_group", Utf8),
            ("resource_name", Utf8),
            ("status", Utf8),
            ("first_seen", Date32),
            ("last_seen", Date32),
            ("consecutive_runs", Int64),
            ("monthly_cost", Float64),
            ("est_monthly_savings", Float64),
            ("resolved_on", Date32),
            ("realized_monthly_savings", Float64),
            ("suppression_reason", Utf8),
            ("suppressed_until", Date32),
        ]),
        partition_by: &[],
    }
}

pub fn recommendations() -> TableDef {
    use DataType::*;
    TableDef {
        name: "recommendations",
        schema: schema(vec![
            ("run_id", Utf8),
            // The pipeline that owns the row: a run replaces its own pipeline's rows for its date.
            ("pipeline", Utf8),
            ("rule_id", Utf8),
            ("title", Utf8),
            ("category", Utf8),
            ("severity", Utf8),
            ("resource_id", Utf8),
            ("subscription_id", Utf8),
            ("resource_group", Utf8),
            ("resource_name", Utf8),
            ("region", Utf8),
            ("reason", Utf8),
            ("evidence", Utf8),
            ("monthly_cost", Float64),
            ("est_monthly_savings", Float64),
            ("est_annual_savings", Float64),
            ("fit_score", Float64),
            ("effort", Utf8),
            ("priority", Utf8),
            ("remediation", Utf8),
            ("run_date", Date32),
            // The subscription's billing currency, and the savings in USD where the rate is known
            // (the `usd_rate` view).
            ("billing_currency", Utf8),
            ("est_monthly_savings_usd", Float64),
            // `alternative`: of a resource's findings the report counts only the largest saving
            // (resize or reserve); `additive`: the rule's saving adds to the others.
            ("savings_overlap", Utf8),
        ]),
        partition_by: &["run_date"],
    }
}

pub fn forecasts() -> TableDef {
    use DataType::*;
    TableDef {
        name: "forecasts",
        schema: schema(vec![
            ("run_id", Utf8),
            // The pipeline that owns the row: a run replaces its own pipeline's rows for its date.
            ("pipeline", Utf8),
            // `total`, or `dimension=value` (`service=SQL Database`).
            ("scope", Utf8),
            ("date", Date32),
            ("horizon_day", Int32),
            ("point", Float64),
            ("lower_80", Float64),
            ("upper_80", Float64),
            ("lower_95", Float64),
            ("upper_95", Float64),
            ("model", Utf8),
            ("run_date", Date32),
            // The scope's dimension, value and billing currency.
            ("dimension", Utf8),
            ("value", Utf8),
            ("currency", Utf8),
            // The history the model read: the forecast starts the day after `history_end`, which
            // is before the run date when the lake is behind.
            ("history_start", Date32),
            ("history_end", Date32),
        ]),
        partition_by: &["run_date"],
    }
}

/// Cost anomalies with their lifecycle (see `analyze::anomaly`): one row per anomaly, each pipeline
/// rewriting its own rows each run.
pub fn anomalies() -> TableDef {
    use DataType::*;
    TableDef {
        name: "anomalies",
        schema: schema(vec![
            ("pipeline", Utf8),
            ("run_id", Utf8),
            ("anomaly_id", Utf8),
            // The scope: dimension (total, subscription, resource_group, service, meter_category,
            // region, tag:KEY), its value, and the billing currency.
            ("dimension", Utf8),
            ("value", Utf8),
            ("currency", Utf8),
            // spike or drop; new, continuing or resolved; low, medium or high.
            ("direction", Utf8),
            ("status", Utf8),
            ("severity", Utf8),
            ("first_day", Date32),
            ("last_day", Date32),
            ("peak_day", Date32),
            ("days", Int64),
            // Summed over the anomaly's days; impact = actual - expected.
            ("expected", Float64),
            ("actual", Float64),
            ("impact", Float64),
            ("peak_expected", Float64),
            ("peak_actual", Float64),
            ("change_pct", Float64),
            ("score", Float64),
            // The largest cause, and every cause as JSON (resource_id, meter, expected, actual, share).
            ("cause_resource_id", Utf8),
            ("cause_meter", Utf8),
            ("cause_share", Float64),
            ("causes", Utf8),
            ("detected_on", Date32),
            ("updated_on", Date32),
        ]),
        partition_by: &[],
    }
}

/// Each budget's spend against its amount, per run (see `analyze::budget`).
pub fn budget_status() -> TableDef {
    use DataType::*;
    TableDef {
        name: "budget_status",
        schema: schema(vec![
            ("run_id", Utf8),
            ("pipeline", Utf8),
            ("budget", Utf8),
            ("scope", Utf8),
            ("period", Utf8),
            ("period_start", Date32),
            ("period_end", Date32),
            ("currency", Utf8),
            ("amount", Float64),
            // Spend so far in the period (through the last day with cost), and forecast at its end.
            ("actual", Float64),
            ("forecast", Float64),
            ("actual_pct", Float64),
            ("forecast_pct", Float64),
            ("forecast_method", Utf8),
            ("last_cost_day", Date32),
            // Thresholds reached, e.g. `actual 50%, forecast 100%`.
            ("crossed", Utf8),
            // ok, forecast_over or over.
            ("status", Utf8),
            ("run_date", Date32),
        ]),
        partition_by: &["run_date"],
    }
}

/// Every alert a pipeline raised and what became of it on each channel (see `alert`): a sent
/// alert is never sent again on that channel.
pub fn alerts() -> TableDef {
    use DataType::*;
    TableDef {
        name: "alerts",
        schema: schema(vec![
            ("run_id", Utf8),
            ("pipeline", Utf8),
            ("alert_key", Utf8),
            // anomaly, spike or budget.
            ("kind", Utf8),
            ("severity", Utf8),
            ("title", Utf8),
            ("channel", Utf8),
            // sent or failed.
            ("status", Utf8),
            ("attempts", Int64),
            ("error", Utf8),
            ("at", utc()),
            ("run_date", Date32),
        ]),
        partition_by: &[],
    }
}

pub fn quarantine() -> TableDef {
    use DataType::*;
    TableDef {
        name: "quarantine",
        schema: schema(vec![
            ("run_id", Utf8),
            ("source_file", Utf8),
            ("line", Int64),
            ("reason", Utf8),
            ("raw", Utf8),
            ("dataset", Utf8),
        ]),
        partition_by: &["dataset"],
    }
}

/// One row per source and billing period per run: the source's own cost total (files summed as
/// written, or the Cost Management total of a scope and month) against the lake's.
pub fn reconciliation() -> TableDef {
    use DataType::*;
    TableDef {
        name: "reconciliation",
        schema: schema(vec![
            ("run_id", Utf8),
            ("source", Utf8),
            ("billing_period", Utf8),
            ("checked_against", Utf8),
            ("inputs", Utf8),
            ("cost_column", Utf8),
            ("source_total", Float64),
            ("lake_total", Float64),
            ("quarantined_total", Float64),
            ("difference", Float64),
            ("reconciled", Boolean),
        ]),
        partition_by: &[],
    }
}

/// One row per ingested cost file per run: what was read, written and quarantined, and the data
/// checks that do not stop a row but deserve a look.
pub fn data_quality() -> TableDef {
    use DataType::*;
    TableDef {
        name: "data_quality",
        schema: schema(vec![
            ("run_id", Utf8),
            ("source_file", Utf8),
            ("source_name", Utf8),
            ("dataset", Utf8),
            ("format", Utf8),
            ("rows_read", Int64),
            ("rows_written", Int64),
            ("rows_quarantined", Int64),
            // ListCost below ContractedCost, or ContractedCost below EffectiveCost, on usage rows.
            ("list_below_contracted", Int64),
            ("contracted_below_effective", Int64),
            ("usage_without_quantity", Int64),
            // BillingCurrency that is not an ISO 4217 code.
            ("unknown_currency", Int64),
            // Values outside the sets FOCUS 1.2 allows (ChargeCategory, ChargeFrequency, …): how
            // many, and which (`ChargeFrequency "Usage-based" ×12; …`).
            ("values_not_allowed", Int64),
            ("values_not_allowed_detail", Utf8),
            // Header columns no FOCUS or x_ column takes, comma-separated.
            ("ignored_columns", Utf8),
        ]),
        partition_by: &[],
    }
}

pub fn runs() -> TableDef {
    use DataType::*;
    TableDef {
        name: "_runs",
        schema: schema(vec![
            ("run_id", Utf8),
            ("pipeline", Utf8),
            ("as_of", Date32),
            ("started_at", utc()),
            ("finished_at", utc()),
            ("status", Utf8),
            ("stages", Utf8),
            ("errors", Utf8),
        ]),
        partition_by: &[],
    }
}

/// Every table the lake knows, in the order `sql` lists them.
pub fn all() -> Vec<TableDef> {
    vec![
        costs(),
        resources(),
        metrics(),
        advisor_recommendations(),
        recommendations(),
        findings(),
        forecasts(),
        anomalies(),
        budget_status(),
        alerts(),
        prices(),
        reservation("reservation_details").expect("listed"),
        reservation("reservation_recommendations").expect("listed"),
        reservation("reservation_transactions").expect("listed"),
        quarantine(),
        data_quality(),
        reconciliation(),
        runs(),
    ]
}

/// Every FOCUS 1.2 cost and usage column and its FOCUS data type.
pub const FOCUS_1_2_COLUMNS: &[(&str, &str)] = &[
    ("AvailabilityZone", "String"),
    ("BilledCost", "Decimal"),
    ("BillingAccountId", "String"),
    ("BillingAccountName", "String"),
    ("BillingAccountType", "String"),
    ("BillingCurrency", "String"),
    ("BillingPeriodEnd", "Date/Time"),
    ("BillingPeriodStart", "Date/Time"),
    ("CapacityReservationId", "String"),
    ("CapacityReservationStatus", "String"),
    ("ChargeCategory", "String"),
    ("ChargeClass", "String"),
    ("ChargeDescription", "String"),
    ("ChargeFrequency", "String"),
    ("ChargePeriodEnd", "Date/Time"),
    ("ChargePeriodStart", "Date/Time"),
    ("CommitmentDiscountCategory", "String"),
    ("CommitmentDiscountId", "String"),
    ("CommitmentDiscountName", "String"),
    ("CommitmentDiscountQuantity", "Decimal"),
    ("CommitmentDiscountStatus", "String"),
    ("CommitmentDiscountType", "String"),
    ("CommitmentDiscountUnit", "String"),
    ("ConsumedQuantity", "Decimal"),
    ("ConsumedUnit", "String"),
    ("ContractedCost", "Decimal"),
    ("ContractedUnitPrice", "Decimal"),
    ("EffectiveCost", "Decimal"),
    ("InvoiceId", "String"),
    ("InvoiceIssuerName", "String"),
    ("ListCost", "Decimal"),
    ("ListUnitPrice", "Decimal"),
    ("PricingCategory", "String"),
    ("PricingCurrency", "String"),
    ("PricingCurrencyContractedUnitPrice", "Decimal"),
    ("PricingCurrencyEffectiveCost", "Decimal"),
    ("PricingCurrencyListUnitPrice", "Decimal"),
    ("PricingQuantity", "Decimal"),
    ("PricingUnit", "String"),
    ("ProviderName", "String"),
    ("PublisherName", "String"),
    ("RegionId", "String"),
    ("RegionName", "String"),
    ("ResourceId", "String"),
    ("ResourceName", "String"),
    ("ResourceType", "String"),
    ("ServiceCategory", "String"),
    ("ServiceName", "String"),
    ("ServiceSubcategory", "String"),
    ("SkuId", "String"),
    ("SkuMeter", "String"),
    ("SkuPriceDetails", "JSON"),
    ("SkuPriceId", "String"),
    ("SubAccountId", "String"),
    ("SubAccountName", "String"),
    ("SubAccountType", "String"),
    ("Tags", "JSON"),
];

#[cfg(test)]
mod tests {
    #[test]
    fn costs_has_every_focus_1_2_column_under_its_name_and_type() {
        use datafusion::arrow::datatypes::DataType;
        let costs = super::costs();
        for (name, focus_type) in super::FOCUS_1_2_COLUMNS {
            let field = costs
                .schema
                .field_with_name(name)
                .unwrap_or_else(|_| panic!("costs lacks FOCUS column {name}"));
            // Decimals are Float64 in the lake (see the module docs); JSON is text.
            let ok = match *focus_type {
                "Decimal" => field.data_type() == &DataType::Float64,
                "Date/Time" => matches!(field.data_type(), DataType::Timestamp(_, Some(_))),
                _ => field.data_type() == &DataType::Utf8,
            };
            assert!(ok, "{name}: {:?} for FOCUS {focus_type}", field.data_type());
        }
        // Older FOCUS names are brought to 1.2, not kept beside it.
        assert!(costs.schema.field_with_name("x_AvailabilityZone").is_err());
    }

    #[test]
    fn cost_columns_are_unique_and_partition_columns_exist() {
        let t = super::costs();
        let mut names: Vec<_> = t.schema.fields().iter().map(|f| f.name().clone()).collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(n, names.len(), "duplicate cost column");
        for p in super::all()
            .iter()
            .flat_map(|t| t.partition_by.iter().map(move |p| (t, p)))
        {
            assert!(
                p.0.schema.field_with_name(p.1).is_ok(),
                "{} lacks {}",
                p.0.name,
                p.1
            );
        }
    }
}
