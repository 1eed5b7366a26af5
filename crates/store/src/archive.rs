//! The archive file: opening it, creating or migrating it, and its connection settings.
//!
//! Every call blocks on SQLite. An [`Archive`] is one connection: the controller keeps it on a
//! dedicated thread (or behind a mutex used from `tokio::task::spawn_blocking`) and feeds it
//! batches; readers such as `nodemend events` open their own, which WAL mode lets run beside
//! the writer.
//!
//! There must be one writer per archive file: the writer remembers the recent event UIDs in
//! memory for deduplication ([`crate::recent`]), so a second writer would not see the first
//! one's events and could store them again.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};
use crate::recent::RecentUids;
use crate::schema;

/// How long a call waits for another connection's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Per-connection settings. In WAL mode `synchronous = NORMAL` syncs at checkpoints only (a
/// power cut may lose the last transactions, never corrupt the file); checkpoints every 64 MB
/// of WAL rather than SQLite's 4 MB keep those syncs rare and write a page changed by many
/// batches (an index's hot end) once; a 32 MB page cache keeps the upper levels of the indexes
/// in memory (SQLite's default is 2 MB).
const PRAGMAS: &str = "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
     PRAGMA wal_autocheckpoint = 16384; PRAGMA cache_size = -32768;";

/// An open event archive.
pub struct Archive {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    /// The writer's recent UIDs; empty for a read-only open.
    pub(crate) recent: RecentUids,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Archive {
    /// Opens `path` for reading and writing, creating it if missing and migrating it to the
    /// latest schema. A file that is not an archive, or is newer than this build, is refused
    /// untouched.
    ///
    /// This is the archive's one writer: it loads the UIDs of the events last seen within the
    /// deduplication window (as of the last prune) into memory, so no other process may write
    /// the same file while it is open.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_owned();
        let open = |source| Error::Open {
            path: path.clone(),
            source,
        };
        let mut conn = Connection::open(&path).map_err(open)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open)?;
        let from = schema::migrate(&mut conn, &path)?;
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))
            .map_err(open)?;
        conn.execute_batch(PRAGMAS).map_err(open)?;
        let recent = RecentUids::load(&conn).map_err(open)?;
        tracing::info!(
            path = %path.display(),
            from_version = from,
            version = schema::latest_version(),
            remembered_uids = recent.len(),
            "event archive opened"
        );
        Ok(Self { conn, path, recent })
    }

    /// Opens an existing archive for queries only. It must already be at the latest schema.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_owned();
        let open = |source| Error::Open {
            path: path.clone(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&path, flags).map_err(open)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open)?;
        schema::check_current(&conn, &path)?;
        Ok(Self {
            conn,
            path,
            recent: RecentUids::empty(),
        })
    }

    /// The archive file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's schema version.
    pub fn schema_version(&self) -> Result<i64> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|source| self.read_error("the schema version", source))
    }

    pub(crate) fn read_error(&self, what: &'static str, source: rusqlite::Error) -> Error {
        Error::Read {
            what,
            path: self.path.clone(),
            source,
        }
    }

    pub(crate) fn write_error(&self, what: impl Into<String>, source: rusqlite::Error) -> Error {
        Error::Write {
            what: what.into(),
            path: self.path.clone(),
            source,
        }
    }

    /// How many event UIDs the writer remembers for deduplication (those of the events last
    /// seen within [`crate::Retention::remember_uids`]); each takes 100 to 160 bytes of memory.
    /// Always 0 for a read-only open.
    pub fn remembered_uids(&self) -> usize {
        self.recent.len()
    }

    /// The newest position of the change feed: start [`Archive::follow`] here to see only
    /// what arrives from now on.
    pub fn latest_seq(&self) -> Result<i64> {
        self.conn
            .query_row("SELECT last_seq FROM feed WHERE id = 1", [], |r| r.get(0))
            .map_err(|source| self.read_error("the change feed position", source))
    }
}
