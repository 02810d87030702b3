-- Each subscription's billing currency and what one unit of it was worth in USD over the 30 days
-- before the run date: 1 for USD; else the export's own USD columns (`x_EffectiveCostInUsd` over
-- `EffectiveCost`); else the pricing-to-billing exchange rate where prices are in USD. NULL when
-- none is known. The rule runner uses it for `est_monthly_savings_usd`.
SELECT regexp_replace(lower("SubAccountId"), '^/subscriptions/', '') AS rate_subscription_id,
       MAX("BillingCurrency") AS billing_currency,
       CASE WHEN MAX("BillingCurrency") = 'USD' AND MIN("BillingCurrency") = 'USD' THEN 1.0
            WHEN SUM(CASE WHEN "x_EffectiveCostInUsd" IS NOT NULL THEN "EffectiveCost" END) > 0
            THEN SUM("x_EffectiveCostInUsd") / SUM(CASE WHEN "x_EffectiveCostInUsd" IS NOT NULL THEN "EffectiveCost" END)
            ELSE 1.0 / AVG(CASE WHEN "PricingCurrency" = 'USD' AND "x_BillingExchangeRate" > 0 THEN "x_BillingExchangeRate" END)
       END AS usd_per_unit
FROM costs
WHERE CAST("ChargePeriodStart" AS DATE) >= {{as_of}} - INTERVAL '30 days'
  AND CAST("ChargePeriodStart" AS DATE) < {{as_of}}
  AND "SubAccountId" IS NOT NULL
GROUP BY regexp_replace(lower("SubAccountId"), '^/subscriptions/', '')
