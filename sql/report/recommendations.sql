-- This run's findings, largest savings first.
SELECT rule_id, title, resource_name, resource_group, reason, est_monthly_savings, fit_score
FROM recommendations
WHERE run_date = {{as_of}}
ORDER BY est_monthly_savings DESC, rule_id, resource_name
