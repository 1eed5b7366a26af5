//! Watches: initial events, resuming from a resourceVersion (or `410 Expired` when the history
//! no longer reaches back), live changes, bookmarks and `timeoutSeconds`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use serde_json::{Value, json};
use tokio::sync::{broadcast, watch};
use tokio::time::{Instant, Interval};

use super::error::{ApiError, ApiResult};
use super::meta;
use super::read::Filter;
use super::resource::ResourceType;
use super::store::{Change, ChangeKind, Store};

/// What a watch request asked for.
#[derive(Debug)]
pub(crate) struct WatchRequest {
    pub(crate) rt: Arc<ResourceType>,
    pub(crate) filter: Filter,
    /// `resourceVersion`; `None` or `"0"` start with the current objects.
    pub(crate) resource_version: Option<String>,
    pub(crate) bookmarks: bool,
    pub(crate) send_initial_events: bool,
    pub(crate) timeout: Duration,
    pub(crate) bookmark_interval: Duration,
}

/// A running watch: queued lines first, then live changes until timeout or shutdown.
pub(crate) struct WatchStream {
    rt: Arc<ResourceType>,
    filter: Filter,
    queued: VecDeque<Bytes>,
    rx: Option<broadcast::Receiver<Arc<Change>>>,
    last_rv: u64,
    bookmarks: Option<Interval>,
    deadline: Instant,
    shutdown: watch::Receiver<bool>,
}

fn line(kind: &str, object: &Value) -> Bytes {
    Bytes::from(format!("{{\"type\":\"{kind}\",\"object\":{object}}}\n"))
}

fn bookmark(rt: &ResourceType, rv: u64, initial_end: bool) -> Bytes {
    let mut meta = json!({ "resourceVersion": rv.to_string() });
    if initial_end {
        meta["annotations"] = json!({ "k8s.io/initial-events-end": "true" });
    }
    line(
        "BOOKMARK",
        &json!({ "kind": rt.kind, "apiVersion": rt.api_version(), "metadata": meta }),
    )
}

/// Opens a watch under the store lock, so that no change falls between history and live feed.
pub(crate) fn open(
    store: &mut Store,
    req: WatchRequest,
    shutdown: watch::Receiver<bool>,
) -> ApiResult<WatchStream> {
    let WatchRequest {
        rt,
        filter,
        resource_version,
        bookmarks,
        send_initial_events,
        timeout,
        bookmark_interval,
    } = req;
    let rx = store.subscribe(&rt.storage);
    let mut queued = VecDeque::new();
    let rv = resource_version
        .as_deref()
        .filter(|v| !v.is_empty() && *v != "0");
    let mut last_rv = store.rv();
    let mut live = Some(rx);
    match rv {
        Some(v) if !send_initial_events => {
            let since: u64 = v
                .parse()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {v}")))?;
            match store.changes_since(&rt.storage, since) {
                Ok(changes) => {
                    for c in &changes {
                        queued.extend(event_line(&rt, &filter, c));
                    }
                    last_rv = last_rv.max(since);
                }
                Err(too_old) => {
                    let status = ApiError::expired(format!(
                        "too old resource version: {since} ({})",
                        too_old.oldest
                    ))
                    .status();
                    queued.push_back(line("ERROR", &status));
                    live = None;
                }
            }
        }
        _ => {
            for (_, o) in store
                .list(&rt.storage, None)
                .filter(|(_, o)| filter.matches(o))
            {
                queued.push_back(line("ADDED", &meta::to_view(&rt, o)));
            }
            if send_initial_events && bookmarks {
                queued.push_back(bookmark(&rt, last_rv, true));
            }
        }
    }
    let bookmarks = bookmarks.then(|| {
        let mut i = tokio::time::interval_at(Instant::now() + bookmark_interval, bookmark_interval);
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        i
    });
    Ok(WatchStream {
        rt,
        filter,
        queued,
        rx: live,
        last_rv,
        bookmarks,
        deadline: Instant::now() + timeout,
        shutdown,
    })
}

/// The watch line for one change as this watch sees it (enter → ADDED, leave → DELETED).
fn event_line(rt: &ResourceType, filter: &Filter, change: &Change) -> Option<Bytes> {
    let now = filter.matches(&change.object);
    let before = change
        .previous
        .as_deref()
        .is_some_and(|p| filter.matches(p));
    let kind = match (change.kind, before, now) {
        (ChangeKind::Added, _, true) => "ADDED",
        (ChangeKind::Modified, true, true) => "MODIFIED",
        (ChangeKind::Modified, false, true) => "ADDED",
        (ChangeKind::Modified, true, false) => "DELETED",
        (ChangeKind::Deleted, true, _) => "DELETED",
        _ => return None,
    };
    Some(line(kind, &meta::to_view(rt, &change.object)))
}

impl WatchStream {
    /// The next chunk of the response body, `None` when the watch ends.
    pub(crate) async fn next_chunk(&mut self) -> Option<Bytes> {
        if let Some(b) = self.queued.pop_front() {
            return Some(b);
        }
        loop {
            let rx = self.rx.as_mut()?;
            let tick = async {
                match self.bookmarks.as_mut() {
                    Some(i) => i.tick().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                received = rx.recv() => match received {
                    Ok(change) => {
                        self.last_rv = change.rv;
                        if let Some(b) = event_line(&self.rt, &self.filter, &change) {
                            return Some(b);
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(resource = %self.rt.plural, skipped = n, "watch fell behind; closing it");
                        return None;
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = tick => return Some(bookmark(&self.rt, self.last_rv, false)),
                () = tokio::time::sleep_until(self.deadline) => return None,
                _ = self.shutdown.wait_for(|stop| *stop) => return None,
            }
        }
    }
}
