/* ---
id = "storage_snapshot_premium"
title = "Snapshot on premium storage"
category = "storage"
severity = "low"
status = "stable"
effort = "low"
what = "Managed-disk snapshots stored on Premium SSD."
why = "A snapshot is read rarely; on premium storage it costs about twice what the same snapshot costs on standard storage."
fix = "Take snapshots with `--sku Standard_LRS` (or incremental snapshots), then delete the premium copy."

[params]
# Standard snapshot price as a share of the premium price, used when no price sheet is loaded.
standard_price_ratio = 0.45
--- */
SELECT
    s.resource_id,
    s.subscription_id,
    s.resource_group,
    s.resource_name,
    s.region,
    'storage_snapshot_premium' AS rule_id,
    'Snapshot is stored on ' || s.sku_name || ' (' || CAST(CAST(COALESCE(s.disk_size_gb, 0) AS BIGINT) AS VARCHAR) || ' GB)' AS reason,
    '{"sku":"' || s.sku_name || '","size_gb":' || CAST(COALESCE(s.disk_size_gb, 0) AS VARCHAR) || '}' AS evidence,
    s.cost_30d AS monthly_cost,
    s.cost_30d * (1.0 - {{standard_price_ratio}}) AS est_monthly_savings,
    4.0 AS fit_score,
    'az snapshot create --source ' || s.resource_id || ' --name ' || s.resource_name || '-std --sku Standard_LRS --incremental true && az snapshot delete --ids ' || s.resource_id AS remediation
FROM resource_with_cost s
WHERE s.resource_type = 'microsoft.compute/snapshots'
  AND s.sku_name LIKE 'Premium%'
