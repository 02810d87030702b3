/* ---
id = "network_ddos_plan_unassociated"
title = "DDoS protection plan protecting no network"
category = "network"
severity = "high"
status = "stable"
effort = "low"
what = "DDoS Network Protection plans with no virtual network associated."
why = "A plan costs a fixed monthly fee (about 2,900 USD) whether or not any network is protected by it."
fix = "Associate the virtual networks that need protection, or delete the plan."
--- */
SELECT
    d.resource_id,
    d.subscription_id,
    d.resource_group,
    d.resource_name,
    d.region,
    'network_ddos_plan_unassociated' AS rule_id,
    'DDoS protection plan protects no virtual network' AS reason,
    '{"virtualNetworks":0}' AS evidence,
    d.cost_30d AS monthly_cost,
    d.cost_30d AS est_monthly_savings,
    5.0 AS fit_score,
    'az network ddos-protection delete --ids ' || d.resource_id AS remediation
FROM resource_with_cost d
WHERE d.resource_type = 'microsoft.network/ddosprotectionplans'
  AND COALESCE(json_length(d.properties, 'virtualNetworks'), 0) = 0
