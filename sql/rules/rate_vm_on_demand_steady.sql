/* ---
id = "rate_vm_on_demand_steady"
title = "VM running on demand all month: a reservation would cover it"
category = "rate"
severity = "medium"
status = "stable"
effort = "medium"
what = "Running VMs billed at pay-as-you-go rates with no commitment discount for at least `min_hours_per_day` hours on at least `min_days` of the last 30 days, and not idle (average CPU of the last 7 days at or above `idle_below_pct`, or no CPU metrics)."
why = "A VM that runs around the clock is the textbook case for a 1-year reservation or savings plan: the same VM for roughly a third less than pay-as-you-go."
fix = "Buy a 1-year reservation for the size and region (or a compute savings plan for mixed sizes); compare with the `reservation_recommendations` table and Advisor first, and resize underused VMs before committing."

[params]
# Days of the last 30 with a full day of pay-as-you-go usage.
min_days = 28
# Hours of usage that make a full day.
min_hours_per_day = 20.0
# Saving of a 1-year reservation over pay-as-you-go (percent; 30-40% for general-purpose VMs).
reservation_saving_pct = 35.0
# Average CPU below this is an idle VM: switch it off rather than commit to it (percent).
idle_below_pct = 5.0
--- */
WITH usage AS (
    SELECT "ResourceId" AS resource_id, CAST("ChargePeriodStart" AS DATE) AS day, SUM("ConsumedQuantity") AS hours
    FROM costs
    WHERE CAST("ChargePeriodStart" AS DATE) >= {{as_of}} - INTERVAL '30 days'
      AND CAST("ChargePeriodStart" AS DATE) < {{as_of}}
      AND "ChargeCategory" = 'Usage'
      AND "PricingCategory" = 'Standard'
      AND "CommitmentDiscountId" IS NULL
      AND "ResourceId" LIKE '%/providers/microsoft.compute/virtualmachines/%'
    GROUP BY "ResourceId", CAST("ChargePeriodStart" AS DATE)
),
steady AS (
    SELECT resource_id, COUNT(*) AS days
    FROM usage
    WHERE hours >= {{min_hours_per_day}}
    GROUP BY resource_id
),
cpu AS (
    SELECT resource_id, AVG(average) AS avg_cpu
    FROM metrics
    WHERE metric_name = 'Percentage CPU'
      AND "date" >= {{as_of}} - INTERVAL '7 days'
      AND "date" < {{as_of}}
    GROUP BY resource_id
)
SELECT
    v.resource_id,
    v.subscription_id,
    v.resource_group,
    v.resource_name,
    v.region,
    'rate_vm_on_demand_steady' AS rule_id,
    COALESCE(v.vm_size, 'VM') || ' ran on pay-as-you-go rates all day on ' || CAST(s.days AS VARCHAR)
        || ' of the last 30 days' AS reason,
    '{"days":' || CAST(s.days AS VARCHAR) || ',"size":"' || COALESCE(v.vm_size, '') || '","region":"'
        || COALESCE(v.region, '') || '"}' AS evidence,
    v.cost_30d AS monthly_cost,
    v.cost_30d * {{reservation_saving_pct}} / 100.0 AS est_monthly_savings,
    3.0 AS fit_score,
    'az reservations reservation-order purchase --sku ' || COALESCE(v.vm_size, '<size>') || ' --location '
        || COALESCE(v.region, '<region>') || ' --term P1Y --quantity 1 --reserved-resource-type VirtualMachines'
        || ' --applied-scope-type Shared --billing-scope ' || v.subscription_id AS remediation
FROM resource_with_cost v
JOIN steady s ON s.resource_id = v.resource_id
LEFT JOIN cpu c ON c.resource_id = v.resource_id
WHERE v.resource_type = 'microsoft.compute/virtualmachines'
  AND v.power_state = 'running'
  AND s.days >= {{min_days}}
  AND COALESCE(c.avg_cpu, 100.0) >= {{idle_below_pct}}
