//! The Kubernetes part of a bundle: nodes, pods and events of kube-system and of the named
//! node, as `kubectl get -o yaml` lists them, and the containers' logs through the API
//! server's `pods/log` endpoint. Secret objects are never read.

use std::collections::BTreeSet;

use futures::StreamExt as _;
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use kube::api::{Api, ListParams, LogParams};
use serde::Serialize;
use serde_json::{Value, json};

use super::{Bundle, Format, read, segment};
use crate::collect::Progress;

/// The namespace of the cluster's add-ons.
const SYSTEM: &str = "kube-system";

/// Items per page of a list.
const PAGE: u32 = 500;

/// Lines asked for per log: the end of the log.
const LOG_LINES: i64 = 10_000;

/// Bytes at most per log (of those last lines).
const LOG_BYTES: i64 = 1024 * 1024;

/// Logs read at the same time.
const LOG_CONCURRENCY: usize = 6;

/// What the Kubernetes part needs.
pub(crate) struct Request<'a> {
    /// The cluster.
    pub(crate) client: &'a kube::Client,
    /// The node to collect in detail.
    pub(crate) node: Option<&'a str>,
    /// Pods whose logs are read at most.
    pub(crate) max_log_pods: usize,
    /// Progress display.
    pub(crate) progress: &'a Progress,
}

/// Every object of `api` that `params` selects, page by page.
async fn list<K>(api: &Api<K>, params: ListParams) -> Result<Vec<K>, kube::Error>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let mut params = params.limit(PAGE);
    let mut items = Vec::new();
    loop {
        let page = api.list(&params).await?;
        let next = page.metadata.continue_.clone().filter(|c| !c.is_empty());
        items.extend(page.items);
        match next {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(items),
        }
    }
}

/// An object without `metadata.managedFields`, which only say which client wrote which field.
fn trimmed(object: &impl Serialize) -> Value {
    let mut value = serde_json::to_value(object).unwrap_or(Value::Null);
    if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    value
}

/// Objects as a `v1` `List`, the shape `kubectl get -o yaml` prints.
fn as_list<K: Serialize>(items: &[K]) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": items.iter().map(trimmed).collect::<Vec<_>>(),
    })
}

/// Whether an event concerns `node`: the node itself, a pod on it, or reported from it.
fn about_node(event: &Event, node: &str, pods: &BTreeSet<(String, String)>) -> bool {
    let object = &event.involved_object;
    let kind = object.kind.as_deref().unwrap_or_default();
    let name = object.name.clone().unwrap_or_default();
    let host = event.source.as_ref().and_then(|s| s.host.as_deref());
    (kind == "Node" && name == node)
        || (kind == "Pod" && pods.contains(&(object.namespace.clone().unwrap_or_default(), name)))
        || host == Some(node)
}

/// Reads the Kubernetes part into `bundle`. Returns the node's provider ID when the node was
/// read, for its VM's instance view.
pub(crate) async fn collect(
    bundle: &mut Bundle,
    req: &Request<'_>,
) -> anyhow::Result<Option<String>> {
    let client = req.client;
    let progress = req.progress;
    let nodes: Api<Node> = Api::all(client.clone());
    let system_pods: Api<Pod> = Api::namespaced(client.clone(), SYSTEM);
    let system_events: Api<Event> = Api::namespaced(client.clone(), SYSTEM);
    let all_pods: Api<Pod> = Api::all(client.clone());
    let all_events: Api<Event> = Api::all(client.clone());
    let listed_nodes = read(progress, "nodes", list(&nodes, ListParams::default()));
    let listed_system_pods = read(
        progress,
        "kube-system pods",
        list(&system_pods, ListParams::default()),
    );
    let listed_system_events = read(
        progress,
        "kube-system events",
        list(&system_events, ListParams::default()),
    );
    let of_node = async {
        let node = req.node?;
        let got = read(progress, format!("node {node}"), nodes.get(node));
        let selector = format!("spec.nodeName={node}");
        let pods = read(
            progress,
            format!("pods on {node}"),
            list(&all_pods, ListParams::default().fields(&selector)),
        );
        let events = read(
            progress,
            "events (all namespaces)",
            list(&all_events, ListParams::default()),
        );
        Some(futures::join!(got, pods, events))
    };
    let (listed_nodes, listed_system_pods, listed_system_events, of_node) = futures::join!(
        listed_nodes,
        listed_system_pods,
        listed_system_events,
        of_node
    );
    bundle.add_read(
        "kubernetes/nodes.yaml",
        "list nodes",
        listed_nodes.as_deref().map(as_list),
        Format::Yaml,
    )?;
    bundle.add_read(
        "kubernetes/kube-system/pods.yaml",
        "list pods in kube-system",
        listed_system_pods.as_deref().map(as_list),
        Format::Yaml,
    )?;
    bundle.add_read(
        "kubernetes/kube-system/events.yaml",
        "list events in kube-system",
        listed_system_events.as_deref().map(as_list),
        Format::Yaml,
    )?;
    let mut provider_id = None;
    let mut node_pods = Vec::new();
    if let (Some(node), Some((got, pods, events))) = (req.node, of_node) {
        let dir = format!("kubernetes/node-{}", segment(node));
        if let Ok(n) = &got {
            provider_id = n.spec.as_ref().and_then(|s| s.provider_id.clone());
        }
        bundle.add_read(
            &format!("{dir}/node.yaml"),
            &format!("get node {node}"),
            got.as_ref().map(trimmed),
            Format::Yaml,
        )?;
        let on_node: BTreeSet<(String, String)> = pods
            .iter()
            .flatten()
            .map(|p| {
                (
                    p.metadata.namespace.clone().unwrap_or_default(),
                    p.metadata.name.clone().unwrap_or_default(),
                )
            })
            .collect();
        bundle.add_read(
            &format!("{dir}/pods.yaml"),
            &format!("list pods with spec.nodeName={node}"),
            pods.as_deref().map(as_list),
            Format::Yaml,
        )?;
        let events = events.map(|all| {
            let mine: Vec<&Event> = all
                .iter()
                .filter(|e| about_node(e, node, &on_node))
                .collect();
            as_list(&mine)
        });
        bundle.add_read(
            &format!("{dir}/events.yaml"),
            "list events (all namespaces), those about the node, its pods or from its kubelet",
            events,
            Format::Yaml,
        )?;
        node_pods = pods.unwrap_or_default();
    }
    let targets = log_targets(
        &node_pods,
        listed_system_pods.as_deref().unwrap_or_default(),
        req.max_log_pods,
    );
    if !targets.skipped.is_empty() {
        bundle.note(format!(
            "logs of {} pods not read (over --max-log-pods {}): {}",
            targets.skipped.len(),
            req.max_log_pods,
            targets.skipped.join(", ")
        ));
    }
    logs(bundle, client, progress, targets.logs).await?;
    Ok(provider_id)
}

/// One container log to read.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LogTarget {
    namespace: String,
    pod: String,
    container: String,
    /// The previous instance of a restarted container.
    previous: bool,
}

impl LogTarget {
    fn path(&self) -> String {
        let kind = if self.previous { ".previous" } else { "" };
        format!(
            "logs/{}/{}/{}{kind}.log",
            segment(&self.namespace),
            segment(&self.pod),
            segment(&self.container)
        )
    }

    fn source(&self) -> String {
        let previous = if self.previous { "&previous=true" } else { "" };
        format!(
            "GET pods/{}/log in {}?container={}&tailLines={LOG_LINES}&limitBytes={LOG_BYTES}{previous}",
            self.pod, self.namespace, self.container
        )
    }
}

/// The logs to read, and the pods left out by the limit.
#[derive(Debug, Default)]
struct LogPlan {
    logs: Vec<LogTarget>,
    skipped: Vec<String>,
}

/// Whether a pod is in trouble: not Ready, or a container restarted.
fn troubled(pod: &Pod) -> bool {
    let status = pod.status.as_ref();
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    let restarted = status
        .and_then(|s| s.container_statuses.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.restart_count > 0));
    !ready || restarted
}

/// Pods on the node first, then kube-system pods in trouble, then the other kube-system pods;
/// at most `max_pods`. Each pod's init and app containers, and the previous instance of each
/// container that restarted.
fn log_targets(node_pods: &[Pod], system_pods: &[Pod], max_pods: usize) -> LogPlan {
    let mut system: Vec<&Pod> = system_pods.iter().collect();
    system.sort_by_key(|p| !troubled(p));
    let mut seen = BTreeSet::new();
    let mut plan = LogPlan::default();
    for pod in node_pods.iter().chain(system) {
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        if !seen.insert((namespace.clone(), name.clone())) {
            continue;
        }
        if seen.len() > max_pods {
            plan.skipped.push(format!("{namespace}/{name}"));
            continue;
        }
        let spec = pod.spec.as_ref();
        let containers = spec
            .and_then(|s| s.init_containers.as_ref())
            .into_iter()
            .flatten()
            .chain(spec.map(|s| &s.containers).into_iter().flatten());
        let status = pod.status.as_ref();
        let statuses = status
            .and_then(|s| s.init_container_statuses.as_ref())
            .into_iter()
            .flatten()
            .chain(
                status
                    .and_then(|s| s.container_statuses.as_ref())
                    .into_iter()
                    .flatten(),
            );
        let restarted: BTreeSet<&str> = statuses
            .filter(|s| s.restart_count > 0)
            .map(|s| s.name.as_str())
            .collect();
        for container in containers {
            let target = LogTarget {
                namespace: namespace.clone(),
                pod: name.clone(),
                container: container.name.clone(),
                previous: false,
            };
            if restarted.contains(container.name.as_str()) {
                plan.logs.push(LogTarget {
                    previous: true,
                    ..target.clone()
                });
            }
            plan.logs.push(target);
        }
    }
    plan
}

/// Reads the logs a few at a time and adds each as it comes.
async fn logs(
    bundle: &mut Bundle,
    client: &kube::Client,
    progress: &Progress,
    targets: Vec<LogTarget>,
) -> anyhow::Result<()> {
    let mut answers = futures::stream::iter(targets)
        .map(|target| async move {
            let api: Api<Pod> = Api::namespaced(client.clone(), &target.namespace);
            let params = LogParams {
                container: Some(target.container.clone()),
                previous: target.previous,
                tail_lines: Some(LOG_LINES),
                limit_bytes: Some(LOG_BYTES),
                ..LogParams::default()
            };
            let what = format!(
                "log of {}/{}/{}{}",
                target.namespace,
                target.pod,
                target.container,
                if target.previous { " (previous)" } else { "" }
            );
            let text = read(progress, what, api.logs(&target.pod, &params)).await;
            (target, text)
        })
        .buffer_unordered(LOG_CONCURRENCY);
    while let Some((target, text)) = answers.next().await {
        match text {
            Ok(text) => bundle.add_text(&target.path(), &target.source(), &text)?,
            Err(error) => bundle.missing(&target.path(), &target.source(), error),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(ns: &str, name: &str, ready: bool, restarts: i32) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": ns, "managedFields": [{"manager": "x"}]},
            "spec": {"initContainers": [{"name": "init"}], "containers": [{"name": "app"}, {"name": "sidecar"}]},
            "status": {
                "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
                "containerStatuses": [{"name": "app", "image": "", "imageID": "", "ready": ready, "restartCount": restarts}]
            }
        }))
        .unwrap()
    }

    #[test]
    fn node_pods_come_first_then_troubled_system_pods_within_the_limit() {
        let node_pods = [
            pod("shop", "web-0", true, 0),
            pod(SYSTEM, "kube-proxy-a", true, 0),
        ];
        let system = [
            pod(SYSTEM, "kube-proxy-a", true, 0),
            pod(SYSTEM, "fine", true, 0),
            pod(SYSTEM, "coredns-0", false, 3),
        ];
        let plan = log_targets(&node_pods, &system, 3);
        let pods: Vec<String> = plan
            .logs
            .iter()
            .map(|t| format!("{}/{}", t.namespace, t.pod))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(
            pods,
            [
                "kube-system/coredns-0",
                "kube-system/kube-proxy-a",
                "shop/web-0"
            ]
        );
        assert_eq!(plan.skipped, ["kube-system/fine"]);
        let coredns: Vec<String> = plan
            .logs
            .iter()
            .filter(|t| t.pod == "coredns-0")
            .map(LogTarget::path)
            .collect();
        assert_eq!(
            coredns,
            [
                "logs/kube-system/coredns-0/init.log",
                "logs/kube-system/coredns-0/app.previous.log",
                "logs/kube-system/coredns-0/app.log",
                "logs/kube-system/coredns-0/sidecar.log"
            ]
        );
    }

    #[test]
    fn lists_drop_managed_fields() {
        let list = as_list(&[pod(SYSTEM, "a", true, 0)]);
        assert_eq!(list["kind"], "List");
        assert!(list["items"][0]["metadata"].get("managedFields").is_none());
        assert_eq!(list["items"][0]["metadata"]["name"], "a");
    }

    #[test]
    fn node_events_are_the_node_its_pods_and_its_kubelet() {
        let event = |v: Value| -> Event { serde_json::from_value(v).unwrap() };
        let pods: BTreeSet<(String, String)> = [("shop".to_owned(), "web-0".to_owned())].into();
        assert!(about_node(
            &event(json!({"metadata": {}, "involvedObject": {"kind": "Node", "name": "n1"}})),
            "n1",
            &pods
        ));
        assert!(about_node(
            &event(
                json!({"metadata": {}, "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "web-0"}})
            ),
            "n1",
            &pods
        ));
        assert!(about_node(
            &event(
                json!({"metadata": {}, "involvedObject": {"kind": "Pod", "name": "x"}, "source": {"host": "n1"}})
            ),
            "n1",
            &pods
        ));
        assert!(!about_node(
            &event(json!({"metadata": {}, "involvedObject": {"kind": "Node", "name": "n2"}})),
            "n1",
            &pods
        ));
    }
}
