//! `nodemend sim`: the simulators on their own, for trying nodemend (or anything that speaks
//! Kubernetes and ARM) against a simulated cluster.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use nodemend_sim::scenario::{BUILTIN, Scenario};
use nodemend_sim::world::{SimWorld, WorldOptions};

use crate::connect::shutdown_signal;
use crate::exit::Outcome;
use crate::logging::{self, LogFormat};

/// Arguments of `nodemend sim`.
#[derive(Debug, Args)]
pub(crate) struct SimArgs {
    #[command(subcommand)]
    command: SimCommand,
}

#[derive(Debug, Subcommand)]
enum SimCommand {
    /// Start the simulators and keep them running until Ctrl-C or SIGTERM.
    #[command(after_help = "\
Example:
  nodemend sim serve --scenario reimage-fixes --state-dir /tmp/sim
  # in another terminal:
  set -a; . /tmp/sim/azure.env; set +a
  nodemend run --kubeconfig /tmp/sim/kubeconfig --no-leader-election --metrics-addr 127.0.0.1:8080
  kubectl --kubeconfig /tmp/sim/kubeconfig get nodes,noderepairs

Writes DIR/kubeconfig (the Kubernetes API server) and DIR/azure.env (what an ARM client needs:
endpoint, authority, credentials, subscription, NODEMEND_RESOURCE_GROUP and NODEMEND_CLUSTER).
The scenario's timeline of faults starts playing at once.")]
    Serve(ServeArgs),
    /// List the built-in scenarios.
    Scenarios,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// A built-in scenario name or a scenario file.
    #[arg(long, default_value = "reboot-fixes")]
    scenario: String,
    /// Where to write kubeconfig and azure.env.
    #[arg(long, value_name = "DIR", default_value = ".nodemend-sim")]
    state_dir: PathBuf,
    /// Register the simulated kubelets with this API server instead of the embedded one.
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// Log format (logs go to standard error).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

/// Runs `nodemend sim`.
pub(crate) fn run(args: SimArgs) -> anyhow::Result<Outcome> {
    match args.command {
        SimCommand::Scenarios => {
            let width = BUILTIN.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
            for (name, text) in BUILTIN {
                let scenario = Scenario::parse(name, text)?;
                println!("{name:<width$}  {}", scenario.description);
            }
            Ok(Outcome::Success)
        }
        SimCommand::Serve(args) => serve(args),
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<Outcome> {
    let ServeArgs {
        scenario,
        state_dir,
        kubeconfig,
        log_format,
    } = args;
    logging::init(log_format);
    let scenario = Scenario::load(&scenario)?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let mut shutdown = shutdown_signal();
        let mut world = SimWorld::start(
            scenario,
            WorldOptions {
                kubeconfig,
                state_dir: state_dir.clone(),
            },
        )
        .await
        .context("cannot start the simulators")?;
        nodemend_kube::crd::install(&world.client).await?;
        println!(
            "nodemend simulators ready: scenario {}, {} nodes; kubeconfig {}, ARM environment {}",
            world.scenario.name,
            world.fleet.nodes().len(),
            world.kubeconfig.display(),
            state_dir.join("azure.env").display()
        );
        let _ = shutdown.wait_for(|stop| *stop).await;
        world.stop();
        if let Some(api) = world.api.take() {
            api.shutdown()
                .await
                .context("the API server did not stop cleanly")?;
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(Outcome::Success)
}
