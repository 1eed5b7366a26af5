//! One module per subcommand.

pub(crate) mod archive;
pub(crate) mod archive_read;
pub(crate) mod collect;
pub(crate) mod crds;
pub(crate) mod demo;
pub(crate) mod diagnose;
pub(crate) mod doctor;
pub(crate) mod events;
pub(crate) mod explain;
pub(crate) mod reconcile;
pub(crate) mod repairs;
pub(crate) mod run;
pub(crate) mod sim;
