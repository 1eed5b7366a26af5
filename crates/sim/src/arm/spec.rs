//! The simulated world, as a scenario file writes it: [`ArmWorldSpec`]. Every field has a
//! default, so a scenario names only what matters to it; unknown fields are errors, so a typo
//! does not silently do nothing. `docs/azure.md` shows an example of every field.

mod facts;
mod faults;
mod pool;

use std::collections::BTreeMap;

use nodemend_core::model::{PowerState, ProvisioningState};
use serde::{Deserialize, Serialize};

pub use facts::{ActivitySpec, LockSpec, PolicyAssignmentSpec, SubnetSpec, UsageSpec};
pub use faults::{FaultSpec, ThrottleSpec};
pub use pool::{ExtensionSpec, PoolSpec, VmFaultSpec, VmOp, VmSpec};

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
    /// The actions the identity's role assignments allow (`*` is a wildcard); absent,
    /// everything is allowed. A request needing any other action gets 403
    /// `AuthorizationFailed` naming it; the permissions API lists these actions (`*` when
    /// absent) at every resource group and resource.
    pub role_actions: Option<Vec<String>>,
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
            role_actions: None,
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

impl ArmWorldSpec {
    /// Reads a spec from TOML.
    pub fn from_toml(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use nodemend_core::model::PoolKind;

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
    fn activity_records_can_be_dated_before_the_start() {
        let spec = ArmWorldSpec::from_toml(
            "[[activity_log]]\nago = \"2h 30m\"\nstatus = \"Failed\"\n[[activity_log]]\ntime = \"2026-11-20T10:00:00Z\"\n",
        )
        .unwrap();
        let start: Timestamp = "2030-01-01T12:00:00Z".parse().unwrap();
        assert_eq!(
            spec.activity_log[0].time_from(start),
            "2030-01-01T09:30:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(
            spec.activity_log[1].time_from(start),
            "2026-11-20T10:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert!(ArmWorldSpec::from_toml("[[activity_log]]\nago = \"soon\"\n").is_err());
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
