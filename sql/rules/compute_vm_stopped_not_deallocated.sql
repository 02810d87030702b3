/* ---
id = "compute_vm_stopped_not_deallocated"
title = "VM stopped but not deallocated"
category = "compute"
severity = "high"
status = "stable"
effort = "low"
what = "VMs whose power state is `stopped`: shut down from inside the guest OS or with `az vm stop`, but still holding their hardware."
why = "Only deallocation releases the compute: a stopped VM is billed for every hour exactly as if it were running."
fix = "Deallocate it (`az vm deallocate`), or delete it if it is no longer needed."
--- */
SELECT
    v.resource_id,
    v.subscription_id,
    v.resource_group,
    v.resource_name,
    v.region,
    'compute_vm_stopped_not_deallocated' AS rule_id,
    'VM is stopped but not deallocated, so its compute (' || COALESCE(v.vm_size, 'unknown size') || ') is still billed' AS reason,
    '{"power_state":"' || v.power_state || '","vm_size":"' || COALESCE(v.vm_size, '') || '"}' AS evidence,
    v.cost_30d AS monthly_cost,
    v.cost_30d AS est_monthly_savings,
    5.0 AS fit_score,
    'az vm deallocate --ids ' || v.resource_id AS remediation
FROM resource_with_cost v
WHERE v.resource_type = 'microsoft.compute/virtualmachines'
  AND v.power_state = 'stopped'
