/* ---
id = "appservice_plan_underused"
title = "Underused App Service plan"
category = "app"
severity = "medium"
status = "stable"
effort = "medium"
what = "Dedicated App Service plans hosting apps whose P99 of hourly peak CPU stays under `cpu_threshold_pct` and P99 of hourly memory under `memory_threshold_pct` over `window_days` days."
why = "Each step down in an App Service tier halves the price; a plan this quiet pays for capacity it does not use."
fix = "Scale the plan down one size (e.g. P2v3 to P1v3) or to fewer instances, then watch CPU and memory for a week."

[params]
# Days of hourly metrics looked at (the Optimization Engine uses 7).
window_days = 7
# P99 of hourly maximum CpuPercentage below this (percent).
cpu_threshold_pct = 30.0
# P99 of hourly average MemoryPercentage below this (percent).
memory_threshold_pct = 50.0
# Share of the window's hours that must have a data point (percent).
min_coverage_pct = 80.0
--- */
WITH cpu AS (
    SELECT resource_id, approx_percentile_cont(maximum, 0.99) AS p99, COUNT(*) AS hours
    FROM metrics
    WHERE metric_name = 'CpuPercentage'
      AND "date" >= {{as_of}} - INTERVAL '{{window_days}} days'
      AND "date" < {{as_of}}
    GROUP BY resource_id
),
memory AS (
    SELECT resource_id, approx_percentile_cont(average, 0.99) AS p99
    FROM metrics
    WHERE metric_name = 'MemoryPercentage'
      AND "date" >= {{as_of}} - INTERVAL '{{window_days}} days'
      AND "date" < {{as_of}}
    GROUP BY resource_id
)
SELECT
    p.resource_id,
    p.subscription_id,
    p.resource_group,
    p.resource_name,
    p.region,
    'appservice_plan_underused' AS rule_id,
    'P99 CPU ' || CAST(ROUND(c.p99, 1) AS VARCHAR) || '%, P99 memory ' || CAST(ROUND(m.p99, 1) AS VARCHAR)
        || '% over ' || CAST({{window_days}} AS VARCHAR) || ' days: one size smaller (' || COALESCE(p.sku_name, '?')
        || ' now) fits' AS reason,
    '{"cpu_p99_pct":' || CAST(ROUND(c.p99, 2) AS VARCHAR) || ',"memory_p99_pct":' || CAST(ROUND(m.p99, 2) AS VARCHAR)
        || ',"hours":' || CAST(c.hours AS VARCHAR) || ',"sku":"' || COALESCE(p.sku_name, '') || '"}' AS evidence,
    p.cost_30d AS monthly_cost,
    p.cost_30d / 2.0 AS est_monthly_savings,
    CASE WHEN c.hours >= {{window_days}} * 24 * 0.95 THEN 4.0 ELSE 3.0 END AS fit_score,
    'az appservice plan update --ids ' || p.resource_id || ' --sku <one size smaller than ' || COALESCE(p.sku_name, '?') || '>' AS remediation
FROM resource_with_cost p
JOIN cpu c ON c.resource_id = p.resource_id
JOIN memory m ON m.resource_id = p.resource_id
WHERE p.resource_type = 'microsoft.web/serverfarms'
  AND COALESCE(json_get_int(p.properties, 'numberOfSites'), 0) > 0
  AND COALESCE(p.sku_tier, '') NOT IN ('Free', 'Shared', 'Dynamic')
  AND c.p99 < {{cpu_threshold_pct}}
  AND m.p99 < {{memory_threshold_pct}}
  AND c.hours >= {{window_days}} * 24 * {{min_coverage_pct}} / 100.0
