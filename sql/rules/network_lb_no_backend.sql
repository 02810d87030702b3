/* ---
id = "network_lb_no_backend"
title = "Load balancer with nothing behind it"
category = "network"
severity = "medium"
status = "stable"
effort = "low"
what = "Standard load balancers with no backend pool, or whose backend pools have no members (no NIC IP configuration and no IP address in any pool)."
why = "A Standard load balancer is billed by the hour and per rule even when there is nothing behind it; an empty pool left after the VMs went is as idle as no pool at all."
fix = "Delete the load balancer (and its frontend public IP) if nothing will be placed behind it."
--- */
WITH load_balancers AS (
    SELECT l.resource_id, l.properties
    FROM resource_with_cost l
    WHERE l.resource_type = 'microsoft.network/loadbalancers'
      AND COALESCE(l.sku_name, '') <> 'Basic'
),
pools AS (
    SELECT resource_id, unnest(json_get_array(properties, 'backendAddressPools')) AS pool
    FROM load_balancers
),
-- Members of each load balancer's pools: NIC IP configurations and IP addresses.
members AS (
    SELECT
        resource_id,
        COUNT(*) AS pools,
        SUM(COALESCE(json_length(pool, 'properties', 'backendIPConfigurations'), 0)
            + COALESCE(json_length(pool, 'properties', 'loadBalancerBackendAddresses'), 0)) AS members
    FROM pools
    GROUP BY resource_id
)
SELECT
    l.resource_id,
    l.subscription_id,
    l.resource_group,
    l.resource_name,
    l.region,
    'network_lb_no_backend' AS rule_id,
    COALESCE(l.sku_name, 'Unknown') || ' load balancer has '
        || CASE WHEN COALESCE(m.pools, 0) = 0 THEN 'no backend pool'
                ELSE CAST(m.pools AS VARCHAR) || ' backend pool(s) with no members' END AS reason,
    '{"sku":"' || COALESCE(l.sku_name, '') || '","backend_pools":' || CAST(COALESCE(m.pools, 0) AS VARCHAR)
        || ',"members":' || CAST(COALESCE(m.members, 0) AS VARCHAR) || '}' AS evidence,
    l.cost_30d AS monthly_cost,
    l.cost_30d AS est_monthly_savings,
    5.0 AS fit_score,
    'az network lb delete --ids ' || l.resource_id AS remediation
FROM resource_with_cost l
JOIN load_balancers b ON b.resource_id = l.resource_id
LEFT JOIN members m ON m.resource_id = l.resource_id
WHERE COALESCE(m.members, 0) = 0
