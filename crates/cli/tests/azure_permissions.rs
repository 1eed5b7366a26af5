//! The custom role `deploy/azure-role.json`, enforced by the ARM simulator (403
//! `AuthorizationFailed` for any action outside the scenario's `role_actions`): it is enough for
//! `diagnose`, `reconcile`, `doctor` and a repair by `nodemend run`, all run as the real binary;
//! and when any one read the diagnosis makes is denied, the report says which permission is
//! missing (a `read-failed` finding tied to the `AuthorizationFailed` catalog entry) instead of
//! failing, or passing as if nothing had been read.

mod support;

use std::collections::BTreeSet;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use axum::http::Method;
use k8s_openapi::api::core::v1::{Event, Namespace, Node};
use kube::Api;
use kube::api::PostParams;
use nodemend_azure::requests::{Command as Needed, Requests, UNGATED_ACTIONS, required_action};
use nodemend_sim::arm::CallRecord;
use nodemend_sim::arm::spec::VmOp;
use nodemend_sim::fleet::KubeletFault;
use nodemend_sim::world::{SimWorld, WorldOptions};
use serde_json::Value;

use support::{Controller, azure_env, cluster_scenario, role_actions};

/// A simulated cluster whose identity holds exactly the custom role.
struct World {
    sim: SimWorld,
    dir: tempfile::TempDir,
}

/// Starts the cluster `name` and waits until every node is Ready.
async fn start(name: &str) -> World {
    let dir = tempfile::tempdir().expect("temporary directory");
    let role = role_actions();
    let sim = SimWorld::start(
        cluster_scenario(name, Some(&role)),
        WorldOptions {
            kubeconfig: None,
            state_dir: dir.path().to_owned(),
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    let nodes: Api<Node> = Api::all(sim.client.clone());
    let want = sim.fleet.nodes().len();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let ready = nodes
            .list(&Default::default())
            .await
            .map(|l| l.items.iter().filter(|n| is_ready(n)).count())
            .unwrap_or(0);
        if ready == want {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name}: {ready} of {want} nodes Ready after 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    World { sim, dir }
}

fn is_ready(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

impl World {
    /// Runs the binary with the world's Azure environment, and its kubeconfig when `kube`, on a
    /// blocking thread so the simulators keep serving.
    async fn nodemend(&self, args: &[&str], kube: bool) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_nodemend"));
        command.args(args);
        if kube {
            command.arg("--kubeconfig").arg(&self.sim.kubeconfig);
        }
        command
            .env_remove("KUBECONFIG")
            .env("HOME", self.dir.path())
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "warn")
            .envs(azure_env(self.dir.path()))
            .stdin(Stdio::null());
        tokio::task::spawn_blocking(move || command.output().expect("run nodemend"))
            .await
            .expect("the binary's thread")
    }

    /// `nodemend diagnose --format json`: the report, with the exit status checked.
    async fn diagnose(&self) -> Value {
        let out = self
            .nodemend(&["diagnose", "--format", "json", "--quiet"], true)
            .await;
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "diagnose failed:\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
    }

    /// ARM calls answered 403.
    fn refused(&self) -> Vec<CallRecord> {
        self.sim
            .arm
            .calls()
            .into_iter()
            .filter(|c| c.status == 403)
            .collect()
    }
}

/// Creates a namespace unless it exists.
async fn ensure_namespace(client: &kube::Client, name: &str) {
    let api: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace =
        serde_json::from_value(serde_json::json!({"metadata": {"name": name}})).expect("namespace");
    match api.create(&PostParams::default(), &ns).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 409 => {}
        Err(e) => panic!("create namespace {name}: {e}"),
    }
}

fn findings(report: &Value) -> &[Value] {
    report["findings"].as_array().map_or(&[], Vec::as_slice)
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[tokio::test]
async fn the_custom_role_is_enough_for_diagnose_reconcile_and_doctor() {
    let world = start("perm-commands").await;
    let report = world.diagnose().await;
    assert_eq!(report["sources"]["azure"], true);
    let failed: Vec<&Value> = findings(&report)
        .iter()
        .filter(|f| f["rule"] == "read-failed")
        .collect();
    assert!(
        failed.is_empty(),
        "reads failed with the custom role: {failed:#?}"
    );

    let node = world.sim.resolve("nodepool1/0").expect("a node");
    for args in [
        vec!["reconcile", "cluster", "--yes", "--quiet"],
        vec!["reconcile", "pool", "nodepool1", "--yes", "--quiet"],
        vec!["reconcile", "node", &node, "--yes", "--quiet"],
    ] {
        let out = world.nodemend(&args, true).await;
        let said = text(&out);
        assert!(
            out.status.success() && said.contains("Done: "),
            "{args:?} with the custom role:\n{said}"
        );
    }

    // The simulated API server has no SelfSubjectAccessReview: Azure only.
    let out = world.nodemend(&["doctor"], false).await;
    let said = text(&out);
    eprintln!("nodemend doctor with the custom role:\n{said}");
    assert!(out.status.success(), "{said}");
    for command in ["repair", "diagnosis", "reconcile"] {
        assert!(said.contains(&format!("  ok       {command}\n")), "{said}");
    }
    assert!(
        said.contains("resourceGroups/rg-net"),
        "subnet group: {said}"
    );

    let refused = world.refused();
    assert!(refused.is_empty(), "AuthorizationFailed: {refused:#?}");

    // Without the activity log, doctor names it under diagnosis and fails.
    let activity = "Microsoft.Insights/eventtypes/values/read";
    let mut fewer = role_actions();
    fewer.retain(|a| a != activity);
    world.sim.arm.set_role_actions(Some(fewer));
    let out = world.nodemend(&["doctor"], false).await;
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("  ok       repair\n  MISSING  diagnosis\n")
            && said.contains(&format!("{activity} on /subscriptions/"))
            && said.contains("(used by list activity log)"),
        "{said}"
    );
}

#[tokio::test]
async fn the_custom_role_is_enough_for_a_repair_by_nodemend_run() {
    let world = start("perm-repair").await;
    let client = world.sim.client.clone();
    ensure_namespace(&client, "nodemend").await;
    nodemend_kube::crd::install(&client)
        .await
        .expect("install the NodeRepair CRD");
    let mut controller = Controller::start(
        &world.sim.kubeconfig,
        &azure_env(world.dir.path()),
        "nodemend",
        world.dir.path(),
    );
    let node = world.sim.resolve("nodepool1/1").expect("a node");
    assert!(world.sim.fleet.inject(
        &node,
        KubeletFault::NotReady("container runtime is down".into()),
        vec![VmOp::Restart],
    ));
    support::wait_until(
        &format!("the repair of {node} succeeds"),
        90,
        &mut controller,
        || async { support::phase_of(&client, &node).await.as_deref() == Some("Succeeded") },
    )
    .await;
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    let reasons: BTreeSet<String> = events
        .list(&Default::default())
        .await
        .expect("list events")
        .items
        .into_iter()
        .filter(|e| e.involved_object.name.as_deref() == Some(node.as_str()))
        .filter_map(|e| e.reason)
        .collect();
    assert!(
        reasons.contains("NodeRebootStart") && reasons.contains("NodeRepaired"),
        "{reasons:?}"
    );
    let restarts = world
        .sim
        .arm
        .calls()
        .into_iter()
        .filter(|c| c.method == "POST" && c.path.ends_with("/restart") && c.status == 202)
        .count();
    assert_eq!(restarts, 1, "one reboot, accepted:\n{}", controller.log());
    let refused = world.refused();
    assert!(
        refused.is_empty(),
        "AuthorizationFailed: {refused:#?}\n{}",
        controller.log()
    );
}

/// The RBAC action of each distinct ARM read among `calls`.
fn read_actions(calls: &[CallRecord]) -> BTreeSet<String> {
    calls
        .iter()
        .filter(|c| c.is_arm() && c.method == "GET")
        .map(|c| required_action(&Method::GET, &c.path))
        .filter(|a| !UNGATED_ACTIONS.iter().any(|u| u.eq_ignore_ascii_case(a)))
        .collect()
}

#[tokio::test]
async fn each_denied_diagnosis_read_is_a_permission_missing_finding() {
    let world = start("perm-denied").await;
    let before = world.sim.arm.calls().len();
    let baseline = world.diagnose().await;
    let reads = read_actions(&world.sim.arm.calls()[before..]);

    // What diagnose read is what the needs table says diagnosis needs.
    let requests = Requests::new(
        "https://management.azure.com".parse().expect("URL"),
        nodemend_azure::ApiVersions::default(),
    );
    let table: BTreeSet<String> = requests
        .role_needs()
        .into_iter()
        .filter(|n| n.command == Needed::Diagnosis)
        .map(|n| n.action)
        .collect();
    let lower = |s: &BTreeSet<String>| -> BTreeSet<String> {
        s.iter().map(|a| a.to_ascii_lowercase()).collect()
    };
    assert_eq!(
        lower(&reads),
        lower(&table),
        "diagnose's reads vs the needs table"
    );

    let titles = |report: &Value| -> BTreeSet<String> {
        findings(report)
            .iter()
            .map(|f| format!("{}: {}", f["rule"], f["title"]))
            .collect()
    };
    let known = titles(&baseline);
    let role = role_actions();
    for action in &reads {
        let mut fewer = role.clone();
        fewer.retain(|a| !a.eq_ignore_ascii_case(action));
        assert!(fewer.len() < role.len(), "{action} is not in the role");
        world.sim.arm.set_role_actions(Some(fewer));
        let report = world.diagnose().await;
        let want = format!("permission missing: {action}").to_ascii_lowercase();
        let finding = findings(&report)
            .iter()
            .find(|f| {
                f["rule"] == "read-failed"
                    && f["title"].as_str().unwrap_or_default().to_ascii_lowercase() == want
            })
            .unwrap_or_else(|| {
                panic!(
                    "without {action}: no permission-missing finding in {:#?}",
                    titles(&report)
                )
            });
        eprintln!("without {action}: {}", finding["title"]);
        assert_eq!(finding["code"], "AuthorizationFailed", "{finding:#}");
        assert_eq!(finding["entry"], "AuthorizationFailed", "{finding:#}");
        assert_eq!(finding["severity"], "warning", "{finding:#}");
        // Nothing else is concluded from what could not be read.
        let new: Vec<String> = titles(&report)
            .difference(&known)
            .filter(|t| !t.starts_with("\"read-failed\""))
            .cloned()
            .collect();
        assert!(
            new.is_empty(),
            "without {action}, findings appear that the full role does not give: {new:#?}"
        );
    }
    world.sim.arm.set_role_actions(Some(role));
}
