-- Total effective cost per day and billing currency, every day before the run date.
SELECT CAST("ChargePeriodStart" AS DATE) AS day, COALESCE("BillingCurrency", '') AS currency,
       SUM("EffectiveCost") AS cost
FROM costs
WHERE CAST("ChargePeriodStart" AS DATE) < {{as_of}}
GROUP BY 1, 2
ORDER BY 2, 1
