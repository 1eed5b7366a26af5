//! `policy-denied` and `policy-enforced`: Azure Policy in the way of AKS.
//!
//! A denial is a failed activity-log record whose code is `RequestDisallowedByPolicy` or whose
//! operation is a policy `deny` action; denials are grouped by the assignment named in the
//! message. Enforced assignments are only listed (as information, one finding per scope) when
//! the cluster or a pool is Failed and no denial explains it: an assignment alone proves nothing.

use std::collections::BTreeMap;

use super::{authorization, reconcile_cluster};
use crate::catalog::Severity;
use crate::cloud::{ActivityRecord, PolicyAssignment};
use crate::diagnosis::facts::{Facts, Failure};
use crate::diagnosis::finding::{Draft, Finding, list};
use crate::diagnosis::placeholders::Placeholders;
use crate::diagnosis::snapshot::Snapshot;

pub(super) const DENIED_ID: &str = "policy-denied";
pub(super) const ENFORCED_ID: &str = "policy-enforced";

const ASSIGNMENT_MARKER: &str = "/providers/microsoft.authorization/policyassignments/";

/// Policy assignment IDs quoted in a denial message.
fn assignment_ids(text: &str) -> Vec<String> {
    let lower = text.to_ascii_lowercase();
    let mut out: Vec<String> = Vec::new();
    for (at, _) in lower.match_indices(ASSIGNMENT_MARKER) {
        let start = text[..at]
            .rfind(['"', '\'', ' ', '\\', '('])
            .map_or(0, |i| i + 1);
        let after = at + ASSIGNMENT_MARKER.len();
        let end = text[after..]
            .find(['"', '\'', ' ', '\\', ',', ')'])
            .map_or(text.len(), |i| after + i);
        let id = text[start..end].to_owned();
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&id)) {
            out.push(id);
        }
    }
    out
}

fn is_denial(failure: &Failure<'_, '_>) -> bool {
    failure
        .record
        .operation
        .to_ascii_lowercase()
        .contains("policies/deny")
        || failure.is(&["RequestDisallowedByPolicy"])
}

/// Failed records that are policy denials.
pub(super) fn denials<'s>(facts: &Facts<'s, '_>) -> Vec<&'s ActivityRecord> {
    facts
        .failures()
        .iter()
        .filter(|f| is_denial(f))
        .map(|f| f.record)
        .collect()
}

fn known_assignment<'s>(snapshot: &'s Snapshot, id: &str) -> Option<&'s PolicyAssignment> {
    snapshot
        .scopes()
        .iter()
        .flat_map(|s| &s.policies)
        .find(|p| p.id.eq_ignore_ascii_case(id))
}

fn error_text(record: &ActivityRecord) -> String {
    fn walk(error: &crate::model::ArmError, out: &mut String) {
        out.push_str(&error.message);
        out.push(' ');
        for detail in &error.details {
            walk(detail, out);
        }
    }
    let mut out = String::new();
    if let Some(error) = &record.error {
        walk(error, &mut out);
    }
    out
}

pub(super) fn denied(facts: &Facts<'_, '_>) -> Vec<Finding> {
    let (snapshot, catalog) = (facts.snapshot, facts.catalog);
    let mut by_assignment: BTreeMap<String, Vec<&ActivityRecord>> = BTreeMap::new();
    for record in denials(facts) {
        let ids = assignment_ids(&error_text(record));
        let key = ids.into_iter().next().unwrap_or_default();
        by_assignment.entry(key).or_default().push(record);
    }
    let names = Placeholders::for_snapshot(snapshot);
    by_assignment
        .into_iter()
        .map(|(assignment, records)| {
            let denied: Vec<String> = records
                .iter()
                .map(|r| format!("{} on {} at {}", r.operation, r.resource_id, r.time))
                .collect();
            let resource = if assignment.is_empty() {
                records[0].resource_id.clone()
            } else {
                assignment.clone()
            };
            let mut draft = Draft::new(
                DENIED_ID,
                Severity::Error,
                resource,
                "An Azure Policy assignment denied a change AKS needed",
            )
            .code("RequestDisallowedByPolicy")
            .evidence("denied operations", list(&denied, 5));
            if assignment.is_empty() {
                draft = draft.evidence("assignment", "not named in the message");
            } else {
                draft = draft
                    .evidence("assignment", &assignment)
                    .fix(format!("az policy assignment show --ids {assignment}"));
                if let Some(known) = known_assignment(snapshot, &assignment) {
                    draft = draft
                        .evidence(
                            "display name",
                            known.display_name.as_deref().unwrap_or(&known.name),
                        )
                        .evidence(
                            "enforcementMode",
                            known.enforcement_mode.as_deref().unwrap_or("Default"),
                        )
                        .evidence("definition", &known.policy_definition_id);
                }
            }
            draft = draft.entry(catalog.find("RequestDisallowedByPolicy"), &names);
            if snapshot.anything_failed() {
                for command in reconcile_cluster(snapshot) {
                    draft = draft.then(command);
                }
            }
            draft.build()
        })
        .collect()
}

fn is_enforced(assignment: &PolicyAssignment) -> bool {
    assignment
        .enforcement_mode
        .as_deref()
        .is_none_or(|m| m.eq_ignore_ascii_case("Default"))
}

pub(super) fn enforced(facts: &Facts<'_, '_>) -> Vec<Finding> {
    let (snapshot, catalog) = (facts.snapshot, facts.catalog);
    if !snapshot.anything_failed() || !denials(facts).is_empty() {
        return Vec::new();
    }
    let names = Placeholders::for_snapshot(snapshot);
    snapshot
        .scopes()
        .iter()
        .filter_map(|scope| {
            let active: Vec<String> = scope
                .policies
                .iter()
                .filter(|p| is_enforced(p))
                .map(|p| p.display_name.clone().unwrap_or_else(|| p.name.clone()))
                .collect();
            if active.is_empty() {
                return None;
            }
            Some(
                Draft::new(
                    ENFORCED_ID,
                    Severity::Info,
                    scope.scope.to_string(),
                    format!("{} enforced policy assignments apply here and may deny AKS changes", active.len()),
                )
                .evidence("assignments", list(&active, 10))
                .evidence("why listed", "the cluster or a pool is Failed and no denial was found in the activity log window")
                .entry(catalog.find("CustomerImposedRestriction"), &names)
                .build(),
            )
        })
        .collect()
}

/// Check 6 of a failed pool: policy denials, authorization failures and enforced assignments.
pub(super) fn governance_line(facts: &Facts<'_, '_>) -> String {
    let denials = denials(facts).len();
    let authorization = authorization::failures(facts).len();
    let snapshot = facts.snapshot;
    let assignments = snapshot
        .scopes()
        .iter()
        .flat_map(|s| &s.policies)
        .filter(|p| is_enforced(p))
        .count();
    format!(
        "{denials} policy denial(s) and {authorization} authorization failure(s) in the activity log; {assignments} enforced policy assignment(s) read"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::fixtures::{SUB, SnapshotFixture, arm, facts, failed_op, pool, snapshot};

    const DENIAL: &str = "Resource 'aks-pip' was disallowed by policy. Policy identifiers: '[{\"policyAssignment\":{\"name\":\"No public IPs\",\"id\":\"/subscriptions/sub/providers/Microsoft.Authorization/policyAssignments/no-pip\"}}]'.";

    fn denied_snapshot() -> Snapshot {
        let snap = snapshot()
            .with_pool(pool("np1").failed())
            .with_policy("no-pip", None);
        let target = format!(
            "/subscriptions/{SUB}/resourceGroups/MC_rg_aks_westeurope/providers/Microsoft.Network/publicIPAddresses/aks-pip"
        );
        snap.with_activity(failed_op(
            "Microsoft.Network/publicIPAddresses/write",
            &target,
            arm("RequestDisallowedByPolicy", DENIAL),
            -300,
        ))
    }

    #[test]
    fn assignment_ids_are_read_from_the_message() {
        assert_eq!(
            assignment_ids(DENIAL),
            ["/subscriptions/sub/providers/Microsoft.Authorization/policyAssignments/no-pip"]
        );
        assert!(assignment_ids("nothing here").is_empty());
    }

    #[test]
    fn denials_are_grouped_by_assignment_and_joined_to_what_was_read() {
        let findings = denied(&facts(&denied_snapshot()));
        assert_eq!(findings.len(), 1);
        let f = &findings[0];
        assert_eq!(f.code.as_deref(), Some("RequestDisallowedByPolicy"));
        assert!(f.resource.ends_with("/policyAssignments/no-pip"));
        assert!(
            f.evidence
                .iter()
                .any(|e| e.label == "display name" && e.value == "Policy no-pip")
        );
        assert!(f.commands[0].starts_with("az policy assignment show --ids"));
        assert_eq!(
            f.commands.last().unwrap(),
            &format!(
                "az resource update --ids {}",
                denied_snapshot().cluster_id().unwrap()
            )
        );
    }

    #[test]
    fn a_deny_action_record_counts_even_without_the_code() {
        let snap = snapshot();
        let snap = snap.with_activity(failed_op(
            "Microsoft.Authorization/policies/deny/action",
            "/subscriptions/sub/x",
            arm("", ""),
            -10,
        ));
        let f = &denied(&facts(&snap))[0];
        assert_eq!(f.resource, "/subscriptions/sub/x");
    }

    #[test]
    fn enforced_assignments_are_listed_only_when_a_failure_is_unexplained() {
        let quiet = snapshot().with_policy("tags", None);
        assert!(is_enforced(&quiet.scopes()[0].policies[0]));
        assert!(enforced(&facts(&quiet)).is_empty());
        let failed = snapshot()
            .with_pool(pool("np1").failed())
            .with_policy("tags", None)
            .with_policy("audit-only", Some("DoNotEnforce"));
        let findings = enforced(&facts(&failed));
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::Info);
        assert_eq!(findings[0].evidence[0].value, "Policy tags");
        assert!(enforced(&facts(&denied_snapshot())).is_empty());
    }

    #[test]
    fn governance_line_counts_everything() {
        let line = governance_line(&facts(&denied_snapshot()));
        assert_eq!(
            line,
            "1 policy denial(s) and 0 authorization failure(s) in the activity log; 1 enforced policy assignment(s) read"
        );
    }
}
