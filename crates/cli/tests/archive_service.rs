//! `nodemend archive` as its own process against the simulated API server: it archives the
//! cluster's events, tells a NotReady node to the alert rules of the policy file, POSTs the
//! firing to a webhook whose URL comes from the environment (and never shows that URL in its
//! logs), and stops cleanly on SIGTERM.

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::{Event, Node, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use nodemend_sim::apiserver::{ApiServer, ApiServerConfig};
use nodemend_store::{Archive, EventFilter};
use serde_json::{Value, json};

type Bodies = Arc<Mutex<Vec<Value>>>;

async fn receive(State(bodies): State<Bodies>, Json(body): Json<Value>) -> &'static str {
    bodies.lock().expect("lock").push(body);
    "ok"
}

/// Polls `check` until it returns `Some`, failing after 60 s.
async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archives_events_and_alerts_on_a_not_ready_node() {
    let bodies = Bodies::default();
    let app = axum::Router::new()
        .route("/hook-s3cret", axum::routing::post(receive))
        .with_state(Arc::clone(&bodies));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hook = format!(
        "http://{}/hook-s3cret",
        listener.local_addr().expect("addr")
    );
    tokio::spawn(async move { axum::serve(listener, app).await });

    let server = ApiServer::start(ApiServerConfig::default())
        .await
        .expect("simulated API server");
    let client = kube::Client::try_from(kube::Config::new(server.url().parse().expect("URL")))
        .expect("client");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "alerts:\n  builtin: false\n  rules:\n    - name: node-down\n      nodeNotReadyFor: 1s\n      severity: critical\n  webhooks:\n    - name: pager\n      urlEnv: NODEMEND_TEST_HOOK\n",
    )
    .expect("policy");

    let nodes: Api<Node> = Api::all(client.clone());
    nodes
        .create(
            &PostParams::default(),
            &Node {
                metadata: ObjectMeta {
                    name: Some("n1".into()),
                    ..ObjectMeta::default()
                },
                ..Node::default()
            },
        )
        .await
        .expect("node");
    let down_since = Timestamp::now() - SignedDuration::from_hours(1);
    nodes
        .patch_status(
            "n1",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"conditions": [{
                "type": "Ready", "status": "False", "reason": "KubeletNotReady",
                "lastTransitionTime": down_since.to_string(),
                "lastHeartbeatTime": down_since.to_string(),
            }]}})),
        )
        .await
        .expect("node status");
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    events
        .create(
            &PostParams::default(),
            &Event {
                metadata: ObjectMeta {
                    name: Some("n1.oom".into()),
                    ..ObjectMeta::default()
                },
                involved_object: ObjectReference {
                    kind: Some("Node".into()),
                    name: Some("n1".into()),
                    ..ObjectReference::default()
                },
                reason: Some("SystemOOM".into()),
                message: Some("System OOM encountered".into()),
                type_: Some("Warning".into()),
                last_timestamp: Some(Time(Timestamp::now())),
                count: Some(1),
                ..Event::default()
            },
        )
        .await
        .expect("event");

    let archive = dir.path().join("state/archive.db");
    let child = Command::new(env!("CARGO_BIN_EXE_nodemend"))
        .args(["archive", "--kubeconfig"])
        .arg(&kubeconfig)
        .arg("--policy")
        .arg(&policy)
        .args(["--metrics-addr", "127.0.0.1:0", "--cluster", "prod-weu"])
        .env("NODEMEND_STATE_DIR", dir.path().join("state"))
        .env("NODEMEND_TEST_HOOK", &hook)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nodemend archive");

    let firing = eventually("the NotReady alert at the webhook", || {
        bodies.lock().expect("lock").first().cloned()
    })
    .await;
    assert_eq!(firing["cluster"], "prod-weu");
    assert_eq!(firing["firing"]["rule"], "node-down");
    assert_eq!(firing["firing"]["group"], "n1");
    assert_eq!(firing["firing"]["severity"], "critical");
    eventually("the event in the archive", || {
        let archive = Archive::open_read_only(&archive).ok()?;
        let rows = archive.events(&EventFilter::default(), 10).ok()?;
        rows.iter()
            .any(|r| r.event.reason == "SystemOOM" && r.event.node.as_deref() == Some("n1"))
            .then_some(())
    })
    .await;

    let pid = child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let out = child.wait_with_output().expect("exit");
    let logs = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}: {logs}", out.status);
    assert!(logs.contains("alert delivered"), "{logs}");
    assert!(!logs.contains("s3cret"), "the webhook URL leaked: {logs}");
    assert_eq!(
        bodies.lock().expect("lock").len(),
        1,
        "fired once per episode"
    );
    server.shutdown().await.expect("server stopped");
}
