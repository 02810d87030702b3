//! The demo's inventory: one Resource Graph response (`Resources | …`) holding the whole estate, in
//! the row shape Resource Graph returns (lowercase types, `properties` as the rules read them).

use chrono::Duration;
use serde_json::{Value, json};

use super::DemoTenant;
use super::estate::{Kind, Resource, resource_id, subscription};

impl DemoTenant {
    /// The Resource Graph response (`Resources | …`) holding the whole inventory.
    pub fn resource_graph(&self) -> Vec<u8> {
        let data: Vec<Value> = self.resources.iter().map(|r| self.arg_row(r)).collect();
        let body = json!({
            "totalRecords": data.len(),
            "count": data.len(),
            "resultTruncated": "false",
            "facets": [],
            "data": data,
        });
        serde_json::to_vec_pretty(&body).expect("JSON values serialize")
    }

    fn arg_row(&self, r: &Resource) -> Value {
        let id = self.id(r);
        let created = (self.as_of - Duration::days(r.created_days_ago))
            .format("%Y-%m-%dT08:15:00.0000000+00:00")
            .to_string();
        // Resource Graph spells types in lowercase.
        let other_type = match r.kind {
            Kind::Other { provider, .. } => provider.to_lowercase(),
            _ => String::new(),
        };
        let (rtype, sku, props) = match r.kind {
            Kind::Vm { size, power, .. } => (
                "microsoft.compute/virtualmachines",
                Value::Null,
                json!({
                    "hardwareProfile": {"vmSize": size},
                    "provisioningState": "Succeeded",
                    "timeCreated": created,
                    "extended": {"instanceView": {"powerState": {
                        "code": format!("PowerState/{}", power.name()),
                        "displayStatus": format!("VM {}", power.name()),
                    }}},
                    "storageProfile": {"osDisk": {"managedDisk": {"id": resource_id(r.sub, &r.group, "Microsoft.Compute/disks", &format!("{}-osdisk", r.name))}}},
                }),
            ),
            Kind::Disk {
                sku,
                size_gb,
                state,
                ..
            } => (
                "microsoft.compute/disks",
                json!({"name": sku, "tier": sku.split('_').next().unwrap_or(sku)}),
                json!({"diskSizeGB": size_gb, "diskState": state, "provisioningState": "Succeeded", "timeCreated": created}),
            ),
            Kind::PublicIp { sku, .. } => (
                "microsoft.network/publicipaddresses",
                json!({"name": sku, "tier": "Regional"}),
                match (&r.attached_to, r.name.contains("natgw")) {
                    (Some(target), true) => {
                        json!({"publicIPAllocationMethod": "Static", "provisioningState": "Succeeded", "natGateway": {"id": target}})
                    }
                    (Some(target), false) => {
                        json!({"publicIPAllocationMethod": "Static", "provisioningState": "Succeeded", "ipConfiguration": {"id": target}})
                    }
                    (None, _) => {
                        json!({"publicIPAllocationMethod": "Static", "provisioningState": "Succeeded"})
                    }
                },
            ),
            Kind::Nic => (
                "microsoft.network/networkinterfaces",
                Value::Null,
                match &r.attached_to {
                    Some(pe) if pe.contains("/privateEndpoints/") => {
                        json!({"provisioningState": "Succeeded", "privateEndpoint": {"id": pe}})
                    }
                    other => {
                        json!({"provisioningState": "Succeeded", "virtualMachine": other.as_ref().map(|m| json!({"id": m}))})
                    }
                },
            ),
            Kind::Storage { .. } => (
                "microsoft.storage/storageaccounts",
                json!({"name": "Standard_LRS", "tier": "Standard"}),
                json!({"accessTier": "Hot", "provisioningState": "Succeeded", "creationTime": created}),
            ),
            Kind::AppServicePlan { sku, sites, .. } => (
                "microsoft.web/serverfarms",
                json!({"name": sku, "tier": if sku.starts_with('P') { "PremiumV3" } else { "Basic" }, "capacity": 1}),
                json!({"numberOfSites": sites, "provisioningState": "Succeeded", "status": "Ready"}),
            ),
            Kind::Snapshot {
                sku,
                size_gb,
                source,
                ..
            } => (
                "microsoft.compute/snapshots",
                json!({"name": sku, "tier": sku.split('_').next().unwrap_or(sku)}),
                json!({
                    "diskSizeGB": size_gb, "provisioningState": "Succeeded", "timeCreated": created, "incremental": false,
                    "creationData": {"createOption": "Copy", "sourceResourceId": resource_id(r.sub, &r.group, "Microsoft.Compute/disks", source)},
                }),
            ),
            Kind::LoadBalancer {
                backend_pools,
                pool_members,
                ..
            } => {
                let member = |i: u32, j: u32| {
                    let nic = resource_id(
                        r.sub,
                        &r.group,
                        "Microsoft.Network/networkInterfaces",
                        &format!("{}-pool{i}-member{j}", r.name),
                    );
                    json!({"id": format!("{nic}/ipConfigurations/ipconfig1")})
                };
                let pools: Vec<Value> = (0..backend_pools)
                    .map(|i| {
                        let members: Vec<Value> = (0..pool_members).map(|j| member(i, j)).collect();
                        json!({
                            "id": format!("{id}/backendAddressPools/pool{i}"),
                            "name": format!("pool{i}"),
                            "properties": {"backendIPConfigurations": members},
                        })
                    })
                    .collect();
                (
                    "microsoft.network/loadbalancers",
                    json!({"name": "Standard", "tier": "Regional"}),
                    json!({"provisioningState": "Succeeded", "backendAddressPools": pools, "frontendIPConfigurations": [{"name": "fe"}]}),
                )
            }
            Kind::Other {
                sku, properties, ..
            } => {
                let text = properties
                    .replace("{sub}", subscription(r.sub).id)
                    .replace("{rg}", &r.group);
                (
                    other_type.as_str(),
                    json!({"name": sku}),
                    serde_json::from_str(&text).expect("demo properties are JSON"),
                )
            }
            Kind::NatGateway { subnets, .. } => {
                let subnets: Vec<Value> = (0..subnets)
                    .map(|i| json!({"id": format!("/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/s{i}", subscription(r.sub).id, r.group)}))
                    .collect();
                (
                    "microsoft.network/natgateways",
                    json!({"name": "Standard"}),
                    json!({"provisioningState": "Succeeded", "subnets": subnets, "idleTimeoutInMinutes": 4}),
                )
            }
        };
        let mut row = json!({
            "id": id,
            "name": r.name,
            "type": rtype,
            "location": r.region,
            "resourceGroup": r.group,
            "subscriptionId": subscription(r.sub).id,
            "tags": r.tags.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "sku": sku,
            "kind": if let Kind::Storage { kind, .. } = r.kind { json!(kind) } else { json!("") },
            "properties": props,
        });
        if let Some(m) = &r.managed_by
            && matches!(r.kind, Kind::Disk { .. })
        {
            row["managedBy"] = json!(m);
        }
        row
    }
}
