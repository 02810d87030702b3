-- The billing currency most rows use.
SELECT "BillingCurrency" AS currency
FROM costs
WHERE "BillingCurrency" IS NOT NULL
GROUP BY 1
ORDER BY COUNT(*) DESC
LIMIT 1
