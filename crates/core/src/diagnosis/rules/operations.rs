//! `failed-operation`: failed activity-log operations that no other rule reports — not on the
//! cluster or a pool (their state rules carry those), not on a Failed pool's scale set or VMs
//! (check 4 of the pool), and not policy, authorization, lock or subscription refusals (their
//! own rules). Grouped by resource and code; a warning, since the operation is history and the
//! resource may have recovered.

use std::collections::BTreeMap;

use super::{error_line, found_evidence, operation_line};
use crate::catalog::Severity;
use crate::cloud::ActivityRecord;
use crate::diagnosis::codes::Found;
use crate::diagnosis::facts::{Facts, Failure};
use crate::diagnosis::finding::{Draft, Finding};
use crate::diagnosis::placeholders::Placeholders;
use crate::diagnosis::snapshot::Snapshot;

pub(super) const ID: &str = "failed-operation";

/// Codes whose own rule reports them.
const OWN_RULES: [&str; 5] = [
    "RequestDisallowedByPolicy",
    "AuthorizationFailed",
    "LinkedAuthorizationFailed",
    "ScopeLocked",
    "ReadOnlyDisabledSubscription",
];

fn covered_elsewhere(snapshot: &Snapshot, cluster_id: &str, failure: &Failure<'_, '_>) -> bool {
    let id = failure.record.resource_id.to_ascii_lowercase();
    let on_cluster = !cluster_id.is_empty()
        && (id == cluster_id
            || id
                .strip_prefix(cluster_id)
                .is_some_and(|rest| rest.starts_with("/agentpools/")));
    let on_failed_pool = failure
        .pool
        .and_then(|p| snapshot.cluster()?.pool(p))
        .is_some_and(|p| p.provisioning_state.is_failed());
    let deny_action = failure
        .record
        .operation
        .to_ascii_lowercase()
        .contains("policies/deny");
    on_cluster || on_failed_pool || deny_action || failure.is(&OWN_RULES)
}

/// The failures of one resource and code, newest first, and the code found.
type Group<'s, 'c> = (Vec<&'s ActivityRecord>, Option<Found<'c>>);

pub(super) fn check(facts: &Facts<'_, '_>) -> Vec<Finding> {
    let snapshot = facts.snapshot;
    let cluster_id = snapshot
        .cluster_id()
        .map(|c| c.to_ascii_lowercase())
        .unwrap_or_default();
    let mut groups: BTreeMap<(String, String), Group<'_, '_>> = BTreeMap::new();
    for failure in facts.failures() {
        if covered_elsewhere(snapshot, &cluster_id, failure) {
            continue;
        }
        let found = failure.found.clone();
        let key = (
            failure.record.resource_id.to_ascii_lowercase(),
            found.as_ref().map(|f| f.code.clone()).unwrap_or_default(),
        );
        let group = groups.entry(key).or_insert_with(|| (Vec::new(), found));
        group.0.push(failure.record);
    }
    let names = Placeholders::for_snapshot(snapshot);
    groups
        .into_values()
        .map(|(records, found)| {
            let newest = records[0];
            let title = match &found {
                Some(f) => format!(
                    "{} failed on {}: {}",
                    newest.operation,
                    short(&newest.resource_id),
                    f.code
                ),
                None => format!(
                    "{} failed on {}",
                    newest.operation,
                    short(&newest.resource_id)
                ),
            };
            let mut draft = Draft::new(ID, Severity::Warning, newest.resource_id.clone(), title)
                .evidence("newest failure", operation_line(snapshot, newest))
                .evidence("failures in the window", records.len());
            if let Some(error) = &newest.error {
                draft = draft.evidence("error", error_line(error));
            }
            if let Some(f) = &found {
                draft = found_evidence(draft.code(&f.code), f).entry(f.entry, &names);
            }
            draft.build()
        })
        .collect()
}

/// The last two segments of an ARM ID (`publicIPAddresses/pip1`), for titles.
fn short(id: &str) -> String {
    let parts: Vec<&str> = id.trim_end_matches('/').rsplit('/').take(2).collect();
    parts.into_iter().rev().collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::fixtures::{SnapshotFixture, arm, facts, failed_op, pool, snapshot};

    const LB: &str = "/subscriptions/sub/resourceGroups/MC_rg_aks_westeurope/providers/Microsoft.Network/loadBalancers/kubernetes";

    #[test]
    fn failures_elsewhere_are_grouped_by_resource_and_code() {
        let snap = snapshot()
            .with_activity(failed_op(
                "Microsoft.Network/loadBalancers/write",
                LB,
                arm(
                    "InvalidResourceReference",
                    "Resource /x referenced by resource /y was not found.",
                ),
                -100,
            ))
            .with_activity(failed_op(
                "Microsoft.Network/loadBalancers/write",
                LB,
                arm("InvalidResourceReference", "again"),
                -50,
            ));
        let findings = check(&facts(&snap));
        assert_eq!(findings.len(), 1);
        let f = &findings[0];
        assert_eq!(
            f.title,
            "Microsoft.Network/loadBalancers/write failed on loadBalancers/kubernetes: InvalidResourceReference"
        );
        assert_eq!(f.entry.as_deref(), Some("InvalidResourceReference"));
        assert!(
            f.evidence
                .iter()
                .any(|e| e.label == "failures in the window" && e.value == "2")
        );
        assert!(
            f.evidence[0].value.contains("at 2027-01-15"),
            "{:?}",
            f.evidence[0]
        );
    }

    #[test]
    fn failures_other_rules_own_are_left_to_them() {
        let snap = snapshot().with_pool(pool("np1").failed());
        let cluster = snap.cluster_id().unwrap();
        let vmss = snap.scale_set_id("aks-np1-vmss").unwrap();
        let snap = snap
            .with_activity(failed_op("write", &cluster, arm("QuotaExceeded", ""), -10))
            .with_activity(failed_op(
                "write",
                &format!("{cluster}/agentPools/np1"),
                arm("QuotaExceeded", ""),
                -10,
            ))
            .with_activity(failed_op("write", &vmss, arm("AllocationFailed", ""), -10))
            .with_activity(failed_op("write", LB, arm("ScopeLocked", "is locked"), -10))
            .with_activity(failed_op(
                "Microsoft.Authorization/policies/deny/action",
                LB,
                arm("", ""),
                -10,
            ));
        assert!(check(&facts(&snap)).is_empty());
    }

    #[test]
    fn records_outside_the_window_are_ignored() {
        let snap = snapshot().with_activity(failed_op(
            "write",
            LB,
            arm("InvalidResourceReference", ""),
            -90_000,
        ));
        assert!(check(&facts(&snap)).is_empty());
        assert_eq!(short("/a/b/c/"), "b/c");
    }
}
