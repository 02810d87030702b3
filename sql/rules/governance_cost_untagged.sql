/* ---
id = "governance_cost_untagged"
title = "Cost without the required allocation tags"
category = "governance"
severity = "medium"
status = "stable"
effort = "high"
what = "Subscriptions where more than `max_untagged_pct` percent of the last 30 days' cost lacks one or more of the `required_tags`."
why = "Untagged cost cannot be charged back or shown back to a team, so nobody owns it and nobody optimizes it."
fix = "Tag the resources (the reason names the share and the tags), and assign the built-in policy that requires each tag on new resources."

[params]
# Tag keys every charge should carry, canonical form (trimmed, lowercase); a charge lacking any of them counts as untagged.
required_tags = ["costcenter"]
# Share of cost (percent) lacking a required tag above which a subscription is reported.
max_untagged_pct = 10.0
--- */
-- Tag sets are few next to cost rows: costs are summed per subscription and tag set first, and the
-- required keys are looked up once per distinct tag set.
WITH recent AS (
    SELECT "SubAccountId" AS subscription,
           MAX("SubAccountName") AS subscription_name,
           COALESCE("Tags", '{}') AS tags,
           SUM("EffectiveCost") AS cost
    FROM costs
    WHERE CAST("ChargePeriodStart" AS DATE) >= {{as_of}} - INTERVAL '30 days'
      AND CAST("ChargePeriodStart" AS DATE) < {{as_of}}
      AND "SubAccountId" IS NOT NULL
    GROUP BY "SubAccountId", COALESCE("Tags", '{}')
),
required AS (
    SELECT unnest({{required_tags}}) AS tag_key
),
-- The tags named in the reason, and the policy assignment each needs (`{scope}` filled in below).
wording AS (
    SELECT COUNT(*) AS keys,
           string_agg('`' || tag_key || '`', ', ' ORDER BY tag_key) AS names,
           string_agg('az policy assignment create --name require-' || tag_key || ' --scope {scope}'
               || ' --policy 871b6d14-10aa-478d-b590-94f262ecfa99 --params ''{"tagName":{"value":"' || tag_key || '"}}''',
               ' && ' ORDER BY tag_key) AS commands
    FROM required
),
tag_sets AS (
    SELECT t.tags,
           SUM(CASE WHEN strpos(t.tags, '"' || q.tag_key || '":') > 0 THEN 0 ELSE 1 END) AS missing_keys
    FROM (SELECT DISTINCT tags FROM recent) t
    CROSS JOIN required q
    GROUP BY t.tags
),
per_subscription AS (
    SELECT r.subscription,
           MAX(r.subscription_name) AS subscription_name,
           SUM(r.cost) AS total,
           SUM(CASE WHEN s.missing_keys > 0 THEN r.cost ELSE 0.0 END) AS untagged
    FROM recent r
    JOIN tag_sets s ON s.tags = r.tags
    GROUP BY r.subscription
)
SELECT
    p.subscription AS resource_id,
    regexp_replace(p.subscription, '^/subscriptions/', '') AS subscription_id,
    CAST(NULL AS VARCHAR) AS resource_group,
    p.subscription_name AS resource_name,
    CAST(NULL AS VARCHAR) AS region,
    'governance_cost_untagged' AS rule_id,
    CAST(ROUND(p.untagged * 100.0 / p.total, 1) AS VARCHAR) || '% of the last 30 days'' cost lacks '
        || CASE WHEN w.keys = 1 THEN 'a ' || w.names || ' tag' ELSE 'one of the tags ' || w.names END AS reason,
    '{"untagged_cost":' || CAST(ROUND(p.untagged, 2) AS VARCHAR) || ',"total_cost":' || CAST(ROUND(p.total, 2) AS VARCHAR)
        || ',"required_tags":[' || replace(w.names, '`', '"') || ']}' AS evidence,
    p.untagged AS monthly_cost,
    0.0 AS est_monthly_savings,
    5.0 AS fit_score,
    replace(w.commands, '{scope}', p.subscription) AS remediation
FROM per_subscription p
CROSS JOIN wording w
WHERE p.total > 0
  AND p.untagged * 100.0 / p.total > {{max_untagged_pct}}
