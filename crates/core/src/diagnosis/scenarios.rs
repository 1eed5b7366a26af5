//! One snapshot per row and scenario of the two seed documents (the failed-state guide and the
//! auto-repair errors), run through [`diagnose`] with the real catalog: each must produce the
//! rule and code a person following the guide would land on.

use super::diagnose;
use super::fixtures::{
    SnapshotFixture, arm, azure_read_failed, failed_op, kube_read_failed, node_event, pdb, pool,
    snapshot, stuck, system_pod,
};
use super::kube::StuckState;
use super::snapshot::Snapshot;
use crate::catalog::Catalog;
use crate::cloud::CloudErrorKind;
use crate::fixtures::{NodeFixture, node, t};
use crate::model::{ArmError, ProvisioningState};
use crate::policy::Action;
use crate::repair::action_failed_message;

/// Asserts the snapshot's report holds every `(rule, code)` pair.
#[track_caller]
fn expect(name: &str, snapshot: &Snapshot, wanted: &[(&str, Option<&str>)]) {
    let report = diagnose(snapshot, Catalog::builtin());
    let got: Vec<(&str, Option<&str>)> = report
        .findings
        .iter()
        .map(|f| (f.rule, f.code.as_deref()))
        .collect();
    for pair in wanted {
        assert!(got.contains(pair), "{name}: expected {pair:?}, got {got:?}");
    }
}

fn cluster_failed_with(error: ArmError) -> Snapshot {
    let snap = snapshot().cluster_state(ProvisioningState::Failed);
    let id = snap.cluster_id().expect("cluster id");
    snap.with_activity(failed_op(
        "Microsoft.ContainerService/managedClusters/write",
        &id,
        error,
        -1_800,
    ))
}

fn node_rg_resource(kind: &str, name: &str) -> String {
    format!("/subscriptions/sub/resourceGroups/MC_rg_aks_westeurope/providers/{kind}/{name}")
}

#[test]
fn common_cause_cse_extension_error() {
    let snap = snapshot().with_pool(pool("np1").failed().instance_failed(
        0,
        "VMExtensionProvisioningError",
        "VM has reported a failure when processing extension 'vmssCSE'. command terminated with exit status=2",
    ));
    expect(
        "CSE error",
        &snap,
        &[
            ("pool-state", Some("VMExtensionProvisioningError")),
            ("vm-failed", Some("VMExtensionProvisioningError")),
        ],
    );
}

#[test]
fn common_cause_key_azure_resources_unavailable() {
    let workspace = cluster_failed_with(arm(
        "",
        "Unable to get log analytics workspace info. Resource ID: /subscriptions/sub/resourceGroups/logs/providers/Microsoft.OperationalInsights/workspaces/gone",
    ));
    expect(
        "workspace",
        &workspace,
        &[("cluster-state", Some("LogAnalyticsWorkspaceNotFound"))],
    );

    let lb = snapshot().with_activity(failed_op(
        "Microsoft.Network/loadBalancers/write",
        &node_rg_resource("Microsoft.Network/loadBalancers", "kubernetes"),
        arm(
            "InvalidResourceReference",
            "Resource /x referenced by resource /y was not found.",
        ),
        -600,
    ));
    expect(
        "load balancer",
        &lb,
        &[("failed-operation", Some("InvalidResourceReference"))],
    );

    let dns = cluster_failed_with(arm(
        "ResourceOperationFailure",
        r#"{"status":"Failed","error":{"code":"InternalOperationError","message":"privateDnsZones operation failed"}}"#,
    ));
    expect(
        "private DNS",
        &dns,
        &[("cluster-state", Some("InternalOperationError"))],
    );
    let report = diagnose(&dns, Catalog::builtin());
    assert_eq!(
        report.findings[0].entry.as_deref(),
        Some("PrivateDNSZoneInternalOperationError")
    );

    let subnet = snapshot()
        .network("azure", None)
        .with_pool(pool("np1").count(5).failed().error(
            "SubnetIsFull",
            "Subnet nodes with address prefix 10.0.0.0/25 does not have enough capacity for 62 IP addresses.",
        ))
        .with_subnet("10.0.0.0/25", 120);
    expect(
        "subnet full",
        &subnet,
        &[
            ("pool-state", Some("SubnetIsFull")),
            ("subnet-capacity", Some("SubnetIsFull")),
        ],
    );
}

#[test]
fn common_cause_no_capacity() {
    for (code, message) in [
        (
            "ZonalAllocationFailed",
            "We do not have sufficient capacity for the requested VM size in this zone.",
        ),
        (
            "AllocationFailed",
            "The VM allocation failed due to an internal error.",
        ),
        (
            "OverconstrainedAllocationRequest",
            "Allocation failed because the condition is too restrictive.",
        ),
    ] {
        let snap = snapshot().with_pool(pool("np1").failed());
        let vmss = snap.scale_set_id("aks-np1-vmss").expect("vmss id");
        let snap = snap.with_activity(failed_op(
            "Microsoft.Compute/virtualMachineScaleSets/write",
            &vmss,
            arm(code, message),
            -300,
        ));
        expect(code, &snap, &[("pool-state", Some(code))]);
    }
}

#[test]
fn common_cause_core_quota() {
    let snap = snapshot()
        .with_pool(pool("np1").count(6).failed().error(
            "QuotaExceeded",
            "Operation results in exceeding quota limits of Core. Maximum allowed: 16, Current in use: 12, Additional requested: 12.",
        ))
        .with_quota("Microsoft.Compute", "cores", 12, 16)
        .with_quota("Microsoft.Compute", "standardDSv5Family", 12, 16);
    expect(
        "quota",
        &snap,
        &[
            ("pool-state", Some("QuotaExceeded")),
            ("quota-vcpu", Some("QuotaExceeded")),
            ("quota-vcpu", Some("VMFamilyCoreQuotaExceeded")),
        ],
    );
}

#[test]
fn common_cause_customer_restrictions() {
    let denial = "Resource 'kubernetes' was disallowed by policy. (Code: RequestDisallowedByPolicy) Policy identifiers: '[{\"policyAssignment\":{\"id\":\"/subscriptions/sub/providers/Microsoft.Authorization/policyAssignments/deny-lb\"}}]'";
    let snap = snapshot()
        .with_pool(
            pool("np1")
                .failed()
                .error("RequestDisallowedByPolicy", denial),
        )
        .with_policy("deny-lb", None)
        .with_lock("keep-ip", "CanNotDelete")
        .with_activity(failed_op(
            "Microsoft.Network/loadBalancers/write",
            &node_rg_resource("Microsoft.Network/loadBalancers", "kubernetes"),
            arm("RequestDisallowedByPolicy", denial),
            -120,
        ));
    expect(
        "restrictions",
        &snap,
        &[
            ("policy-denied", Some("RequestDisallowedByPolicy")),
            ("resource-lock", Some("ScopeLocked")),
            ("pool-state", Some("RequestDisallowedByPolicy")),
        ],
    );
}

#[test]
fn common_cause_workload_issues() {
    let snap = snapshot()
        .cluster_state(ProvisioningState::Failed)
        .with_node(node("aks-np1-vmss000000"))
        .with_pdb(pdb("shop", "web", 0))
        .with_system_pod(system_pod("coredns-abc", "Pending", Some("Unschedulable")));
    expect(
        "workload",
        &snap,
        &[
            ("pdb-blocks-drain", Some("PodDrainFailure")),
            ("system-pods-not-running", Some("KubeSystemPodsNotRunning")),
        ],
    );
}

#[test]
fn error_outbound_connectivity() {
    let snap = snapshot().with_pool(pool("np1").failed().instance_failed(
        1,
        "VMExtensionProvisioningError",
        "CSE failed with 'VMExtensionError_OutboundConnFail'. Unable to establish outbound connection from agents, exit status=50",
    ));
    expect(
        "outbound",
        &snap,
        &[
            (
                "outbound-connectivity",
                Some("OutboundConnFailVMExtensionError"),
            ),
            ("pool-state", Some("OutboundConnFailVMExtensionError")),
            ("network-blocked", Some("VirtualNetworkBlocked")),
        ],
    );
}

#[test]
fn error_drain() {
    let upgrade = arm(
        "UpgradeFailed",
        "Drain node aks-np1-vmss000000 failed when evicting pod web-1 failed with Too Many Requests error. This is often caused by a restrictive Pod Disruption Budget (PDB) policy. See http://aka.ms/aks/debugdrainfailures. Original error: Cannot evict pod as it would violate the pod's disruption budget.",
    );
    let snap = cluster_failed_with(upgrade)
        .with_stuck_pod(stuck("shop", "web-1", StuckState::Terminating, -1_200))
        .with_pdb(pdb("shop", "web", 0));
    expect(
        "drain",
        &snap,
        &[
            ("cluster-state", Some("PodDrainFailure")),
            ("pod-stuck", Some("PodDrainFailure")),
            ("pdb-blocks-drain", Some("PodDrainFailure")),
        ],
    );
}

#[test]
fn error_subscription_not_registered() {
    let snap = snapshot().with_subscription(
        "Enabled",
        &[("Microsoft.ContainerService", "NotRegistered")],
    );
    expect(
        "registration",
        &snap,
        &[(
            "provider-not-registered",
            Some("MissingSubscriptionRegistration"),
        )],
    );
}

#[test]
fn error_public_ip_limit() {
    let snap = snapshot().with_quota("Microsoft.Network", "PublicIPAddresses", 20, 20);
    expect(
        "public IPs",
        &snap,
        &[("quota-public-ip", Some("PublicIPCountLimitReached"))],
    );
}

#[test]
fn error_read_only_subscription() {
    let snap = snapshot().with_subscription("Disabled", &[]);
    expect(
        "read-only",
        &snap,
        &[("subscription-state", Some("ReadOnlyDisabledSubscription"))],
    );
}

#[test]
fn scenario_1_cluster_failed_after_upgrade_with_each_common_code() {
    for (code, message) in [
        (
            "OutboundConnFailVMExtensionError",
            "VM has reported a failure when processing extension 'vmssCSE'. exit status=50",
        ),
        (
            "MissingSubscriptionRegistration",
            "The subscription is not registered to use namespace 'Microsoft.ContainerService'.",
        ),
        (
            "RequestDisallowedByPolicy",
            "Resource 'x' was disallowed by policy.",
        ),
        (
            "QuotaExceeded",
            "Operation results in exceeding quota limits of Core.",
        ),
        (
            "PublicIPCountLimitReached",
            "Cannot create more than 10 public IP addresses for this subscription in this region.",
        ),
        (
            "OverconstrainedAllocationRequest",
            "Allocation failed because the condition is too restrictive.",
        ),
        (
            "ReadOnlyDisabledSubscription",
            "The subscription is disabled and therefore marked as read only.",
        ),
    ] {
        let status = serde_json::json!({
            "status": "Failed",
            "error": {"code": "ResourceOperationFailure", "message": "The resource operation completed with terminal provisioning state 'Failed'.", "details": [{"code": "VMExtensionProvisioningError", "message": message}]}
        });
        let details_code = if code == "OutboundConnFailVMExtensionError" {
            "VMExtensionProvisioningError"
        } else {
            code
        };
        let status = status.to_string().replace(
            "\"code\":\"VMExtensionProvisioningError\"",
            &format!("\"code\":\"{details_code}\""),
        );
        let snap = cluster_failed_with(arm("", &status));
        expect(code, &snap, &[("cluster-state", Some(code))]);
    }
}

#[test]
fn scenario_2_node_failed_after_a_disk_detach() {
    let detach = "Cannot attach data disk 'pvc-1' because the disk is currently being detached or the last detach operation failed.";
    let vmss = snapshot().with_pool(pool("np1").instance_failed(
        2,
        "AttachDiskWhileBeingDetached",
        detach,
    ));
    let report = diagnose(&vmss, Catalog::builtin());
    let f = report
        .findings
        .iter()
        .find(|f| f.rule == "vm-failed")
        .expect("vm-failed");
    assert_eq!(f.entry.as_deref(), Some("NodeVMFailedAfterDiskDetach"));
    assert!(f.commands.contains(&"az vmss update-instances --resource-group MC_rg_aks_westeurope --name aks-np1-vmss --instance-ids 2".to_owned()));

    let avset = snapshot().with_pool(pool("np1").availability_set().instance_failed(
        2,
        "AttachDiskWhileBeingDetached",
        detach,
    ));
    let report = diagnose(&avset, Catalog::builtin());
    let f = report
        .findings
        .iter()
        .find(|f| f.rule == "vm-failed")
        .expect("vm-failed");
    assert!(f.commands.contains(
        &"az vm update --resource-group MC_rg_aks_westeurope --name aks-np1-2".to_owned()
    ));
}

#[test]
fn scenario_3_node_pool_failed_runs_the_seven_checks() {
    let snap = snapshot()
        .with_pool(
            pool("np1")
                .failed()
                .scale_set_failed("ResourceOperationFailure", "")
                .instance_failed(
                    0,
                    "OSProvisioningTimedOut",
                    "OS provisioning did not finish in time",
                ),
        )
        .with_quota("Microsoft.Compute", "cores", 40, 100)
        .with_lock("keep-ip", "CanNotDelete")
        .with_policy("tags", None);
    let report = diagnose(&snap, Catalog::builtin());
    let f = report
        .findings
        .iter()
        .find(|f| f.rule == "pool-state")
        .expect("pool-state");
    assert_eq!(
        f.evidence
            .iter()
            .filter(|e| e.label.starts_with(char::is_numeric))
            .count(),
        7
    );
    expect(
        "pool failed",
        &snap,
        &[
            ("resource-lock", Some("ScopeLocked")),
            ("vm-failed", Some("OSProvisioningTimedOut")),
            ("policy-enforced", None),
        ],
    );
}

#[test]
fn provisioning_state_check_reports_running_operations() {
    let snap = snapshot()
        .cluster_state(ProvisioningState::Upgrading)
        .with_pool(pool("np1").state(ProvisioningState::Upgrading));
    expect(
        "running",
        &snap,
        &[("cluster-state", None), ("pool-state", None)],
    );
}

#[test]
fn other_issue_subnet_too_small() {
    let snap = snapshot()
        .network("azure", Some("overlay"))
        .with_pool(pool("np1").max_count(20))
        .with_subnet("10.0.0.0/28", 0);
    expect(
        "subnet small",
        &snap,
        &[("subnet-capacity", Some("InsufficientSubnetSize"))],
    );
}

#[test]
fn other_issue_infrastructure_and_api_server() {
    let infra = cluster_failed_with(arm(
        "InternalServerError",
        "An internal server error occurred.",
    ))
    .with_pool(pool("np1"));
    expect(
        "infrastructure",
        &infra,
        &[("infrastructure-error", Some("InternalServerError"))],
    );

    let api = snapshot().read_failed(kube_read_failed(
        "nodes",
        Some(503),
        "the server is currently unable to handle the request",
    ));
    expect(
        "API server",
        &api,
        &[("api-server-unreachable", Some("APIServerError"))],
    );
}

#[test]
fn auto_repair_errors_in_events() {
    let cases = [
        (Action::Reboot, "NodeRebootError", "InvalidParameter"),
        (
            Action::Reimage,
            "NodeReimageError",
            "VMExtensionProvisioningError",
        ),
        (
            Action::Redeploy,
            "NodeRedeployError",
            "VMRedeploymentFailed",
        ),
        (
            Action::Redeploy,
            "NodeRedeployError",
            "TooManyVMRedeploymentRequests",
        ),
        (
            Action::Reboot,
            "NodeRebootError",
            "scaleSetNameAndInstanceIDFromProviderID failed",
        ),
        (
            Action::Reboot,
            "NodeRebootError",
            "ManagedIdentityCredential authentication failed",
        ),
        (
            Action::Redeploy,
            "NodeRedeployError",
            "OutboundConnectivityNotEnabledOnVMSS",
        ),
    ];
    for (action, reason, code) in cases {
        let snap = snapshot()
            .with_pool(pool("np1").failed())
            .with_node(
                node("aks-np1-vmss000001")
                    .in_pool("np1")
                    .not_ready_since(t(-3_600)),
            )
            .with_event(node_event(
                reason,
                "aks-np1-vmss000001",
                &action_failed_message(action, code),
            ));
        expect(
            code,
            &snap,
            &[
                ("auto-repair-error", Some(code)),
                ("node-not-ready", Some("NodeNotReady")),
            ],
        );
    }
}

#[test]
fn a_failed_read_is_a_finding_and_the_rest_still_runs() {
    let snap = snapshot()
        .with_pool(pool("np1").failed())
        .read_failed(azure_read_failed(
            "locks of MC_rg_aks_westeurope",
            CloudErrorKind::Forbidden,
            Some("AuthorizationFailed"),
            "The client 'me' with object id 'x' does not have authorization to perform action 'Microsoft.Authorization/locks/read' over scope '/subscriptions/sub/resourceGroups/MC_rg_aks_westeurope'.",
        ));
    let report = diagnose(&snap, Catalog::builtin());
    let read = report
        .findings
        .iter()
        .find(|f| f.rule == "read-failed")
        .expect("read-failed");
    assert_eq!(
        read.title,
        "Permission missing: Microsoft.Authorization/locks/read"
    );
    assert!(report.findings.iter().any(|f| f.rule == "pool-state"));
}

#[test]
fn kubernetes_only_and_azure_only_runs_work() {
    let kube = snapshot()
        .kube_only()
        .with_node(node("n1").not_ready_since(t(-900)))
        .with_pdb(pdb("shop", "web", 0));
    expect(
        "kube only",
        &kube,
        &[
            ("node-not-ready", Some("NodeNotReady")),
            ("pdb-blocks-drain", Some("PodDrainFailure")),
        ],
    );
    let report = diagnose(&kube, Catalog::builtin());
    assert!(!report.azure && report.kubernetes);

    let azure = snapshot().azure_only().with_pool(pool("np1").failed());
    expect("azure only", &azure, &[("pool-state", None)]);
}
