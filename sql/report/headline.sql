-- Per billing currency: the last cost day's cost, the month to that day, and the previous month
-- to the same day of the month (clamped to its length).
SELECT currency,
       SUM(CASE WHEN day = {{last_day}} THEN cost ELSE 0 END) AS last_day_cost,
       SUM(CASE WHEN day >= {{month_start}} THEN cost ELSE 0 END) AS month_to_date,
       SUM(CASE WHEN day >= {{previous_month_start}} AND day <= {{previous_same_day}} THEN cost ELSE 0 END)
           AS previous_month_to_date
FROM (
  SELECT CAST("ChargePeriodStart" AS DATE) AS day, COALESCE("BillingCurrency", '') AS currency,
         "EffectiveCost" AS cost
  FROM costs
  WHERE CAST("ChargePeriodStart" AS DATE) >= {{previous_month_start}}
    AND CAST("ChargePeriodStart" AS DATE) <= {{last_day}}
) c
GROUP BY 1
ORDER BY 1
