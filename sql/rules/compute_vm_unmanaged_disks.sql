/* ---
id = "compute_vm_unmanaged_disks"
title = "VM on unmanaged disks"
category = "compute"
severity = "medium"
status = "stable"
effort = "medium"
what = "VMs whose OS disk is a VHD page blob in a storage account (`storageProfile.osDisk.vhd`) instead of a managed disk."
why = "Unmanaged disks were retired on 30 September 2025: such VMs cannot be started once deallocated and no longer get support; their page blobs and storage transactions stay billed. The move costs little, so no savings are claimed."
fix = "Convert the VM to managed disks (`az vm convert`), then delete the old VHD blobs and, if empty, their storage account."
--- */
SELECT
    v.resource_id,
    v.subscription_id,
    v.resource_group,
    v.resource_name,
    v.region,
    'compute_vm_unmanaged_disks' AS rule_id,
    'VM runs on an unmanaged VHD disk (retired September 2025)' AS reason,
    '{"vhd":"' || json_get_str(v.properties, 'storageProfile', 'osDisk', 'vhd', 'uri') || '"}' AS evidence,
    v.cost_30d AS monthly_cost,
    0.0 AS est_monthly_savings,
    5.0 AS fit_score,
    'az vm deallocate --ids ' || v.resource_id || ' && az vm convert --ids ' || v.resource_id AS remediation
FROM resource_with_cost v
WHERE v.resource_type = 'microsoft.compute/virtualmachines'
  AND json_get_str(v.properties, 'storageProfile', 'osDisk', 'vhd', 'uri') IS NOT NULL
