//! `manifest.json`: what a bundle holds, where each file came from, and what could not be
//! collected and why. Support reads it first.

use jiff::Timestamp;
use nodemend_core::diagnosis::ReadFailure;
use serde::Serialize;

/// The bundle's table of contents.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Manifest {
    /// Always `nodemend`.
    pub(crate) tool: &'static str,
    /// The nodemend version that wrote the bundle.
    pub(crate) version: &'static str,
    /// When the collection started.
    pub(crate) created: Timestamp,
    /// Start of the window of the activity log, events and archive rows.
    pub(crate) since: Timestamp,
    /// The cluster in Azure, when `-g`/`-n` named it.
    pub(crate) cluster: Option<ClusterInfo>,
    /// The node `--node` named.
    pub(crate) node: Option<String>,
    /// The redaction applied to every file, in words.
    pub(crate) redaction: &'static str,
    /// Every file of the bundle but this one, in the order written.
    pub(crate) files: Vec<FileEntry>,
    /// What could not be collected.
    pub(crate) missing: Vec<Missing>,
    /// Reads of the diagnosis snapshot that failed (the report shows them as findings too).
    pub(crate) snapshot_read_failures: Vec<ReadFailure>,
    /// Anything else worth knowing: parts not asked for, limits that cut something short.
    pub(crate) notes: Vec<String>,
}

/// The cluster's coordinates in Azure.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ClusterInfo {
    /// Subscription, when known.
    pub(crate) subscription: Option<String>,
    /// Resource group.
    pub(crate) resource_group: String,
    /// Cluster name.
    pub(crate) name: String,
}

/// One file of the bundle.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FileEntry {
    /// Path inside the bundle's top directory.
    pub(crate) path: String,
    /// Where the content came from: an API call, the archive, the diagnosis.
    pub(crate) source: String,
    /// Size after redaction.
    pub(crate) bytes: u64,
    /// How many secrets were replaced with `[REDACTED]`.
    pub(crate) redactions: usize,
}

/// A part that could not be collected.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Missing {
    /// The file it would have been, or the part in words.
    pub(crate) part: String,
    /// The call or file it would have come from.
    pub(crate) source: String,
    /// Why it is missing.
    pub(crate) error: String,
}

/// What the manifest says about redaction.
pub(crate) const REDACTION: &str = "Secret objects are never read. In every file, values of \
     environment variables and fields whose names look like secrets (SECRET, TOKEN, PASSWORD, \
     KEY, CONNECTION_STRING...), bearer tokens, JWTs, the signature parameter of SAS URLs, \
     storage account keys, assignments of secret-named settings (client_secret and the like), \
     token and password flags on command lines, private keys and passwords in URLs are \
     replaced with [REDACTED]. See docs/collect.md.";
