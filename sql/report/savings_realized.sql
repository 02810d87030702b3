-- Monthly savings realized by findings resolved this month (the run date's), per currency.
SELECT currency, SUM(amount) AS realized
FROM (
  SELECT COALESCE(f.realized_monthly_savings, 0) AS amount,
         COALESCE((SELECT MAX(r.billing_currency) FROM recommendations r
                   WHERE r.pipeline = f.pipeline AND r.rule_id = f.rule_id AND r.resource_id = f.resource_id), '') AS currency
  FROM findings f
  WHERE f.pipeline = {{pipeline}} AND f.status = 'resolved'
    AND f.resolved_on >= {{as_of_month_start}} AND f.resolved_on <= {{as_of}}
) s
GROUP BY 1
ORDER BY 1
