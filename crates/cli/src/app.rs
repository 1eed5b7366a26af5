//! The composition root: the command line, and which command runs for it.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands;
use crate::exit::FAILURE;

/// nodemend keeps Kubernetes nodes on cloud VM scale sets healthy, and explains why a cluster,
/// node pool or node is in a failed state.
#[derive(Debug, Parser)]
#[command(
    name = "nodemend",
    version,
    propagate_version = true,
    max_term_width = 100
)]
#[command(
    after_help = "Examples:\n  nodemend explain QuotaExceeded\n  nodemend explain --list\n\nRun `nodemend <command> --help` for the details of a command."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Explain why a cluster, pool or node is failing: the cause and the exact fix.
    Diagnose(commands::diagnose::DiagnoseArgs),
    /// Bring the cluster, a pool or a node's VM back to its desired state.
    Reconcile(commands::reconcile::ReconcileArgs),
    /// Explain an Azure/AKS error code: what causes it and how to fix it.
    Explain(commands::explain::ExplainArgs),
    /// Play a failure scenario on the embedded simulators with the real controller.
    Demo(commands::demo::DemoArgs),
    /// Run the node auto-repair controller.
    Run(commands::run::RunArgs),
    /// Run the simulators (Kubernetes API server, ARM, kubelets) on their own.
    Sim(commands::sim::SimArgs),
    /// Keep every Kubernetes event in a SQLite archive and alert on it, without the controller.
    Archive(commands::archive::ArchiveArgs),
    /// Print the NodeRepair CustomResourceDefinition (YAML) for `kubectl apply -f -`.
    Crds(commands::crds::CrdsArgs),
    /// Check that this identity has every Kubernetes and Azure permission nodemend needs.
    Doctor(commands::doctor::DoctorArgs),
    /// Query the event archive: Kubernetes events kept for months, filtered, or followed live.
    Events(commands::events::EventsArgs),
    /// List archived repairs with every step, and each pool's success rate and error codes.
    Repairs(commands::repairs::RepairsArgs),
    /// Write an evidence bundle (.tar.gz) for a support ticket: report, objects, logs, archive.
    Collect(commands::collect::CollectArgs),
}

/// Parses the command line, runs the command, and turns its outcome into an exit status:
/// 0 success, 1 the command failed, 2 a usage error or an unknown code, 3 `diagnose --fail-on`
/// found something at or above the severity.
pub(crate) fn main() -> ExitCode {
    let Cli { command } = Cli::parse();
    let result = match command {
        Command::Diagnose(args) => commands::diagnose::run(args),
        Command::Reconcile(args) => commands::reconcile::run(args),
        Command::Explain(args) => commands::explain::run(args),
        Command::Archive(args) => commands::archive::run(args),
        Command::Crds(args) => commands::crds::run(args),
        Command::Doctor(args) => commands::doctor::run(args),
        Command::Run(args) => commands::run::run(args),
        Command::Demo(args) => commands::demo::run(args),
        Command::Sim(args) => commands::sim::run(args),
        Command::Events(args) => commands::events::run(args),
        Command::Repairs(args) => commands::repairs::run(args),
        Command::Collect(args) => commands::collect::run(args),
    };
    match result {
        Ok(outcome) => outcome.code(),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(FAILURE)
        }
    }
}
