-- The newest inventory snapshot: one row per resource as it was on the latest snapshot date.
SELECT * FROM resources WHERE snapshot_date = (SELECT MAX(snapshot_date) FROM resources)
