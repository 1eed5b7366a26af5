//! End-to-end: every shipped scenario played by the real binary (`nodemend demo --scenario
//! <name> --json`) against the simulators, over the real protocols. Each test checks that the
//! scenario's own expectations passed, and then checks the key facts again from the JSON
//! summary on its own terms: the events with their exact AKS wording, the steps of the
//! NodeRepair records, and the VM actions in the ARM call log.
//!
//! The binary waits on conditions itself (it stops as soon as every expectation holds), so
//! nothing here sleeps.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

/// A finished demo: its JSON summary and its timeline (standard error).
struct Demo {
    summary: Value,
    timeline: String,
}

fn run_demo(name: &str, extra: &[&str], state_dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nodemend"))
        .args(["demo", "--scenario", name, "--json", "--state-dir"])
        .arg(state_dir)
        .args(extra)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .output()
        .unwrap_or_else(|e| panic!("cannot run nodemend demo: {e}"))
}

/// Plays `name` and checks what holds for every scenario.
fn demo_with(name: &str, extra: &[&str]) -> Demo {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("no temporary folder: {e}"));
    let out = run_demo(name, extra, dir.path());
    let timeline = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "nodemend demo --scenario {name} exited with {}:\n{timeline}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
    );
    let summary: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("the summary of {name} is not JSON ({e}):\n{timeline}"));
    assert_eq!(summary["scenario"], name);
    assert_eq!(summary["passed"], true, "{summary:#}");
    let checks = summary["expectations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!checks.is_empty(), "{name} states no expectations");
    assert!(checks.iter().all(|c| c["ok"] == true), "{summary:#}");
    every_failed_step_has_its_aks_event(&summary);
    Demo { summary, timeline }
}

fn demo(name: &str) -> Demo {
    demo_with(name, &[])
}

/// The node of `pool` at `index` (node names sort like the scenario's `pool/index`).
fn node<'a>(summary: &'a Value, pool: &str, index: usize) -> &'a Value {
    let mut names: Vec<&'a Value> = nodes(summary)
        .iter()
        .filter(|n| n["pool"] == pool)
        .collect();
    names.sort_by_key(|n| n["name"].as_str().unwrap_or_default());
    names
        .get(index)
        .copied()
        .unwrap_or_else(|| panic!("no node {pool}/{index} in {summary:#}"))
}

fn nodes(summary: &Value) -> &[Value] {
    summary["nodes"].as_array().map_or(&[], Vec::as_slice)
}

fn name(node: &Value) -> &str {
    node["name"].as_str().unwrap_or_default()
}

/// A node's repair steps as `action:result[:code]`.
fn steps(node: &Value) -> Vec<String> {
    node["actions"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    let (action, result) = (&s["action"], &s["result"]);
                    let (action, result) = (
                        action.as_str().unwrap_or_default(),
                        result.as_str().unwrap_or_default(),
                    );
                    match s["error_code"].as_str() {
                        Some(code) => format!("{action}:{result}:{code}"),
                        None => format!("{action}:{result}"),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

fn events(summary: &Value) -> &[Value] {
    summary["events"].as_array().map_or(&[], Vec::as_slice)
}

/// The events with `reason` on `node`.
fn events_on<'a>(summary: &'a Value, node: &Value, reason: &str) -> Vec<&'a Value> {
    events(summary)
        .iter()
        .filter(|e| e["reason"] == reason && e["node"] == node["name"])
        .collect()
}

/// The one event with `reason` on `node`: its type and message.
fn event_on(summary: &Value, node: &Value, reason: &str) -> (String, String) {
    let found = events_on(summary, node, reason);
    assert_eq!(
        found.len(),
        1,
        "expected one {reason} event on {}: {summary:#}",
        name(node)
    );
    let e = found[0];
    (
        e["type"].as_str().unwrap_or_default().to_owned(),
        e["message"].as_str().unwrap_or_default().to_owned(),
    )
}

fn vm_actions(summary: &Value) -> u64 {
    summary["arm_calls"]["vm_actions"]
        .as_u64()
        .unwrap_or_else(|| panic!("no arm_calls.vm_actions in {summary:#}"))
}

fn title(action: &str) -> String {
    let mut chars = action.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// AKS's wording of a failed action.
fn failure_message(action: &str, code: &str) -> String {
    format!("Node auto-repair {action} action failed due to an operation failure: {code}")
}

/// The NodeRepair records and the events agree: every failed step has a `Node<Action>Error`
/// Warning with AKS's exact message, and every such event belongs to a failed step.
fn every_failed_step_has_its_aks_event(summary: &Value) {
    let mut expected = Vec::new();
    for n in nodes(summary) {
        for step in n["actions"].as_array().into_iter().flatten() {
            if step["result"] != "failed" {
                continue;
            }
            let action = step["action"].as_str().unwrap_or_default();
            let code = step["error_code"].as_str().unwrap_or_default();
            assert!(!code.is_empty(), "a failed step without a code: {step}");
            expected.push((
                name(n).to_owned(),
                format!("Node{}Error", title(action)),
                failure_message(action, code),
            ));
        }
    }
    let mut seen: Vec<(String, String, String)> = events(summary)
        .iter()
        .filter(|e| {
            let reason = e["reason"].as_str().unwrap_or_default();
            reason.starts_with("Node") && reason.ends_with("Error")
        })
        .map(|e| {
            assert_eq!(e["type"], "Warning", "{e}");
            (
                e["node"].as_str().unwrap_or_default().to_owned(),
                e["reason"].as_str().unwrap_or_default().to_owned(),
                e["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    expected.sort();
    expected.dedup();
    seen.sort();
    assert_eq!(seen, expected, "error events versus failed steps");
}

/// No node but `except` has been repaired, and they are all Ready.
fn others_untouched(summary: &Value, except: &[&Value]) {
    for n in nodes(summary) {
        if except.iter().any(|e| e["name"] == n["name"]) {
            continue;
        }
        assert!(n["repair"].is_null(), "{} was repaired: {n}", name(n));
        assert_eq!(n["ready"], true, "{n}");
    }
}

/// The one node repaired in a scenario of one failure: its phase, readiness and steps.
fn assert_repair(summary: &Value, n: &Value, phase: &str, ready: bool, want: &[&str]) {
    assert_eq!(n["repair"], phase, "{n}");
    assert_eq!(n["ready"], ready, "{n}");
    assert_eq!(steps(n), want, "{n}");
    others_untouched(summary, &[n]);
}

/// A repair that gave up: one `NodeRepairGaveUp` Warning saying the node stays cordoned,
/// quoting the last error.
fn assert_gave_up(summary: &Value, n: &Value, last_error: Option<&str>) {
    let (kind, message) = event_on(summary, n, "NodeRepairGaveUp");
    assert_eq!(kind, "Warning");
    let mut want = "Node auto-repair gave up after 1 tries of the repair ladder; the node is left cordoned for a human".to_owned();
    if let Some(code) = last_error {
        want.push_str(&format!("; last error: {code}"));
    }
    assert_eq!(message, want);
    assert!(events_on(summary, n, "NodeRepaired").is_empty());
}

/// Every rung of the ladder failed with `code`, and the repair gave up.
fn assert_every_rung_failed_with(summary: &Value, n: &Value, code: &str) {
    let want: Vec<String> = ["reboot", "reimage", "redeploy"]
        .iter()
        .map(|a| format!("{a}:failed:{code}"))
        .collect();
    let want: Vec<&str> = want.iter().map(String::as_str).collect();
    assert_repair(summary, n, "GaveUp", false, &want);
    for action in ["reboot", "reimage", "redeploy"] {
        let (kind, message) = event_on(summary, n, &format!("Node{}Error", title(action)));
        assert_eq!(kind, "Warning");
        assert_eq!(message, failure_message(action, code));
        let (kind, message) = event_on(summary, n, &format!("Node{}Start", title(action)));
        assert_eq!(kind, "Normal");
        assert_eq!(
            message,
            format!("Node auto-repair {action} action started (try 1 of 1)")
        );
    }
    assert_gave_up(summary, n, Some(code));
}

#[test]
fn reboot_fixes() {
    let Demo { summary, .. } = demo("reboot-fixes");
    let n = node(&summary, "nodepool1", 1);
    assert_repair(&summary, n, "Succeeded", true, &["reboot:recovered"]);
    let (kind, message) = event_on(&summary, n, "NodeRebootStart");
    assert_eq!(kind, "Normal");
    assert_eq!(
        message,
        "Node auto-repair reboot action started (try 1 of 3)"
    );
    let (_, message) = event_on(&summary, n, "NodeRepaired");
    assert!(
        message.starts_with("Node auto-repair finished: the node is Ready again after the reboot"),
        "{message}"
    );
    assert_eq!(vm_actions(&summary), 1);
}

/// `nodemend <args> --format json` on the archive the demo wrote.
fn query(args: &[&str], archive: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_nodemend"))
        .args(args)
        .arg("--archive")
        .arg(archive)
        .args(["--format", "json"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run nodemend {args:?}: {e}"));
    assert!(
        out.status.success(),
        "nodemend {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("nodemend {args:?}: {e}"))
}

#[test]
fn the_demo_archives_its_events_and_repairs() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("no temporary folder: {e}"));
    let out = run_demo("reimage-fixes", &[], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    let archive = dir.path().join("archive.db");
    assert_eq!(summary["archive"], archive.display().to_string());
    let n = node(&summary, "nodepool1", 1);

    let repairs = query(&["repairs", "--since", "1h"], &archive);
    let list = repairs["repairs"].as_array().expect("repairs");
    assert_eq!(list.len(), 1, "{repairs:#}");
    assert_eq!(list[0]["node"], name(n));
    let steps: Vec<(String, String)> = list[0]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["action"].as_str().unwrap_or_default().to_owned(),
                s["outcome"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("reboot".to_owned(), "Failed".to_owned()),
            ("reimage".to_owned(), "Recovered".to_owned())
        ],
        "{repairs:#}"
    );

    let events = query(
        &["events", "--reason", "NodeRebootError", "--since", "1h"],
        &archive,
    );
    let events = events.as_array().expect("events");
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["node"], name(n));
    assert_eq!(
        events[0]["message"],
        failure_message("reboot", "VMExtensionProvisioningError")
    );
}

#[test]
fn reimage_fixes() {
    let Demo { summary, .. } = demo("reimage-fixes");
    let n = node(&summary, "nodepool1", 1);
    assert_repair(
        &summary,
        n,
        "Succeeded",
        true,
        &[
            "reboot:failed:VMExtensionProvisioningError",
            "reimage:recovered",
        ],
    );
    assert_eq!(
        event_on(&summary, n, "NodeRebootError").1,
        failure_message("reboot", "VMExtensionProvisioningError")
    );
    event_on(&summary, n, "NodeReimageStart");
    event_on(&summary, n, "NodeReimageEnd");
    event_on(&summary, n, "NodeRepaired");
    assert_eq!(vm_actions(&summary), 2);
}

#[test]
fn redeploy_fixes() {
    let Demo { summary, .. } = demo("redeploy-fixes");
    let n = node(&summary, "nodepool1", 2);
    assert_repair(
        &summary,
        n,
        "Succeeded",
        true,
        &[
            "reboot:not-recovered",
            "reimage:not-recovered",
            "redeploy:recovered",
        ],
    );
    for reason in ["NodeRebootEnd", "NodeReimageEnd", "NodeRedeployEnd"] {
        let (kind, message) = event_on(&summary, n, reason);
        assert_eq!(kind, "Normal");
        assert!(
            message.ends_with("waiting for the node to become Ready"),
            "{message}"
        );
    }
    let (_, message) = event_on(&summary, n, "NodeRepaired");
    assert!(message.contains("after the redeploy"), "{message}");
    assert_eq!(vm_actions(&summary), 3);
}

/// Played against an API server of the test's own, so that what the demo leaves behind can
/// be read afterwards: the node stays cordoned and its NodeRepair record says GaveUp.
#[test]
fn gave_up() {
    use k8s_openapi::api::core::v1::Node;
    use nodemend_sim::apiserver::{ApiServer, ApiServerConfig};

    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("no runtime: {e}"));
    let mut config = ApiServerConfig::default();
    // The scenario's node_grace, with the monitor period the demo would use for it.
    config.lifecycle.grace_period = Duration::from_secs(4);
    config.lifecycle.monitor_period = Duration::from_secs(1);
    let server = runtime
        .block_on(ApiServer::start(config))
        .unwrap_or_else(|e| panic!("cannot start the API server: {e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("no temporary folder: {e}"));
    let kubeconfig = dir.path().join("kubeconfig");
    server
        .write_kubeconfig(&kubeconfig)
        .unwrap_or_else(|e| panic!("cannot write the kubeconfig: {e}"));
    let path = kubeconfig.display().to_string();
    let Demo { summary, .. } = demo_with("gave-up", &["--kubeconfig", &path]);

    let n = node(&summary, "nodepool1", 0);
    assert_repair(
        &summary,
        n,
        "GaveUp",
        false,
        &[
            "reboot:not-recovered",
            "reimage:not-recovered",
            "redeploy:not-recovered",
        ],
    );
    assert_gave_up(&summary, n, None);
    assert_eq!(vm_actions(&summary), 3);

    let node_name = name(n).to_owned();
    let (unschedulable, records) = runtime.block_on(async {
        let file = kube::config::Kubeconfig::read_from(&kubeconfig)
            .unwrap_or_else(|e| panic!("cannot read the kubeconfig: {e}"));
        let config = kube::Config::from_custom_kubeconfig(file, &Default::default())
            .await
            .unwrap_or_else(|e| panic!("bad kubeconfig: {e}"));
        let client = kube::Client::try_from(config).unwrap_or_else(|e| panic!("no client: {e}"));
        let node: Node = kube::Api::all(client.clone())
            .get(&node_name)
            .await
            .unwrap_or_else(|e| panic!("cannot read node {node_name}: {e}"));
        let (records, unreadable) = nodemend_kube::records::RepairRecords::new(client)
            .list()
            .await
            .unwrap_or_else(|e| panic!("cannot list NodeRepair records: {e}"));
        assert!(unreadable.is_empty(), "{unreadable:?}");
        (node.spec.and_then(|s| s.unschedulable), records)
    });
    assert_eq!(unschedulable, Some(true), "the node is left cordoned");
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].node, node_name);
    assert_eq!(records[0].phase.name(), "GaveUp");
    drop(server);
}

#[test]
fn error_vm_extension_provisioning() {
    let Demo { summary, .. } = demo("error-vm-extension-provisioning");
    let n = node(&summary, "nodepool1", 1);
    let code = "VMExtensionProvisioningError";
    assert_repair(
        &summary,
        n,
        "Succeeded",
        true,
        &[
            &format!("reboot:failed:{code}"),
            &format!("reimage:failed:{code}"),
            "redeploy:recovered",
        ],
    );
    assert_eq!(
        event_on(&summary, n, "NodeRebootError").1,
        failure_message("reboot", code)
    );
    assert_eq!(
        event_on(&summary, n, "NodeReimageError").1,
        failure_message("reimage", code)
    );
    assert_eq!(vm_actions(&summary), 3);
}

#[test]
fn error_invalid_parameter() {
    let Demo { summary, .. } = demo("error-invalid-parameter");
    let n = node(&summary, "nodepool1", 2);
    assert_every_rung_failed_with(&summary, n, "InvalidParameter");
    // Each action reached ARM, which refused it: the VM is gone.
    assert_eq!(vm_actions(&summary), 3);
}

#[test]
fn error_provider_id() {
    let Demo { summary, .. } = demo("error-provider-id");
    let n = node(&summary, "nodepool1", 2);
    assert_every_rung_failed_with(
        &summary,
        n,
        "scaleSetNameAndInstanceIDFromProviderID failed",
    );
    // No VM can be named, so nothing is sent.
    assert_eq!(vm_actions(&summary), 0);
}

#[test]
fn error_managed_identity() {
    let Demo { summary, .. } = demo("error-managed-identity");
    let n = node(&summary, "nodepool1", 0);
    assert_every_rung_failed_with(
        &summary,
        n,
        "ManagedIdentityCredential authentication failed",
    );
    // Only the reboot went out, with the token cached before the identity was removed; ARM
    // refused it and no new token could be had for the rest.
    assert_eq!(vm_actions(&summary), 1);
}

#[test]
fn error_outbound_connectivity() {
    let Demo { summary, .. } = demo("error-outbound-connectivity");
    let n = node(&summary, "nodepool1", 1);
    assert_every_rung_failed_with(&summary, n, "OutboundConnectivityNotEnabledOnVMSS");
    assert_eq!(vm_actions(&summary), 3);
}

#[test]
fn error_redeployment_failed() {
    let Demo { summary, .. } = demo("error-redeployment-failed");
    let n = node(&summary, "nodepool1", 1);
    assert_repair(
        &summary,
        n,
        "GaveUp",
        false,
        &[
            "reboot:not-recovered",
            "reimage:not-recovered",
            "redeploy:failed:VMRedeploymentFailed",
        ],
    );
    assert_eq!(
        event_on(&summary, n, "NodeRedeployError").1,
        failure_message("redeploy", "VMRedeploymentFailed")
    );
    assert_gave_up(&summary, n, Some("VMRedeploymentFailed"));
    assert_eq!(vm_actions(&summary), 3);
}

#[test]
fn error_too_many_redeploys() {
    let Demo { summary, .. } = demo("error-too-many-redeploys");
    let first = node(&summary, "nodepool1", 1);
    let second = node(&summary, "nodepool1", 4);
    assert_eq!(steps(first), ["redeploy:recovered"]);
    assert_eq!(first["repair"], "Succeeded");
    assert_eq!(first["ready"], true);
    assert_eq!(
        steps(second),
        ["redeploy:failed:TooManyVMRedeploymentRequests"]
    );
    assert_eq!(second["repair"], "GaveUp");
    others_untouched(&summary, &[first, second]);
    assert_eq!(
        event_on(&summary, second, "NodeRedeployError").1,
        failure_message("redeploy", "TooManyVMRedeploymentRequests")
    );
    // Refused by nodemend's own budget: no NodeRedeployStart, and one redeploy in all.
    assert!(events_on(&summary, second, "NodeRedeployStart").is_empty());
    assert_gave_up(&summary, second, Some("TooManyVMRedeploymentRequests"));
    assert_eq!(vm_actions(&summary), 1);
}

#[test]
fn storm() {
    let Demo { summary, .. } = demo("storm");
    for n in nodes(&summary) {
        assert!(n["repair"].is_null(), "nothing is repaired in a storm: {n}");
    }
    for index in [0, 1] {
        let n = node(&summary, "nodepool1", index);
        assert_eq!(n["ready"], false);
        let (kind, message) = event_on(&summary, n, "NodeRepairSkipped");
        assert_eq!(kind, "Warning");
        assert_eq!(
            message,
            "Node auto-repair skipped this node: 2 of 4 nodes in pool nodepool1 are unhealthy, above maxUnhealthy 35%: that points at the network or the control plane, not at this node"
        );
    }
    let reasons: Vec<&str> = events(&summary)
        .iter()
        .filter_map(|e| e["reason"].as_str())
        .collect();
    assert!(
        reasons.iter().all(|r| *r == "NodeRepairSkipped"),
        "{reasons:?}"
    );
    assert_eq!(vm_actions(&summary), 0);
}

#[test]
fn pdb_blocks_drain() {
    let Demo { summary, .. } = demo("pdb-blocks-drain");
    let n = node(&summary, "nodepool1", 1);
    assert_repair(
        &summary,
        n,
        "GaveUp",
        false,
        &["reboot:not-recovered", "reimage:drain-blocked"],
    );
    let (kind, message) = event_on(&summary, n, "NodeRepairGaveUp");
    assert_eq!(kind, "Warning");
    assert!(
        message.starts_with(
            "Node auto-repair stopped before the reimage: the drain did not finish within 3s"
        ) && message.ends_with("the node is left cordoned"),
        "{message}"
    );
    for pod in ["default/web-0", "default/web-1"] {
        assert!(
            message.contains(&format!(
                "{pod}: Cannot evict pod as it would violate the pod's disruption budget."
            )),
            "the event names what blocked the drain: {message}"
        );
    }
    // The reboot went out; the reimage never did.
    assert!(events_on(&summary, n, "NodeReimageStart").is_empty());
    assert_eq!(vm_actions(&summary), 1);
}

#[test]
fn controller_restart() {
    let Demo { summary, timeline } = demo("controller-restart");
    let n = node(&summary, "nodepool1", 0);
    assert_repair(&summary, n, "Succeeded", true, &["reboot:recovered"]);
    let starts = events_on(&summary, n, "NodeRebootStart");
    assert_eq!(starts.len(), 1);
    assert_eq!(starts[0]["count"], 1, "the reboot was started once");
    event_on(&summary, n, "NodeRepaired");
    assert_eq!(vm_actions(&summary), 1, "the reboot was sent once");
    // The restart came while the reboot was in flight: after it started, before the end.
    let line = |needle: &str| {
        timeline
            .lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in the timeline:\n{timeline}"))
    };
    let started = line("NodeRebootStart");
    let restarted = line("controller killed; starting a new one");
    let repaired = line("NodeRepaired");
    assert!(started < restarted && restarted < repaired, "{timeline}");
}

#[test]
fn dry_run() {
    let Demo { summary, .. } = demo("dry-run");
    let n = node(&summary, "nodepool1", 2);
    assert_eq!(n["ready"], false);
    assert!(
        n["repair"].is_null(),
        "a dry run creates no NodeRepair: {n}"
    );
    let (kind, message) = event_on(&summary, n, "NodeRepairDryRun");
    assert_eq!(kind, "Normal");
    assert!(
        message.starts_with("dry run: would start repairing with a reboot ("),
        "{message}"
    );
    let reasons: Vec<&str> = events(&summary)
        .iter()
        .filter_map(|e| e["reason"].as_str())
        .collect();
    assert!(
        reasons.iter().all(|r| *r == "NodeRepairDryRun"),
        "{reasons:?}"
    );
    assert_eq!(vm_actions(&summary), 0);
}

/// Every shipped scenario has its test here.
#[test]
fn every_builtin_scenario_is_tested() {
    let source = include_str!("e2e.rs");
    // The diag-* scenarios are diagnosis fixtures, tested through `nodemend diagnose`.
    let repair_scenarios = nodemend_sim::scenario::BUILTIN
        .iter()
        .filter(|(name, _)| !name.starts_with("diag-"));
    for (name, _) in repair_scenarios {
        let test = format!("fn {}()", name.replace('-', "_"));
        assert!(source.contains(&test), "no test {test} for scenario {name}");
    }
}
