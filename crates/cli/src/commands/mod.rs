//! One module per subcommand.

pub(crate) mod crds;
pub(crate) mod explain;
pub(crate) mod run;
