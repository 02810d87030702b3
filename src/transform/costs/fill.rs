//! Fills that read the typed columns of a cost file: costs from each other, contracted and list cost
//! from unit prices, provider, amortization class, savings and the billing period.

use polars::prelude::*;

use super::{DAY_MICROS, joined, note_if, null_of};
use crate::transform::dialect::Dialect;

/// Fills that read the typed columns: costs from each other, ContractedCost and ListCost from unit
/// prices, provider, amortization class, savings and the billing period.
pub(super) fn fill(lf: LazyFrame, dialect: &Dialect) -> LazyFrame {
    let c = |n: &str| col(n);
    let mut notes = vec![col("__changes")];
    let filled = |target: &str, from: Expr, note: &str, notes: &mut Vec<Expr>| {
        notes.push(note_if(
            c(target).is_null().and(from.clone().is_not_null()),
            note,
        ));
        coalesce(&[c(target), from]).alias(target)
    };
    let mut exprs = vec![
        filled(
            "EffectiveCost",
            c("BilledCost"),
            "EffectiveCost:filled-from-BilledCost",
            &mut notes,
        ),
        filled(
            "BilledCost",
            c("EffectiveCost"),
            "BilledCost:filled-from-EffectiveCost",
            &mut notes,
        ),
        filled(
            "ContractedCost",
            c("ContractedUnitPrice") * c("PricingQuantity"),
            "ContractedCost:unit-price-times-quantity",
            &mut notes,
        ),
        filled(
            "ListCost",
            c("ListUnitPrice") * c("PricingQuantity"),
            "ListCost:unit-price-times-quantity",
            &mut notes,
        ),
    ];
    if *dialect == Dialect::Focus {
        exprs.push(filled(
            "ProviderName",
            lit("Unknown"),
            "ProviderName:filled-Unknown",
            &mut notes,
        ));
    }
    // Files from before FOCUS 1.2 (and legacy datasets) lack what 1.2 added: the billing period
    // when only the charge period is given, the pricing currency where billing and pricing
    // currency cannot differ (no exchange rate other than 1), and the service subcategory from
    // the Services open data.
    let month_of = |micros: Expr| {
        micros
            .cast(DataType::Datetime(TimeUnit::Microseconds, None))
            .dt()
            .truncate(lit("1mo"))
    };
    let period_start = month_of(c("ChargePeriodStart"));
    let period_end = month_of(
        period_start.clone().dt().timestamp(TimeUnit::Microseconds) + lit(32 * DAY_MICROS),
    );
    exprs.push(filled(
        "BillingPeriodStart",
        period_start.dt().timestamp(TimeUnit::Microseconds),
        "BillingPeriodStart:month-of-ChargePeriodStart",
        &mut notes,
    ));
    exprs.push(filled(
        "BillingPeriodEnd",
        period_end.dt().timestamp(TimeUnit::Microseconds),
        "BillingPeriodEnd:month-of-ChargePeriodStart",
        &mut notes,
    ));
    let one_currency = c("x_BillingExchangeRate")
        .is_null()
        .or(c("x_BillingExchangeRate").eq(lit(1.0)));
    exprs.push(filled(
        "PricingCurrency",
        when(one_currency)
            .then(c("BillingCurrency"))
            .otherwise(null_of(DataType::String)),
        "PricingCurrency:same-as-BillingCurrency",
        &mut notes,
    ));
    exprs.push(filled(
        "ServiceSubcategory",
        crate::open_data::service_subcategory(c("x_ConsumedService"), c("ResourceId")),
        "ServiceSubcategory:from-services-open-data",
        &mut notes,
    ));
    // The notes read the values before the fills, so they are computed alongside them.
    exprs.push(joined(&notes, ";").alias("__changes"));
    let lf = lf.with_columns(exprs);
    let mut notes = vec![col("__changes")];

    // Amounts in the pricing currency: the billing amounts where the two currencies are one, else
    // the billing amounts divided by the exchange rate (billing = pricing × rate).
    let same = c("PricingCurrency").eq(c("BillingCurrency"));
    let rate = c("x_BillingExchangeRate");
    let mut pricing_fills = Vec::new();
    for (pricing_col, billing_col) in [
        ("PricingCurrencyEffectiveCost", "EffectiveCost"),
        ("PricingCurrencyListUnitPrice", "ListUnitPrice"),
        ("PricingCurrencyContractedUnitPrice", "ContractedUnitPrice"),
    ] {
        let from = when(same.clone())
            .then(c(billing_col))
            .when(rate.clone().gt(lit(0.0)))
            .then(c(billing_col) / rate.clone())
            .otherwise(null_of(DataType::Float64));
        notes.push(note_if(
            c(pricing_col).is_null().and(from.clone().is_not_null()),
            format!("{pricing_col}:from-{billing_col}"),
        ));
        pricing_fills.push(coalesce(&[c(pricing_col), from]).alias(pricing_col));
    }

    // Commitment purchases are the principal; usage they cover is the amortized charge. Counting
    // both would count the commitment twice, so savings are left out for principal rows.
    let principal = c("ChargeCategory")
        .eq(lit("Purchase"))
        .and(c("CommitmentDiscountId").is_not_null());
    let amortized_charge = c("ChargeCategory")
        .eq(lit("Usage"))
        .and(c("CommitmentDiscountStatus").is_not_null());
    let class = when(principal.clone())
        .then(lit("Principal"))
        .when(amortized_charge)
        .then(lit("Amortized Charge"))
        .otherwise(null_of(DataType::String));
    notes.push(note_if(
        c("x_AmortizationClass")
            .is_null()
            .and(class.clone().is_not_null()),
        "x_AmortizationClass:derived",
    ));
    // Money in USD beside the billing currency: the same amount when the billing currency is USD.
    let usd = c("BillingCurrency").eq(lit("USD"));
    let mut usd_fills = Vec::new();
    for (usd_col, billing_col) in [
        ("x_BilledCostInUsd", "BilledCost"),
        ("x_EffectiveCostInUsd", "EffectiveCost"),
        ("x_ListCostInUsd", "ListCost"),
        ("x_ContractedCostInUsd", "ContractedCost"),
    ] {
        let from = when(usd.clone())
            .then(c(billing_col))
            .otherwise(null_of(DataType::Float64));
        notes.push(note_if(
            c(usd_col).is_null().and(from.clone().is_not_null()),
            format!("{usd_col}:billing-currency-is-USD"),
        ));
        usd_fills.push(coalesce(&[c(usd_col), from]).alias(usd_col));
    }
    let saving = |a: &str, b: &str| {
        when(principal.clone())
            .then(null_of(DataType::Float64))
            .otherwise(c(a) - c(b))
    };
    let period = coalesce(&[c("BillingPeriodStart"), c("ChargePeriodStart")])
        .cast(DataType::Datetime(TimeUnit::Microseconds, None))
        .dt()
        .strftime("%Y-%m");
    let mut last = usd_fills;
    last.extend(pricing_fills);
    last.extend([
        coalesce(&[c("x_AmortizationClass"), class]).alias("x_AmortizationClass"),
        coalesce(&[
            c("x_NegotiatedDiscountSavings"),
            saving("ListCost", "ContractedCost"),
        ])
        .alias("x_NegotiatedDiscountSavings"),
        coalesce(&[
            c("x_CommitmentDiscountSavings"),
            saving("ContractedCost", "EffectiveCost"),
        ])
        .alias("x_CommitmentDiscountSavings"),
        coalesce(&[c("x_TotalSavings"), saving("ListCost", "EffectiveCost")])
            .alias("x_TotalSavings"),
        period.alias("BillingPeriod"),
        joined(&notes, ";").alias("x_SourceChanges"),
    ]);
    lf.with_columns(last)
}
