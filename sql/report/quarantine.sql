-- Rows kept out of the lake, per dataset and reason (the reason's text up to its first colon
-- groups rows of one kind).
SELECT COALESCE(dataset, '') AS dataset, split_part(reason, ':', 1) AS reason, COUNT(*) AS rows
FROM quarantine
GROUP BY 1, 2
ORDER BY 3 DESC, 1, 2
LIMIT 20
