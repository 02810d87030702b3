// cloudoptima as an Azure Container Apps job: one run a day on a schedule, with a user-assigned
// managed identity that reads Azure (Reader, Monitoring Reader and Cost Management Reader on the
// subscription), reads the cost exports (Storage Blob Data Reader) and writes the lake (Storage
// Blob Data Contributor). Nothing it is granted can change a resource.
//
//   az deployment group create -g finops -f deploy/azure/container-apps-job.bicep \
//     -p image=ghcr.io/example/cloudoptima:0.1.0 storageAccountName=contosofinops
//
// Deploy it to the resource group that holds the storage account; the subscription-wide roles are
// assigned through subscription-roles.bicep.

targetScope = 'resourceGroup'

@description('Container image with the cloudoptima binary (see the Dockerfile).')
param image string

@description('Storage account (in this resource group) holding the exports and the lake containers.')
param storageAccountName string

@description('Container the Cost Management exports write to.')
param exportsContainer string = 'exports'

@description('Container of the lake.')
param lakeContainer string = 'lake'

@description('Cron expression (UTC, five fields) for the daily run.')
param cronExpression string = '0 6 * * *'

param location string = resourceGroup().location

@description('Name prefix of the resources created here.')
param name string = 'cloudoptima'

@description('Log Analytics workspace for the Container Apps environment logs (empty: none).')
param logAnalyticsWorkspaceId string = ''

var roles = {
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${name}-identity'
  location: location
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

resource exports 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: exportsContainer
}

resource lake 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: lakeContainer
}

resource readExports 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: exports
  name: guid(exports.id, identity.id, roles.storageBlobDataReader)
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
  }
}

resource writeLake 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: lake
  name: guid(lake.id, identity.id, roles.storageBlobDataContributor)
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
  }
}

module subscriptionRoles 'subscription-roles.bicep' = {
  name: '${name}-subscription-roles'
  scope: subscription()
  params: {
    principalId: identity.properties.principalId
  }
}

resource appEnvironment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: '${name}-env'
  location: location
  properties: empty(logAnalyticsWorkspaceId) ? {} : {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: reference(logAnalyticsWorkspaceId, '2023-09-01').customerId
        sharedKey: listKeys(logAnalyticsWorkspaceId, '2023-09-01').primarySharedKey
      }
    }
  }
}

resource job 'Microsoft.App/jobs@2024-03-01' = {
  name: '${name}-daily'
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    environmentId: appEnvironment.id
    configuration: {
      triggerType: 'Schedule'
      replicaTimeout: 14400
      replicaRetryLimit: 1
      scheduleTriggerConfig: {
        cronExpression: cronExpression
        parallelism: 1
        replicaCompletionCount: 1
      }
    }
    template: {
      containers: [
        {
          name: 'cloudoptima'
          image: image
          args: [
            'run'
          ]
          env: [
            {
              name: 'CLOUDOPTIMA_LAKE'
              value: 'abfss://${lakeContainer}@${storageAccountName}.dfs.${environment().suffixes.storage}/cloudoptima'
            }
            {
              // The managed identity, for Azure Resource Manager and for storage.
              name: 'AZURE_CLIENT_ID'
              value: identity.properties.clientId
            }
            {
              name: 'AZURE_STORAGE_ACCOUNT_NAME'
              value: storageAccountName
            }
          ]
          resources: {
            cpu: json('2.0')
            memory: '4Gi'
          }
        }
      ]
    }
  }
  dependsOn: [
    readExports
    writeLake
    subscriptionRoles
  ]
}

output identityClientId string = identity.properties.clientId
output jobName string = job.name
