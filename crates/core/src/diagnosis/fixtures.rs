//! Chained builders for diagnosis tests:
//! `snapshot().with_pool(pool("np1").failed().instance_failed(0, code, message))`.

use super::facts::Facts;
use super::kube::{EventRecord, KubeFacts, ObjectRef, PdbState, PodState, StuckPod, StuckState};
use super::snapshot::{
    AzureFacts, NetworkProfile, PoolFacts, ReadError, ReadFailure, ScaleSetFacts, ScopeFacts,
    Snapshot, Target,
};
use crate::catalog::{Catalog, NodeOs};
use crate::cloud::{
    ActivityRecord, CloudError, CloudErrorKind, Lock, PolicyAssignment, ProviderRegistration,
    QuotaUsage, Scope, Subnet, SubscriptionInfo,
};
use crate::fixtures::t;
use crate::model::{
    AgentPool, ArmError, Cluster, ExtensionStatus, InstanceStatus, NodeView, PoolKind, PoolMode,
    PowerState, ProvisioningState, VmInstance,
};

pub(crate) const SUB: &str = "sub";
pub(crate) const NODE_RG: &str = "MC_rg_aks_westeurope";
pub(crate) const SUBNET: &str = "/subscriptions/sub/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/nodes";

/// A healthy cluster `aks` in `rg` (westeurope) with no pools, read from both sides at `t(0)`.
pub(crate) fn snapshot() -> Snapshot {
    Snapshot {
        now: t(0),
        since: t(-86_400),
        target: Target {
            subscription: Some(SUB.into()),
            resource_group: Some("rg".into()),
            cluster: Some("aks".into()),
        },
        azure: Some(AzureFacts {
            cluster: Some(Cluster {
                subscription: SUB.into(),
                resource_group: "rg".into(),
                name: "aks".into(),
                location: "westeurope".into(),
                node_resource_group: NODE_RG.into(),
                provisioning_state: ProvisioningState::Succeeded,
                power_state: PowerState::Running,
                kubernetes_version: Some("1.33.2".into()),
                pools: Vec::new(),
            }),
            ..AzureFacts::default()
        }),
        kubernetes: Some(KubeFacts::default()),
        read_failures: Vec::new(),
    }
}

/// The facts of a snapshot, decoded with the built-in catalog.
pub(crate) fn facts(snapshot: &Snapshot) -> Facts<'_, 'static> {
    Facts::new(snapshot, Catalog::builtin())
}

/// An ARM error with no details.
pub(crate) fn arm(code: &str, message: &str) -> ArmError {
    ArmError {
        code: code.into(),
        message: message.into(),
        details: Vec::new(),
    }
}

/// A pool being built: the cluster's view of it and the extra facts.
pub(crate) struct PoolSpec {
    pool: AgentPool,
    facts: PoolFacts,
}

fn vm(pool: &str, scale_set: &str, i: usize) -> VmInstance {
    VmInstance {
        id: format!(
            "azure:///subscriptions/{SUB}/resourceGroups/{NODE_RG}/providers/Microsoft.Compute/virtualMachineScaleSets/{scale_set}/virtualMachines/{i}"
        )
        .parse()
        .expect("valid provider ID"),
        computer_name: Some(format!("aks-{pool}-vmss{i:06}")),
        provisioning_state: ProvisioningState::Succeeded,
        power_state: PowerState::Running,
        latest_model_applied: Some(true),
        statuses: Vec::new(),
        extensions: Vec::new(),
    }
}

/// A Succeeded Linux pool of three `Standard_D4s_v5` VMs on [`SUBNET`], scale set `aks-<name>-vmss`.
pub(crate) fn pool(name: &str) -> PoolSpec {
    let scale_set = format!("aks-{name}-vmss");
    PoolSpec {
        pool: AgentPool {
            name: name.into(),
            mode: PoolMode::System,
            kind: PoolKind::VirtualMachineScaleSets,
            vm_size: "Standard_D4s_v5".into(),
            count: 3,
            provisioning_state: ProvisioningState::Succeeded,
            power_state: PowerState::Running,
            orchestrator_version: Some("1.33.2".into()),
            zones: Vec::new(),
            max_pods: Some(30),
            subnet_id: Some(SUBNET.into()),
            scale_set: Some(scale_set.clone()),
        },
        facts: PoolFacts {
            name: name.into(),
            os: NodeOs::Linux,
            error: None,
            max_surge: None,
            max_count: None,
            pod_subnet_id: None,
            scale_set: Some(ScaleSetFacts {
                name: scale_set.clone(),
                provisioning_state: ProvisioningState::Succeeded,
                error: None,
            }),
            instances: Some((0..3).map(|i| vm(name, &scale_set, i)).collect()),
        },
    }
}

impl PoolSpec {
    /// Puts the pool in the Failed state.
    pub(crate) fn failed(self) -> Self {
        self.state(ProvisioningState::Failed)
    }

    /// Sets the pool's provisioning state.
    pub(crate) fn state(mut self, state: ProvisioningState) -> Self {
        self.pool.provisioning_state = state;
        self
    }

    /// Sets the pool's provisioning error.
    pub(crate) fn error(mut self, code: &str, message: &str) -> Self {
        self.facts.error = Some(arm(code, message));
        self
    }

    /// Sets the VM size.
    pub(crate) fn size(mut self, size: &str) -> Self {
        self.pool.vm_size = size.into();
        self
    }

    /// Sets the desired count (the VMs stay as they are).
    pub(crate) fn count(mut self, count: u32) -> Self {
        self.pool.count = count;
        self
    }

    /// Replaces the VMs with `n` healthy ones.
    pub(crate) fn instances(mut self, n: usize) -> Self {
        let scale_set = format!("aks-{}-vmss", self.pool.name);
        self.facts.instances = Some((0..n).map(|i| vm(&self.pool.name, &scale_set, i)).collect());
        self
    }

    /// The VMs were not read.
    pub(crate) fn unread(mut self) -> Self {
        self.facts.instances = None;
        self
    }

    fn instance_mut(&mut self, i: usize) -> &mut VmInstance {
        &mut self.facts.instances.as_mut().expect("instances read")[i]
    }

    /// Puts VM `i` in the Failed state with an instance-view status.
    pub(crate) fn instance_failed(mut self, i: usize, code: &str, message: &str) -> Self {
        let vm = self.instance_mut(i);
        vm.provisioning_state = ProvisioningState::Failed;
        vm.statuses.push(InstanceStatus {
            code: format!("ProvisioningState/failed/{code}"),
            level: "Error".into(),
            display_status: Some("Provisioning failed".into()),
            message: Some(message.into()),
            time: Some(t(-600)),
        });
        self
    }

    /// Gives VM `i` a failed `vmssCSE` extension status with this message.
    pub(crate) fn extension_failed(mut self, i: usize, message: &str) -> Self {
        self.instance_mut(i).extensions.push(ExtensionStatus {
            name: "vmssCSE".into(),
            statuses: vec![InstanceStatus {
                code: "ProvisioningState/failed/1".into(),
                level: "Error".into(),
                display_status: Some("Provisioning failed".into()),
                message: Some(message.into()),
                time: Some(t(-600)),
            }],
        });
        self
    }

    /// Windows nodes.
    pub(crate) fn windows(mut self) -> Self {
        self.facts.os = NodeOs::Windows;
        self
    }

    /// Sets max pods per node.
    pub(crate) fn max_pods(mut self, n: u32) -> Self {
        self.pool.max_pods = Some(n);
        self
    }

    /// Sets `upgradeSettings.maxSurge`.
    pub(crate) fn max_surge(mut self, surge: &str) -> Self {
        self.facts.max_surge = Some(surge.into());
        self
    }

    /// Turns the autoscaler on with this maximum.
    pub(crate) fn max_count(mut self, n: u32) -> Self {
        self.facts.max_count = Some(n);
        self
    }

    /// Puts the scale set in the Failed state with an error.
    pub(crate) fn scale_set_failed(mut self, code: &str, message: &str) -> Self {
        if let Some(vmss) = &mut self.facts.scale_set {
            vmss.provisioning_state = ProvisioningState::Failed;
            vmss.error = Some(arm(code, message));
        }
        self
    }

    /// Backs the pool with an availability set: VMs named `aks-<pool>-<i>`.
    pub(crate) fn availability_set(mut self) -> Self {
        self.pool.kind = PoolKind::AvailabilitySet;
        self.pool.scale_set = None;
        self.facts.scale_set = None;
        let name = self.pool.name.clone();
        if let Some(vms) = &mut self.facts.instances {
            for (i, vm) in vms.iter_mut().enumerate() {
                vm.id = format!(
                    "azure:///subscriptions/{SUB}/resourceGroups/{NODE_RG}/providers/Microsoft.Compute/virtualMachines/aks-{name}-{i}"
                )
                .parse()
                .expect("valid provider ID");
                vm.computer_name = Some(format!("aks-{name}-{i}"));
            }
        }
        self
    }
}

/// A failed activity-log record of `operation` on `resource`, at `t(at)`.
pub(crate) fn failed_op(
    operation: &str,
    resource: &str,
    error: ArmError,
    at: i64,
) -> ActivityRecord {
    ActivityRecord {
        time: t(at),
        operation: operation.into(),
        status: "Failed".into(),
        sub_status: None,
        resource_id: resource.into(),
        caller: Some("admin@example.com".into()),
        correlation_id: Some(format!("corr-{at}")),
        level: Some("Error".into()),
        error: Some(error),
    }
}

/// A kube-system pod in `phase`.
pub(crate) fn system_pod(name: &str, phase: &str, reason: Option<&str>) -> PodState {
    PodState {
        namespace: "kube-system".into(),
        name: name.into(),
        node: None,
        phase: phase.into(),
        ready: phase == "Running",
        reason: reason.map(str::to_owned),
        message: None,
        restarts: 0,
    }
}

/// A budget in `namespace` that allows `allowed` disruptions of three healthy pods.
pub(crate) fn pdb(namespace: &str, name: &str, allowed: i32) -> PdbState {
    PdbState {
        namespace: namespace.into(),
        name: name.into(),
        min_available: Some("3".into()),
        max_unavailable: None,
        disruptions_allowed: allowed,
        current_healthy: 3,
        desired_healthy: 3,
        expected_pods: 3,
    }
}

/// A pod stuck in `state` on `node` since `t(since)`.
pub(crate) fn stuck(namespace: &str, name: &str, state: StuckState, since: i64) -> StuckPod {
    StuckPod {
        namespace: namespace.into(),
        name: name.into(),
        node: Some("aks-np1-vmss000000".into()),
        state,
        since: t(since),
    }
}

/// A Warning event with `reason` and `message` on node `node`, last seen at `t(-60)`.
pub(crate) fn node_event(reason: &str, node: &str, message: &str) -> EventRecord {
    EventRecord {
        kind: "Warning".into(),
        reason: reason.into(),
        message: message.into(),
        involved: ObjectRef {
            kind: "Node".into(),
            namespace: None,
            name: node.into(),
        },
        count: 1,
        last_seen: t(-60),
        source: Some("aks-auto-repair".into()),
    }
}

/// A failed Azure read.
pub(crate) fn azure_read_failed(
    read: &str,
    kind: CloudErrorKind,
    code: Option<&str>,
    message: &str,
) -> ReadFailure {
    let mut error = CloudError::new(read, "/subscriptions/sub", kind, message);
    error.code = code.map(str::to_owned);
    ReadFailure {
        read: read.into(),
        needs: None,
        error: ReadError::Azure(error),
    }
}

/// A failed Kubernetes read.
pub(crate) fn kube_read_failed(read: &str, status: Option<u16>, message: &str) -> ReadFailure {
    ReadFailure {
        read: read.into(),
        needs: None,
        error: ReadError::Kubernetes {
            status,
            reason: None,
            message: message.into(),
        },
    }
}

fn node_rg_scope() -> Scope {
    Scope::ResourceGroup {
        subscription: SUB.into(),
        resource_group: NODE_RG.into(),
    }
}

/// Builders on a snapshot.
pub(crate) trait SnapshotFixture: Sized {
    fn azure_mut(&mut self) -> &mut AzureFacts;
    fn kube_mut(&mut self) -> &mut KubeFacts;
    fn cluster_mut(&mut self) -> &mut Cluster {
        self.azure_mut().cluster.as_mut().expect("a cluster")
    }

    fn with_pool(mut self, spec: PoolSpec) -> Self {
        self.cluster_mut().pools.push(spec.pool);
        self.azure_mut().pools.push(spec.facts);
        self
    }
    fn cluster_state(mut self, state: ProvisioningState) -> Self {
        self.cluster_mut().provisioning_state = state;
        self
    }
    fn cluster_error(mut self, code: &str, message: &str) -> Self {
        self.azure_mut().cluster_error = Some(arm(code, message));
        self
    }
    fn stopped(mut self) -> Self {
        self.cluster_mut().power_state = PowerState::Stopped;
        self
    }
    fn network(mut self, plugin: &str, mode: Option<&str>) -> Self {
        self.azure_mut().network = NetworkProfile {
            plugin: Some(plugin.into()),
            plugin_mode: mode.map(str::to_owned),
            outbound_type: Some("loadBalancer".into()),
        };
        self
    }
    fn with_activity(mut self, record: ActivityRecord) -> Self {
        self.azure_mut().activity.push(record);
        self
    }
    fn with_quota(mut self, provider: &str, name: &str, current: u64, limit: u64) -> Self {
        self.azure_mut().quotas.push(QuotaUsage {
            provider: provider.into(),
            name: name.into(),
            display_name: None,
            current,
            limit,
        });
        self
    }
    fn scope_mut(&mut self, scope: Scope) -> &mut ScopeFacts {
        let scopes = &mut self.azure_mut().scopes;
        if !scopes.iter().any(|s| s.scope == scope) {
            scopes.push(ScopeFacts {
                scope: scope.clone(),
                locks: Vec::new(),
                policies: Vec::new(),
            });
        }
        scopes
            .iter_mut()
            .find(|s| s.scope == scope)
            .expect("scope just added")
    }
    /// A lock on the node resource group.
    fn with_lock(mut self, name: &str, level: &str) -> Self {
        self.scope_mut(node_rg_scope()).locks.push(Lock {
            id: format!("/subscriptions/{SUB}/resourceGroups/{NODE_RG}/providers/Microsoft.Authorization/locks/{name}"),
            name: name.into(),
            level: level.into(),
            notes: Some("protect the public IP".into()),
        });
        self
    }
    /// A policy assignment that applies to the node resource group.
    fn with_policy(mut self, name: &str, enforcement: Option<&str>) -> Self {
        self.scope_mut(node_rg_scope()).policies.push(PolicyAssignment {
            id: format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/policyAssignments/{name}"),
            name: name.into(),
            display_name: Some(format!("Policy {name}")),
            policy_definition_id: format!("/providers/Microsoft.Authorization/policyDefinitions/{name}-def"),
            enforcement_mode: enforcement.map(str::to_owned),
            scope: Some(format!("/subscriptions/{SUB}")),
        });
        self
    }
    fn with_subnet(mut self, prefix: &str, used: usize) -> Self {
        self.azure_mut().subnets.push(Subnet {
            id: SUBNET.into(),
            address_prefixes: vec![prefix.into()],
            ip_configurations: used,
            provisioning_state: ProvisioningState::Succeeded,
        });
        self
    }
    fn with_subscription(mut self, state: &str, providers: &[(&str, &str)]) -> Self {
        self.azure_mut().subscription = Some(SubscriptionInfo {
            id: SUB.into(),
            state: state.into(),
            providers: providers
                .iter()
                .map(|(namespace, state)| ProviderRegistration {
                    namespace: (*namespace).into(),
                    state: (*state).into(),
                })
                .collect(),
        });
        self
    }
    fn with_node(mut self, node: NodeView) -> Self {
        self.kube_mut().nodes.push(node);
        self
    }
    fn with_system_pod(mut self, pod: PodState) -> Self {
        self.kube_mut().system_pods.push(pod);
        self
    }
    fn with_stuck_pod(mut self, pod: StuckPod) -> Self {
        self.kube_mut().stuck_pods.push(pod);
        self
    }
    fn with_pdb(mut self, pdb: PdbState) -> Self {
        self.kube_mut().pdbs.push(pdb);
        self
    }
    fn with_event(mut self, event: EventRecord) -> Self {
        self.kube_mut().events.push(event);
        self
    }
    fn read_failed(self, failure: ReadFailure) -> Self;
    fn kube_only(self) -> Self;
    fn azure_only(self) -> Self;
}

impl SnapshotFixture for Snapshot {
    fn azure_mut(&mut self) -> &mut AzureFacts {
        self.azure.as_mut().expect("the Azure side")
    }
    fn kube_mut(&mut self) -> &mut KubeFacts {
        self.kubernetes.as_mut().expect("the Kubernetes side")
    }
    fn read_failed(mut self, failure: ReadFailure) -> Self {
        self.read_failures.push(failure);
        self
    }
    fn kube_only(mut self) -> Self {
        self.azure = None;
        self
    }
    fn azure_only(mut self) -> Self {
        self.kubernetes = None;
        self
    }
}
