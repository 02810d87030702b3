-- This run's total-cost forecast per billing currency (written by the forecast stage), nearest day
-- first.
SELECT CAST(date AS VARCHAR) AS day, COALESCE(currency, '') AS currency,
       point, lower_80, upper_80, lower_95, upper_95
FROM forecasts
WHERE run_date = {{as_of}}
  AND pipeline = {{pipeline}}
  AND scope = 'total'
ORDER BY 2, date
