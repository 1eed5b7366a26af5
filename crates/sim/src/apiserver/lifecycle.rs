//! Node lifecycle, as kube-controller-manager runs it: a node whose heartbeats (Lease renewals
//! in `kube-node-lease` and `Ready` condition heartbeats) stop for the grace period gets its
//! conditions set to `Unknown`; condition and cordon taints follow the node's state.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use tokio::sync::watch;

use super::clock::{Clock, format_time};
use super::store::Store;

/// Condition types the controller marks `Unknown`, as kube-controller-manager does.
const KUBELET_CONDITIONS: &[&str] = &["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];
const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
const NOT_READY: &str = "node.kubernetes.io/not-ready";
const UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";
const LEASES: &str = "coordination.k8s.io/leases";

/// Timing of the node lifecycle controller.
#[derive(Clone, Copy, Debug)]
pub struct LifecycleConfig {
    /// How long heartbeats may stop before a node is `Unknown` (`--node-monitor-grace-period`).
    pub grace_period: Duration,
    /// How often nodes are checked (`--node-monitor-period`).
    pub monitor_period: Duration,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        Self {
            grace_period: Duration::from_secs(40),
            monitor_period: Duration::from_secs(5),
        }
    }
}

/// Heartbeats last seen for one node and when they last changed.
#[derive(Debug)]
struct Observed {
    heartbeat: Value,
    renew: Value,
    probe: Timestamp,
}

/// Heartbeat bookkeeping across passes.
#[derive(Debug, Default)]
pub(crate) struct Lifecycle {
    observed: HashMap<String, Observed>,
}

impl Lifecycle {
    /// One monitoring pass over every node at time `now`, all under one lock (tests).
    #[cfg(test)]
    pub(crate) fn pass(&mut self, store: &mut Store, grace: Duration, now: Timestamp) {
        let snapshot = Snapshot::take(store);
        let updates = self.plan(&snapshot, grace, now);
        apply(store, updates);
    }

    /// The nodes to store after a pass over `snapshot`: pure, run outside the store lock.
    fn plan(&mut self, snapshot: &Snapshot, grace: Duration, now: Timestamp) -> Vec<Update> {
        let grace = SignedDuration::try_from(grace).unwrap_or(SignedDuration::MAX);
        let renews: HashMap<&str, &Value> = snapshot
            .leases
            .iter()
            .map(|l| {
                (
                    l["metadata"]["name"].as_str().unwrap_or_default(),
                    &l["spec"]["renewTime"],
                )
            })
            .collect();
        let names: std::collections::HashSet<&str> = snapshot
            .nodes
            .iter()
            .map(|n| n["metadata"]["name"].as_str().unwrap_or_default())
            .collect();
        self.observed
            .retain(|name, _| names.contains(name.as_str()));
        let mut updates = Vec::new();
        for node in &snapshot.nodes {
            let name = node["metadata"]["name"].as_str().unwrap_or_default();
            let heartbeat =
                condition(node, "Ready").map_or(&Value::Null, |c| &c["lastHeartbeatTime"]);
            let renew = renews.get(name).copied().unwrap_or(&Value::Null);
            let seen = self
                .observed
                .entry(name.to_owned())
                .or_insert_with(|| Observed {
                    heartbeat: heartbeat.clone(),
                    renew: renew.clone(),
                    probe: now,
                });
            if seen.heartbeat != *heartbeat || seen.renew != *renew {
                *seen = Observed {
                    heartbeat: heartbeat.clone(),
                    renew: renew.clone(),
                    probe: now,
                };
            }
            let silent = now.duration_since(seen.probe) > grace;
            // Most passes change nothing: look before cloning thousands of nodes.
            let goes_unknown = silent && !all_unknown(node);
            let taints = if goes_unknown {
                None
            } else {
                taints_to_set(node, now)
            };
            if goes_unknown || taints.is_some() {
                let mut updated = (**node).clone();
                if goes_unknown {
                    mark_unknown(&mut updated, now);
                }
                if let Some(t) = taints.or_else(|| taints_to_set(&updated, now)) {
                    set_taints(&mut updated, t);
                }
                tracing::info!(node = %name, silent, "node lifecycle updates node");
                updates.push(Update {
                    seen: node.clone(),
                    updated,
                });
            }
        }
        updates
    }
}

/// Nodes and node leases as they were at the start of a pass.
struct Snapshot {
    nodes: Vec<Arc<Value>>,
    leases: Vec<Arc<Value>>,
}

impl Snapshot {
    fn take(store: &Store) -> Self {
        Self {
            nodes: store.list("nodes", None).map(|(_, n)| n.clone()).collect(),
            leases: store
                .list(LEASES, Some("kube-node-lease"))
                .map(|(_, l)| l.clone())
                .collect(),
        }
    }
}

/// A node to store, and the version it was computed from.
struct Update {
    seen: Arc<Value>,
    updated: Value,
}

/// Stores the updates whose node did not change meanwhile (the others wait for the next pass).
fn apply(store: &mut Store, updates: Vec<Update>) {
    for Update { seen, updated } in updates {
        let name = seen["metadata"]["name"].as_str().unwrap_or_default();
        if store
            .get("nodes", "", name)
            .is_some_and(|now| Arc::ptr_eq(&now, &seen))
        {
            store.put("nodes", updated);
        }
    }
}

fn condition<'a>(node: &'a Value, ty: &str) -> Option<&'a Value> {
    node["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == ty)
}

fn mark_unknown(node: &mut Value, now: Timestamp) {
    let created = node["metadata"]["creationTimestamp"].clone();
    if !node["status"]["conditions"].is_array() {
        node["status"]["conditions"] = json!([]);
    }
    let Some(conditions) = node["status"]["conditions"].as_array_mut() else {
        return;
    };
    for ty in KUBELET_CONDITIONS {
        match conditions.iter_mut().find(|c| c["type"] == *ty) {
            Some(c) if c["status"] != "Unknown" => {
                c["status"] = json!("Unknown");
                c["reason"] = json!("NodeStatusUnknown");
                c["message"] = json!("Kubelet stopped posting node status.");
                c["lastTransitionTime"] = json!(format_time(now));
            }
            Some(_) => {}
            None => conditions.push(json!({
                "type": ty, "status": "Unknown", "reason": "NodeStatusNeverUpdated",
                "message": "Kubelet never posted node status.",
                "lastHeartbeatTime": created, "lastTransitionTime": format_time(now),
            })),
        }
    }
}

fn all_unknown(node: &Value) -> bool {
    KUBELET_CONDITIONS
        .iter()
        .all(|ty| condition(node, ty).is_some_and(|c| c["status"] == "Unknown"))
}

/// The taint list once the taints that follow `Ready` and `spec.unschedulable` are right, or
/// `None` when they already are. Other taints are left alone.
fn taints_to_set(node: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let ready = condition(node, "Ready")
        .and_then(|c| c["status"].as_str())
        .unwrap_or("True");
    let mut wanted: Vec<(&str, &str)> = match ready {
        "False" => vec![(NOT_READY, "NoSchedule"), (NOT_READY, "NoExecute")],
        "Unknown" => vec![(UNREACHABLE, "NoSchedule"), (UNREACHABLE, "NoExecute")],
        _ => Vec::new(),
    };
    if node["spec"]["unschedulable"].as_bool() == Some(true) {
        wanted.push((UNSCHEDULABLE, "NoSchedule"));
    }
    let current = node["spec"]["taints"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let managed = |t: &Value| {
        [UNREACHABLE, NOT_READY, UNSCHEDULABLE]
            .iter()
            .any(|k| t["key"] == *k)
    };
    let is_wanted = |t: &Value| {
        wanted
            .iter()
            .any(|(k, e)| t["key"] == *k && t["effect"] == *e)
    };
    let missing: Vec<&(&str, &str)> = wanted
        .iter()
        .filter(|(k, e)| !current.iter().any(|t| t["key"] == *k && t["effect"] == *e))
        .collect();
    let unwanted = current.iter().any(|t| managed(t) && !is_wanted(t));
    if missing.is_empty() && !unwanted {
        return None;
    }
    let mut taints: Vec<Value> = current
        .iter()
        .filter(|t| !managed(t) || is_wanted(t))
        .cloned()
        .collect();
    for (key, effect) in missing {
        taints.push(json!({ "key": key, "effect": effect, "timeAdded": format_time(now) }));
    }
    Some(taints)
}

fn set_taints(node: &mut Value, taints: Vec<Value>) {
    if !taints.is_empty() {
        node["spec"]["taints"] = Value::Array(taints);
    } else if let Some(spec) = node["spec"].as_object_mut() {
        spec.remove("taints");
    }
}

/// Runs passes every `monitor_period` until shutdown.
pub(crate) async fn run(
    store: Arc<Mutex<Store>>,
    clock: Arc<dyn Clock>,
    config: LifecycleConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut lifecycle = Lifecycle::default();
    let mut tick = tokio::time::interval(config.monitor_period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
        let now = clock.now();
        let Ok(snapshot) = store.lock().map(|s| Snapshot::take(&s)) else {
            return;
        };
        let updates = lifecycle.plan(&snapshot, config.grace_period, now);
        if updates.is_empty() {
            continue;
        }
        match store.lock() {
            Ok(mut s) => apply(&mut s, updates),
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().expect("valid time")
    }

    #[test]
    fn silent_node_goes_unknown_and_returns() {
        let mut store = Store::new(100);
        let ready = |hb: &str| {
            json!({"metadata": {"name": "n1", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {}, "status": {"conditions": [{"type": "Ready", "status": "True", "lastHeartbeatTime": hb}]}})
        };
        store.put("nodes", ready("2026-01-01T00:00:00Z"));
        let mut lc = Lifecycle::default();
        let grace = Duration::from_secs(40);
        lc.pass(&mut store, grace, t("2026-01-01T00:00:00Z"));
        lc.pass(&mut store, grace, t("2026-01-01T00:00:40Z"));
        let n = store.get("nodes", "", "n1").expect("node");
        assert_eq!(condition(&n, "Ready").expect("ready")["status"], "True");
        lc.pass(&mut store, grace, t("2026-01-01T00:00:41Z"));
        let n = store.get("nodes", "", "n1").expect("node");
        let c = condition(&n, "Ready").expect("ready");
        assert_eq!(c["status"], "Unknown");
        assert_eq!(c["reason"], "NodeStatusUnknown");
        assert_eq!(c["message"], "Kubelet stopped posting node status.");
        assert_eq!(
            condition(&n, "MemoryPressure").expect("added")["reason"],
            "NodeStatusNeverUpdated"
        );
        let taints = n["spec"]["taints"].as_array().expect("tainted");
        assert_eq!(taints.len(), 2);
        assert!(
            taints
                .iter()
                .all(|t| t["key"] == UNREACHABLE && t["timeAdded"].is_string())
        );
        store.put("nodes", ready("2026-01-01T00:00:50Z"));
        lc.pass(&mut store, grace, t("2026-01-01T00:00:50Z"));
        let n = store.get("nodes", "", "n1").expect("node");
        assert!(n["spec"].get("taints").is_none());
    }
}
