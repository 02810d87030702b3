-- The resources whose cost moved most between the 30 days to the last cost day and the 30 days
-- before (either way), per billing currency.
SELECT COALESCE("ResourceName", "ResourceId", '(no resource)') AS name,
       COALESCE("ServiceName", '') AS service, currency,
       SUM(CASE WHEN day > {{last_day}} - INTERVAL '30 days' THEN cost ELSE 0 END) AS current,
       SUM(CASE WHEN day <= {{last_day}} - INTERVAL '30 days' THEN cost ELSE 0 END) AS previous
FROM (
  SELECT "ResourceName", "ResourceId", "ServiceName", COALESCE("BillingCurrency", '') AS currency,
         CAST("ChargePeriodStart" AS DATE) AS day, "EffectiveCost" AS cost
  FROM costs
  WHERE CAST("ChargePeriodStart" AS DATE) > {{last_day}} - INTERVAL '60 days'
    AND CAST("ChargePeriodStart" AS DATE) <= {{last_day}}
) c
GROUP BY 1, 2, 3
HAVING ABS(SUM(CASE WHEN day > {{last_day}} - INTERVAL '30 days' THEN cost ELSE -cost END)) > 0.005
ORDER BY ABS(SUM(CASE WHEN day > {{last_day}} - INTERVAL '30 days' THEN cost ELSE -cost END)) DESC, 1
LIMIT 10
