//! Which pods a drain evicts, and when it is done. The same rules as `kubectl drain
//! --ignore-daemonsets --delete-emptydir-data`: DaemonSet pods and static (mirror) pods stay,
//! finished pods do not count.

use serde::Serialize;

/// What a drain needs to know about a pod on the node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PodView {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Kinds of the pod's owners (`ReplicaSet`, `DaemonSet`, ...).
    pub owner_kinds: Vec<String>,
    /// A static pod's mirror (annotation `kubernetes.io/config.mirror`).
    pub mirror: bool,
    /// Already being deleted.
    pub terminating: bool,
    /// `status.phase`.
    pub phase: String,
}

/// What to do next in a drain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DrainPlan {
    /// Pods to evict now, as (namespace, name).
    pub evict: Vec<(String, String)>,
    /// Pods already going away; the drain waits for them.
    pub terminating: usize,
}

impl DrainPlan {
    /// Nothing left to evict or wait for.
    pub fn is_done(&self) -> bool {
        self.evict.is_empty() && self.terminating == 0
    }
}

fn stays(pod: &PodView) -> bool {
    pod.mirror
        || pod.owner_kinds.iter().any(|k| k == "DaemonSet")
        || pod.phase == "Succeeded"
        || pod.phase == "Failed"
}

/// The next round of a drain over the pods currently on the node.
pub fn plan(pods: &[PodView]) -> DrainPlan {
    let mut out = DrainPlan::default();
    for pod in pods.iter().filter(|p| !stays(p)) {
        if pod.terminating {
            out.terminating += 1;
        } else {
            out.evict.push((pod.namespace.clone(), pod.name.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str) -> PodView {
        PodView {
            namespace: "default".into(),
            name: name.into(),
            owner_kinds: vec!["ReplicaSet".into()],
            mirror: false,
            terminating: false,
            phase: "Running".into(),
        }
    }

    #[test]
    fn evicts_workloads_and_leaves_daemonsets_mirrors_and_finished_pods() {
        let mut ds = pod("ds");
        ds.owner_kinds = vec!["DaemonSet".into()];
        let mut mirror = pod("kube-proxy");
        mirror.mirror = true;
        let mut done = pod("job");
        done.phase = "Succeeded".into();
        let mut leaving = pod("leaving");
        leaving.terminating = true;
        let p = plan(&[pod("web"), ds, mirror, done, leaving]);
        assert_eq!(p.evict, [("default".to_owned(), "web".to_owned())]);
        assert_eq!(p.terminating, 1);
        assert!(!p.is_done());
        assert!(plan(&[]).is_done());
    }
}
