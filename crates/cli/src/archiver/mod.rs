//! The event archive as a running service: watches of every Kubernetes event (both event APIs)
//! feed a SQLite archive, the controller adds its repair records and planner decisions, alert
//! rules watch what is stored, and firings go to webhooks.
//!
//! One task owns the [`Archive`] and does every write through `spawn_blocking`, batching events
//! as they come; the watches wait when it falls behind (the API server then holds the events,
//! and a watch that falls out of its history re-lists, which the archive deduplicates).
//! Webhook deliveries run in tasks of their own and report each try back to be recorded, so a
//! slow or failing receiver never holds up ingestion, and neither ever holds up repairs: the
//! controller only queues its records here.

mod delivery;
mod writer;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context as _;
use jiff::Timestamp;
use nodemend_core::alert::{AlertRule, Webhook};
use nodemend_core::planner::Decision;
use nodemend_core::repair::Repair;
use nodemend_kube::event_watch::{watch_core_events, watch_events_v1};
use nodemend_store::{Archive, Retention};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::controller::Metrics;

/// Events queued for the writer; past this the watches wait.
const EVENT_QUEUE: usize = 20_000;

/// How the archive runs.
#[derive(Debug, Clone)]
pub(crate) struct ArchiverConfig {
    /// The SQLite file (created with its directory if missing).
    pub(crate) path: PathBuf,
    /// What is kept, and for how long.
    pub(crate) retention: Retention,
    /// Alert rules (the built-in ones unless the policy turns them off).
    pub(crate) rules: Vec<AlertRule>,
    /// Where firings are sent; none means firings are only logged.
    pub(crate) webhooks: Vec<Webhook>,
    /// The cluster's name, as alert messages show it.
    pub(crate) cluster: String,
    /// Server-side timeout of each event watch request, after which it is restarted from where
    /// it was (kube-rs's default is 290 s; tests shorten it to exercise restarts).
    pub(crate) watch_timeout_secs: u32,
    /// Send alerts only while this is set (the controller's leadership: with two replicas,
    /// both archive, one alerts); `None` always sends.
    pub(crate) deliver_while: Option<Arc<AtomicBool>>,
}

impl ArchiverConfig {
    /// The defaults for `path`: 90-day retention, the built-in alert rules, no webhooks.
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            path,
            retention: Retention::default(),
            rules: nodemend_core::alert::builtin_rules(),
            webhooks: Vec::new(),
            cluster: "cluster".into(),
            watch_timeout_secs: 290,
            deliver_while: None,
        }
    }
}

/// What the controller tells the archive besides the events it watches itself.
#[derive(Debug)]
pub(crate) enum Note {
    /// A repair's record as just persisted.
    Repair(Box<Repair>, Timestamp),
    /// A pass's planner decisions.
    Decisions(Timestamp, Vec<Decision>),
    /// The nodes whose Ready condition is not `True`, with the time it left `True`.
    NotReady(Vec<(String, Timestamp)>),
}

/// The controller's handle on the archive: cheap to clone, never blocks.
#[derive(Debug, Clone)]
pub(crate) struct ArchiveSink {
    notes: mpsc::UnboundedSender<Note>,
}

impl ArchiveSink {
    /// Queues `note`; a stopped archive drops it (it has logged why it stopped).
    pub(crate) fn send(&self, note: Note) {
        let _ = self.notes.send(note);
    }
}

/// A started archive.
pub(crate) struct Running {
    /// Where the controller sends its notes.
    pub(crate) sink: ArchiveSink,
    /// Ends after shutdown, once what was queued is stored.
    pub(crate) done: JoinHandle<()>,
}

/// Opens (creating or migrating) the archive, starts the event watches, the writer and the
/// webhook deliveries, and resumes deliveries left pending by a previous run. Fails before
/// starting anything when the file cannot be used.
pub(crate) async fn start(
    client: kube::Client,
    config: ArchiverConfig,
    metrics: Arc<Metrics>,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<Running> {
    let path = config.path.clone();
    let archive = tokio::task::spawn_blocking(move || {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| {
                format!("cannot create the archive's directory {}", dir.display())
            })?;
        }
        Archive::open(&path)
            .with_context(|| format!("cannot open the event archive {}", path.display()))
    })
    .await??;
    tracing::info!(archive = %config.path.display(), retention = format!("{:#}", config.retention.window), rules = config.rules.len(), webhooks = config.webhooks.len(), "event archive open");
    let (events_tx, events_rx) = mpsc::channel(EVENT_QUEUE);
    let watches = vec![
        tokio::spawn(watch_core_events(
            client.clone(),
            events_tx.clone(),
            config.watch_timeout_secs,
        )),
        tokio::spawn(watch_events_v1(
            client,
            events_tx,
            config.watch_timeout_secs,
        )),
    ];
    let (notes, notes_rx) = mpsc::unbounded_channel();
    let done = tokio::spawn(
        writer::Writer::new(archive, config, metrics).run(events_rx, notes_rx, watches, shutdown),
    );
    Ok(Running {
        sink: ArchiveSink { notes },
        done,
    })
}
