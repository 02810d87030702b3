/* ---
id = "sql_elastic_pool_empty"
title = "Empty SQL elastic pool"
category = "data"
severity = "medium"
status = "stable"
effort = "low"
what = "Azure SQL elastic pools that no database in the inventory belongs to (`elasticPoolId`)."
why = "A pool is billed for its eDTUs or vCores whether or not it holds databases."
fix = "Delete the pool, or move the databases it was meant for into it."
--- */
WITH pooled AS (
    SELECT DISTINCT lower(json_get_str(properties, 'elasticPoolId')) AS pool_id
    FROM latest_resources
    WHERE resource_type = 'microsoft.sql/servers/databases'
)
SELECT
    p.resource_id,
    p.subscription_id,
    p.resource_group,
    p.resource_name,
    p.region,
    'sql_elastic_pool_empty' AS rule_id,
    'Elastic pool (' || COALESCE(p.sku_name, '?') || ') holds no database' AS reason,
    '{"sku":"' || COALESCE(p.sku_name, '') || '","databases":0}' AS evidence,
    p.cost_30d AS monthly_cost,
    p.cost_30d AS est_monthly_savings,
    5.0 AS fit_score,
    'az sql elastic-pool delete --ids ' || p.resource_id AS remediation
FROM resource_with_cost p
LEFT JOIN pooled d ON d.pool_id = p.resource_id
WHERE p.resource_type = 'microsoft.sql/servers/elasticpools'
  AND d.pool_id IS NULL
