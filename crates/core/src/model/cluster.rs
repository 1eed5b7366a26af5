//! The cloud side of the world: a managed cluster, its agent pools and their VMs.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{PowerState, ProvisioningState};
use crate::ProviderId;

/// A managed Kubernetes cluster (an AKS `managedClusters` resource).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cluster {
    /// Subscription ID.
    pub subscription: String,
    /// Resource group holding the cluster resource.
    pub resource_group: String,
    /// Cluster name.
    pub name: String,
    /// Azure region.
    pub location: String,
    /// Resource group holding the VMs, scale sets and networking (`MC_...` by default).
    pub node_resource_group: String,
    /// Provisioning state of the cluster resource.
    pub provisioning_state: ProvisioningState,
    /// Whether the control plane is running.
    pub power_state: PowerState,
    /// Kubernetes version of the control plane.
    pub kubernetes_version: Option<String>,
    /// The agent pools.
    pub pools: Vec<AgentPool>,
}

impl Cluster {
    /// The ARM resource ID of the cluster.
    pub fn arm_id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ContainerService/managedClusters/{}",
            self.subscription, self.resource_group, self.name
        )
    }

    /// The pool with this name (ARM names are case-insensitive).
    pub fn pool(&self, name: &str) -> Option<&AgentPool> {
        self.pools
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }
}

/// Whether a pool hosts system pods (CoreDNS, metrics-server...) or only user workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PoolMode {
    /// Runs kube-system workloads; a cluster needs at least one.
    System,
    /// Runs user workloads only.
    User,
}

/// How a pool's VMs are managed, which decides which ARM calls act on them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PoolKind {
    /// A VM scale set in Uniform mode (the AKS default): instance actions on the scale set.
    VirtualMachineScaleSets,
    /// VMs in an availability set: actions on each VM.
    AvailabilitySet,
    /// Standalone VMs (AKS `VirtualMachines` pools, VMSS Flex): actions on each VM.
    VirtualMachines,
}

/// An agent pool (node pool) of the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentPool {
    /// Pool name, as in the `kubernetes.azure.com/agentpool` node label.
    pub name: String,
    /// System or user pool.
    pub mode: PoolMode,
    /// How the pool's VMs are managed.
    pub kind: PoolKind,
    /// VM size, e.g. `Standard_D4s_v5`.
    pub vm_size: String,
    /// Desired node count.
    pub count: u32,
    /// Provisioning state of the pool.
    pub provisioning_state: ProvisioningState,
    /// Whether the pool is running.
    pub power_state: PowerState,
    /// Kubernetes version of the pool's nodes.
    pub orchestrator_version: Option<String>,
    /// Availability zones the pool spreads over.
    pub zones: Vec<String>,
    /// Maximum pods per node (decides subnet consumption with Azure CNI).
    pub max_pods: Option<u32>,
    /// Subnet the nodes sit in, as an ARM resource ID.
    pub subnet_id: Option<String>,
    /// The scale set backing the pool, when known.
    pub scale_set: Option<String>,
}

/// The last error an ARM resource reported (`{"code","message"}`), with nested details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArmError {
    /// Machine-readable code, e.g. `QuotaExceeded`.
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// Inner errors; the most specific code is usually the deepest.
    pub details: Vec<ArmError>,
}

impl ArmError {
    /// The most specific code: the first leaf of the details tree, or this code.
    pub fn innermost_code(&self) -> &str {
        self.details
            .first()
            .map_or(self.code.as_str(), ArmError::innermost_code)
    }
}

/// One status of a VM's instance view or of an extension (`{code, level, displayStatus, message, time}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceStatus {
    /// Status code, e.g. `ProvisioningState/failed/VMExtensionProvisioningError`.
    pub code: String,
    /// `Info`, `Warning` or `Error`.
    pub level: String,
    /// Short display text.
    pub display_status: Option<String>,
    /// Detail, e.g. the extension's output with `exit status=50`.
    pub message: Option<String>,
    /// When the status was recorded.
    pub time: Option<Timestamp>,
}

/// The status of one VM extension, e.g. `vmssCSE`, the script that bootstraps AKS nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionStatus {
    /// Extension name.
    pub name: String,
    /// Its statuses.
    pub statuses: Vec<InstanceStatus>,
}

/// A VM that backs (or should back) a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmInstance {
    /// Where the VM is, in provider-ID form.
    pub id: ProviderId,
    /// Computer name, which is the Kubernetes node name on AKS.
    pub computer_name: Option<String>,
    /// Provisioning state of the VM.
    pub provisioning_state: ProvisioningState,
    /// Power state, from the instance view.
    pub power_state: PowerState,
    /// Whether the VM runs the scale set's latest model (scale-set VMs only).
    pub latest_model_applied: Option<bool>,
    /// Instance-view statuses.
    pub statuses: Vec<InstanceStatus>,
    /// Extension statuses.
    pub extensions: Vec<ExtensionStatus>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn innermost_code_walks_the_first_detail_chain() {
        let err = ArmError {
            code: "ResourceOperationFailure".into(),
            message: "outer".into(),
            details: vec![ArmError {
                code: "VMExtensionProvisioningError".into(),
                message: "inner".into(),
                details: vec![],
            }],
        };
        assert_eq!(err.innermost_code(), "VMExtensionProvisioningError");
    }

    #[test]
    fn cluster_arm_id_and_pool_lookup() {
        let cluster = Cluster {
            subscription: "s".into(),
            resource_group: "rg".into(),
            name: "aks".into(),
            location: "westeurope".into(),
            node_resource_group: "MC_rg_aks_westeurope".into(),
            provisioning_state: ProvisioningState::Succeeded,
            power_state: PowerState::Running,
            kubernetes_version: Some("1.33.2".into()),
            pools: vec![AgentPool {
                name: "nodepool1".into(),
                mode: PoolMode::System,
                kind: PoolKind::VirtualMachineScaleSets,
                vm_size: "Standard_D4s_v5".into(),
                count: 3,
                provisioning_state: ProvisioningState::Succeeded,
                power_state: PowerState::Running,
                orchestrator_version: None,
                zones: vec![],
                max_pods: Some(30),
                subnet_id: None,
                scale_set: None,
            }],
        };
        assert_eq!(
            cluster.arm_id(),
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks"
        );
        assert!(cluster.pool("NodePool1").is_some());
        assert!(cluster.pool("other").is_none());
    }
}
