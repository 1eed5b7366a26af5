//! `nodemend events --follow`: polls the archive's change feed once a second and prints what
//! matches, until Ctrl-C or SIGTERM.

use std::time::Duration;

use anyhow::Context as _;
use nodemend_store::{Archive, EventFilter};

use super::render::Printer;
use crate::commands::archive_read::emit;
use crate::connect::shutdown_signal;

/// How often the feed is read.
const POLL: Duration = Duration::from_secs(1);

/// How many changes one read returns at most; a poll reads until it gets fewer.
const BATCH: usize = 1_000;

/// Prints every change to a matching event after feed position `cursor`, until the process is
/// told to stop or standard output is closed.
pub(super) fn follow(
    archive: &Archive,
    filter: &EventFilter,
    mut cursor: i64,
    printer: &mut Printer,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime that waits between polls")?;
    runtime.block_on(async {
        let mut stop = shutdown_signal();
        loop {
            match poll(archive, filter, cursor, printer)? {
                Some(next) => cursor = next,
                None => return Ok(()),
            }
            tokio::select! {
                _ = stop.wait_for(|stop| *stop) => return Ok(()),
                () = tokio::time::sleep(POLL) => {}
            }
        }
    })
}

/// Prints the matching changes after `cursor` and returns the next cursor, or `None` when
/// standard output was closed.
///
/// The cursor moves past the feed's high-water mark read before the query, not only past the
/// last match: a filter that matches rarely would otherwise re-read every non-matching change
/// on each poll. Writers assign feed positions inside their transactions, so every change up
/// to that mark was visible to the query that followed.
fn poll(
    archive: &Archive,
    filter: &EventFilter,
    mut cursor: i64,
    printer: &mut Printer,
) -> anyhow::Result<Option<i64>> {
    loop {
        let high = archive.latest_seq()?;
        let changes = archive.follow(filter, cursor, BATCH)?;
        if let Some(last) = changes.last() {
            cursor = last.seq;
        }
        if !emit(&printer.batch(&changes)?)? {
            return Ok(None);
        }
        if changes.len() < BATCH {
            return Ok(Some(cursor.max(high)));
        }
    }
}
