/* ---
id = "storage_account_legacy"
title = "Legacy (general-purpose v1 or blob) storage account"
category = "storage"
severity = "low"
status = "stable"
effort = "medium"
what = "Storage accounts of a legacy kind (`Storage`, `BlobStorage`) rather than `StorageV2`, `FileStorage` or `BlockBlobStorage`."
why = "Legacy accounts cannot use access tiers and lifecycle policies, the main levers for storage cost; Microsoft is retiring them."
fix = "Upgrade the account in place to general-purpose v2 (`az storage account update --set kind=StorageV2`), then apply tiering."
--- */
SELECT
    s.resource_id,
    s.subscription_id,
    s.resource_group,
    s.resource_name,
    s.region,
    'storage_account_legacy' AS rule_id,
    'Storage account kind is ' || COALESCE(s.kind, 'unknown') || ', not StorageV2' AS reason,
    '{"kind":"' || COALESCE(s.kind, '') || '","sku":"' || COALESCE(s.sku_name, '') || '"}' AS evidence,
    s.cost_30d AS monthly_cost,
    0.0 AS est_monthly_savings,
    4.0 AS fit_score,
    'az storage account update --ids ' || s.resource_id || ' --set kind=StorageV2 --access-tier Hot' AS remediation
FROM resource_with_cost s
WHERE s.resource_type = 'microsoft.storage/storageaccounts'
  AND COALESCE(s.kind, '') NOT IN ('StorageV2', 'FileStorage', 'BlockBlobStorage')
