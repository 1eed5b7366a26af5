//! `pool-state`: each agent pool's provisioning state. A Failed pool (scenario 3 of the
//! failed-state guide) gets the guide's seven checks as evidence — pool state and error, scale
//! set state, failed VMs, activity log, quota, policies and role assignments, locks — and the
//! most specific code any of them turned up picks the catalog entry.

use super::{
    at_least, best, entry_or, error_line, found_evidence, locks, operation_line, policy, quota,
    reconcile_pool,
};
use crate::catalog::{Catalog, Severity};
use crate::diagnosis::codes::{self, Found};
use crate::diagnosis::facts::Facts;
use crate::diagnosis::finding::{Draft, Finding, list};
use crate::diagnosis::placeholders::Placeholders;
use crate::diagnosis::snapshot::Snapshot;
use crate::model::{AgentPool, ProvisioningState};

pub(super) const ID: &str = "pool-state";

pub(super) fn check(facts: &Facts<'_, '_>) -> Vec<Finding> {
    let snapshot = facts.snapshot;
    snapshot
        .pools()
        .iter()
        .filter_map(|pool| {
            let resource = snapshot.pool_resource(&pool.name);
            let state = &pool.provisioning_state;
            match state {
                ProvisioningState::Failed => Some(failed(facts, pool)),
                ProvisioningState::Canceled => {
                    let mut draft = Draft::new(
                        ID,
                        Severity::Warning,
                        resource,
                        format!("The last operation on pool {} was canceled", pool.name),
                    )
                    .evidence("provisioningState", state);
                    for command in reconcile_pool(snapshot, &pool.name) {
                        draft = draft.fix(command);
                    }
                    Some(draft.build())
                }
                state if !state.is_terminal() => Some(
                    Draft::new(
                        ID,
                        Severity::Info,
                        resource,
                        format!("An operation is running on pool {} ({state})", pool.name),
                    )
                    .evidence("provisioningState", state)
                    .build(),
                ),
                _ => None,
            }
        })
        .collect()
}

/// The seven checks of a Failed pool, as evidence lines, and the most specific code they found.
pub(super) struct Checks<'c> {
    pub(super) lines: Vec<(&'static str, String)>,
    pub(super) found: Option<Found<'c>>,
}

pub(super) fn checks<'c>(facts: &Facts<'_, 'c>, pool: &AgentPool) -> Checks<'c> {
    let (snapshot, catalog) = (facts.snapshot, facts.catalog);
    let os = snapshot.pool_os(&pool.name);
    let extra = snapshot.pool_facts(&pool.name);

    // 1. The pool's own state and error.
    let pool_error = extra.and_then(|f| f.error.as_ref());
    let from_pool = pool_error.and_then(|e| codes::in_error(e, os, catalog));
    let pool_line = match pool_error {
        Some(error) => format!("{}; {}", pool.provisioning_state, error_line(error)),
        None => format!("{}; no error reported", pool.provisioning_state),
    };

    // 2. The scale set.
    let scale_set = extra.and_then(|f| f.scale_set.as_ref());
    let from_scale_set = scale_set
        .and_then(|s| s.error.as_ref())
        .and_then(|e| codes::in_error(e, os, catalog));
    let scale_set_line = match scale_set {
        Some(s) => match &s.error {
            Some(error) => format!(
                "{}: {}; {}",
                s.name,
                s.provisioning_state,
                error_line(error)
            ),
            None => format!("{}: {}", s.name, s.provisioning_state),
        },
        None => "not read".to_owned(),
    };

    // 3. The VMs.
    let (instances_line, from_instance) = instances(snapshot, catalog, &pool.name);

    // 4. The activity log of the pool, its scale set and VMs.
    let records: Vec<_> = facts
        .failures()
        .iter()
        .filter(|f| f.pool == Some(pool.name.as_str()))
        .collect();
    let from_activity = records.first().and_then(|f| f.found.clone());
    let activity_line = match records.first().map(|f| f.record) {
        Some(newest) => {
            let mut line = format!(
                "{} failed operations; newest: {}",
                records.len(),
                operation_line(snapshot, newest)
            );
            if let Some(error) = &newest.error {
                line.push_str(&format!(": {}", error_line(error)));
            }
            line
        }
        None => format!("no failed operation since {}", snapshot.since),
    };

    Checks {
        lines: vec![
            ("1. pool state and error", pool_line),
            ("2. scale set", scale_set_line),
            ("3. VMs", instances_line),
            ("4. activity log", activity_line),
            ("5. quota and capacity", quota::pool_line(snapshot, pool)),
            (
                "6. policies and role assignments",
                policy::governance_line(facts),
            ),
            ("7. locks", locks::node_group_line(snapshot)),
        ],
        found: best([from_pool, from_activity, from_instance, from_scale_set]),
    }
}

fn failed(facts: &Facts<'_, '_>, pool: &AgentPool) -> Finding {
    let (snapshot, catalog) = (facts.snapshot, facts.catalog);
    let names = Placeholders::for_snapshot(snapshot).pool(snapshot, &pool.name);
    let Checks { lines, found } = checks(facts, pool);
    let entry = entry_or(catalog, found.as_ref(), "NodePoolProvisioningFailed");
    let title = match &found {
        Some(f) => format!("Node pool {} is in the Failed state: {}", pool.name, f.code),
        None => format!("Node pool {} is in the Failed state", pool.name),
    };
    let mut draft = Draft::new(
        ID,
        at_least(Severity::Error, entry),
        snapshot.pool_resource(&pool.name),
        title,
    );
    for (label, line) in lines {
        draft = draft.evidence(label, line);
    }
    if let Some(found) = &found {
        draft = found_evidence(draft.code(&found.code), found);
    }
    draft = draft.entry(entry, &names);
    for command in reconcile_pool(snapshot, &pool.name) {
        draft = draft.then(command);
    }
    draft.build()
}

/// Check 3: how many of the pool's VMs are Failed, and the code of the first.
fn instances<'c>(
    snapshot: &Snapshot,
    catalog: &'c Catalog,
    pool: &str,
) -> (String, Option<Found<'c>>) {
    let Some(vms) = snapshot.instances(pool) else {
        return ("not read".to_owned(), None);
    };
    let os = snapshot.pool_os(pool);
    let failed: Vec<_> = vms
        .iter()
        .filter(|vm| vm.provisioning_state.is_failed())
        .map(|vm| (vm, codes::in_instance(vm, os, catalog)))
        .collect();
    if failed.is_empty() {
        return (format!("none of {} failed", vms.len()), None);
    }
    let named: Vec<String> = failed
        .iter()
        .map(|(vm, found)| {
            let name = vm
                .computer_name
                .clone()
                .unwrap_or_else(|| vm.id.to_string());
            match found {
                Some(f) => format!("{name} ({})", f.code),
                None => name,
            }
        })
        .collect();
    let line = format!(
        "{} of {} Failed: {}",
        failed.len(),
        vms.len(),
        list(&named, 5)
    );
    let first = best(failed.into_iter().map(|(_, found)| found));
    (line, first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::fixtures::{SnapshotFixture, arm, facts, failed_op, pool, snapshot};

    fn run(snapshot: &Snapshot) -> Vec<Finding> {
        check(&facts(snapshot))
    }

    fn evidence<'f>(f: &'f Finding, label: &str) -> &'f str {
        f.evidence
            .iter()
            .find(|e| e.label == label)
            .map(|e| e.value.as_str())
            .unwrap_or_else(|| panic!("no evidence {label}: {:?}", f.evidence))
    }

    #[test]
    fn healthy_pools_say_nothing() {
        assert!(run(&snapshot().with_pool(pool("np1"))).is_empty());
    }

    #[test]
    fn a_failed_pool_lists_all_seven_checks() {
        let snap = snapshot()
            .with_pool(pool("np1").failed())
            .with_lock("keep-ip", "CanNotDelete");
        let f = &run(&snap)[0];
        assert_eq!(f.rule, ID);
        assert_eq!(f.entry.as_deref(), Some("NodePoolProvisioningFailed"));
        for (i, label) in [
            "1. pool state and error",
            "2. scale set",
            "3. VMs",
            "4. activity log",
            "5. quota and capacity",
            "6. policies and role assignments",
            "7. locks",
        ]
        .iter()
        .enumerate()
        {
            assert_eq!(f.evidence[i].label, *label);
        }
        assert!(evidence(f, "7. locks").contains("keep-ip"));
        assert_eq!(evidence(f, "3. VMs"), "none of 3 failed");
        assert_eq!(
            f.commands.last().unwrap(),
            "az aks nodepool update --resource-group rg --cluster-name aks --name np1"
        );
    }

    #[test]
    fn the_activity_log_of_the_scale_set_names_the_cause() {
        let snap = snapshot().with_pool(pool("np1").failed());
        let vmss = snap.scale_set_id("aks-np1-vmss").unwrap();
        let snap = snap.with_activity(failed_op(
            "Microsoft.Compute/virtualMachineScaleSets/write",
            &vmss,
            arm(
                "ZonalAllocationFailed",
                "We do not have sufficient capacity for the requested VM size in this zone.",
            ),
            -120,
        ));
        let f = &run(&snap)[0];
        assert_eq!(f.code.as_deref(), Some("ZonalAllocationFailed"));
        assert!(evidence(f, "4. activity log").starts_with(
            "1 failed operations; newest: Microsoft.Compute/virtualMachineScaleSets/write"
        ));
    }

    #[test]
    fn failed_vms_and_the_pool_error_are_counted() {
        let snap = snapshot().with_pool(
            pool("np1")
                .failed()
                .error("ResourceOperationFailure", "")
                .instance_failed(
                    1,
                    "VMExtensionProvisioningError",
                    "command terminated with exit status=50",
                ),
        );
        let f = &run(&snap)[0];
        assert_eq!(f.code.as_deref(), Some("OutboundConnFailVMExtensionError"));
        assert_eq!(
            evidence(f, "3. VMs"),
            "1 of 3 Failed: aks-np1-vmss000001 (OutboundConnFailVMExtensionError)"
        );
        assert!(evidence(f, "1. pool state and error").contains("ResourceOperationFailure"));
    }

    #[test]
    fn exit_statuses_read_by_the_pools_os() {
        let snap = snapshot().with_pool(pool("win1").windows().failed().instance_failed(
            0,
            "VMExtensionProvisioningError",
            "exit status=5",
        ));
        let f = &run(&snap)[0];
        assert_eq!(
            f.code.as_deref(),
            Some("WINDOWS_CSE_ERROR_CHECK_API_SERVER_CONNECTIVITY")
        );
    }

    #[test]
    fn canceled_and_running_pools() {
        let snap = snapshot()
            .with_pool(pool("a").state(ProvisioningState::Canceled))
            .with_pool(pool("b").state(ProvisioningState::Scaling));
        let findings = run(&snap);
        assert_eq!(findings[0].severity, Severity::Warning);
        assert_eq!(findings[0].commands[0], "nodemend reconcile pool a");
        assert_eq!(findings[1].severity, Severity::Info);
    }
}
