/* ---
id = "compute_vm_idle"
title = "Idle virtual machine"
category = "compute"
severity = "high"
status = "stable"
effort = "low"
what = "Running VMs whose average CPU over the window is below the threshold, with enough hourly data to be sure."
why = "A running VM is billed every hour whether it works or not; an idle one is spend with no return."
fix = "Deallocate or delete the VM, or schedule it to run only when needed. Confirm with its owner first."

[params]
# Average `Percentage CPU` below this (percent) counts as idle. Optimization Engine uses 5% for shutdown.
cpu_threshold_pct = 5.0
# Days of hourly metrics looked at.
window_days = 7
# Share of the window's hours that must have a data point (percent).
min_coverage_pct = 80.0
--- */
WITH vms AS (
    SELECT *
    FROM resource_with_cost
    WHERE resource_type = 'microsoft.compute/virtualmachines'
      AND power_state = 'running'
),
cpu AS (
    SELECT resource_id,
           AVG(average) AS avg_cpu,
           MAX(maximum) AS max_cpu,
           COUNT(*) AS hours
    FROM metrics
    WHERE metric_name = 'Percentage CPU'
      AND "date" >= {{as_of}} - INTERVAL '{{window_days}} days'
      AND "date" < {{as_of}}
    GROUP BY resource_id
)
SELECT
    v.resource_id,
    v.subscription_id,
    v.resource_group,
    v.resource_name,
    v.region,
    'compute_vm_idle' AS rule_id,
    'Average CPU ' || CAST(ROUND(c.avg_cpu, 2) AS VARCHAR) || '% (peak ' || CAST(ROUND(c.max_cpu, 1) AS VARCHAR)
        || '%) over ' || CAST({{window_days}} AS VARCHAR) || ' days, under the ' || CAST({{cpu_threshold_pct}} AS VARCHAR) || '% threshold' AS reason,
    '{"avg_cpu_pct":' || CAST(ROUND(c.avg_cpu, 3) AS VARCHAR) || ',"max_cpu_pct":' || CAST(ROUND(c.max_cpu, 3) AS VARCHAR)
        || ',"hours":' || CAST(c.hours AS VARCHAR) || ',"vm_size":"' || COALESCE(v.vm_size, '') || '"}' AS evidence,
    v.cost_30d AS monthly_cost,
    v.cost_30d AS est_monthly_savings,
    CASE WHEN c.hours >= {{window_days}} * 24 * 0.95 THEN 5.0 ELSE 4.0 END
        - CASE WHEN c.max_cpu >= 50 THEN 1.0 ELSE 0.0 END AS fit_score,
    'az vm deallocate --ids ' || v.resource_id AS remediation
FROM vms v
JOIN cpu c ON c.resource_id = v.resource_id
WHERE c.avg_cpu < {{cpu_threshold_pct}}
  AND c.hours >= {{window_days}} * 24 * {{min_coverage_pct}} / 100.0
