use rusqlite::Connection;

use crate::schema::{APPLICATION_ID, MIGRATIONS, latest_version};
use jiff::Timestamp;

use crate::{Archive, ArchivedEvent, Error, EventFilter, Ingested};

use super::event;

/// The schema as SQLite reports it: every table and index with its SQL.
fn schema_of(conn: &Connection) -> Vec<(String, String)> {
    conn.prepare("SELECT name, sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// A file left at `version` by an older nodemend.
fn file_at_version(path: &std::path::Path, version: usize) {
    let conn = Connection::open(path).unwrap();
    for (i, sql) in MIGRATIONS.iter().take(version).enumerate() {
        conn.execute_batch(sql).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {};",
            i + 1
        ))
        .unwrap();
    }
}

#[test]
fn an_empty_file_gets_the_latest_schema_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let archive = Archive::open(dir.path().join("a.db")).unwrap();
    assert_eq!(archive.schema_version().unwrap(), latest_version());
    assert!(latest_version() >= 2);
    let mode: String = archive
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn every_older_version_migrates_to_the_same_schema_and_keeps_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = Archive::open(dir.path().join("fresh.db")).unwrap();
    let expected = schema_of(&fresh.conn);
    for version in 0..MIGRATIONS.len() {
        let path = dir.path().join(format!("v{version}.db"));
        file_at_version(&path, version);
        if version >= 1 {
            let conn = Connection::open(&path).unwrap();
            conn.execute(
                "INSERT INTO events (uid, seq, namespace, name, type, reason, message, first_seen, last_seen, count) \
                 VALUES ('kept', 1, 'default', 'e', 'Warning', 'NodeRebootError', 'm', 0, 0, 1)",
                [],
            )
            .unwrap();
        }
        let mut archive = Archive::open(&path).unwrap();
        assert_eq!(
            archive.schema_version().unwrap(),
            latest_version(),
            "from v{version}"
        );
        assert_eq!(schema_of(&archive.conn), expected, "from v{version}");
        let kept = archive.events(&EventFilter::default(), 10).unwrap().len();
        assert_eq!(
            kept,
            usize::from(version >= 1),
            "rows survive the migration from v{version}"
        );
        archive.ingest(&[event("after")]).unwrap();
    }
}

#[test]
fn a_version_2_archive_keeps_remembering_what_its_uid_table_held() {
    let dir = tempfile::tempdir().unwrap();
    for remembered in [true, false] {
        let path = dir.path().join(format!("v2-{remembered}.db"));
        file_at_version(&path, 2);
        let conn = Connection::open(&path).unwrap();
        for (uid, at) in [("older", 0), ("kept", 10)] {
            conn.execute(
                "INSERT INTO events (uid, seq, namespace, name, type, reason, message, first_seen, last_seen, count) \
                 VALUES (?1, 1, 'default', 'e', 'Warning', 'NodeRebootError', 'm', ?2, ?2, 1)",
                rusqlite::params![uid, at],
            )
            .unwrap();
        }
        if remembered {
            conn.execute(
                "INSERT INTO recent_uids (uid, event_id, last_seen) VALUES ('kept', 2, 10)",
                [],
            )
            .unwrap();
        }
        drop(conn);
        let mut archive = Archive::open(&path).unwrap();
        let delivery = |uid: &str| ArchivedEvent {
            uid: uid.into(),
            first_seen: Timestamp::from_microsecond(10).unwrap(),
            last_seen: Timestamp::from_microsecond(10).unwrap(),
            ..event(uid)
        };
        let expected = if remembered {
            Ingested::Unchanged
        } else {
            Ingested::Inserted
        };
        assert_eq!(
            archive.ingest(&[delivery("kept")]).unwrap(),
            [expected],
            "remembered: {remembered}"
        );
        let tables: i64 = archive
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'recent_uids%'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0, "the UID table is gone");
    }
}

#[test]
fn reopening_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    Archive::open(&path).unwrap().ingest(&[event("a")]).unwrap();
    let archive = Archive::open(&path).unwrap();
    assert_eq!(
        archive.events(&EventFilter::default(), 10).unwrap().len(),
        1
    );
}

#[test]
fn a_newer_schema_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newer.db");
    file_at_version(&path, MIGRATIONS.len());
    Connection::open(&path)
        .unwrap()
        .execute_batch("PRAGMA user_version = 99;")
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = Archive::open(&path).unwrap_err();
    assert!(
        matches!(err, Error::NewerSchema { found: 99, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&path.display().to_string()) && text.contains("upgrade nodemend"),
        "{text}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_corrupt_file_is_refused_untouched_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corrupt.db");
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&path, &garbage).unwrap();
    let err = Archive::open(&path).unwrap_err();
    assert!(matches!(err, Error::Open { .. }), "{err:?}");
    assert!(err.to_string().contains("corrupt.db"), "{err}");
    assert!(
        std::error::Error::source(&err).is_some(),
        "SQLite's answer is the source"
    );
    assert_eq!(std::fs::read(&path).unwrap(), garbage);
    assert!(Archive::open_read_only(&path).is_err());
}

#[test]
fn another_programs_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE notes (x TEXT);")
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = Archive::open(&path).unwrap_err();
    assert!(matches!(err, Error::Foreign { .. }), "{err:?}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn read_only_open_needs_an_existing_current_archive() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db");
    assert!(matches!(
        Archive::open_read_only(&missing),
        Err(Error::Open { .. })
    ));
    assert!(!missing.exists(), "a read-only open creates nothing");
    let old = dir.path().join("old.db");
    file_at_version(&old, 1);
    let err = Archive::open_read_only(&old).unwrap_err();
    assert!(
        matches!(err, Error::OlderSchema { found: 1, .. }),
        "{err:?}"
    );
}
