//! A small fixed report and catalog for the rendering tests, independent of the rules and of the
//! built-in catalog, and the check that compares output with `tests/fixtures/`.

use std::path::PathBuf;

use nodemend_core::catalog::{Catalog, Severity};
use nodemend_core::diagnosis::{Evidence, Finding, Report};

const QUOTA_ENTRY: &str = r#"
[[entry]]
code = "QuotaExceeded"
title = "Regional vCPU quota would be exceeded"
origin = "azure"
category = "quota"
severity = "error"
aliases = ["InsufficientVCPUQuota"]
appears_in = ["activity-log", "provisioning-error"]
operations = ["scale", "upgrade"]
causes = ["The pool asks for more vCPUs than the region allows."]
docs = "https://learn.microsoft.com/troubleshoot/azure/azure-kubernetes/error-codes/quota-exceeded-error"
see_also = ["PodDrainFailure"]

[[entry.remedy]]
step = "Compare usage with the limit."
commands = ["az vm list-usage --location <location> --output table"]
"#;

const DRAIN_ENTRY: &str = r#"
[[entry]]
code = "PodDrainFailure"
title = "Node drain blocked by a PodDisruptionBudget"
origin = "azure"
category = "workload"
severity = "error"
causes = ["A budget allows zero disruptions."]
docs = "https://learn.microsoft.com/troubleshoot/azure/azure-kubernetes/create-upgrade-delete/error-code-poddrainfailure"

[[entry.remedy]]
step = "Loosen the budget."
"#;

/// The catalog the fixed report refers to.
pub(super) fn catalog() -> Catalog {
    Catalog::parse(
        &[("quota.toml", QUOTA_ENTRY), ("workload.toml", DRAIN_ENTRY)],
        "",
    )
    .expect("test catalog")
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn evidence(pairs: &[(&str, &str)]) -> Vec<Evidence> {
    pairs
        .iter()
        .map(|(label, value)| Evidence {
            label: (*label).to_owned(),
            value: (*value).to_owned(),
        })
        .collect()
}

const POOL: &str = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks/agentPools/np1";

/// Three findings on two resources, sorted as `diagnose` sorts them.
pub(super) fn report() -> Report {
    Report {
        subject: "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks".into(),
        generated_at: "2027-01-15T08:00:00Z".parse().expect("time"),
        since: "2027-01-14T08:00:00Z".parse().expect("time"),
        azure: true,
        kubernetes: true,
        findings: vec![
            Finding {
                rule: "outbound-connectivity",
                severity: Severity::Error,
                resource: POOL.into(),
                code: Some("OutboundConnFailVMExtensionError".into()),
                title: "Nodes of pool np1 cannot reach what they need".into(),
                evidence: evidence(&[("signals", "VM aks-np1-vmss000000: exit status 50")]),
                cause: Vec::new(),
                remedy: Vec::new(),
                commands: Vec::new(),
                docs: None,
                entry: None,
            },
            Finding {
                rule: "pool-state",
                severity: Severity::Error,
                resource: POOL.into(),
                code: Some("QuotaExceeded".into()),
                title: "Node pool np1 is in the Failed state: QuotaExceeded".into(),
                evidence: evidence(&[
                    ("1. pool state and error", "Failed; QuotaExceeded: Operation results in exceeding quota limits of Core."),
                    ("5. quota and capacity", "cores: 98 of 100 used, 2 free"),
                ]),
                cause: strings(&["The pool asks for more vCPUs than the region allows."]),
                remedy: strings(&["Compare usage with the limit.", "Ask for more quota, then reconcile the pool."]),
                commands: strings(&[
                    "az vm list-usage --location westeurope --query \"[?name.value=='cores']\" --output table",
                    "nodemend reconcile pool np1",
                ]),
                docs: Some("https://learn.microsoft.com/troubleshoot/azure/azure-kubernetes/error-codes/quota-exceeded-error".into()),
                entry: Some("QuotaExceeded".into()),
            },
            Finding {
                rule: "pdb-blocks-drain",
                severity: Severity::Warning,
                resource: "pdb/shop/web".into(),
                code: Some("PodDrainFailure".into()),
                title: "PodDisruptionBudget shop/web allows no disruption".into(),
                evidence: evidence(&[("disruptionsAllowed", "0"), ("minAvailable", "3")]),
                cause: strings(&["A budget allows zero disruptions."]),
                remedy: strings(&["Loosen the budget."]),
                commands: strings(&["kubectl get pdb web --namespace shop --output yaml > pdb-shop-web.yaml"]),
                docs: Some("https://learn.microsoft.com/troubleshoot/azure/azure-kubernetes/create-upgrade-delete/error-code-poddrainfailure".into()),
                entry: Some("PodDrainFailure".into()),
            },
        ],
    }
}

/// Compares `actual` with `tests/fixtures/<name>`; with `NODEMEND_UPDATE_FIXTURES=1` set,
/// writes the file instead (then review the diff before committing).
#[track_caller]
pub(super) fn check(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    if std::env::var_os("NODEMEND_UPDATE_FIXTURES").is_some() {
        std::fs::write(&path, actual).expect("write fixture");
        return;
    }
    let expected =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    assert_eq!(actual, expected, "output differs from {}", path.display());
}
