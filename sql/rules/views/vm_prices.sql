-- Pay-as-you-go hourly prices per VM size and region, Linux and Windows, from retail prices or a
-- price sheet (spot and low-priority meters left out): the basis of VM savings estimates.
SELECT lower(x_ArmSkuName) AS size,
       lower(x_SkuRegion) AS region,
       MIN(CASE WHEN COALESCE(x_SkuDescription, '') NOT LIKE '%Windows%' THEN ListUnitPrice END) AS linux_hourly,
       MIN(CASE WHEN COALESCE(x_SkuDescription, '') LIKE '%Windows%' THEN ListUnitPrice END) AS windows_hourly
FROM prices
WHERE x_ArmSkuName IS NOT NULL
  AND lower(COALESCE(x_SkuPriceType, 'consumption')) = 'consumption'
  AND COALESCE(SkuMeter, '') NOT LIKE '%Low Priority%'
  AND COALESCE(SkuMeter, '') NOT LIKE '%Spot%'
GROUP BY lower(x_ArmSkuName), lower(x_SkuRegion)
