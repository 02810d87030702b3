/* ---
id = "storage_disk_premium_on_stopped_vm"
title = "Premium disk on a stopped or deallocated VM"
category = "storage"
severity = "medium"
status = "stable"
effort = "low"
what = "Premium SSD managed disks attached to a VM that is stopped or deallocated."
why = "Premium disks are billed at their full tier while the VM does no work; a Standard SSD holds the data for about half the price."
fix = "Change the disk to Standard SSD while the VM is off (`az disk update --sku StandardSSD_LRS`), and back before it returns to work."

[params]
# Standard SSD price as a share of the Premium price, used when no price sheet is loaded.
standard_price_ratio = 0.5
--- */
WITH idle_vms AS (
    SELECT resource_id, resource_name, power_state
    FROM latest_resources
    WHERE resource_type = 'microsoft.compute/virtualmachines'
      AND power_state IN ('stopped', 'deallocated')
)
SELECT
    d.resource_id,
    d.subscription_id,
    d.resource_group,
    d.resource_name,
    d.region,
    'storage_disk_premium_on_stopped_vm' AS rule_id,
    d.sku_name || ' disk on VM ' || v.resource_name || ', which is ' || v.power_state AS reason,
    '{"sku":"' || d.sku_name || '","vm_power_state":"' || v.power_state || '","size_gb":'
        || CAST(COALESCE(d.disk_size_gb, 0) AS VARCHAR) || '}' AS evidence,
    d.cost_30d AS monthly_cost,
    d.cost_30d * (1.0 - {{standard_price_ratio}}) AS est_monthly_savings,
    4.0 AS fit_score,
    'az disk update --ids ' || d.resource_id || ' --sku StandardSSD_LRS' AS remediation
FROM resource_with_cost d
JOIN idle_vms v ON v.resource_id = d.managed_by
WHERE d.resource_type = 'microsoft.compute/disks'
  AND d.sku_name LIKE 'Premium%'
