//! The RBAC of `deploy/base` on a real API server (kube-apiserver 1.20 with RBAC, from
//! `scripts/kube-apiserver.sh`; `NODEMEND_TEST_KUBECONFIG` names its admin kubeconfig, and the
//! test skips with a printed reason without it).
//!
//! It applies the namespace, CRD and RBAC manifests as they are, mints a token for the
//! `nodemend` ServiceAccount with the TokenRequest API (the API server signs it itself; no
//! controller-manager is needed), and as that identity runs the adapter functions the
//! controller calls, and `nodemend doctor` as that identity. Then it removes `patch` on nodes
//! from the ClusterRole (the cordon fails, and doctor reports it) and `create` on events from
//! the Role in `default` (recording an event fails), each with an error naming the permission.
//!
//! A second test runs the real `nodemend run` binary with a kubeconfig holding that
//! ServiceAccount's token against the same server, with the ARM simulator (enforcing
//! `deploy/azure-role.json`) as the cloud and three simulated kubelets registered by the admin:
//! a node whose kubelet reports `Ready=False` is repaired end to end. Without `create` on
//! NodeRepair the controller refuses to act on the next node, and `nodemend doctor` names the
//! permission; with the rule back, that node is repaired too.
//!
//! Both tests change the server's RBAC, so they take turns.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Event, Namespace, Node, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Resource};
use nodemend_core::repair::{EventType, Repair, RepairEvent};
use nodemend_kube::crd::NodeRepair;
use nodemend_kube::leader::Election;
use nodemend_kube::permissions::LEADER_LEASE;
use nodemend_kube::records::RepairRecords;
use nodemend_kube::{cordon, drain, events, node, permissions};
use nodemend_sim::arm::spec::VmOp;
use nodemend_sim::fleet::KubeletFault;
use nodemend_sim::world::{SimWorld, WorldOptions};
use serde::Deserialize;
use serde::de::DeserializeOwned;

mod support;

use support::{
    Controller, azure_env, cluster_scenario, phase_of, records_of, role_actions, wait_until,
};

/// One test at a time changes the server's RBAC.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn real_server() -> Option<PathBuf> {
    match std::env::var_os("NODEMEND_TEST_KUBECONFIG") {
        Some(path) => Some(PathBuf::from(path)),
        None => {
            eprintln!(
                "SKIPPED: NODEMEND_TEST_KUBECONFIG is not set; RBAC needs a real API server \
                 (scripts/kube-apiserver.sh start DIR, or .ci/run)"
            );
            None
        }
    }
}

fn base(file: &str) -> Vec<serde_json::Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/base")
        .join(file);
    let text = std::fs::read_to_string(&path).expect("read manifest");
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|doc| serde_json::Value::deserialize(doc).expect("valid YAML"))
        .filter(|v| !v.is_null())
        .collect()
}

/// Server-side apply of one manifest through `api`.
async fn put<K>(api: Api<K>, doc: &serde_json::Value)
where
    K: Resource<DynamicType = ()> + Clone + std::fmt::Debug + DeserializeOwned + serde::Serialize,
{
    let object: K = serde_json::from_value(doc.clone()).expect("manifest of this kind");
    let name = object.meta().name.clone().expect("named");
    api.patch(
        &name,
        &PatchParams::apply("nodemend-rbac-test").force(),
        &Patch::Apply(&object),
    )
    .await
    .unwrap_or_else(|e| panic!("apply {} {name}: {e}", K::kind(&())));
}

async fn apply_all(client: &kube::Client, docs: &[serde_json::Value]) {
    for doc in docs {
        let c = client.clone();
        let ns = doc["metadata"]["namespace"].as_str().unwrap_or("default");
        match doc["kind"].as_str().unwrap_or_default() {
            "Namespace" => put(Api::<Namespace>::all(c), doc).await,
            "CustomResourceDefinition" => put(Api::<CustomResourceDefinition>::all(c), doc).await,
            "ServiceAccount" => put(Api::<ServiceAccount>::namespaced(c, ns), doc).await,
            "ClusterRole" => put(Api::<ClusterRole>::all(c), doc).await,
            "ClusterRoleBinding" => put(Api::<ClusterRoleBinding>::all(c), doc).await,
            "Role" => put(Api::<Role>::namespaced(c, ns), doc).await,
            "RoleBinding" => put(Api::<RoleBinding>::namespaced(c, ns), doc).await,
            other => panic!("unexpected kind {other}"),
        }
    }
}

/// Polls `check` until it holds, for at most 30 seconds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A client for the admin kubeconfig with the user's token replaced.
async fn client_with_token(kubeconfig: &Path, token: Option<&str>) -> kube::Client {
    let mut file = Kubeconfig::read_from(kubeconfig).expect("kubeconfig");
    if let Some(token) = token {
        for user in &mut file.auth_infos {
            let mut auth: serde_json::Value =
                serde_json::to_value(user.auth_info.clone().expect("user")).expect("JSON");
            auth["token"] = token.into();
            user.auth_info = Some(serde_json::from_value(auth).expect("auth info"));
        }
    }
    let config = kube::Config::from_custom_kubeconfig(file, &KubeConfigOptions::default())
        .await
        .expect("kubeconfig usable");
    kube::Client::try_from(config).expect("client")
}

/// A kubeconfig file for the ServiceAccount: the admin's, with its token.
fn write_kubeconfig(admin: &Path, token: &str, name: &str) -> PathBuf {
    let text = std::fs::read_to_string(admin).expect("read kubeconfig");
    let mut config: serde_json::Value = serde_yaml_ng::from_str(&text).expect("kubeconfig YAML");
    for user in config["users"].as_array_mut().expect("users") {
        user["user"]["token"] = token.into();
    }
    let path = std::env::temp_dir().join(format!("{name}.kubeconfig"));
    std::fs::write(&path, serde_yaml_ng::to_string(&config).expect("YAML")).expect("write");
    path
}

/// Applies the namespace, the CRD (exactly as generated: kube-apiserver 1.20 validates its
/// schema too) and the RBAC of `deploy/base`, waits for the CRD, and returns the RBAC
/// documents.
async fn install_base(admin: &kube::Client) -> Vec<serde_json::Value> {
    apply_all(admin, &base("namespace.yaml")).await;
    apply_all(admin, &base("crd.yaml")).await;
    let rbac = base("rbac.yaml");
    apply_all(admin, &rbac).await;
    let crds: Api<CustomResourceDefinition> = Api::all(admin.clone());
    eventually("the NodeRepair CRD is established", || async {
        crds.get("noderepairs.nodemend.io").await.is_ok_and(|crd| {
            crd.status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
        })
    })
    .await;
    rbac
}

/// A token for the `nodemend` ServiceAccount, signed by the API server (TokenRequest).
async fn service_account_token(admin: &kube::Client) -> String {
    let accounts: Api<ServiceAccount> = Api::namespaced(admin.clone(), "nodemend");
    accounts
        .create_token_request(
            "nodemend",
            &PostParams::default(),
            &TokenRequest {
                spec: TokenRequestSpec {
                    expiration_seconds: Some(600),
                    ..TokenRequestSpec::default()
                },
                ..TokenRequest::default()
            },
        )
        .await
        .expect("TokenRequest for nodemend/nodemend")
        .status
        .expect("token issued")
        .token
}

/// `nodemend doctor` as the ServiceAccount, with the Azure environment `azure` (none: Azure
/// is not checked): its exit status and output.
/// It runs on a blocking thread, so simulators on this runtime keep serving.
async fn doctor(kubeconfig: &Path, azure: &[(String, String)]) -> (bool, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_nodemend"));
    command
        .args(["doctor", "--lease-namespace", "nodemend", "--kubeconfig"])
        .arg(kubeconfig)
        .env("NO_COLOR", "1")
        .envs(azure.iter().cloned());
    let out = tokio::task::spawn_blocking(move || command.output().expect("run nodemend doctor"))
        .await
        .expect("the doctor's thread");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[tokio::test]
async fn the_service_account_can_do_what_the_controller_does_and_loses_what_a_rule_removes() {
    let Some(kubeconfig) = real_server() else {
        return;
    };
    let _turn = SERIAL.lock().await;
    let admin = client_with_token(&kubeconfig, None).await;
    let rbac = install_base(&admin).await;
    let token = service_account_token(&admin).await;
    let sa = client_with_token(&kubeconfig, Some(&token)).await;

    let name = format!("rbac-{}", Timestamp::now().as_millisecond());
    let nodes_admin: Api<Node> = Api::all(admin.clone());
    let node: Node = serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "labels": {"kubernetes.azure.com/agentpool": "np1"}}
    }))
    .expect("node");
    nodes_admin
        .create(&PostParams::default(), &node)
        .await
        .expect("admin creates a node");
    let now = Timestamp::now();

    // Every permission, as the ServiceAccount sees it (watch and eviction are only asked about:
    // a watch request never ends, and 1.20 has no policy/v1 Eviction to send).
    let reviews = permissions::review(&sa, "nodemend")
        .await
        .expect("SelfSubjectAccessReview");
    let denied: Vec<String> = reviews
        .iter()
        .filter(|r| !r.allowed)
        .map(|r| r.describe())
        .collect();
    assert!(denied.is_empty(), "denied to nodemend: {denied:?}");
    let sa_kubeconfig = write_kubeconfig(&kubeconfig, &token, &name);
    let (ok, report) = doctor(&sa_kubeconfig, &[]).await;
    assert!(ok && !report.contains("MISSING"), "{report}");

    // The controller's own calls, as the ServiceAccount.
    let nodes: Api<Node> = Api::all(sa.clone());
    nodes
        .list(&Default::default())
        .await
        .expect("watch::watch_nodes lists nodes");
    let node_leases: Api<k8s_openapi::api::coordination::v1::Lease> =
        Api::namespaced(sa.clone(), "kube-node-lease");
    node_leases
        .list(&Default::default())
        .await
        .expect("watch::watch_leases lists node leases");
    cordon::set_unschedulable(&nodes, &name, true)
        .await
        .expect("cordon::set_unschedulable");
    let progress = drain::drain_round(&sa, &name)
        .await
        .expect("drain::drain_round lists the node's pods");
    assert!(matches!(
        progress,
        nodemend_core::repair::DrainProgress::Done
    ));
    let records = RepairRecords::new(sa.clone());
    let repair = Repair::new(name.clone(), Some("np1".into()), now);
    records
        .create(&repair, "NodeNotReady")
        .await
        .expect("RepairRecords::create (create + status patch)");
    records
        .update(&repair)
        .await
        .expect("RepairRecords::update");
    records.list().await.expect("RepairRecords::list");
    let recorder = events::EventRecorder::new(sa.clone(), "rbac-test");
    let view = node::node_view(&nodes_admin.get(&name).await.expect("node"));
    let event = RepairEvent {
        kind: EventType::Normal,
        reason: "NodeRebootStart".into(),
        message: "rbac test".into(),
    };
    recorder
        .record(&view, &event, now)
        .await
        .expect("EventRecorder::record creates");
    recorder
        .record(&view, &event, now)
        .await
        .expect("EventRecorder::record patches a repeat");
    let election = Election {
        namespace: "nodemend".into(),
        name: LEADER_LEASE.into(),
        identity: "rbac-test".into(),
        lease_duration: Duration::from_secs(15),
    };
    assert!(
        election
            .try_acquire_or_renew(&sa, Timestamp::now())
            .await
            .expect("Election acquires (create or get + update)")
    );
    election.release(&sa).await.expect("Election::release");

    // Remove `patch` on nodes: the cordon now fails, naming the permission.
    let mut without_patch = rbac
        .iter()
        .find(|d| d["kind"] == "ClusterRole")
        .expect("ClusterRole")
        .clone();
    for rule in without_patch["rules"].as_array_mut().expect("rules") {
        if rule["resources"][0] == "nodes" {
            rule["verbs"] = serde_json::json!(["list", "watch"]);
        }
    }
    apply_all(&admin, &[without_patch]).await;
    // RBAC changes reach the authorizer through its informers: wait for it, with a deadline.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let failure = loop {
        if let Err(err) = cordon::set_unschedulable(&nodes, &name, false).await {
            break chain(&err);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "patch on nodes still allowed 30 s after the rule was removed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    eprintln!("without the rule: {failure}");
    assert!(
        failure.contains(&format!("cannot set unschedulable=false on node {name}"))
            && failure.contains(r#"cannot patch resource "nodes""#)
            && failure.contains("system:serviceaccount:nodemend:nodemend"),
        "{failure}"
    );
    let reviews = permissions::review(&sa, "nodemend")
        .await
        .expect("SelfSubjectAccessReview");
    let denied: Vec<String> = reviews
        .iter()
        .filter(|r| !r.allowed)
        .map(|r| r.describe())
        .collect();
    assert_eq!(denied, ["patch nodes (cluster-wide)"]);
    let (ok, report) = doctor(&sa_kubeconfig, &[]).await;
    eprintln!("nodemend doctor without the rule:\n{report}");
    assert!(
        !ok && report.contains("MISSING  repair")
            && report.contains("patch nodes (cluster-wide) (used by cordon::set_unschedulable)"),
        "{report}"
    );
    std::fs::remove_file(&sa_kubeconfig).expect("remove the test kubeconfig");

    // Put the rule back; then remove `create` on events from the Role in `default`: a new
    // event is refused, naming the verb, the resource and the namespace.
    apply_all(&admin, &rbac).await;
    let mut without_create = rbac
        .iter()
        .find(|d| d["kind"] == "Role" && d["metadata"]["name"] == "nodemend-events")
        .expect("the events Role")
        .clone();
    without_create["rules"][0]["verbs"] = serde_json::json!(["patch"]);
    apply_all(&admin, &[without_create]).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let failure = loop {
        // A fresh recorder has nothing to fold into, so it creates.
        let recorder = events::EventRecorder::new(sa.clone(), "rbac-test-2");
        if let Err(err) = recorder.record(&view, &event, Timestamp::now()).await {
            break chain(&err);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "event create still allowed 30 s after the rule was removed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    eprintln!("without event create: {failure}");
    assert!(
        failure.contains(&format!(
            "cannot record event NodeRebootStart on node {name}"
        )) && failure.contains(
            r#"cannot create resource "events" in API group "" in the namespace "default""#
        ),
        "{failure}"
    );

    // Put the rules back for whatever runs next on this server.
    apply_all(&admin, &rbac).await;
    nodes_admin
        .delete(&name, &Default::default())
        .await
        .expect("delete the test node");
}

/// Removes what a run of the test below leaves: nodes of the simulated subscription with their
/// leases, and every NodeRepair record (a stale NotReady node would count against the policy's
/// limit on unhealthy nodes).
async fn remove_simulated_nodes(admin: &kube::Client) {
    let nodes: Api<Node> = Api::all(admin.clone());
    let leases: Api<Lease> = Api::namespaced(admin.clone(), "kube-node-lease");
    let subscription = format!(
        "azure:///subscriptions/{}/",
        nodemend_sim::arm::ArmWorldSpec::default().subscription
    );
    for node in nodes
        .list(&Default::default())
        .await
        .expect("list nodes")
        .items
    {
        let simulated = node
            .spec
            .as_ref()
            .and_then(|s| s.provider_id.as_deref())
            .is_some_and(|p| p.starts_with(&subscription));
        let Some(name) = node.metadata.name.filter(|_| simulated) else {
            continue;
        };
        for result in [
            nodes
                .delete(&name, &DeleteParams::default())
                .await
                .map(drop),
            leases
                .delete(&name, &DeleteParams::default())
                .await
                .map(drop),
        ] {
            match result {
                Ok(()) => {}
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(err) => panic!("remove node {name}: {err}"),
            }
        }
    }
    let records: Api<NodeRepair> = Api::all(admin.clone());
    records
        .delete_collection(&DeleteParams::default(), &ListParams::default())
        .await
        .expect("delete NodeRepair records");
}

/// Waits (with a deadline of `secs`) until the controller's log contains every one of
/// `needles`, and returns that line; panics with the log otherwise.
async fn wait_for_log(controller: &mut Controller, needles: &[&str], secs: u64) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let log = controller.log();
        if let Some(line) = log
            .lines()
            .find(|line| needles.iter().all(|n| line.contains(n)))
        {
            return line.to_owned();
        }
        controller.assert_running();
        assert!(
            tokio::time::Instant::now() < deadline,
            "no log line with {needles:?} after {secs} s:\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Reasons of the events recorded on `node`.
async fn event_reasons(admin: &kube::Client, node: &str) -> BTreeSet<String> {
    let events: Api<Event> = Api::namespaced(admin.clone(), "default");
    events
        .list(&Default::default())
        .await
        .expect("list events")
        .items
        .into_iter()
        .filter(|e| e.involved_object.name.as_deref() == Some(node))
        .filter_map(|e| e.reason)
        .collect()
}

#[tokio::test]
async fn nodemend_run_as_the_service_account_repairs_a_node() {
    let Some(kubeconfig) = real_server() else {
        return;
    };
    let _turn = SERIAL.lock().await;
    let admin = client_with_token(&kubeconfig, None).await;
    let rbac = install_base(&admin).await;
    remove_simulated_nodes(&admin).await;
    let token = service_account_token(&admin).await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let name = format!("rbac-run-{}", Timestamp::now().as_millisecond());
    // The kubelets register and report as the admin, like real kubelets with their own rights;
    // ARM enforces exactly the custom role.
    let world = SimWorld::start(
        cluster_scenario(&name, Some(&role_actions())),
        WorldOptions {
            kubeconfig: Some(kubeconfig.clone()),
            state_dir: dir.path().to_owned(),
        },
    )
    .await
    .expect("the simulated kubelets and ARM start");
    let nodes: Api<Node> = Api::all(admin.clone());
    let fleet = world.fleet.nodes();
    eventually("the simulated nodes are Ready", || async {
        let mut ready = 0;
        for name in &fleet {
            if let Ok(Some(node)) = nodes.get_opt(name).await
                && node
                    .status
                    .and_then(|s| s.conditions)
                    .unwrap_or_default()
                    .iter()
                    .any(|c| c.type_ == "Ready" && c.status == "True")
            {
                ready += 1;
            }
        }
        ready == fleet.len()
    })
    .await;
    let sa_kubeconfig = write_kubeconfig(&kubeconfig, &token, &name);
    let azure = azure_env(dir.path());
    let mut controller = Controller::start(&sa_kubeconfig, &azure, "nodemend", dir.path());

    // A kubelet reports Ready=False (no controller-manager here to notice missed heartbeats).
    let first = world.resolve("nodepool1/1").expect("a node");
    assert!(world.fleet.inject(
        &first,
        KubeletFault::NotReady("container runtime is down".into()),
        vec![VmOp::Restart],
    ));
    wait_until(
        &format!("the repair of {first} succeeds"),
        120,
        &mut controller,
        || async { phase_of(&admin, &first).await.as_deref() == Some("Succeeded") },
    )
    .await;
    let reasons = event_reasons(&admin, &first).await;
    assert!(
        reasons.contains("NodeRebootStart") && reasons.contains("NodeRepaired"),
        "events on {first}: {reasons:?}\n{}",
        controller.log()
    );
    wait_until(
        &format!("{first} is uncordoned"),
        30,
        &mut controller,
        || async {
            nodes
                .get(&first)
                .await
                .is_ok_and(|n| n.spec.and_then(|s| s.unschedulable) != Some(true))
        },
    )
    .await;
    let restarts = || {
        world
            .arm
            .calls()
            .into_iter()
            .filter(|c| c.method == "POST" && c.path.ends_with("/restart"))
            .count()
    };
    assert_eq!(restarts(), 1, "{}", controller.log());
    let refused: Vec<_> = world
        .arm
        .calls()
        .into_iter()
        .filter(|c| c.status == 403)
        .collect();
    assert!(refused.is_empty(), "AuthorizationFailed: {refused:?}");

    // Without `create` on NodeRepair the controller does not act on the next node: no record,
    // no reboot. Its log says which step failed; doctor names the permission.
    let mut without_create = rbac
        .iter()
        .find(|d| d["kind"] == "ClusterRole")
        .expect("ClusterRole")
        .clone();
    for rule in without_create["rules"].as_array_mut().expect("rules") {
        if rule["resources"][0] == "noderepairs" {
            rule["verbs"] = serde_json::json!(["list"]);
        }
    }
    apply_all(&admin, &[without_create]).await;
    let sa = client_with_token(&kubeconfig, Some(&token)).await;
    eventually("create on NodeRepair is refused", || async {
        permissions::review(&sa, "nodemend")
            .await
            .is_ok_and(|reviews| {
                reviews.iter().any(|r| {
                    !r.allowed && r.verb == "create" && r.permission.resource == "noderepairs"
                })
            })
    })
    .await;
    let second = world.resolve("nodepool1/2").expect("a node");
    assert!(world.fleet.inject(
        &second,
        KubeletFault::NotReady("container runtime is down".into()),
        vec![VmOp::Restart],
    ));
    let refused = wait_for_log(
        &mut controller,
        &[
            "cannot create the NodeRepair record; not acting",
            &second,
            "forbidden",
            "noderepairs",
        ],
        60,
    )
    .await;
    eprintln!("the controller without create on NodeRepair: {refused}");
    assert!(records_of(&admin, &second).await.is_empty());
    assert_eq!(restarts(), 1, "no reboot without a record");
    let (ok, report) = doctor(&sa_kubeconfig, &azure).await;
    eprintln!("nodemend doctor without create on NodeRepair:\n{report}");
    assert!(
        !ok && report.contains("  MISSING  repair\n")
            && report.contains(
                "create noderepairs.nodemend.io (cluster-wide) (used by records::RepairRecords::list, records::RepairRecords::create)"
            )
            && report.contains("Azure (")
            && !report.contains("  MISSING  diagnosis\n"),
        "{report}"
    );

    // With the rule back, the controller repairs that node too.
    apply_all(&admin, &rbac).await;
    wait_until(
        &format!("the repair of {second} succeeds once the rule is back"),
        120,
        &mut controller,
        || async { phase_of(&admin, &second).await.as_deref() == Some("Succeeded") },
    )
    .await;
    assert_eq!(restarts(), 2, "{}", controller.log());

    drop(controller);
    world.stop();
    remove_simulated_nodes(&admin).await;
    // The controller gives its Lease up on SIGTERM; make sure, for the test that runs next.
    let leases: Api<Lease> = Api::namespaced(admin.clone(), "nodemend");
    match leases.delete(LEADER_LEASE, &DeleteParams::default()).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 404 => {}
        Err(err) => panic!("delete the leader Lease: {err}"),
    }
    std::fs::remove_file(&sa_kubeconfig).expect("remove the test kubeconfig");
}
