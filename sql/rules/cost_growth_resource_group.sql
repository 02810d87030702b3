/* ---
id = "cost_growth_resource_group"
title = "Resource group cost grew month over month"
category = "governance"
severity = "medium"
status = "stable"
effort = "medium"
what = "Resource groups whose cost in the last full month grew by more than `min_growth_pct` percent over the month before (or that are new), above `min_monthly_cost`."
why = "A step change in a group's cost is either a deliberate launch or a mistake (a forgotten test, a wrong SKU); either way someone should look."
fix = "Ask the group's owner; compare its resources and cost by service between the two months (`cloudoptima sql`)."

[params]
# Growth over the previous full month (percent) above which a group is reported.
min_growth_pct = 20.0
# Cost in the last full month below which growth is ignored (billing currency).
min_monthly_cost = 50.0
--- */
WITH monthly AS (
    SELECT "SubAccountId" AS subscription,
           "x_ResourceGroupName" AS resource_group,
           date_trunc('month', CAST("ChargePeriodStart" AS DATE)) AS month,
           SUM("EffectiveCost") AS cost
    FROM costs
    WHERE "x_ResourceGroupName" IS NOT NULL AND "x_ResourceGroupName" <> ''
      AND CAST("ChargePeriodStart" AS DATE) >= date_trunc('month', {{as_of}} - INTERVAL '2 months')
      AND CAST("ChargePeriodStart" AS DATE) < date_trunc('month', {{as_of}})
    GROUP BY 1, 2, 3
),
compared AS (
    SELECT subscription,
           resource_group,
           SUM(CASE WHEN month = date_trunc('month', {{as_of}} - INTERVAL '1 month') THEN cost ELSE 0.0 END) AS last_month,
           SUM(CASE WHEN month = date_trunc('month', {{as_of}} - INTERVAL '2 months') THEN cost ELSE 0.0 END) AS prior_month
    FROM monthly
    GROUP BY 1, 2
)
SELECT
    subscription || '/resourcegroups/' || resource_group AS resource_id,
    regexp_replace(subscription, '^/subscriptions/', '') AS subscription_id,
    resource_group,
    resource_group AS resource_name,
    CAST(NULL AS VARCHAR) AS region,
    'cost_growth_resource_group' AS rule_id,
    CASE WHEN prior_month <= 0 THEN 'New spend: ' || CAST(ROUND(last_month, 2) AS VARCHAR) || ' last month, none the month before'
         ELSE 'Cost grew ' || CAST(ROUND((last_month - prior_month) * 100.0 / prior_month, 1) AS VARCHAR) || '% month over month ('
              || CAST(ROUND(prior_month, 2) AS VARCHAR) || ' to ' || CAST(ROUND(last_month, 2) AS VARCHAR) || ')' END AS reason,
    '{"last_month":' || CAST(ROUND(last_month, 2) AS VARCHAR) || ',"prior_month":' || CAST(ROUND(prior_month, 2) AS VARCHAR) || '}' AS evidence,
    last_month AS monthly_cost,
    0.0 AS est_monthly_savings,
    CASE WHEN prior_month <= 0 THEN 3.0 ELSE 4.0 END AS fit_score,
    'cloudoptima sql "SELECT ServiceName, ResourceName, SUM(EffectiveCost) FROM costs WHERE x_ResourceGroupName = ''' || resource_group
        || ''' GROUP BY 1, 2 ORDER BY 3 DESC"' AS remediation
FROM compared
WHERE last_month >= {{min_monthly_cost}}
  AND (prior_month <= 0 OR (last_month - prior_month) * 100.0 / prior_month > {{min_growth_pct}})
