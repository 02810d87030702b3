/* ---
id = "storage_account_idle"
title = "Hot storage account nobody reads"
category = "storage"
severity = "low"
status = "stable"
effort = "medium"
what = "Storage accounts in the Hot access tier with fewer than `max_transactions` transactions over `window_days` days of hourly metrics."
why = "The Hot tier prices storage for data in daily use; data nobody reads costs about 45% less per GB in the Cool tier (Cold and Archive less still)."
fix = "Set the account's default access tier to Cool, or add a lifecycle rule that tiers blobs not read for 30 days; delete what is kept for no one."

[params]
# Days of hourly `Transactions` looked at.
window_days = 30
# Fewer transactions than this over the window counts as idle.
max_transactions = 1000.0
# Share of the account's cost saved by moving its data from Hot to Cool (percent).
cool_saving_pct = 45.0
# Share of the window's hours that must have a data point (percent).
min_coverage_pct = 80.0
--- */
WITH tx AS (
    SELECT resource_id, SUM(COALESCE(total, average)) AS transactions, COUNT(*) AS hours
    FROM metrics
    WHERE metric_name = 'Transactions'
      AND "date" >= {{as_of}} - INTERVAL '{{window_days}} days'
      AND "date" < {{as_of}}
    GROUP BY resource_id
)
SELECT
    a.resource_id,
    a.subscription_id,
    a.resource_group,
    a.resource_name,
    a.region,
    'storage_account_idle' AS rule_id,
    CAST(CAST(ROUND(t.transactions, 0) AS BIGINT) AS VARCHAR) || ' transactions in ' || CAST({{window_days}} AS VARCHAR)
        || ' days on the Hot tier' AS reason,
    '{"transactions":' || CAST(CAST(ROUND(t.transactions, 0) AS BIGINT) AS VARCHAR) || ',"hours":' || CAST(t.hours AS VARCHAR)
        || ',"access_tier":"Hot"}' AS evidence,
    a.cost_30d AS monthly_cost,
    a.cost_30d * {{cool_saving_pct}} / 100.0 AS est_monthly_savings,
    3.0 AS fit_score,
    'az storage account update --ids ' || a.resource_id || ' --access-tier Cool' AS remediation
FROM resource_with_cost a
JOIN tx t ON t.resource_id = a.resource_id
WHERE a.resource_type = 'microsoft.storage/storageaccounts'
  AND COALESCE(json_get_str(a.properties, 'accessTier'), 'Hot') = 'Hot'
  AND t.transactions < {{max_transactions}}
  AND t.hours >= {{window_days}} * 24 * {{min_coverage_pct}} / 100.0
