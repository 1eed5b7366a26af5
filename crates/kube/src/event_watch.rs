//! The event archive's watches: every Kubernetes event, through core/v1 and through
//! events.k8s.io/v1. Both APIs serve the same stored events; both are watched so that events
//! written through either are kept whatever the server's version, and an event seen through
//! both has one UID, which the archive stores once.

use futures::StreamExt as _;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Event as CoreEvent;
use k8s_openapi::api::events::v1::Event;
use kube::Api;
use kube::runtime::{WatchStreamExt as _, watcher};
use nodemend_store::ArchivedEvent;
use tokio::sync::mpsc;

use crate::archive::{core_event, events_v1_event};

/// Sends every core/v1 event of every namespace to `tx` until `tx` closes. `timeout_secs` is
/// each watch request's server-side timeout, after which it resumes where it was.
pub async fn watch_core_events(
    client: kube::Client,
    tx: mpsc::Sender<ArchivedEvent>,
    timeout_secs: u32,
) {
    let api = Api::<CoreEvent>::all(client);
    follow(api, timeout_secs, tx, "core/v1", core_event).await;
}

/// Sends every events.k8s.io/v1 event of every namespace to `tx` until `tx` closes.
pub async fn watch_events_v1(
    client: kube::Client,
    tx: mpsc::Sender<ArchivedEvent>,
    timeout_secs: u32,
) {
    let api = Api::<Event>::all(client);
    follow(api, timeout_secs, tx, "events.k8s.io/v1", events_v1_event).await;
}

/// Watches one API (listing first, and again after a 410 Gone or a failure, with kube-rs's
/// back-off) and sends every event object it sees; deletions (the API server's TTL at work)
/// are not archive changes.
async fn follow<K>(
    api: Api<K>,
    timeout_secs: u32,
    tx: mpsc::Sender<ArchivedEvent>,
    name: &'static str,
    translate: fn(&K, Timestamp) -> ArchivedEvent,
) where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
{
    let config = watcher::Config::default().timeout(timeout_secs);
    let mut stream = watcher(api, config).default_backoff().boxed();
    while let Some(item) = stream.next().await {
        match item {
            Ok(watcher::Event::Apply(obj) | watcher::Event::InitApply(obj)) => {
                if tx.send(translate(&obj, Timestamp::now())).await.is_err() {
                    return;
                }
            }
            Ok(watcher::Event::Init) => tracing::debug!(api = name, "listing events"),
            Ok(watcher::Event::InitDone) => {
                tracing::debug!(api = name, "event list done; watching")
            }
            Ok(watcher::Event::Delete(_)) => {}
            Err(err) => {
                tracing::warn!(api = name, error = %err, "event watch failed; retrying with back-off")
            }
        }
    }
}
