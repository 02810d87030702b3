-- The newest inventory with each resource's effective cost over the 30 days before the run date
-- (`cost_30d`, 0 when it had none): what most rules select from. The joined columns are renamed so
-- that `cost_30d` can only mean the filled-in value.
SELECT r.*, COALESCE(k.spend, 0.0) AS cost_30d
FROM latest_resources r
LEFT JOIN (SELECT resource_id AS spend_resource_id, cost_30d AS spend FROM resource_cost_30d) k
  ON k.spend_resource_id = r.resource_id
