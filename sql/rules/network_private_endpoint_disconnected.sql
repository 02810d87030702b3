/* ---
id = "network_private_endpoint_disconnected"
title = "Private endpoint with no approved connection"
category = "network"
severity = "low"
status = "stable"
effort = "low"
what = "Private endpoints none of whose private-link connections (automatic or manual) is `Approved`: rejected, disconnected, still pending or none at all."
why = "A private endpoint is billed by the hour (and per GB) while it carries no traffic to the service it was made for."
fix = "Delete the endpoint (and its private DNS record), or get the connection approved by the service's owner."
--- */
SELECT
    p.resource_id,
    p.subscription_id,
    p.resource_group,
    p.resource_name,
    p.region,
    'network_private_endpoint_disconnected' AS rule_id,
    'Private endpoint has no approved connection' AS reason,
    '{"approved_connections":0}' AS evidence,
    p.cost_30d AS monthly_cost,
    p.cost_30d AS est_monthly_savings,
    4.0 AS fit_score,
    'az network private-endpoint delete --ids ' || p.resource_id AS remediation
FROM resource_with_cost p
WHERE p.resource_type = 'microsoft.network/privateendpoints'
  -- Resource Graph properties are stored as compact JSON.
  AND COALESCE(p.properties, '') NOT LIKE '%"status":"Approved"%'
