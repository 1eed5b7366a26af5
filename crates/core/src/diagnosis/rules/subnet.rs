//! `subnet-capacity`: whether each node subnet has room for what its pools will ask for, so
//! `SubnetIsFull` is reported before an upgrade or scale-out hits it.
//!
//! Usable addresses are 2^(32 − prefix) − 5 per IPv4 prefix (Azure keeps five in every
//! subnet). A node takes one address; with flat Azure CNI (network plugin `azure`, not overlay,
//! no separate pod subnet) it takes `maxPods + 1`, because pod addresses come from the node
//! subnet too (max pods 30 when unset). With no network profile read, one per node is assumed.
//! Addresses in use are the larger of the subnet's IP configurations and the pools' VMs times
//! their per-node share. Needs, in order: nodes the pools are missing (error if they do not
//! fit), the largest upgrade surge of one pool (warning), the autoscalers' maximum (warning).

use super::quota::surge_nodes;
use super::reconcile_pool;
use crate::catalog::{Catalog, Severity};
use crate::cloud::Subnet;
use crate::diagnosis::facts::Facts;
use crate::diagnosis::finding::{Draft, Finding, list};
use crate::diagnosis::placeholders::Placeholders;
use crate::diagnosis::snapshot::Snapshot;
use crate::model::AgentPool;

pub(super) const ID: &str = "subnet-capacity";

/// Addresses Azure lets a subnet hand out for one prefix; `None` for IPv6 or unreadable ones.
pub(crate) fn usable(prefix: &str) -> Option<u64> {
    if prefix.contains(':') {
        return None;
    }
    let bits: u32 = prefix.split_once('/')?.1.trim().parse().ok()?;
    match bits {
        0..=29 => Some((1u64 << (32 - bits)) - 5),
        30..=32 => Some(0),
        _ => None,
    }
}

/// What one pool asks of its subnet.
struct Demand<'a> {
    pool: &'a AgentPool,
    per_node: u64,
    why: String,
    have: u64,
    missing: u64,
    surge: u64,
    autoscale: u64,
}

fn demand<'a>(snapshot: &Snapshot, pool: &'a AgentPool) -> Demand<'a> {
    let facts = snapshot.pool_facts(&pool.name);
    let flat = snapshot
        .azure
        .as_ref()
        .is_some_and(|a| a.network.pods_use_node_subnet())
        && facts.is_none_or(|f| f.pod_subnet_id.is_none());
    let (per_node, why) = if flat {
        let max_pods = u64::from(pool.max_pods.unwrap_or(30));
        (
            max_pods + 1,
            format!("flat Azure CNI: maxPods {max_pods} + 1"),
        )
    } else {
        (1, "one per node".to_owned())
    };
    let count = u64::from(pool.count);
    let have = snapshot
        .instances(&pool.name)
        .map_or(count, |vms| u64::try_from(vms.len()).unwrap_or(u64::MAX));
    let max_count = facts.and_then(|f| f.max_count).map_or(0, u64::from);
    let surge = u64::from(surge_nodes(
        facts.and_then(|f| f.max_surge.as_deref()),
        pool.count,
    ));
    Demand {
        pool,
        per_node,
        why,
        have,
        missing: count.saturating_sub(have),
        surge,
        autoscale: max_count.saturating_sub(count.max(have)),
    }
}

pub(super) fn check(facts: &Facts<'_, '_>) -> Vec<Finding> {
    let (snapshot, catalog) = (facts.snapshot, facts.catalog);
    let Some(azure) = &snapshot.azure else {
        return Vec::new();
    };
    azure
        .subnets
        .iter()
        .filter_map(|subnet| judge(snapshot, catalog, subnet))
        .collect()
}

fn judge(snapshot: &Snapshot, catalog: &Catalog, subnet: &Subnet) -> Option<Finding> {
    let demands: Vec<Demand<'_>> = snapshot
        .pools()
        .iter()
        .filter(|p| {
            p.subnet_id
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case(&subnet.id))
        })
        .map(|p| demand(snapshot, p))
        .collect();
    let space: u64 = subnet
        .address_prefixes
        .iter()
        .filter_map(|p| usable(p))
        .sum();
    if demands.is_empty() || subnet.address_prefixes.iter().all(|p| usable(p).is_none()) {
        return None;
    }
    let by_vms: u64 = demands.iter().map(|d| d.have * d.per_node).sum();
    let used = by_vms.max(u64::try_from(subnet.ip_configurations).unwrap_or(u64::MAX));
    let free = space.saturating_sub(used);
    let missing: u64 = demands.iter().map(|d| d.missing * d.per_node).sum();
    let surge_pool = demands.iter().max_by_key(|d| d.surge * d.per_node)?;
    let surge = surge_pool.surge * surge_pool.per_node;
    let autoscale: u64 = demands.iter().map(|d| d.autoscale * d.per_node).sum();
    let (severity, code, title) = if missing > free {
        (
            Severity::Error,
            "SubnetIsFull",
            "The subnet has no room for the nodes its pools are waiting for",
        )
    } else if missing + surge > free {
        (
            Severity::Warning,
            "SubnetIsFull",
            "The subnet has no room for an upgrade's surge nodes",
        )
    } else if missing + surge + autoscale > free {
        (
            Severity::Warning,
            "InsufficientSubnetSize",
            "The subnet cannot hold the pools at their autoscaler maximum",
        )
    } else {
        return None;
    };
    let per_node: Vec<String> = demands
        .iter()
        .map(|d| format!("{}: {} ({})", d.pool.name, d.per_node, d.why))
        .collect();
    let names = Placeholders::for_snapshot(snapshot).pool(snapshot, &surge_pool.pool.name);
    let mut draft = Draft::new(ID, severity, subnet.id.clone(), title)
        .code(code)
        .evidence(
            "address space",
            format!(
                "{}: {space} usable (Azure keeps 5 per prefix)",
                subnet.address_prefixes.join(", ")
            ),
        )
        .evidence(
            "in use",
            format!(
                "{used} ({} IP configurations read, {by_vms} taken by the pools' VMs)",
                subnet.ip_configurations
            ),
        )
        .evidence("free", free)
        .evidence("addresses per node", list(&per_node, 10))
        .evidence("needed for missing nodes", missing)
        .evidence(
            "needed for an upgrade surge",
            format!(
                "{surge} ({} surge node(s) of {})",
                surge_pool.surge, surge_pool.pool.name
            ),
        )
        .evidence("needed to reach autoscaler maximums", autoscale)
        .entry(catalog.find(code), &names);
    for d in demands
        .iter()
        .filter(|d| d.pool.provisioning_state.is_failed())
    {
        for command in reconcile_pool(snapshot, &d.pool.name) {
            draft = draft.then(command);
        }
    }
    Some(draft.build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::fixtures::{SnapshotFixture, facts, pool, snapshot};

    #[test]
    fn usable_addresses_leave_out_the_five_azure_keeps() {
        assert_eq!(usable("10.0.0.0/24"), Some(251));
        assert_eq!(usable("10.0.0.0/29"), Some(3));
        assert_eq!(usable("10.0.0.0/30"), Some(0));
        assert_eq!(usable("fd00::/64"), None);
        assert_eq!(usable("10.0.0.0"), None);
    }

    #[test]
    fn flat_cni_nodes_that_cannot_be_created_are_an_error() {
        // 3 nodes × 31 = 93 used in a /25 (123 usable): 30 free, but np1 wants 2 more nodes (62).
        let snap = snapshot()
            .network("azure", None)
            .with_pool(pool("np1").count(5).failed())
            .with_subnet("10.0.0.0/25", 0);
        let f = &check(&facts(&snap))[0];
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(f.code.as_deref(), Some("SubnetIsFull"));
        assert!(
            f.evidence
                .iter()
                .any(|e| e.label == "free" && e.value == "30")
        );
        assert_eq!(
            f.commands.last().unwrap(),
            "az aks nodepool update --resource-group rg --cluster-name aks --name np1"
        );
    }

    #[test]
    fn an_upgrade_surge_that_will_not_fit_is_a_warning() {
        // 93 used of 123, 30 free; a surge node needs 31.
        let snap = snapshot()
            .network("azure", None)
            .with_pool(pool("np1"))
            .with_subnet("10.0.0.0/25", 93);
        let f = &check(&facts(&snap))[0];
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(f.code.as_deref(), Some("SubnetIsFull"));
    }

    #[test]
    fn max_pods_sets_the_share_of_each_node() {
        let snap = snapshot()
            .network("azure", None)
            .with_pool(pool("np1").max_pods(50))
            .with_subnet("10.0.0.0/25", 0);
        let f = &check(&facts(&snap))[0];
        assert!(
            f.evidence
                .iter()
                .any(|e| e.value == "np1: 51 (flat Azure CNI: maxPods 50 + 1)")
        );
    }

    #[test]
    fn the_autoscaler_maximum_is_checked_last() {
        let snap = snapshot()
            .network("azure", Some("overlay"))
            .with_pool(pool("np1").max_count(12))
            .with_subnet("10.0.0.0/28", 0);
        let f = &check(&facts(&snap))[0];
        assert_eq!(f.code.as_deref(), Some("InsufficientSubnetSize"));
        let roomy = snapshot()
            .network("azure", Some("overlay"))
            .with_pool(pool("np1").max_count(10))
            .with_subnet("10.0.0.0/24", 3);
        assert!(check(&facts(&roomy)).is_empty());
    }

    #[test]
    fn subnets_without_pools_are_skipped() {
        let mut snap = snapshot().with_subnet("10.0.0.0/30", 0);
        assert!(check(&facts(&snap)).is_empty());
        snap = snap.kube_only();
        assert!(check(&facts(&snap)).is_empty());
    }
}
