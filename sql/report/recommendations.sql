-- This run's findings, highest priority first, then by savings; snoozed and dismissed ones left out.
-- A resource's findings that are alternatives (resize or reserve; delete an old or an orphaned
-- snapshot) save its money once: the largest is counted, the others name it. Findings of an
-- `additive` rule act on another part of the bill and always count.
WITH open AS (
  SELECT r.*, COALESCE(r.savings_overlap, 'alternative') AS overlap
  FROM recommendations r
  WHERE r.run_date = {{as_of}}
    AND r.pipeline = {{pipeline}}
    AND NOT EXISTS (
      SELECT 1 FROM findings f
      WHERE f.pipeline = r.pipeline AND f.rule_id = r.rule_id AND f.resource_id = r.resource_id
        AND f.status IN ('snoozed', 'dismissed')
    )
),
ranked AS (
  SELECT *,
         ROW_NUMBER() OVER (PARTITION BY resource_id, overlap ORDER BY est_monthly_savings DESC, rule_id) AS rank,
         FIRST_VALUE(title) OVER (PARTITION BY resource_id, overlap ORDER BY est_monthly_savings DESC, rule_id) AS best
  FROM open
)
SELECT rule_id, title, resource_name, resource_group, reason, est_monthly_savings, fit_score, priority,
       COALESCE(billing_currency, '') AS currency, category, remediation, resource_id,
       overlap = 'additive' OR rank = 1 AS counted,
       CASE WHEN overlap = 'additive' OR rank = 1 THEN '' ELSE best END AS alternative_to
FROM ranked
ORDER BY CASE priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, est_monthly_savings DESC, rule_id, resource_name
