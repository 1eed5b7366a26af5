//! Contract tests of particular resources with kube-rs: events in both APIs, CRDs and custom
//! resources, evictions against PodDisruptionBudgets, namespaces, node lifecycle, pod logs.
//! Features a bare kube-apiserver 1.20 lacks are tested on the simulator only.

mod common;

use std::time::Duration;

use common::{Cluster, eventually, status_of, unique};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{
    ConfigMap, Event as CoreEvent, Namespace, Node, ObjectReference, Pod,
};
use k8s_openapi::api::events::v1::Event as NewEvent;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::{
    ApiResource, DeleteParams, DynamicObject, EvictParams, GroupVersionKind, ListParams, LogParams,
    Patch, PatchParams, PostParams,
};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use nodemend_sim::apiserver::{ApiServerConfig, LifecycleConfig};
use serde_json::{Value, json};

fn parse<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("valid object")
}

fn new_style_event(name: &str, node: &str) -> NewEvent {
    parse(json!({
        "metadata": { "name": name },
        "regarding": { "kind": "Node", "name": node, "apiVersion": "v1" },
        "eventTime": "2026-01-01T00:00:00.000000Z", "reason": "NodeRebootError", "action": "Reboot",
        "reportingController": "nodemend", "reportingInstance": "test", "type": "Warning",
        "note": "Node auto-repair reboot action failed due to an operation failure: OperationNotAllowed"
    }))
}

#[tokio::test]
async fn events_are_one_store_seen_through_two_apis() {
    let c = Cluster::start().await;
    let core: Api<CoreEvent> = Api::namespaced(c.client.clone(), &c.ns);
    let new: Api<NewEvent> = Api::namespaced(c.client.clone(), &c.ns);
    let old_style: CoreEvent = parse(json!({
        "metadata": { "name": "cm.1" },
        "involvedObject": { "kind": "ConfigMap", "name": "cm", "namespace": c.ns },
        "reason": "Tested", "message": "core-made", "type": "Normal", "count": 3,
        "source": { "component": "contract-test" },
        "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:01:00Z"
    }));
    core.create(&PostParams::default(), &old_style)
        .await
        .expect("core event");
    let seen = new.get("cm.1").await.expect("visible in events.k8s.io/v1");
    assert_eq!(seen.note.as_deref(), Some("core-made"));
    assert_eq!(
        seen.regarding.as_ref().and_then(|r| r.name.as_deref()),
        Some("cm")
    );
    assert_eq!(seen.deprecated_count, Some(3));
    assert_eq!(
        seen.deprecated_source.and_then(|s| s.component).as_deref(),
        Some("contract-test")
    );

    let node = unique("event-node");
    let system: Api<NewEvent> = Api::namespaced(c.client.clone(), "kube-system");
    let name = unique("ev");
    system
        .create(&PostParams::default(), &new_style_event(&name, &node))
        .await
        .expect("new-style event");
    let core_system: Api<CoreEvent> = Api::namespaced(c.client.clone(), "kube-system");
    let as_core = core_system.get(&name).await.expect("visible in core/v1");
    assert_eq!(as_core.involved_object.kind.as_deref(), Some("Node"));
    assert_eq!(as_core.reporting_component.as_deref(), Some("nodemend"));
    assert!(
        as_core
            .message
            .unwrap_or_default()
            .ends_with("OperationNotAllowed")
    );
    let fields = format!("involvedObject.kind=Node,involvedObject.name={node}");
    let listed = core_system
        .list(&ListParams::default().fields(&fields))
        .await
        .expect("list");
    assert_eq!(listed.items.len(), 1);
    let by_regarding = system
        .list(&ListParams::default().fields(&format!("regarding.name={node}")))
        .await
        .expect("list");
    assert_eq!(by_regarding.items.len(), 1);
    system
        .delete(&name, &DeleteParams::default())
        .await
        .expect("deleted");

    let wrong_ns = status_of(
        new.create(&PostParams::default(), &new_style_event("misplaced", &node))
            .await,
    );
    assert_eq!((wrong_ns.code, wrong_ns.reason.as_str()), (422, "Invalid"));
    assert!(
        wrong_ns.message.contains("does not match event.namespace"),
        "{}",
        wrong_ns.message
    );

    if !c.sim_only("1.20 accepts new-style events about cluster-scoped objects only in kube-system")
    {
        let recorder = Recorder::new(
            c.client.clone(),
            Reporter {
                controller: "nodemend".into(),
                instance: Some("test".into()),
            },
        );
        let reference = ObjectReference {
            kind: Some("Node".into()),
            name: Some(node.clone()),
            api_version: Some("v1".into()),
            ..Default::default()
        };
        let ev = Event {
            type_: EventType::Warning,
            reason: "NodeRebootError".into(),
            note: Some("failed".into()),
            action: "Reboot".into(),
            secondary: None,
        };
        recorder
            .publish(&ev, &reference)
            .await
            .expect("first publish creates");
        recorder
            .publish(&ev, &reference)
            .await
            .expect("second publish patches the series");
        let in_default: Api<NewEvent> = Api::namespaced(c.client.clone(), "default");
        let recorded = in_default
            .list(&ListParams::default().fields(&format!("regarding.name={node}")))
            .await
            .expect("list");
        assert_eq!(recorded.items.len(), 1);
        assert_eq!(recorded.items[0].series.as_ref().map(|s| s.count), Some(2));
    }
    c.finish().await;
}

fn crd(group: &str) -> CustomResourceDefinition {
    parse(json!({
        "metadata": { "name": format!("widgets.{group}") },
        "spec": {
            "group": group, "scope": "Namespaced",
            "names": { "plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"] },
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": { "openAPIV3Schema": { "type": "object", "properties": {
                    "spec": { "type": "object", "x-kubernetes-preserve-unknown-fields": true },
                    "status": { "type": "object", "x-kubernetes-preserve-unknown-fields": true }
                } } },
                "subresources": { "status": {} }
            }]
        }
    }))
}

#[tokio::test]
async fn custom_resources_are_served_once_their_crd_exists() {
    let c = Cluster::start().await;
    let group = format!("{}.nodemend.test", unique("g"));
    let crds: Api<CustomResourceDefinition> = Api::all(c.client.clone());
    crds.create(&PostParams::default(), &crd(&group))
        .await
        .expect("crd created");
    let crd_name = format!("widgets.{group}");
    eventually("CRD established", || async {
        let crd = crds.get(&crd_name).await.ok()?;
        let conds = crd.status?.conditions?;
        conds
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True")
            .then_some(())
    })
    .await;
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(&group, "v1", "Widget"),
        "widgets",
    );
    let widgets: Api<DynamicObject> = Api::namespaced_with(c.client.clone(), &c.ns, &ar);
    let mut w = DynamicObject::new("w1", &ar);
    w.data = json!({ "spec": { "size": 1 }, "status": { "phase": "ignored" } });
    let created = eventually("custom resource served", || async {
        widgets.create(&PostParams::default(), &w).await.ok()
    })
    .await;
    assert!(
        created.data.get("status").is_none(),
        "status is dropped on create with a status subresource"
    );
    assert_eq!(created.metadata.generation, Some(1));

    let discovery = kube::Discovery::new(c.client.clone())
        .run()
        .await
        .expect("discovery");
    assert!(discovery.has_group(&group), "the CRD group is discoverable");

    let pp = PatchParams::default();
    let status = widgets
        .patch_status(
            "w1",
            &pp,
            &Patch::Merge(json!({ "spec": { "size": 9 }, "status": { "phase": "Ready" } })),
        )
        .await
        .expect("status");
    assert_eq!(
        (
            status.data["spec"]["size"].as_i64(),
            status.data["status"]["phase"].as_str()
        ),
        (Some(1), Some("Ready"))
    );
    let resized = widgets
        .patch(
            "w1",
            &pp,
            &Patch::Merge(json!({ "spec": { "size": 2 }, "status": { "phase": "ignored" } })),
        )
        .await
        .expect("merge");
    assert_eq!(
        (
            resized.data["spec"]["size"].as_i64(),
            resized.data["status"]["phase"].as_str()
        ),
        (Some(2), Some("Ready"))
    );
    assert_eq!(resized.metadata.generation, Some(2));
    let smp = status_of(
        widgets
            .patch(
                "w1",
                &pp,
                &Patch::Strategic(json!({ "spec": { "size": 3 } })),
            )
            .await,
    );
    assert_eq!(smp.code, 415);
    assert_eq!(
        widgets
            .list(&ListParams::default())
            .await
            .expect("list")
            .items
            .len(),
        1
    );

    crds.delete(&crd_name, &DeleteParams::default())
        .await
        .expect("crd deleted");
    eventually("CRD and its objects gone", || async {
        crds.get_opt(&crd_name).await.ok()?.is_none().then_some(())
    })
    .await;
    c.finish().await;
}

fn pod(name: &str, labels: Value) -> Pod {
    parse(
        json!({ "metadata": { "name": name, "labels": labels }, "spec": { "containers": [{ "name": "app", "image": "registry.local/app:1" }] } }),
    )
}

async fn make_ready(pods: &Api<Pod>, name: &str) {
    let status = json!({ "status": { "phase": "Running", "conditions": [{ "type": "Ready", "status": "True" }] } });
    pods.patch_status(name, &PatchParams::default(), &Patch::Merge(status))
        .await
        .expect("ready");
}

#[tokio::test]
async fn evictions_honour_pod_disruption_budgets() {
    let c = Cluster::start().await;
    if c.sim_only(
        "kube-apiserver 1.20 serves PodDisruptionBudget and Eviction only as policy/v1beta1",
    ) {
        return c.finish().await;
    }
    let pods: Api<Pod> = Api::namespaced(c.client.clone(), &c.ns);
    let pdbs: Api<PodDisruptionBudget> = Api::namespaced(c.client.clone(), &c.ns);
    for i in 0..3 {
        pods.create(
            &PostParams::default(),
            &pod(&format!("web-{i}"), json!({ "app": "web" })),
        )
        .await
        .expect("pod");
        make_ready(&pods, &format!("web-{i}")).await;
    }
    pods.create(
        &PostParams::default(),
        &pod("pending", json!({ "app": "web" })),
    )
    .await
    .expect("pod");
    let pdb: PodDisruptionBudget = parse(
        json!({ "metadata": { "name": "web" }, "spec": { "minAvailable": 2, "selector": { "matchLabels": { "app": "web" } } } }),
    );
    pdbs.create(&PostParams::default(), &pdb)
        .await
        .expect("pdb");
    let status = |p: PodDisruptionBudget| {
        let s = p.status.expect("status");
        (
            s.current_healthy,
            s.desired_healthy,
            s.disruptions_allowed,
            s.expected_pods,
            s.observed_generation,
        )
    };
    assert_eq!(
        status(pdbs.get("web").await.expect("pdb")),
        (3, 2, 1, 4, Some(1))
    );

    pods.evict("pending", &EvictParams::default())
        .await
        .expect("pending pods are not protected");
    pods.evict("web-0", &EvictParams::default())
        .await
        .expect("one disruption allowed");
    assert!(
        pods.get_opt("web-0").await.expect("get").is_none(),
        "an allowed eviction deletes the pod"
    );
    assert_eq!(
        status(pdbs.get("web").await.expect("pdb")),
        (2, 2, 0, 2, Some(1))
    );

    let refused = status_of(pods.evict("web-1", &EvictParams::default()).await);
    assert_eq!(
        (refused.code, refused.reason.as_str()),
        (429, "TooManyRequests")
    );
    assert_eq!(
        refused.message,
        "Cannot evict pod as it would violate the pod's disruption budget."
    );
    let cause = &refused.details.expect("details").causes[0];
    assert_eq!(
        (cause.reason.as_str(), cause.message.as_str()),
        (
            "DisruptionBudget",
            "The disruption budget web needs 2 healthy pods and has 2 currently"
        )
    );

    let to_percent = json!({ "spec": { "minAvailable": null, "maxUnavailable": "50%" } });
    pdbs.patch("web", &PatchParams::default(), &Patch::Merge(to_percent))
        .await
        .expect("patched");
    assert_eq!(
        status(pdbs.get("web").await.expect("pdb")),
        (2, 1, 1, 2, Some(2))
    );
    pods.evict("web-1", &EvictParams::default())
        .await
        .expect("50% of 2 allows one");
    c.finish().await;
}

#[tokio::test]
async fn deleting_a_namespace_removes_its_objects() {
    let c = Cluster::start().await;
    if c.sim_only("a bare kube-apiserver has no namespace controller to empty the namespace") {
        return c.finish().await;
    }
    let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), &c.ns);
    cms.create(
        &PostParams::default(),
        &parse(json!({ "metadata": { "name": "doomed" } })),
    )
    .await
    .expect("cm");
    let namespaces: Api<Namespace> = Api::all(c.client.clone());
    namespaces
        .delete(&c.ns, &DeleteParams::default())
        .await
        .expect("deleted");
    assert!(cms.get_opt("doomed").await.expect("get").is_none());
    assert!(namespaces.get_opt(&c.ns).await.expect("get").is_none());
    c.finish().await;
}

fn ready_node(name: &str, heartbeat: &str) -> Value {
    json!({ "metadata": { "name": name }, "status": { "conditions": [
        { "type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status",
          "lastHeartbeatTime": heartbeat, "lastTransitionTime": "2026-01-01T00:00:00Z" }
    ] } })
}

fn unreachable_taints(n: &Node) -> usize {
    n.spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .map_or(0, |t| {
            t.iter()
                .filter(|t| t.key == "node.kubernetes.io/unreachable")
                .count()
        })
}

#[tokio::test]
async fn silent_nodes_go_unknown_and_recover() {
    let lifecycle = LifecycleConfig {
        grace_period: Duration::from_millis(600),
        monitor_period: Duration::from_millis(100),
    };
    let c = Cluster::start_with(ApiServerConfig {
        lifecycle,
        ..ApiServerConfig::default()
    })
    .await;
    if c.sim_only("node lifecycle is kube-controller-manager's, which does not run here") {
        return c.finish().await;
    }
    let nodes: Api<Node> = Api::all(c.client.clone());
    let leases: Api<Lease> = Api::namespaced(c.client.clone(), "kube-node-lease");
    nodes
        .create(
            &PostParams::default(),
            &parse(ready_node("n1", "2026-01-01T00:00:00Z")),
        )
        .await
        .expect("node");
    let lease: Lease = parse(
        json!({ "metadata": { "name": "n1" }, "spec": { "holderIdentity": "n1", "leaseDurationSeconds": 40, "renewTime": "2026-01-01T00:00:00.000000Z" } }),
    );
    leases
        .create(&PostParams::default(), &lease)
        .await
        .expect("lease");

    let unknown = eventually("node marked Unknown", || async {
        let n = nodes.get("n1").await.ok()?;
        (unreachable_taints(&n) == 2).then_some(n)
    })
    .await;
    let ready = unknown
        .status
        .and_then(|s| s.conditions)
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .expect("ready");
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_deref()),
        ("Unknown", Some("NodeStatusUnknown"))
    );
    assert_eq!(
        ready.message.as_deref(),
        Some("Kubelet stopped posting node status.")
    );

    let renew = json!({ "spec": { "renewTime": "2026-01-01T00:05:00.000000Z" } });
    leases
        .patch("n1", &PatchParams::default(), &Patch::Merge(renew))
        .await
        .expect("renewed");
    nodes
        .patch_status(
            "n1",
            &PatchParams::default(),
            &Patch::Strategic(ready_node("n1", "2026-01-01T00:05:00Z")),
        )
        .await
        .expect("status posted");
    eventually("taints removed once heartbeats return", || async {
        let n = nodes.get("n1").await.ok()?;
        (unreachable_taints(&n) == 0).then_some(())
    })
    .await;
    c.finish().await;
}

#[tokio::test]
async fn pod_logs_are_served_as_text() {
    let c = Cluster::start().await;
    if c.sim_only("logs need a kubelet, which a bare kube-apiserver does not have") {
        return c.finish().await;
    }
    let pods: Api<Pod> = Api::namespaced(c.client.clone(), &c.ns);
    pods.create(&PostParams::default(), &pod("logger", json!({})))
        .await
        .expect("pod");
    if let Some(sim) = &c.sim {
        sim.append_pod_log(&c.ns, "logger", "app", "line 1\nline 2\nline 3\n");
    }
    let all = pods
        .logs("logger", &LogParams::default())
        .await
        .expect("logs");
    assert_eq!(all, "line 1\nline 2\nline 3\n");
    let tail = pods
        .logs(
            "logger",
            &LogParams {
                tail_lines: Some(1),
                ..LogParams::default()
            },
        )
        .await
        .expect("logs");
    assert_eq!(tail, "line 3\n");
    let deleted = pods
        .delete("logger", &DeleteParams::default())
        .await
        .expect("deleted");
    assert!(deleted.is_left(), "pod deletes answer the pod");
    c.finish().await;
}

#[tokio::test]
async fn pods_on_nodes_terminate_gracefully() {
    let c = Cluster::start_with(ApiServerConfig {
        graceful_pod_deletion: true,
        ..ApiServerConfig::default()
    })
    .await;
    let pods: Api<Pod> = Api::namespaced(c.client.clone(), &c.ns);
    let mut bound = pod("bound", json!({}));
    bound.spec.get_or_insert_default().node_name = Some("some-node".into());
    pods.create(&PostParams::default(), &bound)
        .await
        .expect("pod");
    pods.create(&PostParams::default(), &pod("unbound", json!({})))
        .await
        .expect("pod");

    let answer = pods
        .delete("bound", &DeleteParams::default())
        .await
        .expect("delete accepted");
    let terminating = answer.left().expect("pod");
    assert!(terminating.metadata.deletion_timestamp.is_some());
    assert_eq!(terminating.metadata.deletion_grace_period_seconds, Some(30));
    assert!(
        pods.get_opt("bound").await.expect("get").is_some(),
        "a bound pod waits for its kubelet"
    );
    pods.delete(
        "bound",
        &DeleteParams {
            grace_period_seconds: Some(0),
            ..DeleteParams::default()
        },
    )
    .await
    .expect("forced");
    eventually("pod gone after grace 0", || async {
        pods.get_opt("bound").await.ok()?.is_none().then_some(())
    })
    .await;

    pods.delete("unbound", &DeleteParams::default())
        .await
        .expect("deleted");
    assert!(
        pods.get_opt("unbound").await.expect("get").is_none(),
        "a pod on no node goes at once"
    );
    c.finish().await;
}
