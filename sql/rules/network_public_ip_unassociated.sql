/* ---
id = "network_public_ip_unassociated"
title = "Unassociated public IP address"
category = "network"
severity = "low"
status = "stable"
what = "Public IP addresses bound to no network interface, load balancer, gateway or NAT gateway."
why = "Static public IPs are billed by the hour even when nothing uses them."
fix = "Delete the address, or keep it reserved only if a DNS record or allow-list depends on it."

[params]
# Days of cost used for the savings estimate (scaled to 30 days).
cost_window_days = 30
--- */
WITH ips AS (
    SELECT *
    FROM resources
    WHERE resource_type = 'microsoft.network/publicipaddresses'
      AND snapshot_date = (SELECT MAX(snapshot_date) FROM resources)
      AND (attached_to IS NULL OR attached_to = '')
),
cost AS (
    SELECT "ResourceId" AS resource_id,
           SUM("EffectiveCost") * 30.0 / {{cost_window_days}} AS monthly_cost
    FROM costs
    WHERE CAST("ChargePeriodStart" AS DATE) >= {{as_of}} - INTERVAL '{{cost_window_days}} days'
      AND CAST("ChargePeriodStart" AS DATE) < {{as_of}}
    GROUP BY "ResourceId"
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
    COALESCE(k.monthly_cost, 0.0) AS monthly_cost,
    COALESCE(k.monthly_cost, 0.0) AS est_monthly_savings,
    5.0 AS fit_score,
    'az network public-ip delete --ids ' || i.resource_id AS remediation
FROM ips i
LEFT JOIN cost k ON k.resource_id = i.resource_id
