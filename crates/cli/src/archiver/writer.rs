//! The task that owns the archive: ingests event batches, stores the controller's notes,
//! runs the alert rules over what is stored, prunes old rows a chunk at a time, and records
//! webhook deliveries.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use nodemend_core::alert::{AlertEngine, Firing};
use nodemend_store::{Archive, ArchivedEvent, Delivery, DeliveryStatus, IngestStats, Ingested};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::delivery::Dispatcher;
use super::{ArchiverConfig, Note};
use crate::controller::Metrics;
use crate::controller::metrics::{ResultLabel, RuleLabel};

/// Most events stored in one transaction. Large: a batch costs about one index page per node
/// however few events it holds, so under load bigger batches are much cheaper per event
/// (docs/archive.md, Figures); when events trickle in, a batch is whatever has arrived.
const BATCH: usize = 10_000;
/// Time between two retention passes when the last one found nothing more to prune.
const PRUNE_EVERY: Duration = Duration::from_secs(60);
/// Time between two chunks while old rows remain (short: each chunk is one quick transaction).
const PRUNE_NEXT_CHUNK: Duration = Duration::from_millis(200);
/// Wait before storing a batch again after SQLite refused it (disk full, file locked).
const RETRY_STORE: Duration = Duration::from_secs(5);
/// Pending deliveries resumed at start.
const RESUME_LIMIT: usize = 1_000;

/// The archive's owner.
pub(super) struct Writer {
    archive: Arc<Mutex<Archive>>,
    config: ArchiverConfig,
    metrics: Arc<Metrics>,
    engine: AlertEngine,
    not_ready: Vec<(String, Timestamp)>,
}

impl Writer {
    /// A writer for an open archive.
    pub(super) fn new(archive: Archive, config: ArchiverConfig, metrics: Arc<Metrics>) -> Self {
        Self {
            archive: Arc::new(Mutex::new(archive)),
            engine: AlertEngine::new(config.rules.clone()),
            config,
            metrics,
            not_ready: Vec::new(),
        }
    }

    /// Runs `f` on the archive on the blocking pool.
    async fn with_archive<T: Send + 'static>(
        &self,
        what: &'static str,
        f: impl FnOnce(&mut Archive) -> nodemend_store::Result<T> + Send + 'static,
    ) -> Option<T> {
        let archive = Arc::clone(&self.archive);
        let result = tokio::task::spawn_blocking(move || {
            let mut archive = match archive.lock() {
                Ok(a) => a,
                Err(poisoned) => poisoned.into_inner(),
            };
            f(&mut archive)
        })
        .await;
        match result {
            Ok(Ok(value)) => Some(value),
            Ok(Err(err)) => {
                self.metrics.archive_errors.inc();
                tracing::error!(operation = what, error = %crate::logging::chain(&err), "event archive write failed");
                None
            }
            Err(err) => {
                self.metrics.archive_errors.inc();
                tracing::error!(operation = what, error = %err, "event archive task failed");
                None
            }
        }
    }

    /// Runs until `shutdown`, then stops the watches and stores what they had queued.
    pub(super) async fn run(
        mut self,
        mut events: mpsc::Receiver<ArchivedEvent>,
        mut notes: mpsc::UnboundedReceiver<Note>,
        watches: Vec<JoinHandle<()>>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let (tries_tx, mut tries) = mpsc::unbounded_channel();
        let dispatcher = Dispatcher::new(&self.config.webhooks, tries_tx);
        self.resume_pending(&dispatcher).await;
        let mut batch = Vec::with_capacity(BATCH);
        let mut prune_at = tokio::time::Instant::now() + Duration::from_secs(5);
        let mut sweep = tokio::time::interval(Duration::from_secs(300));
        loop {
            let now = Timestamp::now();
            let not_ready_in = {
                let nodes = borrowed(&self.not_ready);
                self.engine
                    .next_not_ready_deadline(&nodes, now)
                    .map_or(Duration::from_secs(3600), |at| {
                        Duration::try_from(at.duration_since(now)).unwrap_or_default()
                    })
            };
            tokio::select! {
                biased;
                _ = shutdown.changed() => break,
                Some(attempt) = tries.recv() => self.record_try(attempt).await,
                Some(note) = notes.recv() => self.note(note, &dispatcher).await,
                n = events.recv_many(&mut batch, BATCH) => {
                    if n == 0 {
                        break;
                    }
                    self.ingest(&mut batch, &dispatcher).await;
                }
                _ = tokio::time::sleep_until(prune_at) => {
                    prune_at = tokio::time::Instant::now() + self.prune().await;
                }
                _ = tokio::time::sleep(not_ready_in) => self.check_not_ready(&dispatcher).await,
                _ = sweep.tick() => self.engine.sweep(Timestamp::now()),
            }
        }
        for watch in &watches {
            watch.abort();
        }
        while let Ok(event) = events.try_recv() {
            batch.push(event);
            if batch.len() == BATCH {
                self.ingest(&mut batch, &dispatcher).await;
            }
        }
        self.ingest(&mut batch, &dispatcher).await;
        while let Ok(note) = notes.try_recv() {
            self.note(note, &dispatcher).await;
        }
        while let Ok(attempt) = tries.try_recv() {
            self.record_try(attempt).await;
        }
        tracing::info!("event archive closed");
    }

    /// Stores a batch (keeping it and trying again while SQLite refuses it), then runs the
    /// alert rules over what it added.
    async fn ingest(&mut self, batch: &mut Vec<ArchivedEvent>, dispatcher: &Dispatcher) {
        if batch.is_empty() {
            return;
        }
        let events = Arc::new(std::mem::take(batch));
        let results = loop {
            let shared = Arc::clone(&events);
            match self
                .with_archive("store events", move |a| a.ingest(&shared))
                .await
            {
                Some(results) => break results,
                None => tokio::time::sleep(RETRY_STORE).await,
            }
        };
        let stats = IngestStats::of(&results);
        for (result, n) in [
            ("inserted", stats.inserted),
            ("updated", stats.updated),
            ("unchanged", stats.unchanged),
        ] {
            self.metrics
                .archived
                .get_or_create(&ResultLabel {
                    result: result.into(),
                })
                .inc_by(n as u64);
        }
        let now = Timestamp::now();
        let mut firings = Vec::new();
        for (event, result) in events.iter().zip(results) {
            if matches!(result, Ingested::Unchanged) {
                continue;
            }
            let alert = event.alert_event(result.new_occurrences(event));
            firings.extend(self.engine.observe(&alert, now));
        }
        self.fire(firings, dispatcher).await;
    }

    async fn note(&mut self, note: Note, dispatcher: &Dispatcher) {
        match note {
            Note::Repair(repair, at) => {
                self.with_archive("store a repair", move |a| a.record_repair(&repair, at))
                    .await;
            }
            Note::Decisions(at, decisions) => {
                self.with_archive("store decisions", move |a| {
                    a.record_decisions(at, &decisions)
                })
                .await;
            }
            Note::NotReady(nodes) => {
                self.not_ready = nodes;
                self.check_not_ready(dispatcher).await;
            }
        }
    }

    async fn check_not_ready(&mut self, dispatcher: &Dispatcher) {
        let nodes = borrowed(&self.not_ready);
        let firings = self.engine.not_ready(&nodes, Timestamp::now());
        self.fire(firings, dispatcher).await;
    }

    /// Logs each firing, records one pending delivery per webhook, and hands them to the
    /// dispatcher.
    async fn fire(&mut self, firings: Vec<Firing>, dispatcher: &Dispatcher) {
        for firing in firings {
            tracing::warn!(rule = %firing.rule, group = firing.group.as_deref().unwrap_or(""), summary = %firing.summary, "alert fired");
            self.metrics
                .alerts_fired
                .get_or_create(&RuleLabel {
                    rule: firing.rule.clone(),
                })
                .inc();
            let standby = self
                .config
                .deliver_while
                .as_ref()
                .is_some_and(|leading| !leading.load(Ordering::Relaxed));
            if standby {
                continue;
            }
            let deliveries = dispatcher.deliveries_for(&firing, &self.config.cluster);
            let stored = deliveries.clone();
            let recorded = self
                .with_archive("record alert deliveries", move |a| {
                    stored.iter().try_for_each(|d| a.record_delivery(d))
                })
                .await;
            if recorded.is_none() {
                tracing::warn!(rule = %firing.rule, "alert deliveries could not be recorded; sending anyway");
            }
            for delivery in deliveries {
                dispatcher.send(delivery);
            }
        }
    }

    /// Records one try; counts finished deliveries.
    async fn record_try(&mut self, delivery: Delivery) {
        let result = match delivery.status {
            DeliveryStatus::Delivered => Some("delivered"),
            DeliveryStatus::Failed => Some("failed"),
            DeliveryStatus::Pending => None,
        };
        if let Some(result) = result {
            self.metrics
                .alert_deliveries
                .get_or_create(&ResultLabel {
                    result: result.into(),
                })
                .inc();
        }
        self.with_archive("record an alert delivery", move |a| {
            a.record_delivery(&delivery)
        })
        .await;
    }

    /// Sends again what a previous run left pending.
    async fn resume_pending(&mut self, dispatcher: &Dispatcher) {
        let pending = self
            .with_archive("read pending deliveries", |a| {
                a.pending_deliveries(RESUME_LIMIT)
            })
            .await
            .unwrap_or_default();
        for delivery in pending {
            if let Some(orphan) = dispatcher.resume(delivery) {
                self.record_try(orphan).await;
            }
        }
    }

    /// Prunes one chunk; says when to prune next.
    async fn prune(&mut self) -> Duration {
        let retention = self.config.retention;
        let pruned = self
            .with_archive("prune old rows", move |a| {
                a.prune_chunk(Timestamp::now(), retention)
            })
            .await;
        match pruned {
            // Another chunk soon only while archive rows were deleted: UIDs age out of the
            // deduplication memory all the time on a busy cluster, which is no backlog.
            Some(p) if p.total() > 0 => {
                self.metrics.archive_pruned.inc_by(p.total());
                tracing::debug!(
                    events = p.events,
                    repairs = p.repairs,
                    uids = p.uids,
                    "pruned"
                );
                PRUNE_NEXT_CHUNK
            }
            _ => PRUNE_EVERY,
        }
    }
}

fn borrowed(nodes: &[(String, Timestamp)]) -> Vec<(&str, Timestamp)> {
    nodes.iter().map(|(n, t)| (n.as_str(), *t)).collect()
}
