//! The rules: small pure functions from a snapshot to findings, one family per file.
//!
//! Every rule is listed once in [`RULES`] with its stable ID; `docs/diagnosis.md` documents each.

mod api_server;
mod authorization;
mod auto_repair;
mod cluster;
mod drain;
mod infrastructure;
mod instance;
mod locks;
mod nodes;
mod operations;
mod outbound;
mod policy;
mod pool;
mod quota;
mod read_failures;
mod scale_set;
mod subnet;
mod subscription;
mod system_pods;

use super::codes::Found;
use super::finding::{Draft, ago, clip};
use super::snapshot::Snapshot;
use crate::catalog::{Catalog, Entry, Severity};
use crate::cloud::ActivityRecord;
use crate::model::ArmError;

use super::Finding;
use super::facts::Facts;

/// A diagnosis rule: reads the snapshot (through [`Facts`]), returns what it found.
pub type Rule = fn(&Facts<'_, '_>) -> Vec<Finding>;

/// A rule with its stable ID and a one-line description of what it checks.
#[derive(Debug, Clone, Copy)]
pub struct RuleInfo {
    /// Stable kebab-case ID, as it appears in findings.
    pub id: &'static str,
    /// What the rule checks, in one line.
    pub checks: &'static str,
    /// The rule itself.
    pub run: Rule,
}

/// Every rule, in the order they run (the report is sorted afterwards).
pub const RULES: &[RuleInfo] = &[
    RuleInfo {
        id: cluster::ID,
        checks: "the cluster's provisioning and power state, and the failed operation behind a Failed cluster",
        run: cluster::check,
    },
    RuleInfo {
        id: pool::ID,
        checks: "each pool's provisioning state; a Failed pool gets the seven checks of the failed-state guide",
        run: pool::check,
    },
    RuleInfo {
        id: scale_set::ID,
        checks: "scale sets in the Failed state behind pools that are not Failed themselves",
        run: scale_set::check,
    },
    RuleInfo {
        id: instance::FAILED_ID,
        checks: "VMs in the Failed state, with the update command for a scale set or an availability set",
        run: instance::failed,
    },
    RuleInfo {
        id: instance::EXTENSION_ID,
        checks: "VM extensions (the node bootstrap script) reporting an error on VMs that are not Failed",
        run: instance::extension_error,
    },
    RuleInfo {
        id: operations::ID,
        checks: "failed operations in the activity log on resources other than the cluster and its pools",
        run: operations::check,
    },
    RuleInfo {
        id: quota::VCPU_ID,
        checks: "regional and VM-family vCPU quota against what the pools need to reach their count and to surge",
        run: quota::vcpu,
    },
    RuleInfo {
        id: quota::PUBLIC_IP_ID,
        checks: "public IP address usage against the regional limit",
        run: quota::public_ip,
    },
    RuleInfo {
        id: subnet::ID,
        checks: "free addresses in each node subnet against the pools' missing nodes, surge and autoscaler maximum",
        run: subnet::check,
    },
    RuleInfo {
        id: locks::ID,
        checks: "resource locks on the node resource group, cluster resource group or subscription",
        run: locks::check,
    },
    RuleInfo {
        id: policy::DENIED_ID,
        checks: "policy denials in the activity log",
        run: policy::denied,
    },
    RuleInfo {
        id: policy::ENFORCED_ID,
        checks: "enforced policy assignments, listed when something failed without a denial to explain it",
        run: policy::enforced,
    },
    RuleInfo {
        id: authorization::ID,
        checks: "AuthorizationFailed and LinkedAuthorizationFailed in the activity log",
        run: authorization::check,
    },
    RuleInfo {
        id: subscription::STATE_ID,
        checks: "the subscription's state (disabled, read-only, past due)",
        run: subscription::state,
    },
    RuleInfo {
        id: subscription::PROVIDER_ID,
        checks: "registration of Microsoft.ContainerService and the other providers read",
        run: subscription::providers,
    },
    RuleInfo {
        id: outbound::ID,
        checks: "outbound connectivity failures per pool: CSE exit codes 50 and friends, failed operations, auto-repair events",
        run: outbound::check,
    },
    RuleInfo {
        id: outbound::BLOCKED_ID,
        checks: "the same egress failure in every pool: the virtual network is blocked",
        run: outbound::blocked,
    },
    RuleInfo {
        id: drain::PDB_ID,
        checks: "PodDisruptionBudgets that allow no disruption",
        run: drain::pdbs,
    },
    RuleInfo {
        id: drain::STUCK_ID,
        checks: "pods stuck terminating or in the Unknown phase",
        run: drain::stuck_pods,
    },
    RuleInfo {
        id: system_pods::ID,
        checks: "kube-system pods that are not running",
        run: system_pods::check,
    },
    RuleInfo {
        id: nodes::ID,
        checks: "nodes that are NotReady or Unknown, and for how long",
        run: nodes::check,
    },
    RuleInfo {
        id: auto_repair::ID,
        checks: "node auto-repair failure events, their code, and the pool state after a failed redeploy",
        run: auto_repair::check,
    },
    RuleInfo {
        id: infrastructure::ID,
        checks: "Failed cluster or pools with no customer-side cause: reconcile each pool, then the cluster",
        run: infrastructure::check,
    },
    RuleInfo {
        id: api_server::ID,
        checks: "an API server that does not answer while Azure says the cluster runs",
        run: api_server::check,
    },
    RuleInfo {
        id: read_failures::ID,
        checks: "every read that failed while collecting (permission, throttling, unreachable)",
        run: read_failures::check,
    },
];

/// Adds where a code was found (and the CSE exit status it came from) to a finding.
fn found_evidence(draft: Draft, found: &Found<'_>) -> Draft {
    let draft = draft.evidence("code found in", found.source.describe());
    match found.exit {
        Some(exit) => draft.evidence(
            "CSE exit status",
            format!("{} ({}): {}", exit.code, exit.name, exit.meaning),
        ),
        None => draft,
    }
}

/// The first found code with a specific entry, else the first with any entry, else the first.
fn best<'c>(candidates: impl IntoIterator<Item = Option<Found<'c>>>) -> Option<Found<'c>> {
    let all: Vec<Found<'c>> = candidates.into_iter().flatten().collect();
    let specific = all
        .iter()
        .position(|f| f.entry.is_some_and(|e| !super::codes::is_generic(e)));
    let any = all.iter().position(|f| f.entry.is_some());
    let at = specific.or(any).unwrap_or(0);
    all.into_iter().nth(at)
}

/// The found code's entry, or the named fallback entry.
fn entry_or<'c>(
    catalog: &'c Catalog,
    found: Option<&Found<'c>>,
    fallback: &str,
) -> Option<&'c Entry> {
    found
        .and_then(|f| f.entry)
        .or_else(|| catalog.find(fallback))
}

/// `min`, raised to the entry's severity when that is worse.
fn at_least(min: Severity, entry: Option<&Entry>) -> Severity {
    entry.map_or(min, |e| e.severity.max(min))
}

/// An activity-log record as one line of evidence.
fn operation_line(snapshot: &Snapshot, record: &ActivityRecord) -> String {
    let mut line = format!(
        "{} on {} at {}",
        record.operation,
        record.resource_id,
        ago(snapshot.now, record.time)
    );
    if let Some(caller) = &record.caller {
        line.push_str(&format!(" by {caller}"));
    }
    line
}

/// An ARM error as one line of evidence: `Code: message`.
fn error_line(error: &ArmError) -> String {
    if error.message.trim().is_empty() {
        error.code.clone()
    } else {
        format!("{}: {}", error.code, clip(&error.message, 400))
    }
}

/// The commands that reconcile the cluster: nodemend's, and the `az` equivalent.
fn reconcile_cluster(snapshot: &Snapshot) -> Vec<String> {
    let mut out = vec!["nodemend reconcile cluster".to_owned()];
    if let Some(id) = snapshot.cluster_id() {
        out.push(format!("az resource update --ids {id}"));
    }
    out
}

/// The commands that reconcile one pool: nodemend's, and the `az` equivalent.
fn reconcile_pool(snapshot: &Snapshot, pool: &str) -> Vec<String> {
    let mut out = vec![format!("nodemend reconcile pool {pool}")];
    if let (Some(rg), Some(cluster)) = (snapshot.resource_group(), snapshot.cluster_name()) {
        out.push(format!(
            "az aks nodepool update --resource-group {rg} --cluster-name {cluster} --name {pool}"
        ));
    }
    out
}

/// The text between single quotes right after `marker`: `quoted_after(m, "action '")`.
fn quoted_after<'t>(text: &'t str, marker: &str) -> Option<&'t str> {
    let start = text.find(marker)? + marker.len();
    let rest = &text[start..];
    let end = rest.find(['\'', '"'])?;
    (end > 0).then(|| &rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_are_cut_at_the_closing_quote() {
        let text = "perform action 'Microsoft.Network/x/read' over scope '/subscriptions/s'";
        assert_eq!(
            quoted_after(text, "action '"),
            Some("Microsoft.Network/x/read")
        );
        assert_eq!(quoted_after(text, "scope '"), Some("/subscriptions/s"));
        assert_eq!(quoted_after(text, "missing '"), None);
    }

    #[test]
    fn rule_ids_are_unique_and_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for rule in RULES {
            assert!(seen.insert(rule.id), "duplicate rule id {}", rule.id);
            assert!(
                rule.id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{} is not kebab-case",
                rule.id
            );
            assert!(!rule.checks.is_empty());
        }
    }

    #[test]
    fn every_rule_is_documented() {
        let docs = include_str!("../../../../../docs/diagnosis.md");
        for rule in RULES {
            assert!(
                docs.contains(&format!("`{}`", rule.id)),
                "docs/diagnosis.md does not document rule {}",
                rule.id
            );
        }
    }
}
