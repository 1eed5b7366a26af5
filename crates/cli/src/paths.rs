//! Where nodemend keeps its files when no flag says otherwise.

use std::path::PathBuf;

/// The state directory: `NODEMEND_STATE_DIR`, else `$XDG_STATE_HOME/nodemend`, else
/// `~/.local/state/nodemend`, else `./nodemend-state`. The manifests in `deploy/` set
/// `NODEMEND_STATE_DIR=/var/lib/nodemend`.
pub(crate) fn state_dir() -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("NODEMEND_STATE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = var("XDG_STATE_HOME") {
        return PathBuf::from(dir).join("nodemend");
    }
    match var("HOME") {
        Some(home) => PathBuf::from(home).join(".local/state/nodemend"),
        None => PathBuf::from("nodemend-state"),
    }
}

/// The event archive's default file: `archive.db` in the state directory. Every command that
/// reads or writes the archive takes `--archive FILE` (env `NODEMEND_ARCHIVE`) to override it.
pub(crate) fn default_archive() -> PathBuf {
    state_dir().join("archive.db")
}
