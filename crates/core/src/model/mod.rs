//! The shared model of the world: cluster → agent pools → VMs ↔ Kubernetes nodes.
//!
//! Adapters fill these types from ARM and the Kubernetes API; decisions read them. They hold
//! only what decisions and reports need, never whole API objects.

mod cluster;
mod condition;
mod node;
mod power;
mod provisioning;

pub use cluster::{
    AgentPool, ArmError, Cluster, ExtensionStatus, InstanceStatus, PoolKind, PoolMode, VmInstance,
};
pub use condition::{ConditionStatus, NodeCondition, READY};
pub use node::{AGENT_POOL_LABEL, LEGACY_AGENT_POOL_LABEL, NodeView, Taint};
pub use power::PowerState;
pub use provisioning::ProvisioningState;
