/* ---
id = "compute_vm_deallocated_long"
title = "VM deallocated for a long time, disks still billed"
category = "compute"
severity = "medium"
status = "stable"
effort = "medium"
what = "Deallocated VMs with no compute charge for at least `min_days` days whose managed disks are still billed."
why = "A deallocated VM costs nothing for compute, but its disks keep charging; a VM nobody has started in a month is usually forgotten."
fix = "Confirm with the owner, snapshot what must be kept, then delete the VM and its disks."

[params]
# Days without a compute charge before a deallocated VM counts as long-deallocated (Optimization Engine: 30).
min_days = 30
--- */
WITH vms AS (
    SELECT *
    FROM latest_resources
    WHERE resource_type = 'microsoft.compute/virtualmachines'
      AND power_state = 'deallocated'
),
last_billed AS (
    SELECT "ResourceId" AS resource_id, MAX(CAST("ChargePeriodStart" AS DATE)) AS last_day
    FROM costs
    WHERE "ResourceId" IS NOT NULL
    GROUP BY "ResourceId"
),
disks AS (
    SELECT d.managed_by AS vm_id, COUNT(*) AS disk_count, SUM(COALESCE(k.cost_30d, 0.0)) AS disk_cost_30d
    FROM latest_resources d
    LEFT JOIN resource_cost_30d k ON k.resource_id = d.resource_id
    WHERE d.resource_type = 'microsoft.compute/disks'
      AND d.managed_by IS NOT NULL
    GROUP BY d.managed_by
)
SELECT
    v.resource_id,
    v.subscription_id,
    v.resource_group,
    v.resource_name,
    v.region,
    'compute_vm_deallocated_long' AS rule_id,
    CASE WHEN l.last_day IS NULL
         THEN 'Deallocated, with no compute charge in the cost history; '
         ELSE 'Deallocated, no compute charge since ' || CAST(l.last_day AS VARCHAR) || '; ' END
        || CAST(d.disk_count AS VARCHAR) || ' disk(s) still billed' AS reason,
    '{"last_compute_charge":' || CASE WHEN l.last_day IS NULL THEN 'null' ELSE '"' || CAST(l.last_day AS VARCHAR) || '"' END
        || ',"disks":' || CAST(d.disk_count AS VARCHAR) || '}' AS evidence,
    d.disk_cost_30d AS monthly_cost,
    d.disk_cost_30d AS est_monthly_savings,
    CASE WHEN l.last_day IS NULL THEN 3.0 ELSE 5.0 END AS fit_score,
    'az vm delete --ids ' || v.resource_id || ' --yes  # then delete its disks after a final snapshot' AS remediation
FROM vms v
JOIN disks d ON d.vm_id = v.resource_id
LEFT JOIN last_billed l ON l.resource_id = v.resource_id
WHERE l.last_day IS NULL OR l.last_day < {{as_of}} - INTERVAL '{{min_days}} days'
