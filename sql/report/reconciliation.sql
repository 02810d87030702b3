-- The latest check of each source and billing period against the source's own total.
SELECT source, billing_period, source_total, lake_total, quarantined_total, difference, reconciled
FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY source, billing_period ORDER BY run_id DESC) AS n
  FROM reconciliation
) r
WHERE n = 1
ORDER BY source, billing_period
