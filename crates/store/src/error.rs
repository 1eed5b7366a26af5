//! Errors of the archive. Each names the archive file and the operation; SQLite's answer stays
//! in the source chain.

use std::path::PathBuf;

/// An archive operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be opened or read as a SQLite database (missing directory, no
    /// permission, not a database, corrupt).
    #[error("cannot open the event archive {path}")]
    Open {
        /// The archive file.
        path: PathBuf,
        /// SQLite's answer.
        #[source]
        source: rusqlite::Error,
    },
    /// The file is a SQLite database that some other program owns: it is left untouched.
    #[error(
        "{path} is a SQLite database but not a nodemend event archive (it has tables of its own); choose another --archive file"
    )]
    Foreign {
        /// The file.
        path: PathBuf,
    },
    /// The file was written by a newer nodemend: it is left untouched.
    #[error(
        "the event archive {path} has schema version {found}, newer than the {supported} this nodemend knows; upgrade nodemend"
    )]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The latest version this build knows.
        supported: i64,
    },
    /// A read-only open found a file that still needs migrating.
    #[error(
        "the event archive {path} has schema version {found}, older than {supported}; open it once read-write (e.g. `nodemend archive`) to upgrade it"
    )]
    OlderSchema {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The latest version this build knows.
        supported: i64,
    },
    /// A schema migration failed; its transaction was rolled back.
    #[error("cannot migrate the event archive {path} to schema version {version}")]
    Migrate {
        /// The file.
        path: PathBuf,
        /// The version being migrated to.
        version: i64,
        /// SQLite's answer.
        #[source]
        source: rusqlite::Error,
    },
    /// Writing to the archive failed; the batch's transaction was rolled back.
    #[error("cannot write {what} to the event archive {path}")]
    Write {
        /// What was being written (`events`, `repair of node x`...).
        what: String,
        /// The file.
        path: PathBuf,
        /// SQLite's answer.
        #[source]
        source: rusqlite::Error,
    },
    /// Reading from the archive failed.
    #[error("cannot read {what} from the event archive {path}")]
    Read {
        /// What was being read.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// SQLite's answer.
        #[source]
        source: rusqlite::Error,
    },
    /// Pruning old rows failed; rows pruned by earlier chunks stay pruned.
    #[error("cannot prune {table} in the event archive {path}")]
    Prune {
        /// The table.
        table: &'static str,
        /// The file.
        path: PathBuf,
        /// SQLite's answer.
        #[source]
        source: rusqlite::Error,
    },
    /// A repair record could not be turned into JSON for the archive.
    #[error("cannot encode the repair of node {node} for the event archive")]
    EncodeRepair {
        /// The node.
        node: String,
        /// The encoder's answer.
        #[source]
        source: serde_json::Error,
    },
}

/// Result of the archive.
pub type Result<T, E = Error> = std::result::Result<T, E>;
