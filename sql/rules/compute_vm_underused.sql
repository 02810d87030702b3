/* ---
id = "compute_vm_underused"
title = "Underused VM: the next smaller size fits"
category = "compute"
severity = "medium"
status = "stable"
effort = "medium"
what = "Running VMs whose P95 of hourly peak CPU stays under `cpu_threshold_pct` and whose memory use (P95, from `Available Memory Bytes`) stays under `memory_threshold_pct` over `window_days` days (a VM without that metric is reported at one lower fit), and whose size has a smaller sibling in its family (half the vCPUs and memory: Dsv3–v5, Dasv5, Esv3–v5, Easv5, Fsv2)."
why = "Halving a VM's size halves its compute price; a VM that never uses half its CPU or memory pays for capacity it does not need. Savings follow the retail or price-sheet price ratio of the two sizes applied to what the VM actually cost (so negotiated discounts carry over), or the cost times the share of vCPUs given up when no price is known."
fix = "Resize to the suggested size in a maintenance window (`az vm resize`). When the VM has more data disks or NICs than the smaller size allows (the evidence says, and the fit score is two lower), consolidate them first or pick another family. VMs whose average CPU is under `idle_below_pct` are the idle rule's case instead."

[params]
# Days of hourly metrics looked at (Advisor and the Optimization Engine use 7).
window_days = 7
# P95 of hourly maximum Percentage CPU below this (percent; the Optimization Engine uses 30).
cpu_threshold_pct = 30.0
# P95 of memory in use below this share of the VM's memory (percent; the Optimization Engine uses 50).
memory_threshold_pct = 50.0
# Average CPU below this is an idle VM, reported by compute_vm_idle rather than here (percent).
idle_below_pct = 5.0
# Share of the window's hours that must have a data point (percent).
min_coverage_pct = 80.0
--- */
WITH sizes AS (
    SELECT * FROM (VALUES
        ('standard_d2s_v3', 2, 8.0, NULL),
        ('standard_d4s_v3', 4, 16.0, 'Standard_D2s_v3'),
        ('standard_d8s_v3', 8, 32.0, 'Standard_D4s_v3'),
        ('standard_d16s_v3', 16, 64.0, 'Standard_D8s_v3'),
        ('standard_d32s_v3', 32, 128.0, 'Standard_D16s_v3'),
        ('standard_d48s_v3', 48, 192.0, 'Standard_D32s_v3'),
        ('standard_d64s_v3', 64, 256.0, 'Standard_D48s_v3'),
        ('standard_d2s_v4', 2, 8.0, NULL),
        ('standard_d4s_v4', 4, 16.0, 'Standard_D2s_v4'),
        ('standard_d8s_v4', 8, 32.0, 'Standard_D4s_v4'),
        ('standard_d16s_v4', 16, 64.0, 'Standard_D8s_v4'),
        ('standard_d32s_v4', 32, 128.0, 'Standard_D16s_v4'),
        ('standard_d48s_v4', 48, 192.0, 'Standard_D32s_v4'),
        ('standard_d64s_v4', 64, 256.0, 'Standard_D48s_v4'),
        ('standard_d2s_v5', 2, 8.0, NULL),
        ('standard_d4s_v5', 4, 16.0, 'Standard_D2s_v5'),
        ('standard_d8s_v5', 8, 32.0, 'Standard_D4s_v5'),
        ('standard_d16s_v5', 16, 64.0, 'Standard_D8s_v5'),
        ('standard_d32s_v5', 32, 128.0, 'Standard_D16s_v5'),
        ('standard_d48s_v5', 48, 192.0, 'Standard_D32s_v5'),
        ('standard_d64s_v5', 64, 256.0, 'Standard_D48s_v5'),
        ('standard_d96s_v5', 96, 384.0, 'Standard_D64s_v5'),
        ('standard_d2as_v5', 2, 8.0, NULL),
        ('standard_d4as_v5', 4, 16.0, 'Standard_D2as_v5'),
        ('standard_d8as_v5', 8, 32.0, 'Standard_D4as_v5'),
        ('standard_d16as_v5', 16, 64.0, 'Standard_D8as_v5'),
        ('standard_d32as_v5', 32, 128.0, 'Standard_D16as_v5'),
        ('standard_d48as_v5', 48, 192.0, 'Standard_D32as_v5'),
        ('standard_d64as_v5', 64, 256.0, 'Standard_D48as_v5'),
        ('standard_d96as_v5', 96, 384.0, 'Standard_D64as_v5'),
        ('standard_e2s_v3', 2, 16.0, NULL),
        ('standard_e4s_v3', 4, 32.0, 'Standard_E2s_v3'),
        ('standard_e8s_v3', 8, 64.0, 'Standard_E4s_v3'),
        ('standard_e16s_v3', 16, 128.0, 'Standard_E8s_v3'),
        ('standard_e32s_v3', 32, 256.0, 'Standard_E16s_v3'),
        ('standard_e48s_v3', 48, 384.0, 'Standard_E32s_v3'),
        ('standard_e64s_v3', 64, 512.0, 'Standard_E48s_v3'),
        ('standard_e2s_v4', 2, 16.0, NULL),
        ('standard_e4s_v4', 4, 32.0, 'Standard_E2s_v4'),
        ('standard_e8s_v4', 8, 64.0, 'Standard_E4s_v4'),
        ('standard_e16s_v4', 16, 128.0, 'Standard_E8s_v4'),
        ('standard_e32s_v4', 32, 256.0, 'Standard_E16s_v4'),
        ('standard_e48s_v4', 48, 384.0, 'Standard_E32s_v4'),
        ('standard_e64s_v4', 64, 512.0, 'Standard_E48s_v4'),
        ('standard_e2s_v5', 2, 16.0, NULL),
        ('standard_e4s_v5', 4, 32.0, 'Standard_E2s_v5'),
        ('standard_e8s_v5', 8, 64.0, 'Standard_E4s_v5'),
        ('standard_e16s_v5', 16, 128.0, 'Standard_E8s_v5'),
        ('standard_e32s_v5', 32, 256.0, 'Standard_E16s_v5'),
        ('standard_e48s_v5', 48, 384.0, 'Standard_E32s_v5'),
        ('standard_e64s_v5', 64, 512.0, 'Standard_E48s_v5'),
        ('standard_e96s_v5', 96, 768.0, 'Standard_E64s_v5'),
        ('standard_e2as_v5', 2, 16.0, NULL),
        ('standard_e4as_v5', 4, 32.0, 'Standard_E2as_v5'),
        ('standard_e8as_v5', 8, 64.0, 'Standard_E4as_v5'),
        ('standard_e16as_v5', 16, 128.0, 'Standard_E8as_v5'),
        ('standard_e32as_v5', 32, 256.0, 'Standard_E16as_v5'),
        ('standard_e48as_v5', 48, 384.0, 'Standard_E32as_v5'),
        ('standard_e64as_v5', 64, 512.0, 'Standard_E48as_v5'),
        ('standard_e96as_v5', 96, 768.0, 'Standard_E64as_v5'),
        ('standard_f2s_v2', 2, 4.0, NULL),
        ('standard_f4s_v2', 4, 8.0, 'Standard_F2s_v2'),
        ('standard_f8s_v2', 8, 16.0, 'Standard_F4s_v2'),
        ('standard_f16s_v2', 16, 32.0, 'Standard_F8s_v2'),
        ('standard_f32s_v2', 32, 64.0, 'Standard_F16s_v2'),
        ('standard_f48s_v2', 48, 96.0, 'Standard_F32s_v2'),
        ('standard_f64s_v2', 64, 128.0, 'Standard_F48s_v2'),
        ('standard_f72s_v2', 72, 144.0, 'Standard_F64s_v2')
    ) AS t(size, vcpus, memory_gib, smaller)
),
cpu AS (
    SELECT resource_id, approx_percentile_cont(maximum, 0.95) AS p95, AVG(average) AS avg_cpu, COUNT(*) AS hours
    FROM metrics
    WHERE metric_name = 'Percentage CPU'
      AND "date" >= {{as_of}} - INTERVAL '{{window_days}} days'
      AND "date" < {{as_of}}
    GROUP BY resource_id
),
memory AS (
    SELECT resource_id, approx_percentile_cont(average, 0.05) AS available_p05
    FROM metrics
    WHERE metric_name = 'Available Memory Bytes'
      AND "date" >= {{as_of}} - INTERVAL '{{window_days}} days'
      AND "date" < {{as_of}}
    GROUP BY resource_id
),
running AS (
    SELECT resource_id, subscription_id, resource_group, resource_name, region, vm_size, cost_30d,
           COALESCE(json_length(properties, 'storageProfile', 'dataDisks'), 0) AS data_disks,
           COALESCE(json_length(properties, 'networkProfile', 'networkInterfaces'), 0) AS nics
    FROM resource_with_cost
    WHERE resource_type = 'microsoft.compute/virtualmachines'
      AND power_state = 'running'
),
candidates AS (
    SELECT v.*, s.vcpus, s.memory_gib, s.smaller, c.p95, c.avg_cpu, c.hours,
           -- The published limits of these families: 2 data disks per vCPU up to 32; 2 NICs up to
           -- 4 vCPUs, 4 at 8, 8 from 16.
           t.vcpus AS target_vcpus,
           LEAST(2 * t.vcpus, 32) AS target_max_data_disks,
           CASE WHEN t.vcpus <= 4 THEN 2 WHEN t.vcpus <= 8 THEN 4 ELSE 8 END AS target_max_nics,
           100.0 * (1.0 - m.available_p05 / (s.memory_gib * 1073741824.0)) AS memory_used_pct,
           pc.linux_hourly AS price_now, ps.linux_hourly AS price_smaller
    FROM running v
    JOIN sizes s ON s.size = lower(v.vm_size)
    JOIN sizes t ON t.size = lower(s.smaller)
    JOIN cpu c ON c.resource_id = v.resource_id
    LEFT JOIN memory m ON m.resource_id = v.resource_id
    LEFT JOIN vm_prices pc ON pc.size = s.size AND pc.region = v.region
    LEFT JOIN vm_prices ps ON ps.size = lower(s.smaller) AND ps.region = v.region
    WHERE s.smaller IS NOT NULL
)
SELECT
    resource_id,
    subscription_id,
    resource_group,
    resource_name,
    region,
    'compute_vm_underused' AS rule_id,
    vm_size || ' to ' || smaller || ': P95 CPU ' || CAST(ROUND(p95, 1) AS VARCHAR) || '%, '
        || COALESCE('memory in use ' || CAST(ROUND(memory_used_pct, 1) AS VARCHAR) || '%', 'memory not measured')
        || ' over ' || CAST({{window_days}} AS VARCHAR) || ' days' AS reason,
    '{"size":"' || vm_size || '","target":"' || smaller || '","cpu_p95_pct":' || CAST(ROUND(p95, 2) AS VARCHAR)
        || ',"memory_used_pct":' || COALESCE(CAST(ROUND(memory_used_pct, 2) AS VARCHAR), 'null') || ',"hours":' || CAST(hours AS VARCHAR)
        || ',"priced":' || CASE WHEN price_now > 0 AND price_smaller IS NOT NULL THEN 'true' ELSE 'false' END
        || ',"data_disks":' || CAST(data_disks AS VARCHAR) || ',"target_max_data_disks":' || CAST(target_max_data_disks AS VARCHAR)
        || ',"nics":' || CAST(nics AS VARCHAR) || ',"target_max_nics":' || CAST(target_max_nics AS VARCHAR) || '}' AS evidence,
    cost_30d AS monthly_cost,
    CASE WHEN price_now > 0 AND price_smaller IS NOT NULL
         THEN cost_30d * GREATEST(1.0 - price_smaller / price_now, 0.0)
         ELSE cost_30d * (1.0 - CAST(target_vcpus AS DOUBLE) / vcpus) END AS est_monthly_savings,
    5.0
        - CASE WHEN price_now > 0 AND price_smaller IS NOT NULL THEN 0.0 ELSE 1.0 END
        - CASE WHEN hours >= {{window_days}} * 24 * 0.95 THEN 0.0 ELSE 1.0 END
        - CASE WHEN memory_used_pct IS NULL THEN 1.0 ELSE 0.0 END
        - CASE WHEN data_disks > target_max_data_disks OR nics > target_max_nics THEN 2.0 ELSE 0.0 END AS fit_score,
    'az vm resize --ids ' || resource_id || ' --size ' || smaller AS remediation
FROM candidates
WHERE avg_cpu >= {{idle_below_pct}}
  AND p95 < {{cpu_threshold_pct}}
  AND COALESCE(memory_used_pct, 0.0) < {{memory_threshold_pct}}
  AND hours >= {{window_days}} * 24 * {{min_coverage_pct}} / 100.0
