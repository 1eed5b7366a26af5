//! Everything diagnosis reads, collected once: the cloud side, the Kubernetes side, and the reads
//! that failed. Collectors fill it; rules only read it.
//!
//! Either side may be missing: `azure: None` for a run with only a kubeconfig, `kubernetes: None`
//! for a run with only Azure credentials. A side that was read but partly failed keeps what it
//! got, and each failed read is listed in [`Snapshot::read_failures`].

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::kube::KubeFacts;
use crate::catalog::NodeOs;
use crate::cloud::{
    ActivityRecord, CloudError, Lock, PolicyAssignment, QuotaUsage, Scope, Subnet, SubscriptionInfo,
};
use crate::model::{AgentPool, ArmError, Cluster, ProvisioningState, VmInstance};

/// One collection of facts about a cluster, taken at `now`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// When the snapshot was taken; every "for how long" is measured from here.
    pub now: Timestamp,
    /// Start of the window the activity log and events were read for.
    pub since: Timestamp,
    /// What the user asked about, so commands can be written even when reading the cluster failed.
    pub target: Target,
    /// The Azure side, when Azure was read.
    pub azure: Option<AzureFacts>,
    /// The Kubernetes side, when the API server was read.
    pub kubernetes: Option<KubeFacts>,
    /// Reads that failed; each becomes a finding and the rest of the diagnosis still runs.
    #[serde(default)]
    pub read_failures: Vec<ReadFailure>,
}

/// The cluster the user named on the command line (any part may be unknown).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// Subscription ID.
    pub subscription: Option<String>,
    /// Resource group of the managed cluster.
    pub resource_group: Option<String>,
    /// Cluster name.
    pub cluster: Option<String>,
}

/// What was read from Azure Resource Manager.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AzureFacts {
    /// The managed cluster with its agent pools; `None` when reading it failed.
    pub cluster: Option<Cluster>,
    /// The cluster's last provisioning error (`status.provisioningError`), when it reports one.
    pub cluster_error: Option<ArmError>,
    /// The cluster's network profile (decides how many subnet addresses a node takes).
    #[serde(default)]
    pub network: NetworkProfile,
    /// Per-pool facts beyond [`AgentPool`], matched to the cluster's pools by name.
    #[serde(default)]
    pub pools: Vec<PoolFacts>,
    /// Activity-log records of the cluster's and the node resource group for the window.
    #[serde(default)]
    pub activity: Vec<ActivityRecord>,
    /// Compute and network usages in the cluster's region.
    #[serde(default)]
    pub quotas: Vec<QuotaUsage>,
    /// Locks and policy assignments, per scope read (cluster and node resource groups).
    #[serde(default)]
    pub scopes: Vec<ScopeFacts>,
    /// The subnets the pools use.
    #[serde(default)]
    pub subnets: Vec<Subnet>,
    /// Subscription state and resource-provider registrations.
    pub subscription: Option<SubscriptionInfo>,
}

/// The parts of `networkProfile` that diagnosis needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkProfile {
    /// `networkPlugin`: `azure`, `kubenet` or `none`.
    pub plugin: Option<String>,
    /// `networkPluginMode`: `overlay` for Azure CNI Overlay.
    pub plugin_mode: Option<String>,
    /// `outboundType`: `loadBalancer`, `userDefinedRouting`, `managedNATGateway`...
    pub outbound_type: Option<String>,
}

impl NetworkProfile {
    /// Whether pod IPs come from the node subnet (flat Azure CNI): then every node takes
    /// `maxPods + 1` addresses of it instead of one.
    pub fn pods_use_node_subnet(&self) -> bool {
        let azure = self
            .plugin
            .as_deref()
            .is_some_and(|p| p.eq_ignore_ascii_case("azure"));
        let overlay = self
            .plugin_mode
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case("overlay"));
        azure && !overlay
    }
}

/// What diagnosis knows about one agent pool beyond [`AgentPool`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolFacts {
    /// Pool name, as in [`AgentPool::name`].
    pub name: String,
    /// Operating system of the pool's nodes (decides how a CSE exit status reads).
    pub os: NodeOs,
    /// The pool's last provisioning error, when it reports one.
    pub error: Option<ArmError>,
    /// `upgradeSettings.maxSurge` as configured (`"1"`, `"33%"`); unset means one node.
    pub max_surge: Option<String>,
    /// The autoscaler's maximum node count, when the autoscaler is on.
    pub max_count: Option<u32>,
    /// A separate pod subnet (Azure CNI with dynamic IP allocation), when set.
    pub pod_subnet_id: Option<String>,
    /// The scale set backing the pool, when it was read.
    pub scale_set: Option<ScaleSetFacts>,
    /// The pool's VMs; `None` when they were not read.
    pub instances: Option<Vec<VmInstance>>,
}

/// A scale set's own state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScaleSetFacts {
    /// Scale set name.
    pub name: String,
    /// Its provisioning state.
    pub provisioning_state: ProvisioningState,
    /// The error it reports, when it does.
    pub error: Option<ArmError>,
}

/// Governance read at one scope: what can block writes there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeFacts {
    /// The scope read (a resource group or the subscription).
    pub scope: Scope,
    /// Locks at that scope and on resources under it.
    #[serde(default)]
    pub locks: Vec<Lock>,
    /// Policy assignments that apply at that scope, inherited ones included.
    #[serde(default)]
    pub policies: Vec<PolicyAssignment>,
}

/// A read that failed while collecting the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadFailure {
    /// What was being read, in words: `activity log of MC_rg_aks_westeurope`, `kube-system pods`.
    pub read: String,
    /// The permission the read needs (an ARM action, or a Kubernetes verb and resource), when
    /// the collector knows it.
    pub needs: Option<String>,
    /// How it failed.
    pub error: ReadError,
}

/// How a read failed, as the side that answered reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "side", rename_all = "kebab-case")]
pub enum ReadError {
    /// An Azure call failed.
    Azure(CloudError),
    /// A Kubernetes API call failed.
    Kubernetes {
        /// HTTP status code; `None` when no answer came back (connection or TLS failure).
        status: Option<u16>,
        /// The `Status` object's `reason`, e.g. `Forbidden`.
        reason: Option<String>,
        /// The message.
        message: String,
    },
}

impl Snapshot {
    /// The cluster, when Azure was read and the cluster with it.
    pub fn cluster(&self) -> Option<&Cluster> {
        self.azure.as_ref()?.cluster.as_ref()
    }

    /// The pools of the cluster (empty without the Azure side).
    pub fn pools(&self) -> &[AgentPool] {
        self.cluster().map_or(&[], |c| c.pools.as_slice())
    }

    /// The extra facts of a pool, by name (ARM names are case-insensitive).
    pub fn pool_facts(&self, name: &str) -> Option<&PoolFacts> {
        self.azure
            .as_ref()?
            .pools
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// The operating system of a pool's nodes; Linux when unknown.
    pub fn pool_os(&self, name: &str) -> NodeOs {
        self.pool_facts(name).map_or(NodeOs::Linux, |p| p.os)
    }

    /// The pool's VMs, when they were read.
    pub fn instances(&self, pool: &str) -> Option<&[VmInstance]> {
        self.pool_facts(pool)?.instances.as_deref()
    }

    /// Activity-log records in the window, newest first.
    pub fn activity(&self) -> Vec<&ActivityRecord> {
        let mut records: Vec<&ActivityRecord> = self
            .azure
            .iter()
            .flat_map(|a| &a.activity)
            .filter(|r| r.time >= self.since)
            .collect();
        records.sort_by_key(|r| std::cmp::Reverse(r.time));
        records
    }

    /// Failed activity-log records in the window, newest first.
    pub fn failed_activity(&self) -> Vec<&ActivityRecord> {
        let mut records = self.activity();
        records.retain(|r| r.status.eq_ignore_ascii_case("Failed"));
        records
    }

    /// The scopes whose locks and policies were read.
    pub fn scopes(&self) -> &[ScopeFacts] {
        self.azure.as_ref().map_or(&[], |a| a.scopes.as_slice())
    }

    /// The subscription ID, from the cluster or the target.
    pub fn subscription(&self) -> Option<&str> {
        self.cluster()
            .map(|c| c.subscription.as_str())
            .or(self.target.subscription.as_deref())
    }

    /// The cluster's resource group, from the cluster or the target.
    pub fn resource_group(&self) -> Option<&str> {
        self.cluster()
            .map(|c| c.resource_group.as_str())
            .or(self.target.resource_group.as_deref())
    }

    /// The cluster's name, from the cluster or the target.
    pub fn cluster_name(&self) -> Option<&str> {
        self.cluster()
            .map(|c| c.name.as_str())
            .or(self.target.cluster.as_deref())
    }

    /// The managed cluster's ARM ID, when subscription, group and name are known.
    pub fn cluster_id(&self) -> Option<String> {
        if let Some(cluster) = self.cluster() {
            return Some(cluster.arm_id());
        }
        Some(format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ContainerService/managedClusters/{}",
            self.subscription()?,
            self.resource_group()?,
            self.cluster_name()?
        ))
    }

    /// How a report names the cluster: its ARM ID, or its name, or `cluster`.
    pub fn cluster_resource(&self) -> String {
        self.cluster_id()
            .or_else(|| self.cluster_name().map(|n| format!("cluster/{n}")))
            .unwrap_or_else(|| "cluster".to_owned())
    }

    /// An agent pool's ARM ID, or `pool/<name>` when the cluster's ID is unknown.
    pub fn pool_resource(&self, pool: &str) -> String {
        match self.cluster_id() {
            Some(id) => format!("{id}/agentPools/{pool}"),
            None => format!("pool/{pool}"),
        }
    }

    /// The ARM ID of a scale set in the node resource group.
    pub fn scale_set_id(&self, scale_set: &str) -> Option<String> {
        let cluster = self.cluster()?;
        Some(format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/virtualMachineScaleSets/{scale_set}",
            cluster.subscription, cluster.node_resource_group
        ))
    }

    /// The scale set of a pool: from the scale-set facts, else from the pool.
    pub fn scale_set_name(&self, pool: &str) -> Option<&str> {
        self.pool_facts(pool)
            .and_then(|p| p.scale_set.as_ref().map(|s| s.name.as_str()))
            .or_else(|| self.cluster()?.pool(pool)?.scale_set.as_deref())
    }

    /// The pool an ARM resource belongs to: the agent pool itself, its scale set, or one of
    /// the scale set's VMs.
    pub fn pool_of_resource(&self, resource_id: &str) -> Option<&AgentPool> {
        let id = resource_id.to_ascii_lowercase();
        self.pools().iter().find(|pool| {
            let own = self.pool_resource(&pool.name).to_ascii_lowercase();
            let by_scale_set = self
                .scale_set_name(&pool.name)
                .and_then(|s| self.scale_set_id(s))
                .map(|s| s.to_ascii_lowercase())
                .is_some_and(|s| id == s || id.starts_with(&format!("{s}/")));
            id == own || by_scale_set
        })
    }

    /// The VM behind a node: by its provider ID, else by computer name (AKS names nodes after
    /// their VMs' computer names).
    pub fn vm_of_node(&self, node: &str, provider_id: Option<&str>) -> Option<&VmInstance> {
        let key = provider_id
            .and_then(|p| p.parse::<crate::ProviderId>().ok())
            .map(|id| id.key());
        let vms = || {
            self.azure
                .iter()
                .flat_map(|a| &a.pools)
                .flat_map(|p| p.instances.iter().flatten())
        };
        key.and_then(|key| vms().find(|vm| vm.id.key() == key))
            .or_else(|| vms().find(|vm| vm.computer_name.as_deref() == Some(node)))
    }

    /// Whether the Azure side says the cluster or any pool is in the Failed state.
    pub fn anything_failed(&self) -> bool {
        self.cluster().is_some_and(|c| {
            c.provisioning_state.is_failed()
                || c.pools.iter().any(|p| p.provisioning_state.is_failed())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::fixtures::{SnapshotFixture, pool, snapshot};

    #[test]
    fn flat_azure_cni_puts_pods_in_the_node_subnet() {
        let mut net = NetworkProfile {
            plugin: Some("azure".into()),
            ..NetworkProfile::default()
        };
        assert!(net.pods_use_node_subnet());
        net.plugin_mode = Some("Overlay".into());
        assert!(!net.pods_use_node_subnet());
        net.plugin = Some("kubenet".into());
        assert!(!net.pods_use_node_subnet());
    }

    #[test]
    fn ids_come_from_the_cluster_or_the_target() {
        let snap = snapshot().with_pool(pool("np1"));
        let cluster_id = snap.cluster_id().unwrap();
        assert!(cluster_id.ends_with("/managedClusters/aks"), "{cluster_id}");
        assert_eq!(
            snap.pool_resource("np1"),
            format!("{cluster_id}/agentPools/np1")
        );
        let kube_only = snapshot().kube_only();
        assert_eq!(kube_only.cluster_resource(), cluster_id);
        let mut anonymous = kube_only;
        anonymous.target = Target::default();
        assert_eq!(anonymous.cluster_resource(), "cluster");
        assert_eq!(anonymous.pool_resource("np1"), "pool/np1");
    }

    #[test]
    fn resources_map_back_to_their_pool() {
        let snap = snapshot().with_pool(pool("np1")).with_pool(pool("np2"));
        let vmss = snap.scale_set_id("aks-np2-vmss").unwrap();
        let vm = format!("{vmss}/virtualMachines/3");
        assert_eq!(snap.pool_of_resource(&vm).unwrap().name, "np2");
        assert_eq!(
            snap.pool_of_resource(&snap.pool_resource("NP1"))
                .unwrap()
                .name,
            "np1"
        );
        assert!(snap.pool_of_resource("/subscriptions/x").is_none());
    }

    #[test]
    fn nodes_map_to_their_vm_by_provider_id_or_name() {
        let snap = snapshot().with_pool(pool("np1"));
        let by_name = snap.vm_of_node("aks-np1-vmss000002", None).unwrap();
        assert!(by_name.id.arm_id().ends_with("/virtualMachines/2"));
        let id = by_name
            .id
            .to_string()
            .to_uppercase()
            .replace("AZURE://", "azure://");
        let by_id = snap.vm_of_node("renamed", Some(&id)).unwrap();
        assert_eq!(by_id.id, by_name.id);
        assert!(snap.vm_of_node("other", None).is_none());
    }

    #[test]
    fn snapshot_round_trips_through_json() {
        let snap = snapshot().with_pool(pool("np1").failed());
        let json = serde_json::to_string(&snap).unwrap();
        let back: Snapshot = serde_json::from_str(&json).unwrap();
        assert_eq!(back, snap);
    }
}
