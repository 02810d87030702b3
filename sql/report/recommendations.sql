-- This run's findings, highest priority first, then by savings.
SELECT rule_id, title, resource_name, resource_group, reason, est_monthly_savings, fit_score, priority
FROM recommendations
WHERE run_date = {{as_of}}
ORDER BY CASE priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, est_monthly_savings DESC, rule_id, resource_name
