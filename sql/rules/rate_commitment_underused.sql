/* ---
id = "rate_commitment_underused"
title = "Reservation or savings plan going unused"
category = "rate"
severity = "high"
status = "stable"
effort = "medium"
what = "Reservations and savings plans whose utilization over the last 30 days (cost of `Used` rows over `Used` plus `Unused` rows, from amortized cost data) is under `min_utilization_pct`, with at least `min_unused` unused."
why = "A commitment is paid whether or not anything uses it: the unused share is money spent on nothing. Most often the VMs it was bought for were resized, moved or deleted, or its scope is narrower than where the matching usage now runs."
fix = "Widen the scope to shared (or the management group) so usage elsewhere can use it; exchange a reservation for the size and region that now run (exchanges keep the remaining value); for the future, buy from the last 30 days of steady usage only."

[params]
# Utilization (percent) below which a commitment is reported (Advisor and the FinOps toolkit alert at 95-100).
min_utilization_pct = 95.0
# Unused cost over the last 30 days below which it is not reported (billing currency).
min_unused = 10.0
--- */
WITH recent AS (
    SELECT lower("CommitmentDiscountId") AS commitment_id,
           "CommitmentDiscountName" AS commitment_name,
           "CommitmentDiscountType" AS commitment_type,
           "CommitmentDiscountStatus" AS status,
           "SubAccountId" AS subscription,
           "RegionId" AS region,
           "EffectiveCost" AS cost
    FROM costs
    WHERE CAST("ChargePeriodStart" AS DATE) >= {{as_of}} - INTERVAL '30 days'
      AND CAST("ChargePeriodStart" AS DATE) < {{as_of}}
      AND "CommitmentDiscountId" IS NOT NULL
      AND "CommitmentDiscountStatus" IN ('Used', 'Unused')
),
per_commitment AS (
    SELECT commitment_id,
           MAX(commitment_name) AS commitment_name,
           MAX(commitment_type) AS commitment_type,
           MAX(subscription) AS subscription,
           MAX(region) AS region,
           SUM(CASE WHEN status = 'Used' THEN cost ELSE 0.0 END) AS used,
           SUM(CASE WHEN status = 'Unused' THEN cost ELSE 0.0 END) AS unused
    FROM recent
    GROUP BY commitment_id
),
measured AS (
    SELECT *, 100.0 * used / (used + unused) AS utilization
    FROM per_commitment
    WHERE used + unused > 0
)
SELECT
    commitment_id AS resource_id,
    regexp_replace(lower(subscription), '^/subscriptions/', '') AS subscription_id,
    CAST(NULL AS VARCHAR) AS resource_group,
    COALESCE(commitment_name, regexp_replace(commitment_id, '^.*/', '')) AS resource_name,
    region,
    'rate_commitment_underused' AS rule_id,
    COALESCE(commitment_type, 'Commitment') || ' ' || CAST(ROUND(utilization, 1) AS VARCHAR)
        || '% used over the last 30 days' AS reason,
    '{"utilization_pct":' || CAST(ROUND(utilization, 2) AS VARCHAR) || ',"used_cost":' || CAST(ROUND(used, 2) AS VARCHAR)
        || ',"unused_cost":' || CAST(ROUND(unused, 2) AS VARCHAR) || '}' AS evidence,
    used + unused AS monthly_cost,
    unused AS est_monthly_savings,
    4.0 AS fit_score,
    CASE WHEN commitment_id LIKE '%/microsoft.billingbenefits/%'
         THEN 'PATCH https://management.azure.com' || commitment_id
              || '?api-version=2022-11-01 {"properties":{"appliedScopeType":"Shared"}}'
         ELSE 'az reservations reservation update --reservation-order-id '
              || regexp_replace(commitment_id, '^.*/reservationorders/([^/]+)/.*$', '\1')
              || ' --reservation-id ' || regexp_replace(commitment_id, '^.*/reservations/', '')
              || ' --applied-scope-type Shared' END AS remediation
FROM measured
WHERE utilization < {{min_utilization_pct}}
  AND unused >= {{min_unused}}
