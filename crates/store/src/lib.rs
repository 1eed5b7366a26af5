//! nodemend-store: the archive of Kubernetes events, nodemend's repair records and decisions,
//! and alert deliveries, in one SQLite file.
//!
//! Kubernetes keeps events for about an hour; AKS's guidance is to keep them for 90 days, query
//! them and alert on auto-repair errors. Start with [`Archive::open`], feed it
//! [`ArchivedEvent`]s with [`Archive::ingest`] (the Kubernetes adapter translates watch events
//! into them), query with [`Archive::events`] and [`Archive::repairs`], and prune with
//! [`Archive::prune`]. [`webhook`] builds alert bodies for the binary to send.
//!
//! Every method blocks on SQLite: async callers run it on a dedicated thread or in
//! `tokio::task::spawn_blocking`. The schema is described in `docs/archive.md`.

mod archive;
mod decisions;
mod deliveries;
mod error;
mod event;
mod ingest;
mod query;
mod recent;
mod repairs;
mod retention;
mod schema;
mod sql;
mod summary;
pub mod webhook;

pub use archive::Archive;
pub use decisions::{CLEARED, StoredDecision};
pub use deliveries::{Delivery, DeliveryStatus};
pub use error::{Error, Result};
pub use event::{ArchivedEvent, IngestStats, Ingested, StoredEvent};
pub use query::EventFilter;
pub use repairs::{RepairFilter, StoredRepair, StoredStep};
pub use retention::{Pruned, Retention};
pub use summary::PoolSummary;

#[cfg(test)]
mod tests;
