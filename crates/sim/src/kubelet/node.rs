//! The Node object a simulated kubelet registers and the status it posts, shaped like an AKS
//! node's.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Node, NodeCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::json;

use super::{KubeletSpec, Readiness};

/// The Node to register: AKS labels, the Azure provider ID, capacity.
pub(super) fn node_object(spec: &KubeletSpec) -> Node {
    let value = json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": spec.node_name,
            "labels": {
                "kubernetes.azure.com/agentpool": spec.pool,
                "agentpool": spec.pool,
                "kubernetes.azure.com/cluster": spec.cluster_label,
                "kubernetes.azure.com/mode": spec.mode,
                "kubernetes.azure.com/role": "agent",
                "node.kubernetes.io/instance-type": spec.vm_size,
                "topology.kubernetes.io/region": spec.region,
                "topology.kubernetes.io/zone": spec.zone,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": spec.node_name,
            }
        },
        "spec": { "providerID": spec.provider_id },
    });
    serde_json::from_value(value).unwrap_or_default()
}

/// The node's `status` for the given boot and readiness, with conditions whose transition
/// times move only when their status changes.
pub(super) fn status_patch(
    spec: &KubeletSpec,
    boot_id: &str,
    readiness: &Readiness,
    since: Timestamp,
    now: Timestamp,
) -> serde_json::Value {
    let (ready, reason, message) = match readiness {
        Readiness::Ready => (
            "True",
            "KubeletReady",
            "kubelet is posting ready status".to_owned(),
        ),
        Readiness::NotReady { reason, message } => ("False", reason.as_str(), message.clone()),
    };
    let condition =
        |kind: &str, status: &str, reason: &str, message: &str, since: Timestamp| NodeCondition {
            type_: kind.to_owned(),
            status: status.to_owned(),
            reason: Some(reason.to_owned()),
            message: Some(message.to_owned()),
            last_heartbeat_time: Some(Time(now)),
            last_transition_time: Some(Time(since)),
        };
    let conditions = vec![
        condition(
            "MemoryPressure",
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
            spec.registered,
        ),
        condition(
            "DiskPressure",
            "False",
            "KubeletHasNoDiskPressure",
            "kubelet has no disk pressure",
            spec.registered,
        ),
        condition(
            "PIDPressure",
            "False",
            "KubeletHasSufficientPID",
            "kubelet has sufficient PID available",
            spec.registered,
        ),
        condition("Ready", ready, reason, &message, since),
    ];
    let resources = json!({
        "cpu": spec.cpu.to_string(),
        "memory": format!("{}Ki", spec.memory_kib),
        "pods": spec.max_pods.to_string(),
        "ephemeral-storage": "129886128Ki",
    });
    json!({
        "status": {
            "capacity": resources,
            "allocatable": resources,
            "conditions": conditions,
            "addresses": [
                {"type": "InternalIP", "address": spec.internal_ip},
                {"type": "Hostname", "address": spec.node_name},
            ],
            "nodeInfo": {
                "bootID": boot_id,
                "machineID": spec.node_name,
                "systemUUID": spec.node_name,
                "kernelVersion": "5.15.0-1079-azure",
                "osImage": "Ubuntu 22.04.5 LTS",
                "containerRuntimeVersion": "containerd://1.7.27-1",
                "kubeletVersion": "v1.33.2",
                "kubeProxyVersion": "v1.33.2",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        }
    })
}
