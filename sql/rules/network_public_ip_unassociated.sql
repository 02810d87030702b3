/* ---
id = "network_public_ip_unassociated"
title = "Unassociated public IP address"
category = "network"
severity = "low"
status = "stable"
effort = "low"
what = "Public IP addresses bound to no network interface, load balancer, gateway or NAT gateway."
why = "Static public IPs are billed by the hour even when nothing uses them."
fix = "Delete the address, or keep it reserved only if a DNS record or allow-list depends on it."

[params]
--- */
WITH ips AS (
    SELECT *
    FROM resource_with_cost
    WHERE resource_type = 'microsoft.network/publicipaddresses'
      AND (attached_to IS NULL OR attached_to = '')
)
SELECT
    i.resource_id,
    i.subscription_id,
    i.resource_group,
    i.resource_name,
    i.region,
    'network_public_ip_unassociated' AS rule_id,
    COALESCE(i.sku_name, 'Unknown') || ' public IP is associated with nothing' AS reason,
    '{"sku":"' || COALESCE(i.sku_name, '') || '"}' AS evidence,
    i.cost_30d AS monthly_cost,
    i.cost_30d AS est_monthly_savings,
    5.0 AS fit_score,
    'az network public-ip delete --ids ' || i.resource_id AS remediation
FROM ips i
