//! The Kubernetes side of a snapshot: nodes (with their leases), every pod reduced to what the
//! rules read (kube-system pods, and pods terminating or Unknown anywhere), PodDisruptionBudgets
//! and the events of the window. Lists are paged, so memory follows the page, not the cluster;
//! the five lists run at once.

use std::collections::HashMap;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{Api, ListParams};
use nodemend_core::diagnosis::{
    EventRecord, KubeFacts, ObjectRef, PdbState, PodState, ReadError, StuckPod, StuckState,
};

use super::{Reads, Window};

/// Items per page of a list.
const PAGE: u32 = 500;

/// The namespace whose pods are the cluster's add-ons.
const SYSTEM_NAMESPACE: &str = "kube-system";

/// A failed Kubernetes call as the snapshot records it.
pub(crate) fn read_error(err: kube::Error) -> ReadError {
    match err {
        kube::Error::Api(status) => ReadError::Kubernetes {
            status: Some(status.code),
            reason: Some(status.reason).filter(|r| !r.is_empty()),
            message: status.message,
        },
        other => ReadError::Kubernetes {
            status: None,
            reason: None,
            message: other.to_string(),
        },
    }
}

/// Lists every object of `api`, page by page, handing each to `keep`.
async fn each<K>(api: &Api<K>, mut keep: impl FnMut(K)) -> Result<(), ReadError>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let mut params = ListParams::default().limit(PAGE);
    loop {
        let page = api.list(&params).await.map_err(read_error)?;
        let next = page.metadata.continue_.clone().filter(|c| !c.is_empty());
        page.items.into_iter().for_each(&mut keep);
        match next {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(()),
        }
    }
}

/// Everything the pod list yields.
#[derive(Default)]
struct Pods {
    system: Vec<PodState>,
    stuck: Vec<StuckPod>,
}

/// Reads the Kubernetes side; `None` when not one read got an answer.
pub(crate) async fn collect(
    client: &kube::Client,
    window: Window,
    reads: &Reads<'_>,
) -> Option<KubeFacts> {
    let nodes_api: Api<Node> = Api::all(client.clone());
    let leases_api: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
    let pods_api: Api<Pod> = Api::all(client.clone());
    let pdbs_api: Api<PodDisruptionBudget> = Api::all(client.clone());
    let events_api: Api<Event> = Api::all(client.clone());
    let nodes = reads.run("nodes".into(), Some("list nodes"), async {
        let mut out = Vec::new();
        each(&nodes_api, |n| out.push(nodemend_kube::node::node_view(&n))).await?;
        Ok(out)
    });
    let leases = reads.run(
        "node leases".into(),
        Some("list leases.coordination.k8s.io in kube-node-lease"),
        async {
            let mut out = HashMap::new();
            each(&leases_api, |l| {
                let renewed = l.spec.and_then(|s| s.renew_time).map(|t| t.0);
                if let (Some(name), Some(renewed)) = (l.metadata.name, renewed) {
                    out.insert(name, renewed);
                }
            })
            .await?;
            Ok(out)
        },
    );
    let pods = reads.run("pods".into(), Some("list pods (all namespaces)"), async {
        let mut out = Pods::default();
        each(&pods_api, |pod| sort_pod(&pod, &mut out)).await?;
        Ok(out)
    });
    let pdbs = reads.run(
        "PodDisruptionBudgets".into(),
        Some("list poddisruptionbudgets.policy (all namespaces)"),
        async {
            let mut out = Vec::new();
            each(&pdbs_api, |p| out.push(pdb_state(&p))).await?;
            Ok(out)
        },
    );
    let events = reads.run(
        "events".into(),
        Some("list events (all namespaces)"),
        async {
            let mut out = Vec::new();
            each(&events_api, |e| {
                out.extend(event_record(&e).filter(|r| r.last_seen >= window.since));
            })
            .await?;
            Ok(out)
        },
    );
    let (nodes, leases, pods, pdbs, events) = futures::join!(nodes, leases, pods, pdbs, events);
    if nodes.is_none() && leases.is_none() && pods.is_none() && pdbs.is_none() && events.is_none() {
        return None;
    }
    let mut nodes = nodes.unwrap_or_default();
    let leases = leases.unwrap_or_default();
    for node in &mut nodes {
        node.lease_renewed = leases.get(&node.name).copied();
    }
    let pods = pods.unwrap_or_default();
    Some(KubeFacts {
        nodes,
        system_pods: pods.system,
        stuck_pods: pods.stuck,
        pdbs: pdbs.unwrap_or_default(),
        events: events.unwrap_or_default(),
    })
}

/// Keeps a pod of kube-system as its state, and any pod that is terminating or Unknown.
fn sort_pod(pod: &Pod, out: &mut Pods) {
    let meta = &pod.metadata;
    let namespace = meta.namespace.clone().unwrap_or_default();
    let name = meta.name.clone().unwrap_or_default();
    let node = pod.spec.as_ref().and_then(|s| s.node_name.clone());
    let status = pod.status.as_ref();
    let phase = status
        .and_then(|s| s.phase.clone())
        .unwrap_or_else(|| "Unknown".into());
    let ready_condition = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"));
    let stuck = match (&meta.deletion_timestamp, phase.as_str()) {
        (Some(deleted), _) => Some((StuckState::Terminating, deleted.0)),
        (None, "Unknown") => Some((
            StuckState::Unknown,
            ready_condition
                .and_then(|c| c.last_transition_time.as_ref())
                .or(meta.creation_timestamp.as_ref())
                .map_or(Timestamp::UNIX_EPOCH, |t| t.0),
        )),
        _ => None,
    };
    if let Some((state, since)) = stuck {
        out.stuck.push(StuckPod {
            namespace: namespace.clone(),
            name: name.clone(),
            node: node.clone(),
            state,
            since,
        });
    }
    if namespace != SYSTEM_NAMESPACE {
        return;
    }
    let containers = status
        .and_then(|s| s.container_statuses.as_ref())
        .map(Vec::as_slice)
        .unwrap_or_default();
    let waiting_or_done = containers.iter().find_map(|c| {
        let state = c.state.as_ref()?;
        state
            .waiting
            .as_ref()
            .and_then(|w| w.reason.clone().map(|r| (r, w.message.clone())))
            .or_else(|| {
                state
                    .terminated
                    .as_ref()
                    .and_then(|t| t.reason.clone().map(|r| (r, t.message.clone())))
            })
    });
    let unscheduled = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| {
            c.iter()
                .find(|c| c.type_ == "PodScheduled" && c.status == "False")
        })
        .and_then(|c| c.reason.clone().map(|r| (r, c.message.clone())));
    let (reason, message) = waiting_or_done
        .or(unscheduled)
        .or_else(|| {
            status
                .and_then(|s| s.reason.clone())
                .map(|r| (r, status.and_then(|s| s.message.clone())))
        })
        .map_or((None, None), |(r, m)| (Some(r), m));
    out.system.push(PodState {
        namespace,
        name,
        node,
        phase,
        ready: ready_condition.is_some_and(|c| c.status == "True"),
        reason,
        message,
        restarts: containers
            .iter()
            .map(|c| u32::try_from(c.restart_count).unwrap_or(0))
            .sum(),
    });
}

fn int_or_string(value: &IntOrString) -> String {
    match value {
        IntOrString::Int(n) => n.to_string(),
        IntOrString::String(s) => s.clone(),
    }
}

fn pdb_state(pdb: &PodDisruptionBudget) -> PdbState {
    let spec = pdb.spec.as_ref();
    let status = pdb.status.as_ref();
    PdbState {
        namespace: pdb.metadata.namespace.clone().unwrap_or_default(),
        name: pdb.metadata.name.clone().unwrap_or_default(),
        min_available: spec
            .and_then(|s| s.min_available.as_ref())
            .map(int_or_string),
        max_unavailable: spec
            .and_then(|s| s.max_unavailable.as_ref())
            .map(int_or_string),
        disruptions_allowed: status.map_or(0, |s| s.disruptions_allowed),
        current_healthy: status.map_or(0, |s| s.current_healthy),
        desired_healthy: status.map_or(0, |s| s.desired_healthy),
        expected_pods: status.map_or(0, |s| s.expected_pods),
    }
}

/// A core/v1 event reduced to what the rules read; `None` when it says nothing about when.
fn event_record(event: &Event) -> Option<EventRecord> {
    let last_seen = event
        .last_timestamp
        .as_ref()
        .map(|t| t.0)
        .or_else(|| event.event_time.as_ref().map(|t| t.0))
        .or_else(|| {
            event
                .series
                .as_ref()
                .and_then(|s| s.last_observed_time.as_ref())
                .map(|t| t.0)
        })
        .or_else(|| event.first_timestamp.as_ref().map(|t| t.0))
        .or_else(|| event.metadata.creation_timestamp.as_ref().map(|t| t.0))?;
    let involved = &event.involved_object;
    Some(EventRecord {
        kind: event.type_.clone().unwrap_or_else(|| "Normal".into()),
        reason: event.reason.clone().unwrap_or_default(),
        message: event.message.clone().unwrap_or_default(),
        involved: ObjectRef {
            kind: involved.kind.clone().unwrap_or_default(),
            namespace: involved.namespace.clone(),
            name: involved.name.clone().unwrap_or_default(),
        },
        count: event
            .count
            .and_then(|c| u32::try_from(c).ok())
            .or_else(|| {
                event
                    .series
                    .as_ref()
                    .and_then(|s| s.count)
                    .and_then(|c| u32::try_from(c).ok())
            })
            .unwrap_or(1)
            .max(1),
        last_seen,
        source: event
            .reporting_component
            .clone()
            .filter(|c| !c.is_empty())
            .or_else(|| event.source.as_ref().and_then(|s| s.component.clone())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(value: serde_json::Value) -> Pod {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_crashing_system_pod_keeps_its_reason_and_restarts() {
        let mut out = Pods::default();
        sort_pod(
            &pod(serde_json::json!({
                "metadata": {"name": "coredns-0", "namespace": "kube-system"},
                "spec": {"nodeName": "n1", "containers": []},
                "status": {"phase": "Running",
                    "conditions": [{"type": "Ready", "status": "False"}],
                    "containerStatuses": [{"name": "c", "image": "", "imageID": "", "ready": false, "restartCount": 7,
                        "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}}}]}
            })),
            &mut out,
        );
        let p = &out.system[0];
        assert_eq!(p.reason.as_deref(), Some("CrashLoopBackOff"));
        assert_eq!(p.message.as_deref(), Some("back-off"));
        assert_eq!((p.ready, p.restarts), (false, 7));
        assert_eq!(p.node.as_deref(), Some("n1"));
        assert!(out.stuck.is_empty());
    }

    #[test]
    fn terminating_and_unknown_pods_anywhere_are_stuck() {
        let mut out = Pods::default();
        sort_pod(
            &pod(serde_json::json!({
                "metadata": {"name": "web-0", "namespace": "shop", "deletionTimestamp": "2026-01-01T00:00:00Z"},
                "status": {"phase": "Running"}
            })),
            &mut out,
        );
        sort_pod(
            &pod(serde_json::json!({
                "metadata": {"name": "web-1", "namespace": "shop", "creationTimestamp": "2025-12-31T00:00:00Z"},
                "status": {"phase": "Unknown", "conditions": [{"type": "Ready", "status": "Unknown", "lastTransitionTime": "2026-01-01T00:05:00Z"}]}
            })),
            &mut out,
        );
        assert!(
            out.system.is_empty(),
            "only kube-system pods are kept whole"
        );
        assert_eq!(out.stuck[0].state, StuckState::Terminating);
        assert_eq!(out.stuck[0].since.to_string(), "2026-01-01T00:00:00Z");
        assert_eq!(out.stuck[1].state, StuckState::Unknown);
        assert_eq!(out.stuck[1].since.to_string(), "2026-01-01T00:05:00Z");
    }

    #[test]
    fn an_unschedulable_system_pod_says_why() {
        let mut out = Pods::default();
        sort_pod(
            &pod(serde_json::json!({
                "metadata": {"name": "metrics-server-0", "namespace": "kube-system"},
                "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
                    "reason": "Unschedulable", "message": "0/3 nodes are available"}]}
            })),
            &mut out,
        );
        assert_eq!(out.system[0].reason.as_deref(), Some("Unschedulable"));
        assert_eq!(out.system[0].phase, "Pending");
    }

    #[test]
    fn budgets_keep_their_spec_as_written_and_their_status() {
        let pdb: PodDisruptionBudget = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"minAvailable": "50%"},
            "status": {"disruptionsAllowed": 0, "currentHealthy": 2, "desiredHealthy": 2, "expectedPods": 2}
        }))
        .unwrap();
        let s = pdb_state(&pdb);
        assert_eq!(s.min_available.as_deref(), Some("50%"));
        assert_eq!(s.max_unavailable, None);
        assert_eq!((s.disruptions_allowed, s.expected_pods), (0, 2));
    }

    #[test]
    fn events_read_their_time_count_and_reporter() {
        let event: Event = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "n1.1", "namespace": "default"},
            "involvedObject": {"kind": "Node", "name": "n1"},
            "type": "Warning", "reason": "NodeRebootError",
            "message": "Node auto-repair reboot action failed due to an operation failure: VMExtensionProvisioningError",
            "count": 3, "lastTimestamp": "2026-01-01T00:00:00Z",
            "source": {"component": "aks-remediator"}
        }))
        .unwrap();
        let r = event_record(&event).unwrap();
        assert!(r.is_warning());
        assert_eq!((r.count, r.involved.name.as_str()), (3, "n1"));
        assert_eq!(r.source.as_deref(), Some("aks-remediator"));
        let timeless: Event = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "x"}, "involvedObject": {}
        }))
        .unwrap();
        assert!(event_record(&timeless).is_none());
    }

    #[test]
    fn api_errors_keep_status_and_reason() {
        let err = kube::Error::Api(
            kube::core::Status::failure("pods is forbidden", "Forbidden")
                .with_code(403)
                .boxed(),
        );
        match read_error(err) {
            ReadError::Kubernetes { status, reason, .. } => {
                assert_eq!(status, Some(403));
                assert_eq!(reason.as_deref(), Some("Forbidden"));
            }
            other => panic!("{other:?}"),
        }
    }
}
