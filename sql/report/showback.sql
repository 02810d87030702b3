-- Cost per {{key}} value and billing currency over the 30 days to the last cost day, against the
-- 30 days before; largest first.
SELECT COALESCE(CAST(key AS VARCHAR), '(none)') AS name, currency,
       SUM(CASE WHEN day > {{last_day}} - INTERVAL '30 days' THEN cost ELSE 0 END) AS current,
       SUM(CASE WHEN day <= {{last_day}} - INTERVAL '30 days' THEN cost ELSE 0 END) AS previous
FROM (
  SELECT {{key}} AS key, COALESCE("BillingCurrency", '') AS currency,
         CAST("ChargePeriodStart" AS DATE) AS day, "EffectiveCost" AS cost
  FROM costs
  WHERE CAST("ChargePeriodStart" AS DATE) > {{last_day}} - INTERVAL '60 days'
    AND CAST("ChargePeriodStart" AS DATE) <= {{last_day}}
) c
GROUP BY 1, 2
ORDER BY 3 DESC, 1
