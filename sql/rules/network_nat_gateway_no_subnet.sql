/* ---
id = "network_nat_gateway_no_subnet"
title = "NAT gateway with no subnet"
category = "network"
severity = "medium"
status = "stable"
effort = "low"
what = "NAT gateways associated with no subnet."
why = "A NAT gateway is billed by the hour from creation, whether or not any subnet sends traffic through it."
fix = "Delete the NAT gateway (and its public IPs) or associate it with the subnet that needs outbound access."
--- */
SELECT
    n.resource_id,
    n.subscription_id,
    n.resource_group,
    n.resource_name,
    n.region,
    'network_nat_gateway_no_subnet' AS rule_id,
    'NAT gateway is associated with no subnet' AS reason,
    '{"subnets":0}' AS evidence,
    n.cost_30d AS monthly_cost,
    n.cost_30d AS est_monthly_savings,
    5.0 AS fit_score,
    'az network nat gateway delete --ids ' || n.resource_id AS remediation
FROM resource_with_cost n
WHERE n.resource_type = 'microsoft.network/natgateways'
  AND COALESCE(json_length(n.properties, 'subnets'), 0) = 0
