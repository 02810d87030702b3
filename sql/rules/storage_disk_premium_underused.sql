/* ---
id = "storage_disk_premium_underused"
title = "Premium SSD using a sliver of its performance"
category = "storage"
severity = "medium"
status = "stable"
effort = "medium"
what = "Attached Premium SSD disks (not v2) whose peak IOPS and peak throughput over `window_days` days stay under `max_use_pct` percent of their performance tier's limits."
why = "Premium SSD is priced for its guaranteed IOPS and MB/s; a disk that never uses them costs about half as much as Standard SSD."
fix = "Deallocate the VM and change the disk to Standard SSD (`az disk update --sku StandardSSD_LRS`); keep Premium where the VM size or an SLA needs it."

[params]
# Days of hourly `Composite Disk` metrics looked at.
window_days = 7
# Peak IOPS and MB/s both under this share of the tier's limits (percent; the Optimization Engine uses 5).
max_use_pct = 5.0
# Share of the disk's cost saved on Standard SSD (percent).
standard_saving_pct = 50.0
# Share of the window's hours that must have a data point (percent).
min_coverage_pct = 80.0
--- */
WITH limits AS (
    SELECT * FROM (VALUES
        ('P1', 120, 25), ('P2', 120, 25), ('P3', 120, 25), ('P4', 120, 25), ('P6', 240, 50),
        ('P10', 500, 100), ('P15', 1100, 125), ('P20', 2300, 150), ('P30', 5000, 200),
        ('P40', 7500, 250), ('P50', 7500, 250), ('P60', 16000, 500), ('P70', 18000, 750),
        ('P80', 20000, 900)
    ) AS t(tier, iops, mbps)
),
disks AS (
    SELECT d.*,
           CASE WHEN d.disk_size_gb <= 4 THEN 'P1' WHEN d.disk_size_gb <= 8 THEN 'P2'
                WHEN d.disk_size_gb <= 16 THEN 'P3' WHEN d.disk_size_gb <= 32 THEN 'P4'
                WHEN d.disk_size_gb <= 64 THEN 'P6' WHEN d.disk_size_gb <= 128 THEN 'P10'
                WHEN d.disk_size_gb <= 256 THEN 'P15' WHEN d.disk_size_gb <= 512 THEN 'P20'
                WHEN d.disk_size_gb <= 1024 THEN 'P30' WHEN d.disk_size_gb <= 2048 THEN 'P40'
                WHEN d.disk_size_gb <= 4096 THEN 'P50' WHEN d.disk_size_gb <= 8192 THEN 'P60'
                WHEN d.disk_size_gb <= 16384 THEN 'P70' ELSE 'P80' END AS tier
    FROM resource_with_cost d
    WHERE d.resource_type = 'microsoft.compute/disks'
      AND d.sku_name LIKE 'Premium%'
      AND d.sku_name NOT LIKE 'PremiumV2%'
      AND COALESCE(d.managed_by, '') <> ''
),
io AS (
    SELECT resource_id,
           MAX(CASE WHEN metric_name = 'Composite Disk Read Operations/sec' THEN maximum END)
             + MAX(CASE WHEN metric_name = 'Composite Disk Write Operations/sec' THEN maximum END) AS peak_iops,
           (MAX(CASE WHEN metric_name = 'Composite Disk Read Bytes/sec' THEN maximum END)
             + MAX(CASE WHEN metric_name = 'Composite Disk Write Bytes/sec' THEN maximum END)) / 1048576.0 AS peak_mbps,
           COUNT(DISTINCT "timestamp") AS hours
    FROM metrics
    WHERE metric_name LIKE 'Composite Disk %'
      AND "date" >= {{as_of}} - INTERVAL '{{window_days}} days'
      AND "date" < {{as_of}}
    GROUP BY resource_id
)
SELECT
    d.resource_id,
    d.subscription_id,
    d.resource_group,
    d.resource_name,
    d.region,
    'storage_disk_premium_underused' AS rule_id,
    l.tier || ' disk peaks at ' || CAST(ROUND(i.peak_iops, 1) AS VARCHAR) || ' IOPS of ' || CAST(l.iops AS VARCHAR)
        || ' and ' || CAST(ROUND(i.peak_mbps, 2) AS VARCHAR) || ' MB/s of ' || CAST(l.mbps AS VARCHAR) AS reason,
    '{"tier":"' || l.tier || '","peak_iops":' || CAST(ROUND(i.peak_iops, 2) AS VARCHAR) || ',"peak_mbps":'
        || CAST(ROUND(i.peak_mbps, 3) AS VARCHAR) || ',"hours":' || CAST(i.hours AS VARCHAR) || '}' AS evidence,
    d.cost_30d AS monthly_cost,
    d.cost_30d * {{standard_saving_pct}} / 100.0 AS est_monthly_savings,
    4.0 AS fit_score,
    'az disk update --ids ' || d.resource_id || ' --sku StandardSSD_LRS  # after deallocating ' || COALESCE(d.managed_by, 'its VM') AS remediation
FROM disks d
JOIN limits l ON l.tier = d.tier
JOIN io i ON i.resource_id = d.resource_id
WHERE i.peak_iops < l.iops * {{max_use_pct}} / 100.0
  AND i.peak_mbps < l.mbps * {{max_use_pct}} / 100.0
  AND i.hours >= {{window_days}} * 24 * {{min_coverage_pct}} / 100.0
