//! Simulated kubelets: one lightweight task per simulated VM that registers its Node, renews its
//! Lease and posts status — against ANY Kubernetes API server, through kube-rs, exactly as a
//! kubelet would be seen by the API server.
//!
//! A kubelet follows its VM's [`VmState`] (sent on a `tokio::sync::watch` channel by whoever
//! simulates the VM): while the VM is off or the kubelet is stopped it goes silent (so the node
//! lifecycle marks the node `Unknown`); after a boot it posts a new `bootID`; a fault that
//! survives the boot shows again as `Ready=False` with its reason.

mod node;

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;
use tokio::sync::watch;

/// Namespace where kubelets keep their leases.
pub const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";

/// What a kubelet reports when it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// All is well.
    Ready,
    /// `Ready=False` with this reason and message (container runtime down, PLEG not healthy,
    /// network plugin not ready...).
    NotReady {
        /// Condition reason, e.g. `KubeletNotReady`.
        reason: String,
        /// Condition message, e.g. `container runtime is down`.
        message: String,
    },
}

/// The state of the VM a kubelet runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmState {
    /// The VM is powered on (false while it reboots, reimages or moves).
    pub running: bool,
    /// Changes on every boot.
    pub boot_id: String,
    /// The kubelet process is dead: no lease renewals, no status.
    pub kubelet_stopped: bool,
    /// What the kubelet reports while it runs.
    pub readiness: Readiness,
}

impl VmState {
    /// A running, healthy VM on its first boot.
    pub fn healthy(boot_id: impl Into<String>) -> Self {
        Self {
            running: true,
            boot_id: boot_id.into(),
            kubelet_stopped: false,
            readiness: Readiness::Ready,
        }
    }

    fn alive(&self) -> bool {
        self.running && !self.kubelet_stopped
    }
}

/// Who the kubelet is and how it behaves.
#[derive(Debug, Clone)]
pub struct KubeletSpec {
    /// Node name (the VM's computer name).
    pub node_name: String,
    /// Agent pool.
    pub pool: String,
    /// `system` or `user`.
    pub mode: String,
    /// The node resource group, as AKS puts it in `kubernetes.azure.com/cluster`.
    pub cluster_label: String,
    /// `azure:///subscriptions/...` of the VM.
    pub provider_id: String,
    /// VM size.
    pub vm_size: String,
    /// Region.
    pub region: String,
    /// Zone (`0` when the pool has none, as AKS labels it).
    pub zone: String,
    /// vCPUs.
    pub cpu: u32,
    /// Memory in KiB.
    pub memory_kib: u64,
    /// Max pods.
    pub max_pods: u32,
    /// Node IP.
    pub internal_ip: String,
    /// When the node first registered (transition time of the pressure conditions).
    pub registered: Timestamp,
    /// How often the Lease is renewed (kubelet default 10 s).
    pub lease_interval: Duration,
    /// How often status is posted when nothing changes.
    pub status_interval: Duration,
}

/// Runs a kubelet until `shutdown` fires or its VM's state channel closes.
pub async fn run(
    client: kube::Client,
    spec: KubeletSpec,
    mut vm: watch::Receiver<VmState>,
    mut shutdown: watch::Receiver<bool>,
) {
    let nodes: Api<Node> = Api::all(client.clone());
    let leases: Api<Lease> = Api::namespaced(client, NODE_LEASE_NAMESPACE);
    let mut posted: Option<(String, Readiness)> = None;
    let mut ready_since = Timestamp::now();
    let first_renewal =
        tokio::time::Instant::now() + lease_phase(&spec.node_name, spec.lease_interval);
    let mut lease_tick = tokio::time::interval_at(first_renewal, spec.lease_interval);
    let mut status_tick = tokio::time::interval(spec.status_interval);
    loop {
        let state = vm.borrow_and_update().clone();
        if state.alive() {
            let current = (state.boot_id.clone(), state.readiness.clone());
            if posted.as_ref() != Some(&current) {
                if posted.as_ref().is_none_or(|(_, r)| *r != state.readiness) {
                    ready_since = Timestamp::now();
                }
                match register(&nodes, &spec, &state, ready_since).await {
                    Ok(()) => posted = Some(current),
                    Err(err) => {
                        tracing::warn!(node = %spec.node_name, error = %err, "kubelet cannot post node status; retrying")
                    }
                }
                renew(&leases, &spec).await;
            }
        }
        tokio::select! {
            _ = lease_tick.tick(), if state.alive() => renew(&leases, &spec).await,
            _ = status_tick.tick(), if state.alive() && posted.is_some() => {
                if let Err(err) = post_status(&nodes, &spec, &state, ready_since).await {
                    tracing::warn!(node = %spec.node_name, error = %err, "kubelet cannot post node status");
                }
            }
            changed = vm.changed() => if changed.is_err() { break },
            _ = shutdown.changed() => break,
        }
    }
}

/// When in its lease interval a kubelet renews, after the renewal at registration: a fixed
/// fraction of the interval taken from the node name. Kubelets started at the same instant then
/// spread their renewals over the interval, as a real fleet booted at different times does,
/// instead of renewing in lock-step (a burst of every lease at once, every interval).
fn lease_phase(node_name: &str, interval: Duration) -> Duration {
    // FNV-1a: stable across runs and platforms.
    let hash = node_name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    interval.mul_f64((hash % 1000) as f64 / 1000.0)
}

/// Creates the Node if it does not exist, then posts its status.
async fn register(
    nodes: &Api<Node>,
    spec: &KubeletSpec,
    state: &VmState,
    since: Timestamp,
) -> kube::Result<()> {
    if nodes.get_opt(&spec.node_name).await?.is_none() {
        match nodes
            .create(&PostParams::default(), &node::node_object(spec))
            .await
        {
            Ok(_) => tracing::info!(node = %spec.node_name, "node registered"),
            Err(kube::Error::Api(status)) if status.code == 409 => {}
            Err(err) => return Err(err),
        }
    }
    post_status(nodes, spec, state, since).await
}

async fn post_status(
    nodes: &Api<Node>,
    spec: &KubeletSpec,
    state: &VmState,
    since: Timestamp,
) -> kube::Result<()> {
    let patch = node::status_patch(
        spec,
        &state.boot_id,
        &state.readiness,
        since,
        Timestamp::now(),
    );
    nodes
        .patch_status(
            &spec.node_name,
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await?;
    Ok(())
}

/// Renews (or creates) the node's Lease; failures are logged and retried on the next tick.
async fn renew(leases: &Api<Lease>, spec: &KubeletSpec) {
    let now = k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime(Timestamp::now());
    let patch = json!({ "spec": { "renewTime": now, "holderIdentity": spec.node_name, "leaseDurationSeconds": 40 } });
    let result = match leases
        .patch(
            &spec.node_name,
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
    {
        Err(kube::Error::Api(status)) if status.code == 404 => {
            let lease: Lease = serde_json::from_value(json!({
                "metadata": { "name": spec.node_name, "namespace": NODE_LEASE_NAMESPACE },
                "spec": patch["spec"],
            }))
            .unwrap_or_default();
            leases
                .create(&PostParams::default(), &lease)
                .await
                .map(|_| ())
        }
        other => other.map(|_| ()),
    };
    if let Err(err) = result {
        tracing::warn!(node = %spec.node_name, error = %err, "kubelet cannot renew its lease");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_renewals_are_spread_over_the_interval() {
        let interval = Duration::from_secs(10);
        let phases: Vec<Duration> = (0..1000)
            .map(|i| lease_phase(&format!("aks-nodepool1-12345678-vmss{i:06}"), interval))
            .collect();
        assert!(phases.iter().all(|p| *p < interval));
        assert_eq!(
            lease_phase("n1", interval),
            lease_phase("n1", interval),
            "stable"
        );
        // Every second of the interval gets a share of the fleet, none more than twice its own.
        let mut per_second = [0usize; 10];
        for p in &phases {
            per_second[p.as_secs() as usize] += 1;
        }
        assert!(
            per_second.iter().all(|n| (50..=200).contains(n)),
            "{per_second:?}"
        );
    }
}
