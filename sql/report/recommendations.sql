-- This run's findings, highest priority first, then by savings; snoozed and dismissed ones left out.
SELECT r.rule_id, r.title, r.resource_name, r.resource_group, r.reason, r.est_monthly_savings, r.fit_score, r.priority
FROM recommendations r
WHERE r.run_date = {{as_of}}
  AND r.pipeline = {{pipeline}}
  AND NOT EXISTS (
    SELECT 1 FROM findings f
    WHERE f.pipeline = r.pipeline AND f.rule_id = r.rule_id AND f.resource_id = r.resource_id
      AND f.status IN ('snoozed', 'dismissed')
  )
ORDER BY CASE r.priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, r.est_monthly_savings DESC, r.rule_id, r.resource_name
