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
    COALESCE(k.cost_30d, 0.0) AS monthly_cost,
    COALESCE(k.cost_30d, 0.0) AS est_monthly_savings,
    5.0 AS fit_score,
    'az vm deallocate --ids ' || v.resource_id AS remediation
FROM latest_resources v
LEFT JOIN resource_cost_30d k ON k.resource_id = v.resource_id
WHERE v.resource_type = 'microsoft.compute/virtualmachines'
  AND v.power_state = 'stopped'
