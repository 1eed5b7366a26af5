//! `authorization-failed`: role assignments that are missing, as the activity log shows them
//! (`AuthorizationFailed`, `LinkedAuthorizationFailed`, also when wrapped in an AKS message).
//! Failures are grouped by the denied action and scope; the finding names the client so the
//! role can be granted to the right identity.

use std::collections::BTreeMap;

use super::{quoted_after, reconcile_cluster};
use crate::catalog::Severity;
use crate::cloud::ActivityRecord;
use crate::diagnosis::codes::Found;
use crate::diagnosis::facts::Facts;
use crate::diagnosis::finding::{Draft, Finding, list};
use crate::diagnosis::placeholders::Placeholders;
use crate::model::ArmError;

pub(super) const ID: &str = "authorization-failed";

const CODES: [&str; 2] = ["AuthorizationFailed", "LinkedAuthorizationFailed"];

/// Failed records that are authorization failures, with the code found.
pub(super) fn failures<'s, 'c>(facts: &Facts<'s, 'c>) -> Vec<(&'s ActivityRecord, Found<'c>)> {
    facts
        .failures_of(&CODES)
        .filter_map(|f| f.found.clone().map(|found| (f.record, found)))
        .collect()
}

fn messages(error: &ArmError) -> String {
    let mut out = error.message.clone();
    for detail in &error.details {
        out.push(' ');
        out.push_str(&messages(detail));
    }
    out
}

/// A failed record, the code found in it, and what its message says.
type Failure<'s, 'c> = (&'s ActivityRecord, Found<'c>, Denied);

/// What a denial message says: who, which action, on which scope.
struct Denied {
    client: Option<String>,
    object_id: Option<String>,
    action: Option<String>,
    scope: Option<String>,
}

fn denied(record: &ActivityRecord) -> Denied {
    let text = record.error.as_ref().map(messages).unwrap_or_default();
    let get = |marker: &str| quoted_after(&text, marker).map(str::to_owned);
    Denied {
        client: get("The client '"),
        object_id: get("with object id '"),
        action: get("perform action '"),
        scope: get("over scope '").or_else(|| get("on the linked scope(s) '")),
    }
}

pub(super) fn check(facts: &Facts<'_, '_>) -> Vec<Finding> {
    let (snapshot, catalog) = (facts.snapshot, facts.catalog);
    let mut groups: BTreeMap<(String, String), Vec<Failure<'_, '_>>> = BTreeMap::new();
    for (record, found) in failures(facts) {
        let what = denied(record);
        let key = (
            what.action.clone().unwrap_or_default(),
            what.scope
                .clone()
                .unwrap_or_else(|| record.resource_id.clone()),
        );
        groups.entry(key).or_default().push((record, found, what));
    }
    let names = Placeholders::for_snapshot(snapshot);
    groups
        .into_iter()
        .map(|((action, scope), records)| {
            let (_, found, what) = &records[0];
            let title = if action.is_empty() {
                "An identity was refused an action it needs".to_owned()
            } else {
                format!("Permission missing: {action}")
            };
            let operations: Vec<String> = records
                .iter()
                .map(|(r, _, _)| format!("{} on {} at {}", r.operation, r.resource_id, r.time))
                .collect();
            let mut draft = Draft::new(ID, Severity::Error, scope.clone(), title)
                .code(&found.code)
                .evidence("scope", &scope)
                .evidence("failed operations", list(&operations, 5));
            if !action.is_empty() {
                draft = draft.evidence("action", &action);
            }
            if let Some(client) = &what.client {
                draft = draft.evidence("client", client);
            }
            if let Some(object_id) = &what.object_id {
                draft = draft
                    .evidence("object id", object_id)
                    .fix(format!("az role assignment list --all --assignee {object_id} --output table"));
                if action.starts_with("Microsoft.Network/") {
                    draft = draft.fix(format!(
                        "az role assignment create --assignee {object_id} --role \"Network Contributor\" --scope {scope}"
                    ));
                }
            }
            draft = draft.entry(found.entry.or_else(|| catalog.find("AuthorizationFailed")), &names);
            if snapshot.anything_failed() {
                for command in reconcile_cluster(snapshot) {
                    draft = draft.then(command);
                }
            }
            draft.build()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::fixtures::{SnapshotFixture, arm, facts, failed_op, snapshot};

    const DENIED: &str = "The client 'aks-sp' with object id 'oid-1' does not have authorization to perform action 'Microsoft.Network/routeTables/write' over scope '/subscriptions/sub/resourceGroups/net/providers/Microsoft.Network/routeTables/rt' or the scope is invalid.";

    #[test]
    fn authorization_failures_name_the_action_and_the_identity() {
        let snap = snapshot()
            .with_activity(failed_op(
                "Microsoft.Network/routeTables/write",
                "/subscriptions/sub/resourceGroups/net/providers/Microsoft.Network/routeTables/rt",
                arm("AuthorizationFailed", DENIED),
                -60,
            ))
            .with_activity(failed_op(
                "Microsoft.Network/routeTables/write",
                "/subscriptions/sub/resourceGroups/net/providers/Microsoft.Network/routeTables/rt",
                arm("AuthorizationFailed", DENIED),
                -30,
            ));
        let findings = check(&facts(&snap));
        assert_eq!(findings.len(), 1);
        let f = &findings[0];
        assert_eq!(
            f.title,
            "Permission missing: Microsoft.Network/routeTables/write"
        );
        assert_eq!(f.code.as_deref(), Some("AuthorizationFailed"));
        assert_eq!(f.entry.as_deref(), Some("AuthorizationFailed"));
        assert_eq!(
            f.resource,
            "/subscriptions/sub/resourceGroups/net/providers/Microsoft.Network/routeTables/rt"
        );
        assert_eq!(
            f.commands[0],
            "az role assignment list --all --assignee oid-1 --output table"
        );
        assert!(f.commands[1].contains("--role \"Network Contributor\""));
    }

    #[test]
    fn linked_failures_inside_aks_wrappers_are_found() {
        let wrapped = "Category: ClientError; SubCode: LinkedAuthorizationFailed; OrginalError: Code=\"LinkedAuthorizationFailed\" Message=\"The client 'x' with object id 'oid-2' doesn't have permission to perform action 'Microsoft.Network/ddosProtectionPlans/join/action' on the linked scope(s) '/subscriptions/sub/resourceGroups/ddos/providers/Microsoft.Network/ddosProtectionPlans/p'\"";
        let snap = snapshot().with_activity(failed_op(
            "Microsoft.ContainerService/managedClusters/write",
            "/x",
            arm("CreateVNetFailed", wrapped),
            -5,
        ));
        let f = &check(&facts(&snap))[0];
        assert_eq!(f.code.as_deref(), Some("LinkedAuthorizationFailed"));
        assert!(f.resource.ends_with("/ddosProtectionPlans/p"));
        assert_eq!(failures(&facts(&snap)).len(), 1);
    }

    #[test]
    fn other_failures_are_not_authorization_failures() {
        let snap = snapshot().with_activity(failed_op("w", "/x", arm("QuotaExceeded", ""), -5));
        assert!(check(&facts(&snap)).is_empty());
    }
}
