//! `nodemend demo`: play a scenario on the embedded simulators with the real controller.

use std::path::PathBuf;

use clap::Args;
use nodemend_sim::scenario::Scenario;

use crate::demo::{DemoOptions, play, render};
use crate::exit::Outcome;
use crate::logging::{self, LogFormat};

/// Arguments of `nodemend demo`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  nodemend demo                                   # a hung node: reboot fails, reimage fixes it
  nodemend demo --scenario storm                  # half a pool NotReady: nodemend holds back
  nodemend demo --scenario my-scenario.toml --json
  nodemend sim scenarios                          # the built-in scenarios

Starts a simulated Kubernetes API server, an ARM server and one kubelet per VM, runs the
nodemend controller against them over the real protocols, plays the scenario's faults and
prints a live timeline and a summary. Exits 1 when an expectation of the scenario fails.")]
pub(crate) struct DemoArgs {
    /// A built-in scenario name or a scenario file.
    #[arg(long, default_value = "reimage-fixes")]
    scenario: String,

    /// Print the summary as one JSON object (the timeline goes to standard error).
    #[arg(long)]
    json: bool,

    /// Where to write the simulators' kubeconfig and azure.env (default: a temporary folder).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,

    /// Run the kubelets against this Kubernetes API server instead of the embedded one.
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,

    /// Log format (logs go to standard error; RUST_LOG=info shows the controller's).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

/// Runs `nodemend demo`.
pub(crate) fn run(args: DemoArgs) -> anyhow::Result<Outcome> {
    let DemoArgs {
        scenario,
        json,
        state_dir,
        kubeconfig,
        log_format,
    } = args;
    if std::env::var_os("RUST_LOG").is_some() {
        logging::init(log_format);
    }
    // The error already names the input and lists the built-in scenarios.
    let scenario = Scenario::load(&scenario)?;
    let state_dir = state_dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("nodemend-demo-{}", std::process::id()))
    });
    let runtime = tokio::runtime::Runtime::new()?;
    let summary = runtime.block_on(play(DemoOptions {
        scenario,
        json,
        state_dir,
        kubeconfig,
    }))?;
    if json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        print!("{}", render(&summary));
    }
    Ok(if summary.passed {
        Outcome::Success
    } else {
        Outcome::Failed
    })
}
