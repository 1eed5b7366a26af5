//! `nodemend crds`: the NodeRepair CustomResourceDefinition, generated from the code, for
//! `kubectl apply -f -`.

use anyhow::Context as _;
use clap::Args;
use kube::CustomResourceExt;
use nodemend_kube::crd::NodeRepair;

use crate::exit::Outcome;

/// Arguments of `nodemend crds`.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  nodemend crds | kubectl apply -f -")]
pub(crate) struct CrdsArgs {}

/// The CRD as YAML.
pub(crate) fn render() -> anyhow::Result<String> {
    serde_yaml_ng::to_string(&NodeRepair::crd()).context("rendering the NodeRepair CRD")
}

/// Runs `nodemend crds`.
pub(crate) fn run(args: CrdsArgs) -> anyhow::Result<Outcome> {
    let CrdsArgs {} = args;
    print!("---\n{}", render()?);
    Ok(Outcome::Success)
}
