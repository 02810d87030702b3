/* ---
id = "network_nic_orphaned"
title = "Orphaned network interface"
category = "network"
severity = "low"
status = "stable"
effort = "low"
what = "Network interfaces attached to no VM and serving no private endpoint."
why = "A NIC costs nothing by itself, but it holds a private IP and often a public IP or NSG that do, and it clutters every inventory."
fix = "Delete the NIC once nothing references it."
--- */
SELECT
    n.resource_id,
    n.subscription_id,
    n.resource_group,
    n.resource_name,
    n.region,
    'network_nic_orphaned' AS rule_id,
    'Network interface is attached to no VM or private endpoint' AS reason,
    '{}' AS evidence,
    n.cost_30d AS monthly_cost,
    n.cost_30d AS est_monthly_savings,
    5.0 AS fit_score,
    'az network nic delete --ids ' || n.resource_id AS remediation
FROM resource_with_cost n
WHERE n.resource_type = 'microsoft.network/networkinterfaces'
  AND (n.attached_to IS NULL OR n.attached_to = '')
