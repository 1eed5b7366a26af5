//! `auto-repair-error`: node auto-repair actions that failed, from the `NodeRebootError`,
//! `NodeReimageError` and `NodeRedeployError` events (AKS's and nodemend's own). The code at the
//! end of the message picks the catalog entry. A failed redeploy (`VMRedeploymentFailed`) or an
//! exhausted redeploy budget (`TooManyVMRedeploymentRequests`) is linked to the state of the
//! node's pool, which a failed redeploy can leave Failed.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::reconcile_pool;
use crate::ProviderId;
use crate::catalog::{Catalog, Entry, Severity};
use crate::diagnosis::codes::{self, Found};
use crate::diagnosis::facts::Facts;
use crate::diagnosis::finding::{Draft, Finding, ago, clip};
use crate::diagnosis::kube::EventRecord;
use crate::diagnosis::placeholders::Placeholders;
use crate::diagnosis::snapshot::Snapshot;

pub(super) const ID: &str = "auto-repair-error";

const REASONS: [&str; 3] = ["NodeRebootError", "NodeReimageError", "NodeRedeployError"];
const REDEPLOY_CODES: [&str; 2] = ["VMRedeploymentFailed", "TooManyVMRedeploymentRequests"];

/// Events of one node, reason and code, added up.
struct Group<'s, 'c> {
    events: Vec<&'s EventRecord>,
    found: Option<Found<'c>>,
    action: Option<String>,
}

impl Group<'_, '_> {
    fn count(&self) -> u32 {
        self.events.iter().map(|e| e.count.max(1)).sum()
    }

    fn last(&self) -> Option<Timestamp> {
        self.events.iter().map(|e| e.last_seen).max()
    }
}

/// The pool of a node: its label, or the pool whose VM carries its name.
fn pool_of(snapshot: &Snapshot, node: &str) -> Option<String> {
    let labelled = snapshot
        .kubernetes
        .as_ref()
        .and_then(|k| k.node(node))
        .and_then(|n| n.pool.clone());
    labelled.or_else(|| {
        snapshot.pools().iter().find_map(|p| {
            let hosts = snapshot
                .instances(&p.name)
                .unwrap_or_default()
                .iter()
                .any(|vm| vm.computer_name.as_deref() == Some(node));
            hosts.then(|| p.name.clone())
        })
    })
}

pub(super) fn check(facts: &Facts<'_, '_>) -> Vec<Finding> {
    let (snapshot, catalog) = (facts.snapshot, facts.catalog);
    let Some(kube) = &snapshot.kubernetes else {
        return Vec::new();
    };
    let mut groups: BTreeMap<(String, String, String), Group<'_, '_>> = BTreeMap::new();
    for event in kube
        .events
        .iter()
        .filter(|e| REASONS.contains(&e.reason.as_str()))
    {
        let node = event.involved.name.clone();
        let os = pool_of(snapshot, &node)
            .map_or(crate::catalog::NodeOs::Linux, |p| snapshot.pool_os(&p));
        let parsed = codes::in_repair_event(&event.message, os, catalog);
        let code = parsed
            .as_ref()
            .map(|(_, f)| f.code.clone())
            .unwrap_or_default();
        let group = groups
            .entry((node, event.reason.clone(), code))
            .or_insert_with(|| Group {
                events: Vec::new(),
                action: parsed.as_ref().map(|(a, _)| a.clone()),
                found: parsed.map(|(_, f)| f),
            });
        group.events.push(event);
    }
    groups
        .into_iter()
        .map(|((node, reason, _), group)| finding(snapshot, catalog, &node, &reason, &group))
        .collect()
}

fn finding(
    snapshot: &Snapshot,
    catalog: &Catalog,
    node: &str,
    reason: &str,
    group: &Group<'_, '_>,
) -> Finding {
    let reason_entry = catalog.find(reason);
    let code_entry = group.found.as_ref().and_then(|f| f.entry);
    let entry: Option<&Entry> = code_entry.or(reason_entry);
    let mut severity = [reason_entry, code_entry]
        .into_iter()
        .flatten()
        .map(|e| e.severity)
        .max()
        .unwrap_or(Severity::Warning);
    let pool = pool_of(snapshot, node);
    let pool_state = pool
        .as_deref()
        .and_then(|p| snapshot.cluster()?.pool(p))
        .map(|p| p.provisioning_state.clone());
    let redeploy = group.found.as_ref().is_some_and(|f| {
        REDEPLOY_CODES
            .iter()
            .any(|c| f.code.eq_ignore_ascii_case(c))
    });
    let pool_failed = pool_state.as_ref().is_some_and(|s| s.is_failed());
    if redeploy && pool_failed {
        severity = severity.max(Severity::Error);
    }
    let action = group.action.clone().unwrap_or_else(|| reason.to_owned());
    let mut title = match &group.found {
        Some(f) => format!("Auto-repair could not {action} node {node}: {}", f.code),
        None => format!("Auto-repair could not {action} node {node}"),
    };
    if redeploy
        && pool_failed
        && let Some(pool) = &pool
    {
        title.push_str(&format!(", and pool {pool} is Failed"));
    }
    let mut names = Placeholders::for_snapshot(snapshot).set("node", node);
    if let Some(pool) = &pool {
        names = names.pool(snapshot, pool);
    }
    let view = snapshot.kubernetes.as_ref().and_then(|k| k.node(node));
    let provider_id = view.and_then(|n| n.provider_id.as_deref());
    let vm_id = snapshot
        .vm_of_node(node, provider_id)
        .map(|vm| vm.id.clone())
        .or_else(|| provider_id.and_then(|p| p.parse::<ProviderId>().ok()));
    if let Some(id) = &vm_id {
        names = names.vm(id);
    }
    let mut draft = Draft::new(ID, severity, format!("node/{node}"), title)
        .evidence("reason", reason)
        .evidence("message", clip(&group.events[0].message, 300))
        .evidence("occurrences", group.count());
    if let Some(last) = group.last() {
        draft = draft.evidence("last seen", ago(snapshot.now, last));
    }
    if let Some(view) = view {
        draft = draft.evidence("node Ready", format!("{:?}", view.ready()));
    }
    if let Some(pool) = &pool {
        let state = pool_state
            .as_ref()
            .map_or("not read".to_owned(), ToString::to_string);
        draft = draft.evidence("pool", format!("{pool} ({state})"));
    }
    if let Some(found) = &group.found {
        draft = draft.code(&found.code);
    }
    draft = draft.entry(entry, &names);
    if redeploy
        && pool_failed
        && let Some(pool) = &pool
    {
        for command in reconcile_pool(snapshot, pool) {
            draft = draft.then(command);
        }
    }
    draft.build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::fixtures::{SnapshotFixture, facts, node_event, pool, snapshot};
    use crate::fixtures::{NodeFixture, node, t};
    use crate::policy::Action;
    use crate::repair::action_failed_message;

    fn failed_event(action: Action, node: &str, code: &str) -> EventRecord {
        let reason = match action {
            Action::Reboot => "NodeRebootError",
            Action::Reimage => "NodeReimageError",
            Action::Redeploy => "NodeRedeployError",
        };
        node_event(reason, node, &action_failed_message(action, code))
    }

    #[test]
    fn each_auto_repair_code_gets_its_entry() {
        for code in [
            "VMExtensionProvisioningError",
            "InvalidParameter",
            "scaleSetNameAndInstanceIDFromProviderID failed",
            "ManagedIdentityCredential authentication failed",
            "OutboundConnectivityNotEnabledOnVMSS",
        ] {
            let snap = snapshot().with_event(failed_event(Action::Reimage, "n1", code));
            let f = &check(&facts(&snap))[0];
            assert_eq!(f.code.as_deref(), Some(code));
            assert_eq!(f.entry.as_deref(), Some(code));
            assert_eq!(f.resource, "node/n1");
            assert!(
                f.title.starts_with("Auto-repair could not reimage node n1"),
                "{}",
                f.title
            );
        }
    }

    #[test]
    fn repeated_events_are_added_up() {
        let mut second = failed_event(Action::Reboot, "n1", "InvalidParameter");
        second.count = 3;
        second.last_seen = t(-5);
        let snap = snapshot()
            .with_event(failed_event(Action::Reboot, "n1", "InvalidParameter"))
            .with_event(second);
        let findings = check(&facts(&snap));
        assert_eq!(findings.len(), 1);
        assert!(
            findings[0]
                .evidence
                .iter()
                .any(|e| e.label == "occurrences" && e.value == "4")
        );
    }

    #[test]
    fn a_failed_redeploy_is_linked_to_its_failed_pool() {
        let snap = snapshot()
            .with_pool(pool("np1").failed())
            .with_node(node("aks-np1-vmss000001").in_pool("np1"))
            .with_event(failed_event(
                Action::Redeploy,
                "aks-np1-vmss000001",
                "VMRedeploymentFailed",
            ));
        let f = &check(&facts(&snap))[0];
        assert_eq!(f.severity, Severity::Error);
        assert!(f.title.ends_with(", and pool np1 is Failed"), "{}", f.title);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.label == "pool" && e.value == "np1 (Failed)")
        );
        assert_eq!(
            f.commands.last().unwrap(),
            "az aks nodepool update --resource-group rg --cluster-name aks --name np1"
        );
    }

    #[test]
    fn too_many_redeploys_on_a_healthy_pool_stays_a_warning_level_code() {
        let snap = snapshot().with_pool(pool("np1")).with_event(failed_event(
            Action::Redeploy,
            "aks-np1-vmss000002",
            "TooManyVMRedeploymentRequests",
        ));
        let f = &check(&facts(&snap))[0];
        assert_eq!(f.code.as_deref(), Some("TooManyVMRedeploymentRequests"));
        assert!(
            f.evidence
                .iter()
                .any(|e| e.label == "pool" && e.value == "np1 (Succeeded)")
        );
        assert!(
            !f.commands
                .iter()
                .any(|c| c.starts_with("nodemend reconcile"))
        );
    }

    #[test]
    fn other_events_are_ignored() {
        let snap = snapshot().with_event(node_event(
            "NodeNotReady",
            "n1",
            "Node n1 status is now: NodeNotReady",
        ));
        assert!(check(&facts(&snap)).is_empty());
    }
}
