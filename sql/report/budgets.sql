-- This run's budgets: spend so far and forecast at the period's end against the amount.
SELECT budget, currency, amount, actual, forecast, status, CAST(period_end AS VARCHAR) AS period_end
FROM budget_status
WHERE run_date = {{as_of}}
  AND pipeline = {{pipeline}}
ORDER BY budget
