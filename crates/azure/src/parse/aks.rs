//! Managed clusters and agent pools.

use nodemend_core::cloud::ClusterRef;
use nodemend_core::model::{AgentPool, Cluster, PoolKind, PoolMode, PowerState, ProvisioningState};
use serde::Deserialize;

use super::{Page, ParseError, json, page};

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawPowerState {
    #[serde(default)]
    code: Option<String>,
}

/// An agent pool's properties: flat in `agentPoolProfiles[]`, under `properties` in `AgentPools_Get`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawPoolProps {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    count: Option<u32>,
    #[serde(default)]
    vm_size: Option<String>,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    provisioning_state: Option<String>,
    #[serde(default)]
    power_state: Option<RawPowerState>,
    #[serde(default)]
    orchestrator_version: Option<String>,
    #[serde(default)]
    current_orchestrator_version: Option<String>,
    #[serde(default, deserialize_with = "super::null_default")]
    availability_zones: Vec<String>,
    #[serde(default)]
    max_pods: Option<u32>,
    #[serde(default, rename = "vnetSubnetID")]
    vnet_subnet_id: Option<String>,
}

#[derive(Deserialize)]
struct RawPool {
    #[serde(default)]
    name: String,
    #[serde(default)]
    properties: RawPoolProps,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawClusterProps {
    #[serde(default)]
    provisioning_state: Option<String>,
    #[serde(default)]
    power_state: Option<RawPowerState>,
    #[serde(default)]
    kubernetes_version: Option<String>,
    #[serde(default)]
    current_kubernetes_version: Option<String>,
    #[serde(default)]
    node_resource_group: Option<String>,
    #[serde(default, deserialize_with = "super::null_default")]
    agent_pool_profiles: Vec<RawPoolProps>,
}

#[derive(Deserialize)]
struct RawCluster {
    #[serde(default)]
    location: String,
    #[serde(default)]
    properties: RawClusterProps,
}

fn power(raw: Option<RawPowerState>) -> PowerState {
    raw.and_then(|p| p.code)
        .map_or(PowerState::Unknown, |c| PowerState::parse(&c))
}

fn pool_of(name: String, p: RawPoolProps) -> AgentPool {
    AgentPool {
        name,
        mode: match p.mode.as_deref() {
            Some(m) if m.eq_ignore_ascii_case("System") => PoolMode::System,
            _ => PoolMode::User,
        },
        kind: match p.kind.as_deref() {
            Some(k) if k.eq_ignore_ascii_case("AvailabilitySet") => PoolKind::AvailabilitySet,
            Some(k) if k.eq_ignore_ascii_case("VirtualMachines") => PoolKind::VirtualMachines,
            _ => PoolKind::VirtualMachineScaleSets,
        },
        vm_size: p.vm_size.unwrap_or_default(),
        count: p.count.unwrap_or(0),
        provisioning_state: ProvisioningState::parse(p.provisioning_state.as_deref().unwrap_or("")),
        power_state: power(p.power_state),
        orchestrator_version: p.current_orchestrator_version.or(p.orchestrator_version),
        zones: p.availability_zones,
        max_pods: p.max_pods,
        subnet_id: p.vnet_subnet_id,
        scale_set: None,
    }
}

/// A managed cluster (`ManagedClusters_Get`), pools from its `agentPoolProfiles`.
pub fn cluster(reference: &ClusterRef, body: &[u8]) -> Result<Cluster, ParseError> {
    let raw: RawCluster = json(body)?;
    let props = raw.properties;
    Ok(Cluster {
        subscription: reference.subscription.clone(),
        resource_group: reference.resource_group.clone(),
        name: reference.name.clone(),
        location: raw.location,
        node_resource_group: props.node_resource_group.unwrap_or_default(),
        provisioning_state: ProvisioningState::parse(
            props.provisioning_state.as_deref().unwrap_or(""),
        ),
        power_state: power(props.power_state),
        kubernetes_version: props
            .current_kubernetes_version
            .or(props.kubernetes_version),
        pools: props
            .agent_pool_profiles
            .into_iter()
            .map(|p| pool_of(p.name.clone().unwrap_or_default(), p))
            .collect(),
    })
}

/// An agent pool (`AgentPools_Get`).
pub fn pool(body: &[u8]) -> Result<AgentPool, ParseError> {
    let raw: RawPool = json(body)?;
    Ok(pool_of(raw.name, raw.properties))
}

/// A page of agent pools (`AgentPools_List`).
pub fn pools(body: &[u8]) -> Result<Page<AgentPool>, ParseError> {
    let raw: Page<RawPool> = page(body)?;
    Ok(Page {
        value: raw
            .value
            .into_iter()
            .map(|p| pool_of(p.name, p.properties))
            .collect(),
        next_link: raw.next_link,
    })
}

/// A resource's model as read, to PUT back unchanged, and its eTag (top-level `eTag`/`etag`,
/// or `properties.eTag` on agent pools).
pub fn raw_model(body: &[u8]) -> Result<(serde_json::Value, Option<String>), ParseError> {
    let model: serde_json::Value = json(body)?;
    let etag = ["eTag", "etag"]
        .iter()
        .find_map(|k| model.get(*k))
        .or_else(|| model.get("properties").and_then(|p| p.get("eTag")))
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    Ok((model, etag))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::example;
    use super::*;

    fn reference() -> ClusterRef {
        ClusterRef {
            subscription: "00000000-0000-0000-0000-000000000000".into(),
            resource_group: "rg1".into(),
            name: "clustername1".into(),
        }
    }

    #[test]
    fn example_managed_cluster_get() {
        let c = cluster(&reference(), &example("ManagedClustersGet.json", "200")).unwrap();
        assert_eq!(c.location, "location1");
        assert_eq!(c.provisioning_state, ProvisioningState::Succeeded);
        assert_eq!(c.kubernetes_version.as_deref(), Some("1.9.6"));
        assert_eq!(c.pools.len(), 1);
        let p = &c.pools[0];
        assert_eq!(
            (p.name.as_str(), p.count, p.max_pods),
            ("nodepool1", 3, Some(110))
        );
        assert_eq!(p.zones, vec!["1", "2", "3"]);
        assert_eq!(p.kind, PoolKind::VirtualMachineScaleSets);
    }

    #[test]
    fn example_managed_cluster_put_responses() {
        for status in ["200", "201"] {
            let c = cluster(
                &reference(),
                &example("ManagedClustersCreate_Update.json", status),
            )
            .unwrap();
            assert!(!c.pools.is_empty(), "{status}");
        }
        let created = cluster(
            &reference(),
            &example("ManagedClustersCreate_Update.json", "201"),
        )
        .unwrap();
        assert_eq!(created.provisioning_state, ProvisioningState::Creating);
    }

    #[test]
    fn example_managed_cluster_list() {
        let page: Page<serde_json::Value> =
            super::super::page(&example("ManagedClustersList.json", "200")).unwrap();
        assert_eq!(page.value.len(), 1);
        let body = page.value[0].to_string().into_bytes();
        assert_eq!(cluster(&reference(), &body).unwrap().pools.len(), 1);
    }

    #[test]
    fn example_agent_pool_get_list_and_update() {
        let p = pool(&example("AgentPoolsGet.json", "200")).unwrap();
        assert_eq!(
            (p.name.as_str(), p.vm_size.as_str()),
            ("agentpool1", "Standard_DS1_v2")
        );
        assert_eq!(p.orchestrator_version.as_deref(), Some("1.9.6"));
        let list = pools(&example("AgentPoolsList.json", "200")).unwrap();
        assert_eq!(list.value[0].name, "agentpool1");
        let updating = pool(&example("AgentPools_Update.json", "201")).unwrap();
        assert_eq!(updating.provisioning_state, ProvisioningState::Updating);
    }

    #[test]
    fn raw_model_finds_the_etag_where_aks_puts_it() {
        let (model, etag) = raw_model(&example("ManagedClustersGet.json", "200")).unwrap();
        assert_eq!(etag.as_deref(), Some("beywbwei"));
        assert_eq!(model["location"], "location1");
        let (_, etag) = raw_model(&example("AgentPoolsGet.json", "200")).unwrap();
        assert_eq!(etag.as_deref(), Some("ebwiyfneowv"));
    }

    #[test]
    fn modes_kinds_and_power_states() {
        let body = br#"{"name":"sys","properties":{"mode":"System","type":"AvailabilitySet","powerState":{"code":"Stopped"},"provisioningState":"Failed"}}"#;
        let p = pool(body).unwrap();
        assert_eq!(p.mode, PoolMode::System);
        assert_eq!(p.kind, PoolKind::AvailabilitySet);
        assert_eq!(p.power_state, PowerState::Stopped);
        assert!(p.provisioning_state.is_failed());
    }
}
