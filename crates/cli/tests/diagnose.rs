//! `nodemend diagnose` and `nodemend reconcile` end to end: each test starts the simulators
//! (Kubernetes API server, ARM, kubelets) from a `scenarios/diag-*.toml` file, runs the real
//! binary against them with the environment the simulator writes (`azure.env`) and its
//! kubeconfig, and asserts what the JSON report says.

use std::process::Output;

use nodemend_sim::scenario::Scenario;
use serde_json::Value;
use world::{World, scenario_path, start, start_scenario};

mod world;

impl World {
    /// `nodemend diagnose --format json` with both sides; the report and the exit status.
    async fn diagnose(&self, extra: &[&str]) -> (Value, Output) {
        let kubeconfig = self.kubeconfig();
        let mut args = vec![
            "diagnose",
            "--format",
            "json",
            "--kubeconfig",
            &kubeconfig,
            "--quiet",
        ];
        args.extend_from_slice(extra);
        let out = self.nodemend(&args, true).await;
        (report_of(&out), out)
    }
}

fn report_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}); status {:?}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// `(rule, code)` of every finding.
fn findings(report: &Value) -> Vec<(String, Option<String>)> {
    report["findings"]
        .as_array()
        .expect("findings[]")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_owned(),
                f["code"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

#[track_caller]
fn expect(report: &Value, wanted: &[(&str, Option<&str>)]) {
    let got = findings(report);
    for (rule, code) in wanted {
        assert!(
            got.iter().any(|(r, c)| r == rule && c.as_deref() == *code),
            "expected ({rule}, {code:?}) in {got:?}"
        );
    }
}

#[track_caller]
fn absent(report: &Value, rule: &str) {
    let got = findings(report);
    assert!(
        got.iter().all(|(r, _)| r != rule),
        "{rule} should not be reported: {got:?}"
    );
}

fn finding<'r>(report: &'r Value, rule: &str) -> &'r Value {
    report["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["rule"] == rule))
        .unwrap_or_else(|| panic!("no {rule} finding in {report}"))
}

/// Runs one scenario and checks the findings it must produce (and that nothing failed to read).
async fn scenario(name: &str, wanted: &[(&str, Option<&str>)]) -> Value {
    let world = start(name).await;
    let (report, out) = world.diagnose(&[]).await;
    assert_eq!(out.status.code(), Some(0), "{name}: {report}");
    assert_eq!(report["schema"], "nodemend.diagnosis/v1");
    assert_eq!(report["sources"]["azure"], true, "{name}");
    assert_eq!(report["sources"]["kubernetes"], true, "{name}");
    absent(&report, "read-failed");
    expect(&report, wanted);
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_failed_after_an_upgrade_shows_the_code_in_its_activity_log() {
    let report = scenario(
        "diag-cluster-upgrade-failed",
        &[("cluster-state", Some("OutboundConnFailVMExtensionError"))],
    )
    .await;
    let f = finding(&report, "cluster-state");
    assert_eq!(f["severity"], "error");
    let evidence = f["evidence"].to_string();
    assert!(evidence.contains("managedClusters/write"), "{evidence}");
    let commands = f["commands"].to_string();
    assert!(
        commands.contains("nodemend reconcile cluster"),
        "{commands}"
    );
    assert!(
        commands.contains("az resource update --ids /subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-diag/providers/Microsoft.ContainerService/managedClusters/aks-diag"),
        "{commands}"
    );
}

/// The codes the failed-state guide lists as common causes of a Failed cluster, each as the
/// innermost error of the cluster's failed write (wrapped as AKS wraps it), and what
/// `cluster-state` must name.
const COMMON_CODES: [(&str, &str, &str); 7] = [
    (
        "VMExtensionProvisioningError",
        "VM has reported a failure when processing extension 'vmssCSE'. exit status=50",
        "OutboundConnFailVMExtensionError",
    ),
    (
        "MissingSubscriptionRegistration",
        "The subscription is not registered to use namespace 'Microsoft.ContainerService'.",
        "MissingSubscriptionRegistration",
    ),
    (
        "RequestDisallowedByPolicy",
        "Resource 'kubernetes' was disallowed by policy.",
        "RequestDisallowedByPolicy",
    ),
    (
        "QuotaExceeded",
        "Operation results in exceeding quota limits of Core. Maximum allowed: 16, Current in use: 12, Additional requested: 12.",
        "QuotaExceeded",
    ),
    (
        "PublicIPCountLimitReached",
        "Cannot create more than 10 public IP addresses for this subscription in this region.",
        "PublicIPCountLimitReached",
    ),
    (
        "OverconstrainedAllocationRequest",
        "Allocation failed. VM(s) with the following constraints cannot be allocated, because the condition is too restrictive.",
        "OverconstrainedAllocationRequest",
    ),
    (
        "ReadOnlyDisabledSubscription",
        "The subscription is disabled and therefore marked as read only.",
        "ReadOnlyDisabledSubscription",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_failed_after_an_upgrade_with_each_common_code() {
    use nodemend_sim::arm::ErrorSpec;
    for (inner, message, expected) in COMMON_CODES {
        let path = scenario_path("diag-cluster-upgrade-failed");
        let mut scenario =
            Scenario::load(&path.display().to_string()).unwrap_or_else(|e| panic!("{e}"));
        let failed = scenario
            .azure
            .activity_log
            .iter_mut()
            .find(|a| a.status == "Failed")
            .expect("the scenario's failed write");
        failed.error = Some(ErrorSpec {
            code: "ResourceOperationFailure".into(),
            message: "The resource operation completed with terminal provisioning state 'Failed'."
                .into(),
            details: vec![ErrorSpec {
                code: inner.into(),
                message: message.into(),
                details: Vec::new(),
            }],
        });
        let world = start_scenario(scenario).await;
        let (report, out) = world.diagnose(&[]).await;
        assert_eq!(out.status.code(), Some(0), "{inner}");
        let got = findings(&report);
        assert!(
            got.contains(&("cluster-state".to_owned(), Some(expected.to_owned()))),
            "{inner}: expected cluster-state {expected} in {got:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_failed_on_quota() {
    scenario(
        "diag-pool-quota",
        &[
            ("pool-state", Some("QuotaExceeded")),
            ("quota-vcpu", Some("QuotaExceeded")),
            ("quota-vcpu", Some("VMFamilyCoreQuotaExceeded")),
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_failed_on_capacity() {
    scenario(
        "diag-pool-capacity",
        &[("pool-state", Some("AllocationFailed"))],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_failed_on_policy() {
    let report = scenario(
        "diag-pool-policy",
        &[
            ("pool-state", Some("RequestDisallowedByPolicy")),
            ("policy-denied", Some("RequestDisallowedByPolicy")),
        ],
    )
    .await;
    let evidence = finding(&report, "policy-denied")["evidence"].to_string();
    assert!(evidence.contains("deny-public-lb"), "{evidence}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_failed_on_a_lock() {
    let report = scenario(
        "diag-pool-lock",
        &[
            ("pool-state", Some("ScopeLocked")),
            ("resource-lock", Some("ScopeLocked")),
        ],
    )
    .await;
    let lock = finding(&report, "resource-lock");
    assert_eq!(lock["severity"], "error");
    assert!(lock["evidence"].to_string().contains("do-not-delete"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subnet_full() {
    scenario(
        "diag-subnet-full",
        &[
            ("subnet-capacity", Some("SubnetIsFull")),
            ("pool-state", Some("SubnetIsFull")),
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_subscription() {
    scenario(
        "diag-read-only-subscription",
        &[("subscription-state", Some("ReadOnlyDisabledSubscription"))],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unregistered_provider() {
    scenario(
        "diag-provider-unregistered",
        &[(
            "provider-not-registered",
            Some("MissingSubscriptionRegistration"),
        )],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pdb_blocking_a_drain() {
    let report = scenario(
        "diag-pdb-blocks-drain",
        &[
            ("pdb-blocks-drain", Some("PodDrainFailure")),
            ("cluster-state", Some("PodDrainFailure")),
        ],
    )
    .await;
    let pdb = finding(&report, "pdb-blocks-drain");
    assert_eq!(pdb["resource"], "pdb/shop/web");
    assert_eq!(pdb["severity"], "error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_system_pods_down() {
    let report = scenario(
        "diag-system-pods-down",
        &[("system-pods-not-running", Some("KubeSystemPodsNotRunning"))],
    )
    .await;
    let evidence = finding(&report, "system-pods-not-running")["evidence"].to_string();
    assert!(evidence.contains("CrashLoopBackOff"), "{evidence}");
    assert!(evidence.contains("metrics-server-0"), "{evidence}");
    assert!(!evidence.contains("konnectivity"), "{evidence}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_repair_errors_in_events() {
    let report = scenario(
        "diag-auto-repair-errors",
        &[
            ("auto-repair-error", Some("VMExtensionProvisioningError")),
            ("auto-repair-error", Some("TooManyVMRedeploymentRequests")),
            (
                "auto-repair-error",
                Some("OutboundConnectivityNotEnabledOnVMSS"),
            ),
            (
                "outbound-connectivity",
                Some("OutboundConnectivityNotEnabledOnVMSS"),
            ),
        ],
    )
    .await;
    let reboot = report["findings"]
        .as_array()
        .and_then(|f| {
            f.iter().find(|f| {
                f["rule"] == "auto-repair-error" && f["code"] == "VMExtensionProvisioningError"
            })
        })
        .expect("the reboot error");
    assert!(
        reboot["evidence"].to_string().contains("NodeRebootError"),
        "{reboot}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vm_failed_after_a_disk_detach_then_reconcile_node() {
    let world = start("diag-vm-disk-detach").await;
    let (report, out) = world.diagnose(&[]).await;
    assert_eq!(out.status.code(), Some(0));
    expect(
        &report,
        &[("vm-failed", Some("AttachDiskWhileBeingDetached"))],
    );
    let vm = finding(&report, "vm-failed");
    assert_eq!(vm["entry"], "NodeVMFailedAfterDiskDetach");
    assert!(
        vm["commands"].to_string().contains(
            "az vmss update-instances --resource-group MC_rg-diag_aks-diag_westeurope --name aks-nodepool1-12345678-vmss --instance-ids 1"
        ),
        "{vm}"
    );
    let node = world
        .sim
        .resolve("nodepool1/1")
        .expect("the failed VM's node");
    assert_eq!(
        world
            .sim
            .arm
            .vm(&node)
            .expect("VM")
            .provisioning_state
            .to_string(),
        "Failed"
    );
    let before = world.sim.arm.calls().len();

    let kubeconfig = world.kubeconfig();
    let out = world
        .nodemend(
            &[
                "reconcile",
                "node",
                &node,
                "--kubeconfig",
                &kubeconfig,
                "--yes",
                "--quiet",
            ],
            true,
        )
        .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("equivalent:         az vmss update-instances --resource-group MC_rg-diag_aks-diag_westeurope --name aks-nodepool1-12345678-vmss --instance-ids 1"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("Done: node {node} is now Succeeded.")),
        "{stdout}"
    );
    assert!(stdout.contains("No problems found."), "{stdout}");
    let vm = world.sim.arm.vm(&node).expect("VM");
    assert_eq!(vm.provisioning_state.to_string(), "Succeeded");
    let calls = world.sim.arm.calls();
    let updates: Vec<_> = calls[before..]
        .iter()
        .filter(|c| c.method == "POST" && c.path.to_ascii_lowercase().ends_with("/manualupgrade"))
        .collect();
    assert_eq!(updates.len(), 1, "one update call: {updates:?}");
    assert!(updates[0].path.contains("aks-nodepool1-12345678-vmss"));

    let (report, _) = world.diagnose(&[]).await;
    absent(&report, "vm-failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_asks_first_and_refuses_without_a_terminal() {
    let world = start("diag-vm-disk-detach").await;
    let node = world.sim.resolve("nodepool1/1").expect("node");
    let kubeconfig = world.kubeconfig();
    let out = world
        .nodemend(
            &["reconcile", "node", &node, "--kubeconfig", &kubeconfig],
            true,
        )
        .await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("standard input is not a terminal"),
        "{stderr}"
    );
    assert!(stderr.contains("--yes"), "{stderr}");
    let dry = world
        .nodemend(
            &["reconcile", "pool", "nodepool1", "--dry-run", "--quiet"],
            true,
        )
        .await;
    let stdout = String::from_utf8_lossy(&dry.stdout);
    assert_eq!(dry.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("az aks nodepool update --resource-group rg-diag --cluster-name aks-diag --name nodepool1"),
        "{stdout}"
    );
    assert!(stdout.contains("Dry run: nothing was changed."), "{stdout}");
    let writes = world
        .sim
        .arm
        .calls()
        .iter()
        .filter(|c| c.is_arm() && c.method != "GET")
        .count();
    assert_eq!(writes, 0, "nothing may be written without consent");
    assert_eq!(
        world
            .sim
            .arm
            .vm(&node)
            .expect("VM")
            .provisioning_state
            .to_string(),
        "Failed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_on_sets_the_exit_status() {
    let world = start("diag-provider-unregistered").await;
    let (report, out) = world.diagnose(&["--fail-on", "error"]).await;
    assert_eq!(report["summary"]["worst"], "error");
    assert_eq!(out.status.code(), Some(3));
    let (_, out) = world.diagnose(&["--fail-on", "info"]).await;
    assert_eq!(out.status.code(), Some(3));
    let (_, out) = world.diagnose(&[]).await;
    assert_eq!(out.status.code(), Some(0));

    let html = world.dir.path().join("report.html");
    let snapshot = world.dir.path().join("snapshot.json");
    let kubeconfig = world.kubeconfig();
    let out = world
        .nodemend(
            &[
                "diagnose",
                "--kubeconfig",
                &kubeconfig,
                "--format",
                "html",
                "--out",
                &html.display().to_string(),
                "--save-snapshot",
                &snapshot.display().to_string(),
                "--fail-on",
                "warning",
                "--quiet",
            ],
            true,
        )
        .await;
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty(), "the report goes to the file");
    let page = std::fs::read_to_string(&html).expect("the HTML report");
    assert!(
        page.starts_with("<!DOCTYPE html>"),
        "{}",
        &page[..100.min(page.len())]
    );
    assert!(page.contains("MissingSubscriptionRegistration"));
    let saved: Value =
        serde_json::from_slice(&std::fs::read(&snapshot).expect("the snapshot")).expect("JSON");
    assert_eq!(
        saved["azure"]["subscription"]["providers"][0]["state"],
        "NotRegistered"
    );
    assert!(
        saved["kubernetes"]["nodes"]
            .as_array()
            .is_some_and(|n| n.len() == 2)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubernetes_only_and_azure_only() {
    let world = start("diag-system-pods-down").await;
    let kubeconfig = world.kubeconfig();
    let out = world
        .nodemend(
            &[
                "diagnose",
                "--format",
                "json",
                "--kubeconfig",
                &kubeconfig,
                "--quiet",
            ],
            false,
        )
        .await;
    let report = report_of(&out);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(report["sources"]["azure"], false);
    assert_eq!(report["sources"]["kubernetes"], true);
    expect(
        &report,
        &[("system-pods-not-running", Some("KubeSystemPodsNotRunning"))],
    );

    // No kubeconfig anywhere (HOME is empty, KUBECONFIG unset): Azure only, said so.
    let out = world
        .nodemend(&["diagnose", "--format", "json"], true)
        .await;
    let report = report_of(&out);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(report["sources"]["azure"], true);
    assert_eq!(report["sources"]["kubernetes"], false);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("reading Azure only"), "{stderr}");
    absent(&report, "system-pods-not-running");

    let text = world.nodemend(&["diagnose", "--quiet"], true).await;
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("read: Azure only"), "{stdout}");

    // Neither side: the command cannot run.
    let out = world.nodemend(&["diagnose"], false).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to diagnose"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_api_server_is_a_finding_not_a_failure() {
    let world = start("diag-provider-unregistered").await;
    let dead = world.dir.path().join("dead-kubeconfig");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    std::fs::write(
        &dead,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:{port}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user:\n    token: t\n"
        ),
    )
    .expect("write kubeconfig");
    let dead = dead.display().to_string();
    let out = world
        .nodemend(
            &[
                "diagnose",
                "--format",
                "json",
                "--kubeconfig",
                &dead,
                "--quiet",
            ],
            true,
        )
        .await;
    let report = report_of(&out);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(report["sources"]["kubernetes"], false);
    expect(
        &report,
        &[
            ("api-server-unreachable", Some("APIServerError")),
            (
                "provider-not-registered",
                Some("MissingSubscriptionRegistration"),
            ),
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arm_calls_grow_with_pools_not_nodes() {
    let world = start("diag-pool-capacity").await;
    let before = world.sim.arm.calls().iter().filter(|c| c.is_arm()).count();
    let (report, out) = world.diagnose(&[]).await;
    assert_eq!(out.status.code(), Some(0), "{report}");
    let calls: Vec<_> = world.sim.arm.calls()[..]
        .iter()
        .filter(|c| c.is_arm())
        .skip(before)
        .map(|c| format!("{} {}", c.method, c.path))
        .collect();
    // cluster get, pool list, scale-set list; 2 pools × 1 VM page; 2 activity-log queries;
    // compute + network usages; locks and policies × 2 groups; subscription + 3 providers.
    assert_eq!(calls.len(), 3 + 2 + 2 + 2 + 4 + 4, "{calls:#?}");
    assert!(calls.iter().all(|c| c.starts_with("GET ")), "{calls:#?}");
    let queries: Vec<String> = world
        .sim
        .arm
        .calls()
        .iter()
        .filter(|c| {
            c.path
                .to_ascii_lowercase()
                .ends_with("/eventtypes/management/values")
        })
        .filter_map(|c| c.query.clone())
        .collect();
    assert_eq!(queries.len(), 2, "{queries:?}");
    assert!(
        queries
            .iter()
            .all(|q| q.contains("status") && q.contains("Failed")),
        "only failed operations are asked for: {queries:?}"
    );
}

/// `nodemend reconcile <what> --yes`; stdout, after checking the exit status.
async fn reconcile(world: &World, what: &[&str]) -> String {
    let kubeconfig = world.kubeconfig();
    let mut args = vec!["reconcile"];
    args.extend_from_slice(what);
    args.extend_from_slice(&["--kubeconfig", &kubeconfig, "--yes", "--quiet"]);
    let out = world.nodemend(&args, true).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn writes(world: &World, before: usize) -> Vec<String> {
    world.sim.arm.calls()[before..]
        .iter()
        .filter(|c| c.is_arm() && c.method != "GET")
        .map(|c| format!("{} {}", c.method, c.path))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_pool_brings_a_failed_pool_back() {
    let world = start("diag-pool-capacity").await;
    let before = world.sim.arm.calls().len();
    let stdout = reconcile(&world, &["pool", "nodepool2"]).await;
    assert!(stdout.contains("provisioning state: Failed"), "{stdout}");
    assert!(
        stdout.contains("equivalent:         az aks nodepool update --resource-group rg-diag --cluster-name aks-diag --name nodepool2"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Done: pool nodepool2 is now Succeeded."),
        "{stdout}"
    );
    assert!(!stdout.contains("pool-state"), "{stdout}");
    let writes = writes(&world, before);
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert!(
        writes[0].starts_with("PUT ") && writes[0].ends_with("/agentPools/nodepool2"),
        "{writes:?}"
    );
    let (report, _) = world.diagnose(&[]).await;
    absent(&report, "pool-state");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_cluster_brings_a_failed_cluster_back() {
    let world = start("diag-cluster-upgrade-failed").await;
    let before = world.sim.arm.calls().len();
    let stdout = reconcile(&world, &["cluster"]).await;
    assert!(
        stdout.contains("equivalent:         az resource update --ids /subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-diag/providers/Microsoft.ContainerService/managedClusters/aks-diag"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Done: cluster aks-diag is now Succeeded."),
        "{stdout}"
    );
    let writes = writes(&world, before);
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert!(
        writes[0].starts_with("PUT ") && writes[0].ends_with("/managedClusters/aks-diag"),
        "{writes:?}"
    );
    let (report, _) = world.diagnose(&[]).await;
    absent(&report, "cluster-state");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_azure_read_is_a_finding_and_the_rest_still_runs() {
    use nodemend_sim::arm::{ErrorSpec, FaultSpec};
    let path = scenario_path("diag-pool-capacity");
    let mut scenario =
        Scenario::load(&path.display().to_string()).unwrap_or_else(|e| panic!("{e}"));
    scenario.azure.faults.push(FaultSpec {
        operation: "read".into(),
        target: "nodepool1".into(),
        error: ErrorSpec {
            code: "AuthorizationFailed".into(),
            message: "The client 'diag@contoso.com' with object id '1' does not have authorization to perform action 'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read' over scope '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/MC_rg-diag_aks-diag_westeurope' or the scope is invalid.".into(),
            details: Vec::new(),
        },
        http_status: Some(403),
        ..FaultSpec::default()
    });
    let world = start_scenario(scenario).await;
    let (report, out) = world.diagnose(&[]).await;
    assert_eq!(out.status.code(), Some(0), "{report}");
    expect(
        &report,
        &[
            ("read-failed", Some("AuthorizationFailed")),
            ("pool-state", Some("AllocationFailed")),
        ],
    );
    let failed = finding(&report, "read-failed");
    assert_eq!(
        failed["title"],
        "Permission missing: Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read"
    );
    assert!(
        failed["evidence"]
            .to_string()
            .contains("VMs of pool nodepool1"),
        "{failed}"
    );
}
