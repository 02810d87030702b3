-- Effective cost per resource over the 30 days before the run date: the basis of savings estimates.
SELECT "ResourceId" AS resource_id, SUM("EffectiveCost") AS cost_30d
FROM costs
WHERE CAST("ChargePeriodStart" AS DATE) >= {{as_of}} - INTERVAL '30 days'
  AND CAST("ChargePeriodStart" AS DATE) < {{as_of}}
  AND "ResourceId" IS NOT NULL
GROUP BY "ResourceId"
