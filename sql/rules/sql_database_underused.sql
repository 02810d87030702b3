/* ---
id = "sql_database_underused"
title = "Underused SQL database (DTU)"
category = "data"
severity = "medium"
status = "stable"
effort = "medium"
what = "Single Azure SQL databases on a DTU tier whose P99 of hourly peak DTU use stays under `dtu_threshold_pct` over `window_days` days (databases in an elastic pool are left out)."
why = "Each DTU tier step down roughly halves the price; a database this quiet pays for capacity it does not use."
fix = "Scale the database down one service objective (e.g. S3 to S2), or move it into an elastic pool with similar databases."

[params]
# Days of hourly metrics looked at (the Optimization Engine uses 7).
window_days = 7
# P99 of hourly maximum dtu_consumption_percent below this (percent; the Optimization Engine uses 40).
dtu_threshold_pct = 40.0
# Share of the window's hours that must have a data point (percent).
min_coverage_pct = 80.0
--- */
WITH dtu AS (
    SELECT resource_id, approx_percentile_cont(maximum, 0.99) AS p99, COUNT(*) AS hours
    FROM metrics
    WHERE metric_name = 'dtu_consumption_percent'
      AND "date" >= {{as_of}} - INTERVAL '{{window_days}} days'
      AND "date" < {{as_of}}
    GROUP BY resource_id
)
SELECT
    d.resource_id,
    d.subscription_id,
    d.resource_group,
    d.resource_name,
    d.region,
    'sql_database_underused' AS rule_id,
    'P99 DTU use ' || CAST(ROUND(u.p99, 1) AS VARCHAR) || '% over ' || CAST({{window_days}} AS VARCHAR)
        || ' days: one service objective down from ' || COALESCE(d.sku_name, '?') || ' fits' AS reason,
    '{"dtu_p99_pct":' || CAST(ROUND(u.p99, 2) AS VARCHAR) || ',"hours":' || CAST(u.hours AS VARCHAR)
        || ',"sku":"' || COALESCE(d.sku_name, '') || '"}' AS evidence,
    d.cost_30d AS monthly_cost,
    d.cost_30d / 2.0 AS est_monthly_savings,
    CASE WHEN u.hours >= {{window_days}} * 24 * 0.95 THEN 4.0 ELSE 3.0 END AS fit_score,
    'az sql db update --ids ' || d.resource_id || ' --service-objective <one below ' || COALESCE(d.sku_name, '?') || '>' AS remediation
FROM resource_with_cost d
JOIN dtu u ON u.resource_id = d.resource_id
WHERE d.resource_type = 'microsoft.sql/servers/databases'
  AND json_get_str(d.properties, 'elasticPoolId') IS NULL
  AND u.p99 < {{dtu_threshold_pct}}
  AND u.hours >= {{window_days}} * 24 * {{min_coverage_pct}} / 100.0
