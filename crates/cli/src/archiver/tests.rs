//! The archive service against the simulated API server over HTTP: watch restarts, a
//! compacted history (410 Gone) and a process restart neither duplicate nor lose events;
//! retention prunes old rows while ingesting; alerts fire once per quiet period and their
//! delivery is retried against a local receiver.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::{ConfigMap, Event as CoreEvent, ObjectReference};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use kube::Api;
use kube::api::PostParams;
use nodemend_core::alert::{Webhook, WebhookFormat, WebhookUrl};
use nodemend_sim::apiserver::{ApiServer, ApiServerConfig, ApiServerHandle};
use nodemend_store::{Archive, ArchivedEvent, DeliveryStatus, EventFilter, Retention};
use tokio::sync::watch;

use super::*;

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
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn stored(path: &std::path::Path) -> Vec<ArchivedEvent> {
    match Archive::open_read_only(path) {
        Ok(archive) => archive
            .events(&EventFilter::default(), 100_000)
            .map(|rows| rows.into_iter().map(|r| r.event).collect())
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    }
}

struct Sim {
    server: ApiServerHandle,
    client: kube::Client,
}

async fn sim() -> Sim {
    let server = ApiServer::start(ApiServerConfig::default())
        .await
        .expect("simulated API server");
    let config = kube::Config::new(server.url().parse().expect("URL"));
    let client = kube::Client::try_from(config).expect("client");
    Sim { server, client }
}

fn core_event(name: &str, node: &str, reason: &str, count: i32) -> CoreEvent {
    let now = Time(Timestamp::now());
    CoreEvent {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("default".into()),
            ..ObjectMeta::default()
        },
        involved_object: ObjectReference {
            kind: Some("Node".into()),
            name: Some(node.into()),
            ..ObjectReference::default()
        },
        reason: Some(reason.into()),
        message: Some(format!("{reason} on {node}")),
        type_: Some("Warning".into()),
        first_timestamp: Some(now.clone()),
        last_timestamp: Some(now),
        count: Some(count),
        ..CoreEvent::default()
    }
}

fn v1_event(name: &str, node: &str) -> Event {
    Event {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("kube-system".into()),
            ..ObjectMeta::default()
        },
        event_time: Some(MicroTime(Timestamp::now())),
        regarding: Some(ObjectReference {
            kind: Some("Node".into()),
            name: Some(node.into()),
            ..ObjectReference::default()
        }),
        reason: Some("Rebooted".into()),
        note: Some("written through events.k8s.io".into()),
        type_: Some("Normal".into()),
        action: Some("Reboot".into()),
        reporting_controller: Some("test".into()),
        reporting_instance: Some("test-1".into()),
        ..Event::default()
    }
}

async fn create_core(client: &kube::Client, names: std::ops::Range<usize>) {
    let api: Api<CoreEvent> = Api::namespaced(client.clone(), "default");
    for i in names {
        api.create(
            &PostParams::default(),
            &core_event(&format!("e{i}"), &format!("n{}", i % 3), "Seen", 1),
        )
        .await
        .expect("event created");
    }
}

fn uids_are_unique(events: &[ArchivedEvent]) -> usize {
    let uids: BTreeSet<&str> = events.iter().map(|e| e.uid.as_str()).collect();
    assert_eq!(uids.len(), events.len(), "an event was stored twice");
    uids.len()
}

fn start_config(path: &std::path::Path) -> ArchiverConfig {
    let mut config = ArchiverConfig::new(path.to_owned());
    config.watch_timeout_secs = 1;
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_and_gone_watches_neither_duplicate_nor_lose_events() {
    let sim = sim().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("archive.db");
    let metrics = Arc::new(Metrics::new());
    let (stop, shutdown) = watch::channel(false);
    let running = start(
        sim.client.clone(),
        start_config(&path),
        Arc::clone(&metrics),
        shutdown,
    )
    .await
    .expect("archive started");

    create_core(&sim.client, 0..30).await;
    let v1: Api<Event> = Api::namespaced(sim.client.clone(), "kube-system");
    for i in 0..10 {
        v1.create(&PostParams::default(), &v1_event(&format!("v{i}"), "n1"))
            .await
            .expect("v1 event created");
    }
    eventually("40 events", || (stored(&path).len() == 40).then_some(())).await;

    // Another resource changes (the events watches do not see it) and the history is
    // compacted: the watches' next resume (each request ends after a second) is from a
    // version that is gone, so they are told 410 and list again.
    let gone_before = sim.server.expired_watches();
    let cms: Api<ConfigMap> = Api::namespaced(sim.client.clone(), "default");
    cms.create(
        &PostParams::default(),
        &ConfigMap {
            metadata: ObjectMeta {
                name: Some("bump".into()),
                ..ObjectMeta::default()
            },
            ..ConfigMap::default()
        },
    )
    .await
    .expect("configmap");
    sim.server.compact_history();
    eventually("both watches told 410 Gone", || {
        (sim.server.expired_watches() >= gone_before + 2).then_some(())
    })
    .await;
    create_core(&sim.client, 30..40).await;
    eventually("50 events", || (stored(&path).len() == 50).then_some(())).await;

    // An aggregated event's count grows: its row is updated, not duplicated.
    let core: Api<CoreEvent> = Api::namespaced(sim.client.clone(), "default");
    let mut e0 = core.get("e0").await.expect("e0");
    e0.count = Some(5);
    e0.last_timestamp = Some(Time(Timestamp::now()));
    core.replace("e0", &PostParams::default(), &e0)
        .await
        .expect("e0 updated");
    eventually("e0 counted 5 times", || {
        stored(&path)
            .iter()
            .any(|e| e.name == "e0" && e.count == 5)
            .then_some(())
    })
    .await;
    let events = stored(&path);
    assert_eq!(uids_are_unique(&events), 50);
    let text = metrics.render();
    assert!(
        text.contains("nodemend_archive_events_total{result=\"unchanged\"}"),
        "re-deliveries were seen and ignored: {text}"
    );

    // The process stops; events written meanwhile are picked up by the next one, and what
    // the first stored is not stored again.
    stop.send_replace(true);
    running.done.await.expect("archive stopped");
    create_core(&sim.client, 40..45).await;
    let (stop, shutdown) = watch::channel(false);
    let running = start(
        sim.client.clone(),
        start_config(&path),
        Arc::new(Metrics::new()),
        shutdown,
    )
    .await
    .expect("archive restarted");
    eventually("55 events", || (stored(&path).len() == 55).then_some(())).await;
    assert_eq!(uids_are_unique(&stored(&path)), 55);
    stop.send_replace(true);
    running.done.await.expect("archive stopped");
    sim.server.shutdown().await.expect("server stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_prunes_only_what_is_older_than_the_window() {
    let sim = sim().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("archive.db");
    let now = Timestamp::now();
    {
        let mut archive = Archive::open(&path).expect("archive");
        let old = |name: &str, age_hours: i64| {
            let at = now - SignedDuration::from_hours(age_hours);
            ArchivedEvent {
                uid: format!("uid-{name}"),
                namespace: "default".into(),
                name: name.into(),
                object_kind: Some("Node".into()),
                object_name: Some("n1".into()),
                object_namespace: None,
                node: Some("n1".into()),
                event_type: "Normal".into(),
                reason: "Old".into(),
                message: String::new(),
                source: None,
                first_seen: at,
                last_seen: at,
                count: 1,
                series_count: None,
                resource_version: None,
            }
        };
        archive
            .ingest(&[
                old("ancient", 24 * 40),
                old("older", 24 * 31),
                old("recent", 24 * 29),
            ])
            .expect("seeded");
    }
    let mut config = start_config(&path);
    config.retention = Retention {
        window: SignedDuration::from_hours(24 * 30),
        ..Retention::default()
    };
    let (stop, shutdown) = watch::channel(false);
    let running = start(
        sim.client.clone(),
        config,
        Arc::new(Metrics::new()),
        shutdown,
    )
    .await
    .expect("archive started");
    create_core(&sim.client, 0..3).await;
    let names = eventually("old rows pruned and new ones stored", || {
        let names: BTreeSet<String> = stored(&path).into_iter().map(|e| e.name).collect();
        (!names.contains("older") && names.len() == 4).then_some(names)
    })
    .await;
    assert_eq!(
        names,
        BTreeSet::from(["e0", "e1", "e2", "recent"].map(String::from))
    );
    stop.send_replace(true);
    running.done.await.expect("archive stopped");
    sim.server.shutdown().await.expect("server stopped");
}

/// A webhook receiver that answers the first request `429 Retry-After: 1`, then 200.
#[derive(Clone, Default)]
struct Receiver {
    bodies: Arc<Mutex<Vec<(u16, serde_json::Value)>>>,
}

async fn receive(
    State(receiver): State<Receiver>,
    Json(body): Json<serde_json::Value>,
) -> axum::response::Response {
    let mut bodies = receiver.bodies.lock().expect("lock");
    let status = if bodies.is_empty() { 429 } else { 200 };
    bodies.push((status, body));
    if status == 429 {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            "slow down",
        )
            .into_response()
    } else {
        StatusCode::OK.into_response()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_fires_once_per_quiet_period_and_its_delivery_is_retried() {
    let receiver = Receiver::default();
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let sim = sim().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("archive.db");
    let mut config = start_config(&path);
    config.cluster = "prod-weu".into();
    config.webhooks = vec![Webhook {
        name: "oncall".into(),
        url: WebhookUrl::Literal(format!("http://{addr}/hook")),
        format: WebhookFormat::Json,
        max_attempts: 3,
        timeout: SignedDuration::from_secs(5),
    }];
    let (stop, shutdown) = watch::channel(false);
    let running = start(
        sim.client.clone(),
        config,
        Arc::new(Metrics::new()),
        shutdown,
    )
    .await
    .expect("archive started");

    let api: Api<CoreEvent> = Api::namespaced(sim.client.clone(), "default");
    let pp = PostParams::default();
    // Two reboot errors on n1 (the built-in rule fires on the first, then is quiet for an
    // hour on that node), then one on n2 (its own group: fires).
    for (name, node) in [("r1", "n1"), ("r2", "n1"), ("r3", "n2")] {
        api.create(&pp, &core_event(name, node, "NodeRebootError", 1))
            .await
            .expect("event created");
    }
    let deliveries = eventually("both deliveries recorded as delivered", || {
        let archive = Archive::open_read_only(&path).ok()?;
        let d = archive
            .deliveries(Timestamp::now() - SignedDuration::from_hours(1), 100)
            .ok()?;
        d.iter()
            .all(|d| d.status == DeliveryStatus::Delivered)
            .then_some(d)
            .filter(|d| d.len() >= 2)
    })
    .await;
    let mut groups: Vec<(Option<String>, u32)> = deliveries
        .iter()
        .map(|d| (d.group.clone(), d.attempts))
        .collect();
    groups.sort();
    assert_eq!(groups.len(), 2, "one firing per node: {groups:?}");
    let attempts: u32 = groups.iter().map(|g| g.1).sum();
    assert_eq!(
        attempts, 3,
        "the first try was throttled and retried: {groups:?}"
    );
    assert_eq!(
        groups.iter().map(|g| g.0.as_deref()).collect::<Vec<_>>(),
        [Some("n1"), Some("n2")]
    );
    assert!(deliveries.iter().all(|d| d.target == "oncall"));
    let bodies = receiver.bodies.lock().expect("lock").clone();
    assert_eq!(bodies.len(), 3, "{bodies:?}");
    let (status, body) = &bodies[2];
    assert_eq!(*status, 200);
    assert_eq!(body["cluster"], "prod-weu");
    assert_eq!(body["firing"]["rule"], "node-reboot-error");
    stop.send_replace(true);
    running.done.await.expect("archive stopped");
    sim.server.shutdown().await.expect("server stopped");
}
