//! What legacy datasets, price sheets and FOCUS previews lack, derived from what they hold: costs,
//! periods, categories, ids and pricing units as FOCUS 1.2 defines them.

use polars::prelude::*;

use super::plan::Plan;
use super::{DAY_MICROS, note_if, null_of, recode};
use crate::open_data as lookups;

impl Plan<'_> {
    /// Legacy actual/amortized datasets: costs, periods, categories and ids FOCUS defines.
    pub(super) fn derive_legacy(&mut self, amortized: bool) {
        let upper = |e: Option<Expr>| e.map(|t| t.str().to_lowercase());
        let charge_type =
            upper(self.legacy_text("ChargeType")).unwrap_or(null_of(DataType::String));
        let pricing_model =
            upper(self.legacy_text("PricingModel")).unwrap_or(null_of(DataType::String));
        let frequency = upper(self.legacy_text("Frequency")).unwrap_or(null_of(DataType::String));
        let is = |e: &Expr, v: &str| e.clone().eq(lit(v.to_lowercase()));
        let commitment = is(&pricing_model, "Reservation").or(is(&pricing_model, "SavingsPlan"));
        let unused =
            is(&charge_type, "UnusedReservation").or(is(&charge_type, "UnusedSavingsPlan"));
        let purchase = is(&charge_type, "Purchase");

        // Costs: actual datasets bill commitment purchases (effective cost comes from usage later);
        // amortized datasets spread them over usage (already paid, so not billed again).
        let billed_zero = commitment
            .clone()
            .and(is(&charge_type, "Usage").or(unused.clone()));
        let effective_zero = commitment.clone().and(purchase.clone());
        for (cost_col, billed, effective) in [
            ("CostInBillingCurrency", "BilledCost", "EffectiveCost"),
            ("Cost", "BilledCost", "EffectiveCost"),
            ("CostInUsd", "x_BilledCostInUsd", "x_EffectiveCostInUsd"),
        ] {
            let Some((header, text)) = self.source_text(cost_col) else {
                continue;
            };
            if cost_col == "Cost" && self.map.by_source.contains_key("costinbillingcurrency") {
                continue;
            }
            let cost = self.number(&header, &header, text);
            let zero = lit(0.0f64);
            let (b, e, note) = if amortized {
                (
                    when(billed_zero.clone()).then(zero).otherwise(cost.clone()),
                    cost,
                    note_if(
                        billed_zero.clone(),
                        format!("{billed}:zero-for-prepaid-commitment-usage"),
                    ),
                )
            } else {
                (
                    cost.clone(),
                    when(effective_zero.clone()).then(zero).otherwise(cost),
                    note_if(
                        effective_zero.clone(),
                        format!("{effective}:zero-for-commitment-purchase"),
                    ),
                )
            };
            self.set(billed, b);
            self.set(effective, e);
            self.changes.push(note);
        }

        // Periods: legacy end dates are inclusive days; FOCUS ends are exclusive instants.
        if let Some((header, text)) = self.source_text("BillingPeriodEndDate") {
            let end = self.micros(&header, &header, text) + lit(DAY_MICROS);
            self.set("BillingPeriodEnd", end);
        }
        let start = self.get("ChargePeriodStart");
        self.set("ChargePeriodEnd", start + lit(DAY_MICROS));

        // Ids: subscription GUIDs become the ARM id FOCUS exports use.
        if let Some(text) = self.legacy_text("SubscriptionId") {
            let lower = text.str().to_lowercase();
            let id = when(lower.clone().str().starts_with(lit("/subscriptions/")))
                .then(lower.clone())
                .otherwise(concat_str([lit("/subscriptions/"), lower], "", false));
            self.set("SubAccountId", id);
            self.set("SubAccountType", lit("Subscription"));
        }
        if let Some(text) = self.legacy_text("ResourceLocation") {
            self.set("RegionId", lookups::region_id(text.clone()));
            self.set("RegionName", lookups::region_name(text));
        }
        // Quantities: legacy quantities count pricing blocks (`10K` units); FOCUS consumed
        // quantities count units.
        if let Some(unit) = self.legacy_text("UnitOfMeasure") {
            let block = lookups::pricing_block_size(unit.clone());
            let distinct = lookups::distinct_unit(unit);
            let quantity = self.get("PricingQuantity");
            self.changes.push(note_if(
                block
                    .clone()
                    .neq(lit(1.0))
                    .and(quantity.clone().is_not_null()),
                "ConsumedQuantity:blocks-times-block-size",
            ));
            self.set(
                "ConsumedQuantity",
                quantity * coalesce(&[block.clone(), lit(1.0)]),
            );
            self.set("x_PricingBlockSize", block);
            self.set("PricingUnit", distinct.clone());
            self.set("ConsumedUnit", distinct);
        }
        self.set("x_ResourceType", lookups::arm_type(self.get("ResourceId")));
        self.set(
            "ResourceType",
            lookups::resource_type_name(self.get("ResourceId")),
        );
        let service = lookups::service_name(self.get("x_ConsumedService"), self.get("ResourceId"));
        self.set(
            "ServiceName",
            coalesce(&[service, self.get("x_SkuMeterCategory")]),
        );
        let category =
            lookups::service_category(self.get("x_ConsumedService"), self.get("ResourceId"));
        self.set("ServiceCategory", category);

        // Categories.
        let text_or_null = |e: Expr| e.cast(DataType::String);
        self.set(
            "ChargeCategory",
            when(is(&charge_type, "Usage").or(unused.clone()))
                .then(lit("Usage"))
                .when(purchase.clone().or(is(&charge_type, "Refund")))
                .then(lit("Purchase"))
                .when(is(&charge_type, "Tax"))
                .then(lit("Tax"))
                .when(charge_type.clone().is_not_null())
                .then(lit("Adjustment"))
                .otherwise(null_of(DataType::String)),
        );
        self.set(
            "ChargeClass",
            when(is(&charge_type, "Refund"))
                .then(lit("Correction"))
                .otherwise(null_of(DataType::String)),
        );
        self.set(
            "CommitmentDiscountStatus",
            when(unused.clone())
                .then(lit("Unused"))
                .when(commitment.clone().and(is(&charge_type, "Usage")))
                .then(lit("Used"))
                .otherwise(null_of(DataType::String)),
        );
        self.set(
            "PricingCategory",
            recode(
                &pricing_model,
                &[
                    ("ondemand", "Standard"),
                    ("reservation", "Committed"),
                    ("savingsplan", "Committed"),
                    ("spot", "Dynamic"),
                ],
            ),
        );
        self.set(
            "CommitmentDiscountType",
            recode(
                &pricing_model,
                &[
                    ("reservation", "Reservation"),
                    ("savingsplan", "Savings Plan"),
                ],
            ),
        );
        self.set(
            "CommitmentDiscountCategory",
            recode(
                &pricing_model,
                &[("reservation", "Usage"), ("savingsplan", "Spend")],
            ),
        );
        self.set(
            "ChargeFrequency",
            recode(
                &frequency,
                &[
                    ("onetime", "One-Time"),
                    ("recurring", "Recurring"),
                    ("usagebased", "Usage-Based"),
                ],
            ),
        );
        self.set("ProviderName", text_or_null(lit("Microsoft")));
        self.set("InvoiceIssuerName", text_or_null(lit("Microsoft")));
        let currency = self.get("BillingCurrency");
        let pricing_currency = self.get("PricingCurrency");
        self.set("PricingCurrency", coalesce(&[pricing_currency, currency]));
    }

    /// Price sheets: pricing units from the unit of measure; a price needs its meter.
    pub(super) fn derive_prices(&mut self) {
        let unit = self.get("x_PricingUnitDescription");
        self.set(
            "x_PricingBlockSize",
            lookups::pricing_block_size(unit.clone()),
        );
        self.set("PricingUnit", lookups::distinct_unit(unit));
        let meter = self.get("x_SkuMeterId");
        self.reasons.push(note_if(
            meter.is_null(),
            "MeterId: missing (a price needs its meter)",
        ));
    }

    /// FOCUS 1.0-preview's `ChargeSubcategory` became `CommitmentDiscountStatus` and `ChargeClass`.
    pub(super) fn derive_focus_preview(&mut self) {
        let Some(sub) = self.legacy_text("ChargeSubcategory") else {
            return;
        };
        let sub = sub.str().to_lowercase();
        let status = self.get("CommitmentDiscountStatus");
        self.set(
            "CommitmentDiscountStatus",
            coalesce(&[
                status,
                recode(
                    &sub,
                    &[("used commitment", "Used"), ("unused commitment", "Unused")],
                ),
            ]),
        );
        let class = self.get("ChargeClass");
        self.set(
            "ChargeClass",
            coalesce(&[class, recode(&sub, &[("refund", "Correction")])]),
        );
    }
}
