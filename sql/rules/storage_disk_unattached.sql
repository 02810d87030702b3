/* ---
id = "storage_disk_unattached"
title = "Unattached managed disk"
category = "storage"
severity = "medium"
status = "stable"
effort = "low"
what = "Managed disks attached to no VM, excluding disks in use through a SAS (ActiveSAS) and disks tagged for Site Recovery, AKS volumes or backup."
why = "A managed disk is billed for its provisioned size whether or not anything uses it."
fix = "Snapshot the disk if its data may be needed, then delete it."

[params]
# Tag keys (canonical, lowercase) that mark a disk as deliberately detached.
exclude_tags_regex = '"(asr-replicadisk|asrseeddisk|kubernetes\.io-created-for-pvc|rsvaultbackup)"'
--- */
WITH disks AS (
    SELECT *
    FROM resource_with_cost
    WHERE resource_type = 'microsoft.compute/disks'
      AND (managed_by IS NULL OR managed_by = '')
      AND COALESCE(disk_state, '') <> 'ActiveSAS'
      AND NOT regexp_like(COALESCE(tags, ''), {{exclude_tags_regex}})
)
SELECT
    d.resource_id,
    d.subscription_id,
    d.resource_group,
    d.resource_name,
    d.region,
    'storage_disk_unattached' AS rule_id,
    'Disk (' || COALESCE(d.sku_name, '?') || ', ' || CAST(CAST(COALESCE(d.disk_size_gb, 0) AS BIGINT) AS VARCHAR)
        || ' GB) is attached to no VM; state ' || COALESCE(d.disk_state, 'unknown') AS reason,
    '{"sku":"' || COALESCE(d.sku_name, '') || '","size_gb":' || CAST(COALESCE(d.disk_size_gb, 0) AS VARCHAR)
        || ',"disk_state":"' || COALESCE(d.disk_state, '') || '"}' AS evidence,
    d.cost_30d AS monthly_cost,
    d.cost_30d AS est_monthly_savings,
    5.0 AS fit_score,
    'az snapshot create --source ' || d.resource_id || ' --name ' || d.resource_name || '-final && az disk delete --ids ' || d.resource_id AS remediation
FROM disks d
