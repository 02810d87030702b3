-- The pipeline's anomalies still going on the last day with cost (new or continuing), largest first.
SELECT dimension, value, direction, status, CAST(first_day AS VARCHAR) AS first_day,
       impact, COALESCE(cause_resource_id, cause_meter, '') AS cause, COALESCE(currency, '') AS currency,
       severity, CAST(last_day AS VARCHAR) AS last_day, COALESCE(cause_share, 0) AS cause_share
FROM anomalies
WHERE pipeline = {{pipeline}}
  AND status IN ('new', 'continuing')
ORDER BY ABS(impact) DESC
