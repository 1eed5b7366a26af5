//! The hook through which the rest of the simulator observes VM actions.
//!
//! Every restart, reimage, redeploy and update that ARM accepts is published on a
//! `tokio::sync::broadcast` channel ([`super::ArmSim::subscribe`]) twice: when it starts
//! ([`VmPhase::Started`]: the VM is going down) and when it ends ([`VmPhase::Succeeded`] or
//! [`VmPhase::Failed`]). A simulated kubelet subscribes, picks the events of its VM by
//! `computer_name` (which is the node name), stops posting status on `Started`, and on
//! `Succeeded` comes back Ready when `healthy` is true or keeps showing its fault otherwise
//! (a restart does not cure a fault that only a reimage cures). A kubelet that lags behind and
//! misses events (`RecvError::Lagged`) re-reads its VM with [`super::ArmSim::vm`].

use jiff::Timestamp;

use super::spec::VmOp;

/// Where an action is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VmPhase {
    /// Accepted; the VM is going down.
    Started,
    /// Finished; the VM runs again.
    Succeeded,
    /// Finished with this error code; the VM's provisioning state is `Failed`.
    Failed(String),
}

/// One VM action event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmEvent {
    /// Simulated time of the event.
    pub at: Timestamp,
    /// The VM's computer name (the Kubernetes node name).
    pub computer_name: String,
    /// The VM's ARM ID.
    pub vm_id: String,
    /// Which action.
    pub op: VmOp,
    /// Where it is.
    pub phase: VmPhase,
    /// After the action: whether the VM is free of faults (its kubelet can be Ready).
    pub healthy: bool,
    /// How many times the VM has booted, counting this action's boot.
    pub boot_count: u64,
}

/// A VM as the kubelets and tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmSnapshot {
    /// Computer name (node name).
    pub computer_name: String,
    /// ARM ID.
    pub vm_id: String,
    /// The node's provider ID (`azure://` + ARM ID).
    pub provider_id: String,
    /// Agent pool.
    pub pool: String,
    /// Provisioning state, as ARM spells it.
    pub provisioning_state: String,
    /// Power state, as ARM spells it.
    pub power_state: String,
    /// The action in progress.
    pub busy: Option<VmOp>,
    /// Free of faults.
    pub healthy: bool,
    /// Boots so far.
    pub boot_count: u64,
    /// The VM was deleted.
    pub deleted: bool,
}
