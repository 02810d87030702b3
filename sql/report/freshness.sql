-- Per source of cost data: its provider, the last day it has cost for, and its rows.
SELECT COALESCE("x_SourceName", '(unnamed)') AS source, COALESCE("ProviderName", '') AS provider,
       CAST(MAX(CAST("ChargePeriodStart" AS DATE)) AS VARCHAR) AS last_day, COUNT(*) AS rows
FROM costs
GROUP BY 1, 2
ORDER BY 1, 2
