/* ---
id = "governance_cost_untagged"
title = "Cost without the required allocation tag"
category = "governance"
severity = "medium"
status = "stable"
effort = "high"
what = "Subscriptions where more than `max_untagged_pct` percent of the last 30 days' cost carries no `required_tag` tag."
why = "Untagged cost cannot be charged back or shown back to a team, so nobody owns it and nobody optimizes it."
fix = "Tag the resources (the reason names the share), and assign the built-in policy that requires the tag on new resources."

[params]
# Tag key every charge should carry, canonical form (trimmed, lowercase).
required_tag = "costcenter"
# Share of cost (percent) without the tag above which a subscription is reported.
max_untagged_pct = 10.0
--- */
WITH recent AS (
    SELECT "SubAccountId" AS subscription,
           "SubAccountName" AS subscription_name,
           "EffectiveCost" AS cost,
           strpos(COALESCE("Tags", '{}'), '"' || {{required_tag}} || '":') > 0 AS tagged
    FROM costs
    WHERE CAST("ChargePeriodStart" AS DATE) >= {{as_of}} - INTERVAL '30 days'
      AND CAST("ChargePeriodStart" AS DATE) < {{as_of}}
      AND "SubAccountId" IS NOT NULL
),
per_subscription AS (
    SELECT subscription,
           MAX(subscription_name) AS subscription_name,
           SUM(cost) AS total,
           SUM(CASE WHEN tagged THEN 0.0 ELSE cost END) AS untagged
    FROM recent
    GROUP BY subscription
)
SELECT
    subscription AS resource_id,
    regexp_replace(subscription, '^/subscriptions/', '') AS subscription_id,
    CAST(NULL AS VARCHAR) AS resource_group,
    subscription_name AS resource_name,
    CAST(NULL AS VARCHAR) AS region,
    'governance_cost_untagged' AS rule_id,
    CAST(ROUND(untagged * 100.0 / total, 1) AS VARCHAR) || '% of the last 30 days'' cost has no `'
        || {{required_tag}} || '` tag' AS reason,
    '{"untagged_cost":' || CAST(ROUND(untagged, 2) AS VARCHAR) || ',"total_cost":' || CAST(ROUND(total, 2) AS VARCHAR)
        || ',"required_tag":"' || {{required_tag}} || '"}' AS evidence,
    untagged AS monthly_cost,
    0.0 AS est_monthly_savings,
    5.0 AS fit_score,
    'az policy assignment create --name require-' || {{required_tag}} || ' --scope ' || subscription
        || ' --policy 871b6d14-10aa-478d-b590-94f262ecfa99 --params ''{"tagName":{"value":"' || {{required_tag}} || '"}}''' AS remediation
FROM per_subscription
WHERE total > 0
  AND untagged * 100.0 / total > {{max_untagged_pct}}
