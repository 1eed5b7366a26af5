//! `outbound-connectivity` and `network-blocked`: nodes that cannot reach what they need.
//!
//! Signals, per pool: VMs whose bootstrap failed with an egress, API-server or DNS exit code
//! (50 `OutboundConnFailVMExtensionError` and its friends 31, 41, 51, 52, 53, 65, 99...), failed
//! operations with such a code on the pool's scale set, and auto-repair events ending in one
//! (`OutboundConnectivityNotEnabledOnVMSS`). One finding per pool and catalog entry. When the
//! same egress failure (not the missing-outbound-path one) shows in every pool with VMs, or in
//! more than one pool, the virtual network itself is blocked: `network-blocked`.

use std::collections::BTreeMap;

use super::reconcile_cluster;
use super::reconcile_pool;
use crate::ProviderId;
use crate::catalog::{Category, Entry, NodeOs};
use crate::diagnosis::codes::{self, Found};
use crate::diagnosis::facts::Facts;
use crate::diagnosis::finding::{Draft, Finding, clip, list};
use crate::diagnosis::placeholders::Placeholders;

pub(super) const ID: &str = "outbound-connectivity";
pub(super) const BLOCKED_ID: &str = "network-blocked";

const NO_OUTBOUND_PATH: &str = "OutboundConnectivityNotEnabledOnVMSS";

/// One piece of evidence that a pool's nodes cannot get out.
struct Signal<'c> {
    entry: &'c Entry,
    line: String,
    vm: Option<ProviderId>,
}

fn outbound<'c>(found: Option<Found<'c>>) -> Option<(&'c Entry, Found<'c>)> {
    let found = found?;
    let entry = found.entry.filter(|e| e.category == Category::Outbound)?;
    Some((entry, found))
}

fn exit_note(found: &Found<'_>) -> String {
    found
        .exit
        .map(|e| format!(" (exit status {} {})", e.code, e.name))
        .unwrap_or_default()
}

/// Every signal, by pool name.
fn signals<'c>(facts: &Facts<'_, 'c>) -> BTreeMap<String, Vec<Signal<'c>>> {
    let (snapshot, catalog) = (facts.snapshot, facts.catalog);
    let mut out: BTreeMap<String, Vec<Signal<'c>>> = BTreeMap::new();
    for pool in snapshot.pools() {
        let os = snapshot.pool_os(&pool.name);
        for vm in snapshot.instances(&pool.name).unwrap_or_default() {
            if let Some((entry, found)) = outbound(codes::in_instance(vm, os, catalog)) {
                let name = vm
                    .computer_name
                    .clone()
                    .unwrap_or_else(|| vm.id.to_string());
                out.entry(pool.name.clone()).or_default().push(Signal {
                    entry,
                    line: format!("VM {name}: {}{}", found.code, exit_note(&found)),
                    vm: Some(vm.id.clone()),
                });
            }
        }
    }
    for failure in facts.failures() {
        let (Some(pool), record) = (failure.pool, failure.record) else {
            continue;
        };
        if let Some((entry, found)) = outbound(failure.found.clone()) {
            out.entry(pool.to_owned()).or_default().push(Signal {
                entry,
                line: format!(
                    "{} on {} at {}: {}{}",
                    record.operation,
                    record.resource_id,
                    record.time,
                    found.code,
                    exit_note(&found)
                ),
                vm: None,
            });
        }
    }
    for event in snapshot.kubernetes.iter().flat_map(|k| &k.events) {
        let found = codes::in_repair_event(&event.message, NodeOs::Linux, catalog)
            .map(|(_, found)| found)
            .or_else(|| {
                catalog.find(&event.reason).map(|entry| Found {
                    code: entry.code.clone(),
                    entry: Some(entry),
                    source: codes::Source::ErrorCode,
                    exit: None,
                })
            });
        let Some((entry, found)) = outbound(found) else {
            continue;
        };
        let node = event.involved.name.as_str();
        let pool = snapshot
            .kubernetes
            .as_ref()
            .and_then(|k| k.node(node))
            .and_then(|n| n.pool.clone())
            .unwrap_or_else(|| "unknown".to_owned());
        out.entry(pool).or_default().push(Signal {
            entry,
            line: format!(
                "event {} on {} ({}×, last {}): {}",
                event.reason,
                node,
                event.count,
                event.last_seen,
                clip(&found.code, 100)
            ),
            vm: None,
        });
    }
    out
}

pub(super) fn check(facts: &Facts<'_, '_>) -> Vec<Finding> {
    let snapshot = facts.snapshot;
    let outbound_type = snapshot
        .azure
        .as_ref()
        .and_then(|a| a.network.outbound_type.clone())
        .unwrap_or_else(|| "not read".to_owned());
    let mut out = Vec::new();
    for (pool, signals) in signals(facts) {
        let mut by_entry: BTreeMap<&str, Vec<&Signal<'_>>> = BTreeMap::new();
        for signal in &signals {
            by_entry
                .entry(signal.entry.code.as_str())
                .or_default()
                .push(signal);
        }
        for (code, group) in by_entry {
            let entry = group[0].entry;
            let mut names = Placeholders::for_snapshot(snapshot).pool(snapshot, &pool);
            if let Some(vm) = group.iter().find_map(|s| s.vm.as_ref()) {
                names = names.vm(vm);
            }
            let lines: Vec<String> = group.iter().map(|s| s.line.clone()).collect();
            let mut draft = Draft::new(
                ID,
                entry.severity,
                snapshot.pool_resource(&pool),
                format!(
                    "Nodes of pool {pool} cannot reach what they need: {}",
                    entry.title
                ),
            )
            .code(code)
            .evidence("outboundType", &outbound_type)
            .evidence("signals", list(&lines, 10))
            .entry(Some(entry), &names);
            if snapshot.cluster().and_then(|c| c.pool(&pool)).is_some() {
                for command in reconcile_pool(snapshot, &pool) {
                    draft = draft.then(command);
                }
            }
            out.push(draft.build());
        }
    }
    out
}

pub(super) fn blocked(facts: &Facts<'_, '_>) -> Vec<Finding> {
    let (snapshot, catalog) = (facts.snapshot, facts.catalog);
    let affected: Vec<(String, Vec<String>)> = signals(facts)
        .into_iter()
        .filter_map(|(pool, signals)| {
            let mut codes: Vec<String> = signals
                .iter()
                .filter(|s| s.entry.code != NO_OUTBOUND_PATH)
                .map(|s| s.entry.code.clone())
                .collect();
            codes.sort();
            codes.dedup();
            (!codes.is_empty()).then_some((pool, codes))
        })
        .collect();
    let with_vms = snapshot
        .pools()
        .iter()
        .filter(|p| snapshot.instances(&p.name).is_some_and(|v| !v.is_empty()))
        .count();
    let everywhere = with_vms > 0 && affected.len() >= with_vms;
    if affected.is_empty() || !(everywhere || affected.len() >= 2) {
        return Vec::new();
    }
    let lines: Vec<String> = affected
        .iter()
        .map(|(pool, codes)| format!("{pool}: {}", codes.join(", ")))
        .collect();
    let names = Placeholders::for_snapshot(snapshot);
    let mut draft = Draft::new(
        BLOCKED_ID,
        crate::catalog::Severity::Critical,
        snapshot.cluster_resource(),
        "The virtual network blocks node traffic: every affected pool fails the same egress checks",
    )
    .code("VirtualNetworkBlocked")
    .evidence("pools affected", list(&lines, 10))
    .evidence("pools with VMs read", with_vms)
    .entry(catalog.find("VirtualNetworkBlocked"), &names);
    for command in reconcile_cluster(snapshot) {
        draft = draft.then(command);
    }
    vec![draft.build()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Severity;
    use crate::diagnosis::fixtures::{SnapshotFixture, facts, node_event, pool, snapshot};
    use crate::fixtures::{NodeFixture, node};

    #[test]
    fn cse_exit_50_on_a_pool_is_an_outbound_finding() {
        let snap = snapshot()
            .with_pool(
                pool("np1")
                    .failed()
                    .instance_failed(0, "VMExtensionProvisioningError", "exit status=50")
                    .instance_failed(2, "VMExtensionProvisioningError", "exit status=50"),
            )
            .with_pool(pool("np2"));
        let findings = check(&facts(&snap));
        assert_eq!(findings.len(), 1);
        let f = &findings[0];
        assert_eq!(f.code.as_deref(), Some("OutboundConnFailVMExtensionError"));
        assert!(f.resource.ends_with("/agentPools/np1"));
        assert!(f.evidence[1].value.contains("VM aks-np1-vmss000000: OutboundConnFailVMExtensionError (exit status 50 ERR_OUTBOUND_CONN_FAIL)"));
        assert!(
            f.commands.iter().any(|c| c.contains("--instance-id 0")),
            "{:?}",
            f.commands
        );
        // Only one of two pools: not the whole network.
        assert!(blocked(&facts(&snap)).is_empty());
    }

    #[test]
    fn the_auto_repair_event_for_a_missing_outbound_path_counts() {
        let snap = snapshot()
            .with_node(node("aks-np1-vmss000001").in_pool("np1"))
            .with_event(node_event("NodeRedeployError", "aks-np1-vmss000001", "Node auto-repair redeploy action failed due to an operation failure: OutboundConnectivityNotEnabledOnVMSS"));
        let f = &check(&facts(&snap.clone().kube_only()))[0];
        assert_eq!(
            f.code.as_deref(),
            Some("OutboundConnectivityNotEnabledOnVMSS")
        );
        assert!(
            f.evidence[1]
                .value
                .starts_with("event NodeRedeployError on aks-np1-vmss000001")
        );
        assert!(blocked(&facts(&snap)).is_empty());
    }

    #[test]
    fn the_same_failure_in_every_pool_means_the_network_is_blocked() {
        let snap = snapshot()
            .with_pool(pool("np1").instance_failed(
                0,
                "VMExtensionProvisioningError",
                "exit status=52",
            ))
            .with_pool(pool("np2").instance_failed(
                1,
                "VMExtensionProvisioningError",
                "exit status=50",
            ));
        let findings = blocked(&facts(&snap));
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::Critical);
        assert_eq!(findings[0].code.as_deref(), Some("VirtualNetworkBlocked"));
        assert_eq!(
            findings[0].evidence[0].value,
            "np1: K8SAPIServerDNSLookupFailVMExtensionError, np2: OutboundConnFailVMExtensionError"
        );
        assert_eq!(check(&facts(&snap)).len(), 2);
    }
}
