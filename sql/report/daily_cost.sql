-- Total effective cost per day, every day before the run date.
SELECT CAST("ChargePeriodStart" AS DATE) AS day, SUM("EffectiveCost") AS cost
FROM costs
WHERE CAST("ChargePeriodStart" AS DATE) < {{as_of}}
GROUP BY 1
ORDER BY 1
