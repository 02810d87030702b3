/* ---
id = "network_expressroute_unprovisioned"
title = "ExpressRoute circuit never provisioned"
category = "network"
severity = "high"
status = "stable"
effort = "low"
what = "ExpressRoute circuits whose connectivity provider has not provisioned them (`serviceProviderProvisioningState` is `NotProvisioned`)."
why = "A circuit is billed from creation, whether or not the provider ever connected it."
fix = "Have the provider provision the circuit, or delete it if the connection is no longer planned."
--- */
SELECT
    c.resource_id,
    c.subscription_id,
    c.resource_group,
    c.resource_name,
    c.region,
    'network_expressroute_unprovisioned' AS rule_id,
    'ExpressRoute circuit (' || COALESCE(c.sku_name, '?') || ') is not provisioned by its provider' AS reason,
    '{"serviceProviderProvisioningState":"NotProvisioned","sku":"' || COALESCE(c.sku_name, '') || '"}' AS evidence,
    c.cost_30d AS monthly_cost,
    c.cost_30d AS est_monthly_savings,
    5.0 AS fit_score,
    'az network express-route delete --ids ' || c.resource_id AS remediation
FROM resource_with_cost c
WHERE c.resource_type = 'microsoft.network/expressroutecircuits'
  AND json_get_str(c.properties, 'serviceProviderProvisioningState') = 'NotProvisioned'
