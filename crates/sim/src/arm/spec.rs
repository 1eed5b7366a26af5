//! The simulated world, as a scenario file writes it: [`ArmWorldSpec`]. Every field has a
//! default, so a scenario names only what matters to it; unknown fields are errors, so a typo
//! does not silently do nothing. `docs/azure.md` shows an example of every field.

use std::collections::BTreeMap;

use jiff::Timestamp;
use nodemend_core::model::{PoolKind, PoolMode, PowerState, ProvisioningState};
use serde::{Deserialize, Serialize};

/// The whole ARM world of one simulated subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArmWorldSpec {
    /// Subscription ID.
    pub subscription: String,
    /// `Enabled`, `Warned`, `PastDue`, `Disabled` or `Deleted`.
    pub subscription_state: String,
    /// Region of everything.
    pub location: String,
    /// Resource-provider registration states by namespace; unlisted ones are `Registered`.
    pub providers: BTreeMap<String, String>,
    /// Who may get tokens.
    pub credentials: CredentialsSpec,
    /// The managed cluster.
    pub cluster: ClusterSpec,
    /// Its agent pools and their VMs.
    pub pools: Vec<PoolSpec>,
    /// How long things take, in simulated seconds.
    pub timing: TimingSpec,
    /// Which headers answers to long-running operations carry.
    pub async_headers: AsyncHeaders,
    /// Activity-log history.
    pub activity_log: Vec<ActivitySpec>,
    /// Quotas and usages.
    pub usages: Vec<UsageSpec>,
    /// Subnets.
    pub subnets: Vec<SubnetSpec>,
    /// Management locks.
    pub locks: Vec<LockSpec>,
    /// Policy assignments.
    pub policy_assignments: Vec<PolicyAssignmentSpec>,
    /// Injected failures.
    pub faults: Vec<FaultSpec>,
    /// Throttling budgets.
    pub throttles: Vec<ThrottleSpec>,
    /// Seed of the random numbers behind probabilistic faults.
    pub seed: u64,
}

impl Default for ArmWorldSpec {
    fn default() -> Self {
        Self {
            subscription: "00000000-0000-0000-0000-000000000001".into(),
            subscription_state: "Enabled".into(),
            location: "westeurope".into(),
            providers: BTreeMap::new(),
            credentials: CredentialsSpec::default(),
            cluster: ClusterSpec::default(),
            pools: vec![PoolSpec::default()],
            timing: TimingSpec::default(),
            async_headers: AsyncHeaders::Both,
            activity_log: Vec::new(),
            usages: Vec::new(),
            subnets: Vec::new(),
            locks: Vec::new(),
            policy_assignments: Vec::new(),
            faults: Vec::new(),
            throttles: Vec::new(),
            seed: 1,
        }
    }
}

/// The identities the simulator's token endpoints accept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CredentialsSpec {
    /// Entra ID tenant.
    pub tenant_id: String,
    /// Application (client) ID.
    pub client_id: String,
    /// The client secret it accepts.
    pub client_secret: String,
    /// The federated token it accepts as a client assertion (workload identity); none: any
    /// assertion is refused.
    pub federated_token: Option<String>,
    /// Whether the managed-identity endpoint hands out tokens.
    pub managed_identity: bool,
    /// Token lifetime, simulated seconds.
    pub token_lifetime_secs: u64,
    /// Every credential is refused (an expired secret, a removed identity).
    pub invalid: bool,
}

impl Default for CredentialsSpec {
    fn default() -> Self {
        Self {
            tenant_id: "00000000-0000-0000-0000-0000000000aa".into(),
            client_id: "00000000-0000-0000-0000-0000000000bb".into(),
            client_secret: "sim-client-secret".into(),
            federated_token: None,
            managed_identity: true,
            token_lifetime_secs: 3600,
            invalid: false,
        }
    }
}

/// The managed cluster resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterSpec {
    /// Cluster name.
    pub name: String,
    /// Resource group of the cluster resource.
    pub resource_group: String,
    /// Resource group of its VMs; default `MC_<rg>_<name>_<location>`.
    pub node_resource_group: Option<String>,
    /// Kubernetes version.
    pub kubernetes_version: String,
    /// Provisioning state.
    pub provisioning_state: ProvisioningState,
    /// Power state (`Running` or `Stopped`).
    pub power_state: PowerState,
    /// The error behind a `Failed` state.
    pub error: Option<ErrorSpec>,
}

impl Default for ClusterSpec {
    fn default() -> Self {
        Self {
            name: "aks1".into(),
            resource_group: "rg1".into(),
            node_resource_group: None,
            kubernetes_version: "1.33.2".into(),
            provisioning_state: ProvisioningState::Succeeded,
            power_state: PowerState::Running,
            error: None,
        }
    }
}

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

/// An ARM error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ErrorSpec {
    /// Code.
    pub code: String,
    /// Message.
    pub message: String,
    /// Nested errors.
    pub details: Vec<ErrorSpec>,
}

impl Default for ErrorSpec {
    fn default() -> Self {
        Self {
            code: "InternalExecutionError".into(),
            message: "An internal execution error occurred.".into(),
            details: Vec::new(),
        }
    }
}

/// How long actions take, simulated seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimingSpec {
    /// Restart.
    pub restart_secs: f64,
    /// Reimage.
    pub reimage_secs: f64,
    /// Redeploy.
    pub redeploy_secs: f64,
    /// Update to the latest model.
    pub update_secs: f64,
    /// Cluster or pool reconcile.
    pub reconcile_secs: f64,
    /// `Retry-After` on long-running operations.
    pub poll_retry_after_secs: f64,
}

impl Default for TimingSpec {
    fn default() -> Self {
        Self {
            restart_secs: 60.0,
            reimage_secs: 180.0,
            redeploy_secs: 300.0,
            update_secs: 60.0,
            reconcile_secs: 120.0,
            poll_retry_after_secs: 10.0,
        }
    }
}

/// Which status URLs a long-running operation's first answer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AsyncHeaders {
    /// `Azure-AsyncOperation` and `Location`, as Compute does.
    Both,
    /// `Azure-AsyncOperation` only.
    AzureAsyncOperation,
    /// `Location` only.
    Location,
}

/// An activity-log record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActivitySpec {
    /// When.
    pub time: Timestamp,
    /// Operation, e.g. `Microsoft.Compute/virtualMachineScaleSets/write`.
    pub operation: String,
    /// `Started`, `Accepted`, `Succeeded`, `Failed`.
    pub status: String,
    /// Resource ID.
    pub resource_id: String,
    /// Who.
    pub caller: String,
    /// Correlation ID.
    pub correlation_id: String,
    /// The error of a failed operation.
    pub error: Option<ErrorSpec>,
}

impl Default for ActivitySpec {
    fn default() -> Self {
        Self {
            time: Timestamp::UNIX_EPOCH,
            operation: String::new(),
            status: "Succeeded".into(),
            resource_id: String::new(),
            caller: "admin@contoso.com".into(),
            correlation_id: "00000000-0000-0000-0000-000000000000".into(),
            error: None,
        }
    }
}

/// A quota and its use.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UsageSpec {
    /// `Microsoft.Compute` or `Microsoft.Network`.
    pub provider: String,
    /// Quota name, e.g. `standardDSv3Family`.
    pub name: String,
    /// Display name.
    pub display_name: Option<String>,
    /// In use.
    pub current: u64,
    /// Limit.
    pub limit: u64,
}

/// A subnet.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SubnetSpec {
    /// Subnet ID.
    pub id: String,
    /// Address prefix.
    pub address_prefix: String,
    /// Number of IP configurations in use.
    pub ip_configurations: u32,
}

/// A management lock.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LockSpec {
    /// Resource group it is on; none: the subscription.
    pub resource_group: Option<String>,
    /// Name.
    pub name: String,
    /// `CanNotDelete` or `ReadOnly`.
    pub level: String,
    /// Notes.
    pub notes: Option<String>,
}

/// A policy assignment.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyAssignmentSpec {
    /// Resource group it is assigned at; none: the subscription (applies everywhere).
    pub resource_group: Option<String>,
    /// Name.
    pub name: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Policy definition ID.
    pub policy_definition_id: String,
    /// `Default` or `DoNotEnforce`.
    pub enforcement_mode: Option<String>,
}

/// An operation that fails.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultSpec {
    /// Which operation: `restart`, `reimage`, `redeploy`, `update`, `reconcile`, `read` or `any`.
    pub operation: String,
    /// Which resource: a VM (`<scale set>/<instance>` or a VM name), a pool name, the cluster
    /// name, or `*`.
    pub target: String,
    /// The error.
    pub error: ErrorSpec,
    /// Fail this many times, then succeed; none: every time (or by probability).
    pub times: Option<u32>,
    /// Fail with this probability instead of always.
    pub probability: Option<f64>,
    /// HTTP status of a synchronous failure; none: the request is accepted and the
    /// long-running operation fails.
    pub http_status: Option<u16>,
}

impl Default for FaultSpec {
    fn default() -> Self {
        Self {
            operation: "any".into(),
            target: "*".into(),
            error: ErrorSpec::default(),
            times: None,
            probability: None,
            http_status: None,
        }
    }
}

/// A request budget per subscription; over it ARM answers 429 with `Retry-After`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottleSpec {
    /// `reads` (GET) or `writes` (PUT, PATCH, POST).
    pub class: String,
    /// Only this operation (`restart`...), or every operation of the class.
    pub operation: Option<String>,
    /// Requests allowed per window.
    pub budget: u64,
    /// Window length, simulated seconds.
    pub window_secs: f64,
}

impl Default for ThrottleSpec {
    fn default() -> Self {
        Self {
            class: "reads".into(),
            operation: None,
            budget: 12_000,
            window_secs: 3600.0,
        }
    }
}

impl ArmWorldSpec {
    /// Reads a spec from TOML.
    pub fn from_toml(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../scenarios/arm-world.toml");

    #[test]
    fn the_example_with_every_field_parses() {
        let spec = ArmWorldSpec::from_toml(EXAMPLE).unwrap();
        assert_eq!(spec.pools.len(), 2);
        assert_eq!(spec.pools[0].vms[0].extensions[0].exit_code, 50);
        assert_eq!(
            spec.pools[0].vms[1].fault.as_ref().unwrap().cured_by.len(),
            3
        );
        assert!(spec.pools[0].vms[2].deleted);
        assert_eq!(spec.pools[1].kind, PoolKind::AvailabilitySet);
        assert_eq!(
            spec.pools[1].error.as_ref().unwrap().details[0].code,
            "InsufficientSubnetSize"
        );
        assert_eq!(spec.faults[1].http_status, Some(503));
        assert_eq!(spec.throttles[0].budget, 100);
        assert_eq!(spec.async_headers, AsyncHeaders::Both);
        assert_eq!(spec.cluster.provisioning_state, ProvisioningState::Failed);
        assert_eq!(
            spec.activity_log[0].time,
            "2026-11-20T10:00:00Z".parse::<Timestamp>().unwrap()
        );
    }

    #[test]
    fn every_field_is_optional_and_typos_are_errors() {
        assert_eq!(
            ArmWorldSpec::from_toml("").unwrap(),
            ArmWorldSpec::default()
        );
        let err = ArmWorldSpec::from_toml("[cluster]\nnmae = \"x\"").unwrap_err();
        assert!(err.to_string().contains("nmae"), "{err}");
    }

    #[test]
    fn the_documentation_shows_the_example() {
        let docs =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/azure.md"))
                .unwrap();
        assert!(
            docs.contains(EXAMPLE.trim()),
            "docs/azure.md must include scenarios/arm-world.toml verbatim"
        );
    }
}
