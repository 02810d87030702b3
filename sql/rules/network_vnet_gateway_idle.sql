/* ---
id = "network_vnet_gateway_idle"
title = "Idle virtual network gateway"
category = "network"
severity = "high"
status = "stable"
effort = "medium"
what = "VPN and ExpressRoute gateways that no connection uses and that serve no point-to-site clients."
why = "A virtual network gateway is billed by the hour for its SKU from the moment it is deployed, connected or not."
fix = "Delete the gateway (its public IP too), or connect the site it was built for; keep it only if a standby plan needs it warm."
--- */
WITH connected AS (
    SELECT lower(json_get_str(properties, 'virtualNetworkGateway1', 'id')) AS gateway_id
    FROM latest_resources
    WHERE resource_type = 'microsoft.network/connections'
    UNION
    SELECT lower(json_get_str(properties, 'virtualNetworkGateway2', 'id')) AS gateway_id
    FROM latest_resources
    WHERE resource_type = 'microsoft.network/connections'
)
SELECT
    g.resource_id,
    g.subscription_id,
    g.resource_group,
    g.resource_name,
    g.region,
    'network_vnet_gateway_idle' AS rule_id,
    COALESCE(json_get_str(g.properties, 'gatewayType'), 'Virtual network') || ' gateway ('
        || COALESCE(g.sku_name, '?') || ') has no connection' AS reason,
    '{"sku":"' || COALESCE(g.sku_name, '') || '","connections":0}' AS evidence,
    g.cost_30d AS monthly_cost,
    g.cost_30d AS est_monthly_savings,
    4.0 AS fit_score,
    'az network vnet-gateway delete --ids ' || g.resource_id AS remediation
FROM resource_with_cost g
LEFT JOIN connected c ON c.gateway_id = g.resource_id
WHERE g.resource_type = 'microsoft.network/virtualnetworkgateways'
  AND c.gateway_id IS NULL
  AND NOT COALESCE(json_contains(g.properties, 'vpnClientConfiguration'), false)
