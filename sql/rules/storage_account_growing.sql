/* ---
id = "storage_account_growing"
title = "Storage account growing fast (no data expiry in sight)"
category = "storage"
severity = "medium"
status = "stable"
effort = "medium"
what = "Storage accounts whose daily storage cost grew more than `growth_pct` percent from the first to the last week of the last 30 days, costing at least `min_monthly_cost` a month (the Optimization Engine's \"no retention policy\" check, from cost data)."
why = "Data that only ever grows is usually data nobody expires: backups, logs and exports kept forever, all on the tier they were written to."
fix = "Add a lifecycle management policy that moves blobs to Cool, Cold or Archive after N days and deletes them after the retention period; check what the largest containers hold."

[params]
# Growth from the first to the last week of the last 30 days above this counts (percent).
growth_pct = 5.0
# Accounts costing less than this a month are left alone (billing currency).
min_monthly_cost = 50.0
# Share of the account's cost a lifecycle policy saves (percent; the Optimization Engine uses 25).
lifecycle_saving_pct = 25.0
--- */
WITH daily AS (
    SELECT "ResourceId" AS resource_id,
           CAST("ChargePeriodStart" AS DATE) AS day,
           SUM("EffectiveCost") AS cost
    FROM costs
    WHERE CAST("ChargePeriodStart" AS DATE) >= {{as_of}} - INTERVAL '30 days'
      AND CAST("ChargePeriodStart" AS DATE) < {{as_of}}
      AND "ResourceId" LIKE '%/providers/microsoft.storage/storageaccounts/%'
    GROUP BY "ResourceId", CAST("ChargePeriodStart" AS DATE)
),
weeks AS (
    SELECT resource_id,
           AVG(CASE WHEN day < {{as_of}} - INTERVAL '23 days' THEN cost END) AS first_week,
           AVG(CASE WHEN day >= {{as_of}} - INTERVAL '7 days' THEN cost END) AS last_week
    FROM daily
    GROUP BY resource_id
)
SELECT
    a.resource_id,
    a.subscription_id,
    a.resource_group,
    a.resource_name,
    a.region,
    'storage_account_growing' AS rule_id,
    'Daily storage cost grew ' || CAST(ROUND(100.0 * (w.last_week / w.first_week - 1.0), 1) AS VARCHAR)
        || '% in 30 days' AS reason,
    '{"first_week_daily":' || CAST(ROUND(w.first_week, 4) AS VARCHAR) || ',"last_week_daily":'
        || CAST(ROUND(w.last_week, 4) AS VARCHAR) || '}' AS evidence,
    a.cost_30d AS monthly_cost,
    a.cost_30d * {{lifecycle_saving_pct}} / 100.0 AS est_monthly_savings,
    4.0 AS fit_score,
    'az storage account management-policy create --account-name ' || a.resource_name || ' --resource-group '
        || a.resource_group || ' --policy @lifecycle.json' AS remediation
FROM resource_with_cost a
JOIN weeks w ON w.resource_id = a.resource_id
WHERE a.resource_type = 'microsoft.storage/storageaccounts'
  AND w.first_week > 0
  AND w.last_week > w.first_week * (1.0 + {{growth_pct}} / 100.0)
  AND a.cost_30d >= {{min_monthly_cost}}
