/* ---
id = "network_app_gateway_no_backend"
title = "Application gateway with no backend"
category = "network"
severity = "high"
status = "stable"
effort = "low"
what = "Application gateways none of whose backend pools holds an address or a NIC IP configuration."
why = "An application gateway is billed by the hour (and per capacity unit on v2) while it has nothing to send traffic to."
fix = "Delete the gateway, or add the backends it was built for."
--- */
SELECT
    a.resource_id,
    a.subscription_id,
    a.resource_group,
    a.resource_name,
    a.region,
    'network_app_gateway_no_backend' AS rule_id,
    'Application gateway (' || COALESCE(a.sku_name, '?') || ') has no backend targets' AS reason,
    '{"sku":"' || COALESCE(a.sku_name, '') || '","backendPools":'
        || CAST(COALESCE(json_length(a.properties, 'backendAddressPools'), 0) AS VARCHAR) || '}' AS evidence,
    a.cost_30d AS monthly_cost,
    a.cost_30d AS est_monthly_savings,
    5.0 AS fit_score,
    'az network application-gateway delete --ids ' || a.resource_id AS remediation
FROM resource_with_cost a
WHERE a.resource_type = 'microsoft.network/applicationgateways'
  -- Resource Graph properties are stored as compact JSON: a non-empty target list starts `[{`.
  AND COALESCE(a.properties, '') NOT LIKE '%"backendAddresses":[{%'
  AND COALESCE(a.properties, '') NOT LIKE '%"backendIPConfigurations":[{%'
