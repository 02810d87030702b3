-- Effective cost per service over the 30 days before the run date, largest first.
SELECT COALESCE("ServiceName", '(unknown)') AS service, SUM("EffectiveCost") AS cost
FROM costs
WHERE CAST("ChargePeriodStart" AS DATE) >= {{as_of}} - INTERVAL '30 days'
  AND CAST("ChargePeriodStart" AS DATE) < {{as_of}}
GROUP BY 1
ORDER BY 2 DESC
