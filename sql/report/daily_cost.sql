-- Total effective cost per day and billing currency: the 90 days to the last cost day.
SELECT CAST("ChargePeriodStart" AS DATE) AS day, COALESCE("BillingCurrency", '') AS currency,
       SUM("EffectiveCost") AS cost
FROM costs
WHERE CAST("ChargePeriodStart" AS DATE) > {{last_day}} - INTERVAL '90 days'
  AND CAST("ChargePeriodStart" AS DATE) <= {{last_day}}
GROUP BY 1, 2
ORDER BY 2, 1
