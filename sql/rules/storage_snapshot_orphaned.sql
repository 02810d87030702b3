/* ---
id = "storage_snapshot_orphaned"
title = "Snapshot of a disk that no longer exists"
category = "storage"
severity = "low"
status = "stable"
effort = "medium"
what = "Managed-disk snapshots whose source disk (`creationData.sourceResourceId`) is no longer in the inventory."
why = "Once the disk is gone nobody restores from its snapshots in the normal course of work, yet each is billed per GB every month."
fix = "Check with the owner that no restore is planned, then delete the snapshot (or move it to an archive tier backup if policy requires keeping it)."
--- */
WITH disks AS (
    SELECT resource_id FROM latest_resources WHERE resource_type = 'microsoft.compute/disks'
),
snapshots AS (
    SELECT *, lower(json_get_str(properties, 'creationData', 'sourceResourceId')) AS source_id
    FROM resource_with_cost
    WHERE resource_type = 'microsoft.compute/snapshots'
)
SELECT
    s.resource_id,
    s.subscription_id,
    s.resource_group,
    s.resource_name,
    s.region,
    'storage_snapshot_orphaned' AS rule_id,
    'Snapshot of ' || regexp_replace(s.source_id, '^.*/', '') || ', a disk that no longer exists' AS reason,
    '{"source":"' || s.source_id || '","size_gb":' || CAST(COALESCE(s.disk_size_gb, 0) AS VARCHAR) || '}' AS evidence,
    s.cost_30d AS monthly_cost,
    s.cost_30d AS est_monthly_savings,
    3.0 AS fit_score,
    'az snapshot delete --ids ' || s.resource_id AS remediation
FROM snapshots s
LEFT JOIN disks d ON d.resource_id = s.source_id
WHERE s.source_id LIKE '%/providers/microsoft.compute/disks/%'
  AND d.resource_id IS NULL
