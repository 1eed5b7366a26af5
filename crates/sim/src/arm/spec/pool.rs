//! Agent pools and their VMs in the world spec.

use nodemend_core::model::{PoolKind, PoolMode, PowerState, ProvisioningState};
use serde::{Deserialize, Serialize};

use super::ErrorSpec;

/// An agent pool and the VMs behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PoolSpec {
    /// Pool name.
    pub name: String,
    /// `System` or `User`.
    pub mode: PoolMode,
    /// `VirtualMachineScaleSets`, `AvailabilitySet` or `VirtualMachines`.
    pub kind: PoolKind,
    /// VM size.
    pub vm_size: String,
    /// Number of VMs; VMs not listed in `vms` are created healthy. Default: `vms.len()`, or 3.
    pub count: Option<u32>,
    /// Provisioning state.
    pub provisioning_state: ProvisioningState,
    /// Power state.
    pub power_state: PowerState,
    /// Availability zones.
    pub zones: Vec<String>,
    /// Max pods per node.
    pub max_pods: u32,
    /// Subnet ID.
    pub subnet_id: Option<String>,
    /// Scale set name; default `aks-<pool>-12345678-vmss`.
    pub scale_set: Option<String>,
    /// The error behind a `Failed` state.
    pub error: Option<ErrorSpec>,
    /// VMs that differ from a healthy default, by position.
    pub vms: Vec<VmSpec>,
}

impl Default for PoolSpec {
    fn default() -> Self {
        Self {
            name: "nodepool1".into(),
            mode: PoolMode::System,
            kind: PoolKind::VirtualMachineScaleSets,
            vm_size: "Standard_D4s_v5".into(),
            count: None,
            provisioning_state: ProvisioningState::Succeeded,
            power_state: PowerState::Running,
            zones: Vec::new(),
            max_pods: 30,
            subnet_id: None,
            scale_set: None,
            error: None,
            vms: Vec::new(),
        }
    }
}

/// A VM's starting state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VmSpec {
    /// Provisioning state.
    pub provisioning_state: ProvisioningState,
    /// Power state.
    pub power_state: PowerState,
    /// The error behind a `Failed` state (shown as `ProvisioningState/failed/<code>`).
    pub error: Option<ErrorSpec>,
    /// Whether it runs the scale set's latest model.
    pub latest_model_applied: bool,
    /// Extension statuses, e.g. `vmssCSE` with an exit code.
    pub extensions: Vec<ExtensionSpec>,
    /// A fault inside the VM that the simulated kubelet shows, and what cures it.
    pub fault: Option<VmFaultSpec>,
    /// The VM no longer exists (ARM answers `NotFound` / `InvalidParameter`).
    pub deleted: bool,
}

impl Default for VmSpec {
    fn default() -> Self {
        Self {
            provisioning_state: ProvisioningState::Succeeded,
            power_state: PowerState::Running,
            error: None,
            latest_model_applied: true,
            extensions: Vec::new(),
            fault: None,
            deleted: false,
        }
    }
}

/// An extension's status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExtensionSpec {
    /// Extension name.
    pub name: String,
    /// Exit code of its script; 0 is success.
    pub exit_code: i32,
    /// Message; default derived from the exit code.
    pub message: Option<String>,
    /// Actions after which it succeeds.
    pub cured_by: Vec<VmOp>,
}

impl Default for ExtensionSpec {
    fn default() -> Self {
        Self {
            name: "vmssCSE".into(),
            exit_code: 0,
            message: None,
            cured_by: vec![VmOp::Reimage],
        }
    }
}

/// A fault inside a VM (kubelet stopped, disk full...) and what cures it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VmFaultSpec {
    /// What is wrong, for people and for the simulated kubelet.
    pub description: String,
    /// Actions that cure it.
    pub cured_by: Vec<VmOp>,
}

impl Default for VmFaultSpec {
    fn default() -> Self {
        Self {
            description: "kubelet stopped".into(),
            cured_by: vec![VmOp::Restart, VmOp::Reimage, VmOp::Redeploy],
        }
    }
}

/// An action on a VM, as ARM names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VmOp {
    /// `restart`.
    Restart,
    /// `reimage`.
    Reimage,
    /// `redeploy`.
    Redeploy,
    /// `manualupgrade` (scale sets) or PATCH (other VMs).
    Update,
}
