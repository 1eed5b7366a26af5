//! The archive's schema and its migrations.
//!
//! The schema version is SQLite's `user_version`; migration `i` (0-based) takes a file from
//! version `i` to `i + 1`, in one transaction together with the version bump, so a crash
//! mid-way leaves the file at the older version. A file is recognised as an archive by its
//! `application_id`; an empty file becomes one. Anything else (another program's database, a
//! newer schema) is refused before a single byte is written. `docs/archive.md` describes the
//! tables.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Error, Result};

/// `application_id` of a nodemend archive: "nmnd".
pub(crate) const APPLICATION_ID: i64 = 0x6e6d_6e64;

/// Ordered migrations: `MIGRATIONS[i]` goes from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: events, repairs and their steps, planner decisions.
    r"
    CREATE TABLE events (
        id               INTEGER PRIMARY KEY,
        uid              TEXT    NOT NULL,
        seq              INTEGER NOT NULL,
        namespace        TEXT    NOT NULL,
        name             TEXT    NOT NULL,
        object_kind      TEXT,
        object_name      TEXT,
        object_namespace TEXT,
        node             TEXT,
        type             TEXT    NOT NULL,
        reason           TEXT    NOT NULL,
        message          TEXT    NOT NULL,
        source           TEXT,
        first_seen       INTEGER NOT NULL,
        last_seen        INTEGER NOT NULL,
        count            INTEGER NOT NULL,
        series_count     INTEGER,
        resource_version TEXT
    );
    CREATE INDEX events_by_reason ON events (reason, last_seen);
    CREATE INDEX events_by_node   ON events (node, last_seen);
    CREATE INDEX events_by_time   ON events (last_seen);
    CREATE INDEX events_by_seq    ON events (seq);
    CREATE TABLE recent_uids (
        uid       TEXT    PRIMARY KEY,
        event_id  INTEGER NOT NULL,
        last_seen INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX recent_uids_by_time ON recent_uids (last_seen);
    CREATE TABLE feed (
        id       INTEGER PRIMARY KEY CHECK (id = 1),
        last_seq INTEGER NOT NULL
    );
    INSERT INTO feed (id, last_seq) VALUES (1, 0);

    CREATE TABLE repairs (
        id         INTEGER PRIMARY KEY,
        node       TEXT    NOT NULL,
        started    INTEGER NOT NULL,
        pool       TEXT,
        phase      TEXT    NOT NULL,
        finished   INTEGER,
        attempt    INTEGER NOT NULL,
        last_error TEXT,
        record     TEXT    NOT NULL,
        updated    INTEGER NOT NULL,
        UNIQUE (node, started)
    );
    CREATE INDEX repairs_by_start ON repairs (started);
    CREATE TABLE repair_steps (
        repair_id  INTEGER NOT NULL REFERENCES repairs (id) ON DELETE CASCADE,
        position   INTEGER NOT NULL,
        action     TEXT    NOT NULL,
        attempt    INTEGER NOT NULL,
        started    INTEGER NOT NULL,
        finished   INTEGER NOT NULL,
        outcome    TEXT    NOT NULL,
        error_code TEXT,
        PRIMARY KEY (repair_id, position)
    ) WITHOUT ROWID;

    CREATE TABLE decisions (
        id      INTEGER PRIMARY KEY,
        at      INTEGER NOT NULL,
        subject TEXT    NOT NULL,
        kind    TEXT    NOT NULL,
        reason  TEXT    NOT NULL,
        detail  TEXT    NOT NULL
    );
    CREATE INDEX decisions_by_time    ON decisions (at);
    CREATE INDEX decisions_by_subject ON decisions (subject, at);
    CREATE TABLE decision_state (
        subject TEXT    PRIMARY KEY,
        kind    TEXT    NOT NULL,
        reason  TEXT    NOT NULL,
        since   INTEGER NOT NULL
    ) WITHOUT ROWID;
    ",
    // 2: alert deliveries.
    r"
    CREATE TABLE deliveries (
        id         INTEGER PRIMARY KEY,
        rule       TEXT    NOT NULL,
        grp        TEXT    NOT NULL,
        fired_at   INTEGER NOT NULL,
        target     TEXT    NOT NULL,
        format     TEXT    NOT NULL,
        payload    TEXT    NOT NULL,
        attempts   INTEGER NOT NULL,
        status     TEXT    NOT NULL,
        last_error TEXT,
        updated    INTEGER NOT NULL,
        UNIQUE (rule, grp, fired_at, target)
    );
    CREATE INDEX deliveries_by_time ON deliveries (fired_at);
    CREATE INDEX deliveries_pending ON deliveries (fired_at) WHERE status = 'pending';
    ",
    // 3: the writer remembers recent UIDs in memory; `feed.uids_since` says from when (NULL:
    // from the start). An archive from version 2 remembers what its `recent_uids` held.
    r"
    ALTER TABLE feed ADD COLUMN uids_since INTEGER;
    UPDATE feed SET uids_since = coalesce(
        (SELECT min(last_seen) FROM recent_uids),
        (SELECT max(last_seen) + 1 FROM events)
    );
    DROP TABLE recent_uids;
    ",
];

/// The schema version this build writes.
pub(crate) fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Whether the file looks like an archive: it must be one of ours, or empty.
fn check_identity(conn: &Connection, path: &Path) -> Result<i64> {
    let open = |source| Error::Open {
        path: path.to_owned(),
        source,
    };
    let app_id: i64 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(open)?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(open)?;
    if app_id != APPLICATION_ID {
        let objects: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
            .map_err(open)?;
        if app_id != 0 || objects > 0 || version != 0 {
            return Err(Error::Foreign {
                path: path.to_owned(),
            });
        }
    }
    if version > latest_version() {
        return Err(Error::NewerSchema {
            path: path.to_owned(),
            found: version,
            supported: latest_version(),
        });
    }
    Ok(version)
}

/// Checks the file and brings it to the latest version. Returns the version it was at.
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<i64> {
    let found = check_identity(conn, path)?;
    for (from, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let to = from as i64 + 1;
        let failed = |source| Error::Migrate {
            path: path.to_owned(),
            version: to,
            source,
        };
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(failed)?;
        // Another process may have migrated while this one waited for the lock.
        let now: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(failed)?;
        if now >= to {
            continue;
        }
        tx.execute_batch(sql).map_err(failed)?;
        tx.execute_batch(&format!(
            "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {to};"
        ))
        .map_err(failed)?;
        tx.commit().map_err(failed)?;
        tracing::info!(path = %path.display(), version = to, "event archive migrated");
    }
    Ok(found)
}

/// Checks that a file opened read-only is an archive at exactly the latest version.
pub(crate) fn check_current(conn: &Connection, path: &Path) -> Result<()> {
    let found = check_identity(conn, path)?;
    if found < latest_version() {
        return Err(Error::OlderSchema {
            path: path.to_owned(),
            found,
            supported: latest_version(),
        });
    }
    Ok(())
}
