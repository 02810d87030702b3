-- Findings that opened or were resolved on the run date, with the money involved in the
-- currency of the finding's last recommendation.
SELECT f.status, f.rule_id, f.resource_name, f.resource_group,
       CASE WHEN f.status = 'resolved' THEN COALESCE(f.realized_monthly_savings, 0) ELSE f.est_monthly_savings END AS amount,
       COALESCE((SELECT MAX(r.billing_currency) FROM recommendations r
                 WHERE r.pipeline = f.pipeline AND r.rule_id = f.rule_id AND r.resource_id = f.resource_id), '') AS currency
FROM findings f
WHERE f.pipeline = {{pipeline}}
  AND ((f.status = 'new' AND f.first_seen = {{as_of}}) OR (f.status = 'resolved' AND f.resolved_on = {{as_of}}))
ORDER BY CASE f.status WHEN 'new' THEN 0 ELSE 1 END, amount DESC, f.rule_id, f.resource_name
