//! The shape of a scenario file.

use std::collections::BTreeMap;

use jiff::SignedDuration;
use nodemend_core::policy::RawPolicy;
use serde::Deserialize;

use super::ScenarioError;
use crate::arm::ArmWorldSpec;
use crate::arm::spec::VmOp;

/// A whole scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name.
    pub name: String,
    /// What it shows, in a sentence or two.
    pub description: String,
    /// How long the demo may play before it stops waiting (default `90s`).
    #[serde(default)]
    pub duration: Option<String>,
    /// The repair policy to rehearse (same fields as the policy file).
    #[serde(default)]
    pub policy: RawPolicy,
    /// Kubernetes side: timings and objects.
    #[serde(default)]
    pub kubernetes: KubernetesSpec,
    /// Azure side: cluster, pools, VMs, quotas, faults of ARM operations...
    #[serde(default)]
    pub azure: ArmWorldSpec,
    /// Faults over time.
    #[serde(default)]
    pub timeline: Vec<TimelineEvent>,
    /// What must have happened by the end.
    #[serde(default)]
    pub expect: Expectations,
}

/// Kubernetes timings and objects.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KubernetesSpec {
    /// How long heartbeats may stop before the node lifecycle marks a node `Unknown`.
    pub node_grace: String,
    /// Kubelet lease renewal interval.
    pub lease_interval: String,
    /// Kubelet status interval when nothing changes.
    pub status_interval: String,
    /// Workload pods.
    pub pods: Vec<PodSpec>,
    /// PodDisruptionBudgets.
    pub pdbs: Vec<PdbSpec>,
    /// Events present from the start (as AKS or an earlier nodemend run left them).
    pub events: Vec<EventSpec>,
    /// Nodes (`pool/index` or node name) whose kubelet registers a provider ID that cannot be
    /// parsed (the VM part is cut off), like a node that was not provisioned correctly.
    pub bad_provider_ids: Vec<String>,
}

impl Default for KubernetesSpec {
    fn default() -> Self {
        Self {
            node_grace: "40s".into(),
            lease_interval: "10s".into(),
            status_interval: "60s".into(),
            pods: Vec::new(),
            pdbs: Vec::new(),
            events: Vec::new(),
            bad_provider_ids: Vec::new(),
        }
    }
}

/// A group of identical pods.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PodSpec {
    /// Name prefix; pods are `<name>-0`, `<name>-1`...
    pub name: String,
    /// Namespace (created if missing).
    #[serde(default = "default_namespace")]
    pub namespace: String,
    /// How many.
    #[serde(default = "one")]
    pub count: u32,
    /// Put them on this node (`pool/index` or a node name); default: spread over all nodes.
    #[serde(default)]
    pub node: Option<String>,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `status.phase` (default `Running`).
    #[serde(default)]
    pub phase: Option<String>,
    /// Why the container is not running (`CrashLoopBackOff`, `ImagePullBackOff`): shown as its
    /// waiting state, and the pod is not Ready.
    #[serde(default)]
    pub reason: Option<String>,
    /// The message that goes with `reason`.
    #[serde(default)]
    pub message: Option<String>,
}

impl PodSpec {
    /// The pod's `status` as the scenario describes it: Running and Ready unless a phase or a
    /// waiting reason says otherwise.
    pub fn status(&self) -> serde_json::Value {
        let phase = self.phase.as_deref().unwrap_or("Running");
        let ready = phase == "Running" && self.reason.is_none();
        let state = match &self.reason {
            Some(reason) => {
                serde_json::json!({"waiting": {"reason": reason, "message": self.message.clone().unwrap_or_default()}})
            }
            None if phase == "Running" => serde_json::json!({"running": {}}),
            None => serde_json::json!({"waiting": {"reason": "ContainerCreating"}}),
        };
        let flag = if ready { "True" } else { "False" };
        serde_json::json!({
            "phase": phase,
            "conditions": [{"type": "Ready", "status": flag}],
            "containerStatuses": [{
                "name": "app",
                "image": "registry.k8s.io/pause:3.9",
                "imageID": "",
                "ready": ready,
                "restartCount": if self.reason.as_deref() == Some("CrashLoopBackOff") { 5 } else { 0 },
                "state": state,
            }],
        })
    }
}

/// A Kubernetes event on a node, present from the start.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSpec {
    /// The node (`pool/index` or a node name).
    pub node: String,
    /// `Warning` (default) or `Normal`.
    #[serde(default = "warning", rename = "type")]
    pub kind: String,
    /// Reason, e.g. `NodeRebootError`.
    pub reason: String,
    /// Message.
    pub message: String,
    /// How many times it happened.
    #[serde(default = "one")]
    pub count: u32,
    /// Who reported it (`source.component`).
    #[serde(default = "aks_remediator")]
    pub source: String,
}

fn warning() -> String {
    "Warning".into()
}

fn aks_remediator() -> String {
    "aks-remediator".into()
}

/// A PodDisruptionBudget.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PdbSpec {
    /// Name.
    pub name: String,
    /// Namespace.
    #[serde(default = "default_namespace")]
    pub namespace: String,
    /// Label selector (matchLabels).
    pub selector: BTreeMap<String, String>,
    /// `minAvailable`: a count or a percentage such as `"50%"`.
    #[serde(default)]
    pub min_available: Option<toml::Value>,
    /// `maxUnavailable`: a count or a percentage.
    #[serde(default)]
    pub max_unavailable: Option<toml::Value>,
}

fn default_namespace() -> String {
    "default".into()
}

fn one() -> u32 {
    1
}

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// The kubelet stops: heartbeats stop and the node goes `Unknown`.
    KubeletStopped,
    /// The kubelet reports `Ready=False` with `message`.
    NotReady,
    /// The VM's provisioning state turns `Failed` with `code` (as after a partly failed disk
    /// detach); the node itself keeps running.
    VmFailed,
    /// The VM is deleted behind the cluster's back; its node stays.
    VmDeleted,
    /// The ARM credential stops working (expired secret, removed identity).
    CredentialRevoked,
    /// The nodemend controller of a demo is killed and started again.
    ControllerRestart,
}

/// One fault at one moment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineEvent {
    /// When, from the start (`5s`, `1m 30s`).
    pub at: String,
    /// Which node: `pool/index` (e.g. `nodepool1/0`) or a node name. Not needed for
    /// `credential-revoked` and `controller-restart`.
    #[serde(default)]
    pub node: Option<String>,
    /// What goes wrong.
    pub fault: FaultKind,
    /// The NotReady message, or the error message of `vm-failed`.
    #[serde(default)]
    pub message: Option<String>,
    /// The error code of `vm-failed`.
    #[serde(default)]
    pub code: Option<String>,
    /// Actions that cure it (`restart`, `reimage`, `redeploy`, `update`); default: restart,
    /// reimage and redeploy.
    #[serde(default)]
    pub cured_by: Option<Vec<VmOp>>,
}

/// What must be true at the end.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Expectations {
    /// Per node.
    pub nodes: Vec<NodeExpectation>,
    /// Events that must have been recorded.
    pub events: Vec<EventExpectation>,
    /// Events that must NOT have been recorded (by reason).
    pub absent_reasons: Vec<String>,
    /// At most this many VM actions sent to ARM.
    pub max_vm_actions: Option<usize>,
}

/// What must be true of one node.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeExpectation {
    /// `pool/index` or node name.
    pub node: String,
    /// Ready at the end.
    #[serde(default)]
    pub ready: Option<bool>,
    /// The repair steps, in order, as `action:result[:code]` (e.g. `reboot:failed:VMExtensionProvisioningError`,
    /// `reimage:recovered`).
    #[serde(default)]
    pub actions: Option<Vec<String>>,
    /// The final phase of its last repair (`Succeeded`, `GaveUp`...), or `none` for no repair.
    #[serde(default)]
    pub repair: Option<String>,
}

/// An event that must have been recorded.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventExpectation {
    /// Reason.
    pub reason: String,
    /// On this node (`pool/index` or name).
    #[serde(default)]
    pub node: Option<String>,
    /// The exact message.
    #[serde(default)]
    pub message: Option<String>,
}

fn duration(origin: &str, field: String, raw: &str) -> Result<SignedDuration, ScenarioError> {
    match raw.parse::<SignedDuration>() {
        Ok(d) if !d.is_negative() => Ok(d),
        _ => Err(ScenarioError::Invalid {
            origin: origin.to_owned(),
            field,
            problem: format!("{raw:?} is not a duration (write e.g. 5s, 1m 30s)"),
        }),
    }
}

impl Scenario {
    /// How long the demo plays at most.
    pub fn duration(&self) -> SignedDuration {
        self.duration
            .as_deref()
            .and_then(|d| d.parse().ok())
            .unwrap_or(SignedDuration::from_secs(90))
    }

    /// Checks what serde cannot: durations, node references, the policy.
    pub(super) fn validate(&self, origin: &str) -> Result<(), ScenarioError> {
        let invalid = |field: String, problem: String| ScenarioError::Invalid {
            origin: origin.to_owned(),
            field,
            problem,
        };
        if let Some(d) = &self.duration {
            duration(origin, "duration".into(), d)?;
        }
        let k = &self.kubernetes;
        duration(origin, "kubernetes.node_grace".into(), &k.node_grace)?;
        duration(
            origin,
            "kubernetes.lease_interval".into(),
            &k.lease_interval,
        )?;
        duration(
            origin,
            "kubernetes.status_interval".into(),
            &k.status_interval,
        )?;
        self.policy
            .resolve()
            .map_err(|e| invalid(format!("policy.{}", e.field), e.problem))?;
        for (i, event) in self.timeline.iter().enumerate() {
            duration(origin, format!("timeline[{i}].at"), &event.at)?;
            let needs_node = !matches!(
                event.fault,
                FaultKind::CredentialRevoked | FaultKind::ControllerRestart
            );
            match &event.node {
                None if needs_node => {
                    return Err(invalid(
                        format!("timeline[{i}].node"),
                        "this fault needs a node".into(),
                    ));
                }
                Some(node) => self
                    .check_node(node)
                    .map_err(|p| invalid(format!("timeline[{i}].node"), p))?,
                None => {}
            }
            if event.fault == FaultKind::VmFailed && event.code.is_none() {
                return Err(invalid(
                    format!("timeline[{i}].code"),
                    "vm-failed needs the error code the VM shows".into(),
                ));
            }
        }
        for (i, pod) in k.pods.iter().enumerate() {
            if let Some(node) = &pod.node {
                self.check_node(node)
                    .map_err(|p| invalid(format!("kubernetes.pods[{i}].node"), p))?;
            }
        }
        for (i, node) in k.bad_provider_ids.iter().enumerate() {
            self.check_node(node)
                .map_err(|p| invalid(format!("kubernetes.bad_provider_ids[{i}]"), p))?;
        }
        for (i, pdb) in k.pdbs.iter().enumerate() {
            if pdb.min_available.is_some() == pdb.max_unavailable.is_some() {
                return Err(invalid(
                    format!("kubernetes.pdbs[{i}]"),
                    "give exactly one of min_available and max_unavailable".into(),
                ));
            }
        }
        for (i, event) in k.events.iter().enumerate() {
            self.check_node(&event.node)
                .map_err(|p| invalid(format!("kubernetes.events[{i}].node"), p))?;
        }
        for (i, n) in self.expect.nodes.iter().enumerate() {
            self.check_node(&n.node)
                .map_err(|p| invalid(format!("expect.nodes[{i}].node"), p))?;
        }
        Ok(())
    }

    /// A `pool/index` reference must name a pool of the scenario and an index inside it.
    fn check_node(&self, reference: &str) -> Result<(), String> {
        let Some((pool, index)) = reference.split_once('/') else {
            return Ok(());
        };
        let Some(spec) = self
            .azure
            .pools
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(pool))
        else {
            let pools: Vec<&str> = self.azure.pools.iter().map(|p| p.name.as_str()).collect();
            return Err(format!(
                "{reference:?}: no pool {pool:?} (pools: {})",
                pools.join(", ")
            ));
        };
        let count = spec.count.unwrap_or(if spec.vms.is_empty() {
            3
        } else {
            spec.vms.len() as u32
        });
        match index.parse::<u32>() {
            Ok(i) if i < count => Ok(()),
            _ => Err(format!(
                "{reference:?}: pool {pool} has nodes 0 to {}",
                count.saturating_sub(1)
            )),
        }
    }
}
