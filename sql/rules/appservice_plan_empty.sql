/* ---
id = "appservice_plan_empty"
title = "Empty App Service plan"
category = "app"
severity = "medium"
status = "stable"
effort = "low"
what = "Dedicated App Service plans (not Free or Shared) that host no app (`numberOfSites` is 0)."
why = "A dedicated plan is billed for its instances whether or not any app runs on it."
fix = "Delete the plan, or move apps onto it from another plan and delete that one instead."
--- */
SELECT
    p.resource_id,
    p.subscription_id,
    p.resource_group,
    p.resource_name,
    p.region,
    'appservice_plan_empty' AS rule_id,
    'App Service plan (' || COALESCE(p.sku_name, '?') || ') hosts no app' AS reason,
    '{"sku":"' || COALESCE(p.sku_name, '') || '","tier":"' || COALESCE(p.sku_tier, '') || '","sites":0}' AS evidence,
    p.cost_30d AS monthly_cost,
    p.cost_30d AS est_monthly_savings,
    5.0 AS fit_score,
    'az appservice plan delete --ids ' || p.resource_id || ' --yes' AS remediation
FROM resource_with_cost p
WHERE p.resource_type = 'microsoft.web/serverfarms'
  AND json_get_int(p.properties, 'numberOfSites') = 0
  AND COALESCE(p.sku_tier, '') NOT IN ('Free', 'Shared', 'Dynamic')
