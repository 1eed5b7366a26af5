//! `nodemend archive`: the event archive without the controller, for clusters that leave
//! repairs to AKS but want events kept, queried and alerted on. Also the archive flags that
//! `nodemend run` shares.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::Args;
use jiff::SignedDuration;
use nodemend_core::health::not_ready_nodes;
use nodemend_kube::watch::{SharedIndex, watch_nodes};
use nodemend_store::Retention;

use crate::archiver::{self, ArchiveSink, ArchiverConfig, Note};
use crate::commands::archive_read::ArchiveArg;
use crate::connect::{kube_client, shutdown_signal};
use crate::controller::{Metrics, serve};
use crate::exit::Outcome;
use crate::logging::{self, LogFormat};
use crate::policy_file::{self, PolicyFile};
use crate::window::parse_window;

/// Where the archive is and how long it keeps rows (shared by `run` and `archive`).
#[derive(Debug, Args)]
pub(crate) struct ArchiveFlags {
    #[command(flatten)]
    archive: ArchiveArg,

    /// Keep events, repairs, decisions and alert deliveries this long (e.g. 90d, 30d, 12h).
    #[arg(long, default_value = "90d", value_parser = parse_retention, value_name = "DURATION")]
    retention: SignedDuration,
}

/// A retention window: a duration no shorter than the time event UIDs are remembered for
/// deduplication, or an event the API server delivers again could be stored twice.
fn parse_retention(raw: &str) -> Result<SignedDuration, String> {
    let window = parse_window(raw)?;
    let least = Retention::default().remember_uids;
    if window < least {
        return Err(format!(
            "{raw:?} is shorter than {least:#}: events must be kept at least as long as their \
             UIDs are remembered to store each event once"
        ));
    }
    Ok(window)
}

impl ArchiveFlags {
    /// The archive's settings, with the alert rules and webhooks of the policy file.
    pub(crate) fn config(&self, file: &PolicyFile, cluster: Option<&str>) -> ArchiverConfig {
        let mut config = ArchiverConfig::new(self.archive.path());
        config.retention = Retention {
            window: self.retention,
            ..Retention::default()
        };
        config.rules = file.alerts.clone();
        config.webhooks = file.webhooks.clone();
        if let Some(cluster) = cluster {
            config.cluster = cluster.to_owned();
        }
        config
    }
}

/// Arguments of `nodemend archive`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  nodemend archive --kubeconfig ~/.kube/config --archive /var/lib/nodemend/archive.db
  nodemend archive --policy policy.yaml --retention 30d --cluster prod-weu

Watches every event of the cluster (core/v1 and events.k8s.io/v1) and keeps it in a SQLite
file long after the API server has dropped it (an hour by default); an event delivered again
after a watch restart is stored once, and an aggregated event's row is updated as its count
grows. The alert rules of the policy file's `alerts` section (or the built-in ones: the
auto-repair error reasons, NodeRepairGaveUp and nodes NotReady for 15 minutes) are checked
against what is stored, and firings are POSTed to its webhooks. `nodemend run` does all of
this itself; run this instead where the controller does not run. Query the file with
`nodemend events` and `nodemend repairs`.")]
pub(crate) struct ArchiveArgs {
    /// Kubeconfig to use (default: KUBECONFIG, ~/.kube/config, or the in-cluster account).
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,

    /// Policy file whose `alerts` section sets the alert rules and webhooks.
    #[arg(long, value_name = "FILE", env = "NODEMEND_POLICY")]
    policy: Option<PathBuf>,

    #[command(flatten)]
    flags: ArchiveFlags,

    /// The cluster's name, as alert messages show it.
    #[arg(long, env = "NODEMEND_CLUSTER")]
    cluster: Option<String>,

    /// Where to serve /metrics, /healthz and /readyz.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8080")]
    metrics_addr: SocketAddr,

    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

/// Runs `nodemend archive` until Ctrl-C or SIGTERM.
pub(crate) fn run(args: ArchiveArgs) -> anyhow::Result<Outcome> {
    logging::init(args.log_format);
    let file = policy_file::load(args.policy.as_deref())?;
    let config = args.flags.config(&file, args.cluster.as_deref());
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let client = kube_client(args.kubeconfig.as_deref()).await?;
        let shutdown = shutdown_signal();
        let metrics = Arc::new(Metrics::new());
        let ready = Arc::new(AtomicBool::new(false));
        let bound = serve(
            args.metrics_addr,
            Arc::clone(&metrics),
            Arc::clone(&ready),
            shutdown.clone(),
        )
        .await?;
        let running = archiver::start(client.clone(), config, metrics, shutdown.clone()).await?;
        tracing::info!(addr = %bound, "nodemend archive running");
        ready.store(true, std::sync::atomic::Ordering::Relaxed);
        let nodes = tokio::spawn(report_not_ready(client, running.sink.clone()));
        let result = running.done.await;
        nodes.abort();
        result?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(Outcome::Success)
}

/// Watches the nodes and tells the archive which are NotReady whenever that changes, for the
/// NotReady alert rules.
pub(crate) async fn report_not_ready(client: kube::Client, sink: ArchiveSink) {
    let index = SharedIndex::default();
    tokio::spawn(watch_nodes(client, index.clone()));
    let mut last = Vec::new();
    loop {
        index.changed.notified().await;
        let current = {
            let i = index
                .index
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            i.nodes_synced().then(|| not_ready_nodes(i.nodes()))
        };
        if let Some(current) = current
            && current != last
        {
            sink.send(Note::NotReady(current.clone()));
            last = current;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_is_at_least_the_deduplication_window() {
        assert_eq!(
            parse_retention("30d").unwrap(),
            SignedDuration::from_hours(720)
        );
        assert!(parse_retention("6h").is_ok());
        let err = parse_retention("1h").unwrap_err();
        assert!(err.contains("shorter than 6h"), "{err}");
        assert!(
            parse_retention("soon")
                .unwrap_err()
                .contains("not a duration")
        );
    }
}
