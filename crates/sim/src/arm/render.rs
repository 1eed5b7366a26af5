//! JSON bodies shaped like the public ARM examples: scale sets, VMs, instance views, managed
//! clusters and agent pools.

use nodemend_core::model::{PoolKind, ProvisioningState};
use serde_json::{Value, json};

use super::spec::ExtensionSpec;
use super::world::{Pool, Vm, World};

fn status(code: &str, level: &str, display: &str, message: Option<&str>) -> Value {
    let mut s = json!({ "code": code, "level": level, "displayStatus": display });
    if let Some(m) = message {
        s["message"] = json!(m);
    }
    s
}

fn extension(e: &ExtensionSpec) -> Value {
    let s = if e.exit_code == 0 {
        status(
            "ProvisioningState/succeeded",
            "Info",
            "Provisioning succeeded",
            e.message.as_deref().or(Some("Enable succeeded")),
        )
    } else {
        let message = e.message.clone().unwrap_or_else(|| {
            format!(
                "Enable failed: failed to execute command: command terminated with exit status={}",
                e.exit_code
            )
        });
        status(
            &format!("ProvisioningState/failed/{}", e.exit_code),
            "Error",
            "Provisioning failed",
            Some(&message),
        )
    };
    json!({ "name": e.name, "type": "Microsoft.Azure.Extensions.CustomScript", "typeHandlerVersion": "2.0", "statuses": [s] })
}

/// A VM's instance view (`…/instanceView`).
pub(crate) fn instance_view(vm: &Vm) -> Value {
    let state = vm.provisioning_state.as_str().to_ascii_lowercase();
    let provisioning = match (&vm.provisioning_state, &vm.error) {
        (ProvisioningState::Failed, Some(e)) => status(
            &format!("ProvisioningState/failed/{}", e.code),
            "Error",
            "Provisioning failed",
            Some(&e.message),
        ),
        (ProvisioningState::Failed, None) => status(
            "ProvisioningState/failed",
            "Error",
            "Provisioning failed",
            None,
        ),
        (s, _) if s.is_terminal() => status(
            &format!("ProvisioningState/{state}"),
            "Info",
            "Provisioning succeeded",
            None,
        ),
        _ => status(
            &format!("ProvisioningState/{state}"),
            "Info",
            "Provisioning in progress",
            None,
        ),
    };
    let power = vm.power_state.as_str().to_ascii_lowercase();
    json!({
        "computerName": vm.computer_name,
        "osName": "ubuntu",
        "osVersion": "22.04",
        "vmAgent": {
            "vmAgentVersion": "2.2.53",
            "statuses": [status("ProvisioningState/succeeded", "Info", "Ready", Some("GuestAgent is running and accepting new configurations."))],
        },
        "statuses": [provisioning, status(&format!("PowerState/{power}"), "Info", &format!("VM {power}"), None)],
        "extensions": vm.extensions.iter().map(extension).collect::<Vec<_>>(),
    })
}

/// A VM (scale-set VM or standalone), with its instance view when `expand`.
pub(crate) fn vm(world: &World, vm: &Vm, expand: bool) -> Value {
    let kind = match vm.scale_set {
        Some(_) => "Microsoft.Compute/virtualMachineScaleSets/virtualMachines",
        None => "Microsoft.Compute/virtualMachines",
    };
    let mut body = json!({
        "name": vm.name,
        "id": vm.id,
        "type": kind,
        "location": world.spec.location,
        "properties": {
            "latestModelApplied": vm.latest_model_applied,
            "provisioningState": vm.provisioning_state.as_str(),
            "osProfile": { "computerName": vm.computer_name, "adminUsername": "azureuser" },
        },
    });
    if let Some((_, instance)) = &vm.scale_set {
        body["instanceId"] = json!(instance);
    }
    if expand {
        body["properties"]["instanceView"] = instance_view(vm);
    }
    body
}

/// A scale set.
pub(crate) fn scale_set(world: &World, pool: &Pool) -> Value {
    json!({
        "id": format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/virtualMachineScaleSets/{}",
            world.spec.subscription, world.cluster.node_resource_group, pool.scale_set
        ),
        "name": pool.scale_set,
        "type": "Microsoft.Compute/virtualMachineScaleSets",
        "location": world.spec.location,
        "tags": { "aks-managed-poolName": pool.spec.name, "aks-managed-orchestrator": format!("Kubernetes:{}", world.spec.cluster.kubernetes_version) },
        "sku": { "name": pool.spec.vm_size, "tier": "Standard", "capacity": world.vms_of_scale_set(&pool.scale_set).len() },
        "properties": {
            "provisioningState": pool.provisioning_state.as_str(),
            "orchestrationMode": "Uniform",
            "upgradePolicy": { "mode": "Manual" },
        },
    })
}

fn kind_name(kind: &PoolKind) -> &'static str {
    match kind {
        PoolKind::VirtualMachineScaleSets => "VirtualMachineScaleSets",
        PoolKind::AvailabilitySet => "AvailabilitySet",
        PoolKind::VirtualMachines => "VirtualMachines",
    }
}

fn pool_properties(world: &World, pool: &Pool) -> Value {
    let s = &pool.spec;
    let mut props = json!({
        "count": pool.count,
        "vmSize": s.vm_size,
        "maxPods": s.max_pods,
        "type": kind_name(&s.kind),
        "mode": format!("{:?}", s.mode),
        "orchestratorVersion": world.spec.cluster.kubernetes_version,
        "currentOrchestratorVersion": world.spec.cluster.kubernetes_version,
        "provisioningState": pool.provisioning_state.as_str(),
        "powerState": { "code": s.power_state.as_str() },
        "availabilityZones": s.zones,
        "osType": "Linux",
        "eTag": format!("pool-etag-{}", pool.etag),
    });
    if let Some(subnet) = &s.subnet_id {
        props["vnetSubnetID"] = json!(subnet);
    }
    if let Some(error) = &pool.error {
        props["status"] = json!({ "provisioningError": super::http::error_value(error) });
    }
    props
}

/// An agent pool (`AgentPools_Get`).
pub(crate) fn pool(world: &World, pool: &Pool) -> Value {
    json!({
        "id": format!("{}/agentPools/{}", cluster_id(world), pool.spec.name),
        "name": pool.spec.name,
        "type": "Microsoft.ContainerService/managedClusters/agentPools",
        "properties": pool_properties(world, pool),
    })
}

/// The managed cluster's ARM ID.
pub(crate) fn cluster_id(world: &World) -> String {
    let c = &world.spec.cluster;
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ContainerService/managedClusters/{}",
        world.spec.subscription, c.resource_group, c.name
    )
}

/// The managed cluster (`ManagedClusters_Get`).
pub(crate) fn cluster(world: &World) -> Value {
    let c = &world.spec.cluster;
    let profiles: Vec<Value> = world
        .pools
        .iter()
        .map(|p| {
            let mut props = pool_properties(world, p);
            props["name"] = json!(p.spec.name);
            props
        })
        .collect();
    let mut props = json!({
        "provisioningState": world.cluster.provisioning_state.as_str(),
        "powerState": { "code": c.power_state.as_str() },
        "kubernetesVersion": c.kubernetes_version,
        "currentKubernetesVersion": c.kubernetes_version,
        "dnsPrefix": c.name,
        "nodeResourceGroup": world.cluster.node_resource_group,
        "agentPoolProfiles": profiles,
    });
    if let Some(error) = &world.cluster.error {
        props["status"] = json!({ "provisioningError": super::http::error_value(error) });
    }
    json!({
        "id": cluster_id(world),
        "name": c.name,
        "type": "Microsoft.ContainerService/managedClusters",
        "location": world.spec.location,
        "eTag": format!("cluster-etag-{}", world.cluster.etag),
        "properties": props,
    })
}
