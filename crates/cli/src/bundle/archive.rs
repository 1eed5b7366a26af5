//! The archive part of a bundle: nodemend's own record of the window (archived events, and
//! repairs that started, ran or ended in it) from the event archive, read-only. A missing archive is noted, not fatal: a
//! cluster without the controller has none.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use nodemend_store::{Archive, EventFilter, RepairFilter, StoredEvent, StoredRepair};

use super::{Bundle, Format, read, segment};
use crate::collect::Progress;

/// Events per file at most, newest first.
const EVENT_LIMIT: usize = 100_000;

/// Repairs read at most (newest start first), before keeping those of the window.
const REPAIR_LIMIT: usize = 10_000;

/// What the archive gave, each part on its own.
struct Rows {
    events: Result<Vec<StoredEvent>, String>,
    node_events: Option<Result<Vec<StoredEvent>, String>>,
    repairs: Result<Vec<StoredRepair>, String>,
    /// The archive holds more repairs than were read.
    repairs_cut: bool,
}

/// Reads the archive at `path` (SQLite blocks, so on a blocking thread).
fn query(path: &Path, since: Timestamp, node: Option<&str>) -> Result<Rows, String> {
    let archive = Archive::open_read_only(path).map_err(|e| e.to_string())?;
    let window = EventFilter {
        since: Some(since),
        ..EventFilter::default()
    };
    let events = archive
        .events(&window, EVENT_LIMIT)
        .map_err(|e| e.to_string());
    let node_events = node.map(|node| {
        let filter = EventFilter {
            node: Some(node.to_owned()),
            ..window.clone()
        };
        archive
            .events(&filter, EVENT_LIMIT)
            .map_err(|e| e.to_string())
    });
    let repairs = archive
        .repairs(&RepairFilter::default(), REPAIR_LIMIT)
        .map_err(|e| e.to_string());
    let repairs_cut = repairs.as_ref().is_ok_and(|r| r.len() >= REPAIR_LIMIT);
    let repairs = repairs.map(|all| all.into_iter().filter(|r| in_window(r, since)).collect());
    Ok(Rows {
        events,
        node_events,
        repairs,
        repairs_cut,
    })
}

/// Whether a repair belongs to the window: started in it, still going, or ended in it.
fn in_window(repair: &StoredRepair, since: Timestamp) -> bool {
    repair.started >= since || repair.finished.is_none_or(|f| f >= since)
}

/// Adds `archive/events.json`, `archive/repairs.json` and, with a node,
/// `archive/node-<name>/events.json`.
pub(crate) async fn collect(
    bundle: &mut Bundle,
    path: PathBuf,
    since: Timestamp,
    node: Option<&str>,
    progress: &Progress,
) -> anyhow::Result<()> {
    let source = format!("event archive {}", path.display());
    if !path.exists() {
        bundle.missing(
            "archive/",
            &source,
            "no archive at this path (the controller writes it; give --archive FILE or set NODEMEND_ARCHIVE)",
        );
        return Ok(());
    }
    let owned_node = node.map(str::to_owned);
    let rows = read(progress, "event archive", async {
        tokio::task::spawn_blocking(move || query(&path, since, owned_node.as_deref()))
            .await
            .map_err(|e| format!("the archive's reading thread failed: {e}"))?
    })
    .await;
    let rows = match rows {
        Ok(rows) => rows,
        Err(error) => {
            bundle.missing("archive/", &source, error);
            return Ok(());
        }
    };
    let mut files = vec![("archive/events.json".to_owned(), rows.events)];
    if let (Some(node), Some(events)) = (node, rows.node_events) {
        files.push((
            format!("archive/node-{}/events.json", segment(node)),
            events,
        ));
    }
    for (file, events) in files {
        if events.as_ref().is_ok_and(|e| e.len() >= EVENT_LIMIT) {
            bundle.note(format!(
                "{file}: the newest {EVENT_LIMIT} events of the window only"
            ));
        }
        bundle.add_read(&file, &source, events, Format::Json)?;
    }
    if rows.repairs_cut {
        bundle.note(format!(
            "archive/repairs.json: from the newest {REPAIR_LIMIT} repairs of the archive only"
        ));
    }
    bundle.add_read("archive/repairs.json", &source, rows.repairs, Format::Json)
}
