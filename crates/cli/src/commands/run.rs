//! `nodemend run`: the node auto-repair controller.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use clap::Args;
use nodemend_azure::AzureProvider;
use nodemend_kube::leader::Election;

use crate::archiver;
use crate::commands::archive::ArchiveFlags;
use crate::connect::{AzureArgs, kube_client, shutdown_signal};
use crate::controller::{Controller, Metrics, Settings, serve};
use crate::exit::Outcome;
use crate::logging::{self, LogFormat};
use crate::policy_file;

/// Arguments of `nodemend run`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  nodemend run --policy policy.yaml -g my-rg -n my-aks
  nodemend run --dry-run --kubeconfig ~/.kube/config --log-format json

A node that is NotReady (or whose lease is not renewed) for longer than the threshold is
repaired by reboot, then reimage, then redeploy of its VM, within the policy's safety limits.
Each repair is a NodeRepair resource (`kubectl get noderepairs`); events on the node use the
same reasons as AKS node auto-repair. Every event of the cluster, each repair and the planner's
decisions are kept in the event archive (--archive, 90 days by default; query it with
`nodemend events` and `nodemend repairs`), and the policy's alert rules POST to its webhooks. Credentials come from the standard Azure variables
(AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_CLIENT_SECRET or AZURE_FEDERATED_TOKEN_FILE, or a
managed identity).")]
pub(crate) struct RunArgs {
    /// Kubeconfig to use (default: KUBECONFIG, ~/.kube/config, or the in-cluster account).
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,

    /// Repair policy (YAML); without it the documented defaults apply.
    #[arg(long, value_name = "FILE", env = "NODEMEND_POLICY")]
    policy: Option<PathBuf>,

    /// Decide and report every repair, but never act.
    #[arg(long)]
    dry_run: bool,

    /// Where to serve /metrics, /healthz and /readyz.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8080")]
    metrics_addr: SocketAddr,

    /// This replica's name, for events and the leader lease.
    #[arg(long, env = "POD_NAME")]
    identity: Option<String>,

    /// Run as the only replica, without a leader lease.
    #[arg(long)]
    no_leader_election: bool,

    /// Namespace of the leader lease.
    #[arg(long, env = "POD_NAMESPACE", default_value = "nodemend")]
    lease_namespace: String,

    /// How long the leader lease holds without renewal; a standby takes over after it.
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    lease_duration: Duration,

    #[command(flatten)]
    azure: AzureArgs,

    #[command(flatten)]
    archive: ArchiveFlags,

    /// Run without the event archive (and so without alerts).
    #[arg(long, conflicts_with = "archive")]
    no_archive: bool,

    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

fn parse_duration(raw: &str) -> Result<Duration, String> {
    let d: jiff::SignedDuration = raw
        .parse()
        .map_err(|e| format!("{raw:?} is not a duration: {e}"))?;
    Duration::try_from(d).map_err(|_| format!("{raw:?} must be positive"))
}

/// Runs `nodemend run`.
pub(crate) fn run(args: RunArgs) -> anyhow::Result<Outcome> {
    let RunArgs {
        kubeconfig,
        policy,
        dry_run,
        metrics_addr,
        identity,
        no_leader_election,
        lease_namespace,
        lease_duration,
        azure,
        archive,
        no_archive,
        log_format,
    } = args;
    logging::init(log_format);
    let file = policy_file::load(policy.as_deref())?;
    let mut policy = file.policy.clone();
    policy.dry_run |= dry_run;
    let identity = identity.unwrap_or_else(default_identity);
    let archive_config = (!no_archive).then(|| archive.config(&file, azure.cluster.as_deref()));
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let client = kube_client(kubeconfig.as_deref()).await?;
        let cloud = Arc::new(azure.provider()?);
        let cluster = azure.cluster_ref();
        if cluster.is_none() {
            tracing::warn!("no -g/-n/subscription given: agent pools being upgraded or scaled cannot be recognised");
        }
        let shutdown = shutdown_signal();
        let metrics = Arc::new(Metrics::new());
        let ready = Arc::new(AtomicBool::new(false));
        tokio::spawn(follow_arm_stats(Arc::clone(&cloud), Arc::clone(&metrics)));
        let bound = serve(metrics_addr, Arc::clone(&metrics), Arc::clone(&ready), shutdown.clone()).await?;
        tracing::info!(addr = %bound, identity = %identity, dry_run = policy.dry_run, "nodemend controller starting");
        let leading = Arc::new(AtomicBool::new(false));
        let archive = match archive_config {
            Some(mut config) => Some({
                config.deliver_while = Some(Arc::clone(&leading));
                archiver::start(client.clone(), config, Arc::clone(&metrics), shutdown.clone())
                    .await?
            }),
            None => None,
        };
        let election = (!no_leader_election).then(|| Election {
            namespace: lease_namespace,
            name: nodemend_kube::permissions::LEADER_LEASE.into(),
            identity: identity.clone(),
            lease_duration,
        });
        let settings = Settings {
            policy,
            identity,
            election,
            cluster,
            min_pass_interval: Duration::from_millis(100),
            archive: archive.as_ref().map(|a| a.sink.clone()),
            leading,
        };
        Controller::run(client, cloud, settings, metrics, ready, shutdown).await?;
        if let Some(archive) = archive {
            archive.done.await?;
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(Outcome::Success)
}

/// Copies the ARM client's counters into the metrics every few seconds.
async fn follow_arm_stats(cloud: Arc<AzureProvider>, metrics: Arc<Metrics>) {
    use std::sync::atomic::Ordering::Relaxed;
    let mut seen = [0u64; 3];
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        let stats = cloud.executor().stats();
        let now = [
            stats.requests.load(Relaxed),
            stats.retries.load(Relaxed),
            stats.throttled.load(Relaxed),
        ];
        metrics.arm_requests.inc_by(now[0].saturating_sub(seen[0]));
        metrics.arm_retries.inc_by(now[1].saturating_sub(seen[1]));
        metrics.arm_throttled.inc_by(now[2].saturating_sub(seen[2]));
        seen = now;
    }
}

fn default_identity() -> String {
    std::env::var("HOSTNAME").unwrap_or_else(|_| format!("nodemend-{}", std::process::id()))
}
