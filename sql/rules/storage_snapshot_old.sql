/* ---
id = "storage_snapshot_old"
title = "Old managed-disk snapshot"
category = "storage"
severity = "low"
status = "stable"
effort = "low"
what = "Managed-disk snapshots older than `max_age_days` days."
why = "Snapshots are billed per GB every month; old ones are usually forgotten copies from a past change."
fix = "Delete the snapshot, or keep backups in Azure Backup with a retention policy instead."

[params]
# Age in days above which a snapshot is reported.
max_age_days = 90
--- */
SELECT
    s.resource_id,
    s.subscription_id,
    s.resource_group,
    s.resource_name,
    s.region,
    'storage_snapshot_old' AS rule_id,
    'Snapshot is ' || CAST({{as_of}} - CAST(s.created_time AS DATE) AS VARCHAR) || ' days old ('
        || CAST(CAST(COALESCE(s.disk_size_gb, 0) AS BIGINT) AS VARCHAR) || ' GB)' AS reason,
    '{"created":"' || CAST(CAST(s.created_time AS DATE) AS VARCHAR) || '","size_gb":'
        || CAST(COALESCE(s.disk_size_gb, 0) AS VARCHAR) || ',"sku":"' || COALESCE(s.sku_name, '') || '"}' AS evidence,
    s.cost_30d AS monthly_cost,
    s.cost_30d AS est_monthly_savings,
    4.0 AS fit_score,
    'az snapshot delete --ids ' || s.resource_id AS remediation
FROM resource_with_cost s
WHERE s.resource_type = 'microsoft.compute/snapshots'
  AND CAST(s.created_time AS DATE) < {{as_of}} - INTERVAL '{{max_age_days}} days'
