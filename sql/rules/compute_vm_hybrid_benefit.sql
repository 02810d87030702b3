/* ---
id = "compute_vm_hybrid_benefit"
title = "Windows Server VM paying for its licence: Azure Hybrid Benefit applies"
category = "compute"
severity = "medium"
status = "preview"
effort = "low"
what = "Windows Server VMs (`storageProfile.osDisk.osType` Windows, not a Windows client image) with no `licenseType`, so the Windows licence is billed by the hour, and at least `min_cost` of cost in the last 30 days."
why = "With Azure Hybrid Benefit a VM is billed at the Linux rate when the organisation brings a Windows Server licence with Software Assurance (or a subscription licence); the licence part is roughly 40-50% of a small VM's pay-as-you-go price. Preview: whether spare licences exist is not in Azure's data, so each finding needs a licensing check."
fix = "Confirm enough Windows Server core licences with Software Assurance are free (16 cores per VM minimum), then set the licence type (`az vm update --license-type Windows_Server`); it takes effect without a restart."

[params]
# Cost over the last 30 days below which a VM is not reported (billing currency).
min_cost = 10.0
# Share of the cost that is the Windows licence when no price list is in the lake (percent).
license_share_pct = 40.0
--- */
WITH windows AS (
    SELECT v.*, p.windows_hourly, p.linux_hourly,
           p.windows_hourly > 0 AND p.linux_hourly IS NOT NULL AS priced
    FROM resource_with_cost v
    LEFT JOIN vm_prices p ON p.size = lower(v.vm_size) AND p.region = v.region
    WHERE v.resource_type = 'microsoft.compute/virtualmachines'
      AND json_get_str(v.properties, 'storageProfile', 'osDisk', 'osType') = 'Windows'
      AND COALESCE(json_get_str(v.properties, 'licenseType'), 'None') = 'None'
      AND COALESCE(json_get_str(v.properties, 'storageProfile', 'imageReference', 'publisher'), '') <> 'MicrosoftWindowsDesktop'
)
SELECT
    resource_id,
    subscription_id,
    resource_group,
    resource_name,
    region,
    'compute_vm_hybrid_benefit' AS rule_id,
    COALESCE(vm_size, 'VM') || ' runs Windows Server with the licence billed by the hour (no licenseType set)' AS reason,
    '{"size":"' || COALESCE(vm_size, '') || '","license_type":null,"priced":'
        || CASE WHEN priced THEN 'true' ELSE 'false' END || '}' AS evidence,
    cost_30d AS monthly_cost,
    CASE WHEN priced THEN cost_30d * GREATEST(1.0 - linux_hourly / windows_hourly, 0.0)
         ELSE cost_30d * {{license_share_pct}} / 100.0 END AS est_monthly_savings,
    CASE WHEN priced THEN 3.0 ELSE 2.0 END AS fit_score,
    'az vm update --ids ' || resource_id || ' --license-type Windows_Server' AS remediation
FROM windows
WHERE cost_30d >= {{min_cost}}
