// The read-only roles cloudoptima needs across the subscription: inventory (Reader), metrics
// (Monitoring Reader) and costs (Cost Management Reader). Assigned by container-apps-job.bicep.

targetScope = 'subscription'

@description('Object id of the managed identity.')
param principalId string

var roles = [
  'acdd72a7-3385-48ef-bd42-f606fba81ae7' // Reader
  '43d0d8ad-25c7-4714-9337-8ba259a9fe05' // Monitoring Reader
  '72fafb9e-0641-4937-9268-a91bfd8191a3' // Cost Management Reader
]

resource assignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in roles: {
  name: guid(subscription().id, principalId, role)
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
  }
}]
