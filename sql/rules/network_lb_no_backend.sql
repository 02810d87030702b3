/* ---
id = "network_lb_no_backend"
title = "Load balancer without a backend pool"
category = "network"
severity = "medium"
status = "stable"
effort = "low"
what = "Standard load balancers with no backend address pool."
why = "A Standard load balancer is billed by the hour and per rule even when there is nothing behind it."
fix = "Delete the load balancer (and its frontend public IP) if nothing will be placed behind it."
--- */
SELECT
    l.resource_id,
    l.subscription_id,
    l.resource_group,
    l.resource_name,
    l.region,
    'network_lb_no_backend' AS rule_id,
    COALESCE(l.sku_name, 'Unknown') || ' load balancer has no backend pool' AS reason,
    '{"sku":"' || COALESCE(l.sku_name, '') || '","backend_pools":'
        || CAST(COALESCE(json_length(l.properties, 'backendAddressPools'), 0) AS VARCHAR) || '}' AS evidence,
    l.cost_30d AS monthly_cost,
    l.cost_30d AS est_monthly_savings,
    5.0 AS fit_score,
    'az network lb delete --ids ' || l.resource_id AS remediation
FROM resource_with_cost l
WHERE l.resource_type = 'microsoft.network/loadbalancers'
  AND COALESCE(l.sku_name, '') <> 'Basic'
  AND COALESCE(json_length(l.properties, 'backendAddressPools'), 0) = 0
