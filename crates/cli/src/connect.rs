//! Connections every command shares: the Kubernetes client, the Azure provider, the cluster
//! coordinates, and the shutdown signal.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use nodemend_azure::{ArmConfig, AzureProvider};
use nodemend_core::cloud::ClusterRef;
use tokio::sync::watch;

/// A Kubernetes client from `--kubeconfig`, else `KUBECONFIG` / `~/.kube/config`, else the
/// in-cluster service account.
pub(crate) async fn kube_client(kubeconfig: Option<&Path>) -> anyhow::Result<kube::Client> {
    let config = match kubeconfig {
        Some(path) => {
            let file = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("cannot read the kubeconfig {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(file, &kube::config::KubeConfigOptions::default())
                .await
                .with_context(|| format!("the kubeconfig {} cannot be used", path.display()))?
        }
        None => kube::Config::infer()
            .await
            .context("no Kubernetes configuration found (give --kubeconfig, set KUBECONFIG, or run in a cluster)")?,
    };
    client_without_retry(config)
}

/// A client that does not retry 429 answers itself: an eviction refused by a
/// PodDisruptionBudget must come back at once, and nodemend's own loops retry with back-off.
pub(crate) fn client_without_retry(mut config: kube::Config) -> anyhow::Result<kube::Client> {
    config.default_retry = false;
    kube::Client::try_from(config).context("cannot build a Kubernetes client")
}

/// Where the cluster lives in Azure and how to reach ARM.
#[derive(Debug, Clone, Args)]
pub(crate) struct AzureArgs {
    /// Resource group of the AKS cluster.
    #[arg(short = 'g', long = "resource-group", env = "NODEMEND_RESOURCE_GROUP")]
    pub(crate) resource_group: Option<String>,
    /// Name of the AKS cluster.
    #[arg(short = 'n', long = "name", env = "NODEMEND_CLUSTER")]
    pub(crate) cluster: Option<String>,
    /// Subscription of the cluster.
    #[arg(long, env = "AZURE_SUBSCRIPTION_ID")]
    pub(crate) subscription: Option<String>,
    /// ARM endpoint (sovereign clouds, or the simulator).
    #[arg(long, value_name = "URL")]
    pub(crate) arm_endpoint: Option<String>,
    /// Extra CA certificates (PEM) to trust for ARM and the identity endpoints.
    #[arg(long, value_name = "FILE")]
    pub(crate) ca_file: Option<PathBuf>,
}

impl AzureArgs {
    /// The cluster, when resource group, name and subscription are all known.
    pub(crate) fn cluster_ref(&self) -> Option<ClusterRef> {
        Some(ClusterRef {
            subscription: self.subscription.clone()?,
            resource_group: self.resource_group.clone()?,
            name: self.cluster.clone()?,
        })
    }

    /// The ARM provider, with the credential the standard Azure variables name.
    pub(crate) fn provider(&self) -> anyhow::Result<AzureProvider> {
        let config = ArmConfig::from_env(
            |name| std::env::var(name).ok(),
            self.arm_endpoint.as_deref(),
            self.ca_file.clone(),
        )
        .context("the Azure settings cannot be used")?;
        AzureProvider::new(&config).context("cannot set up the ARM client")
    }
}

/// A channel that turns true on Ctrl-C or SIGTERM.
pub(crate) fn shutdown_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = match tokio::signal::unix::signal(
                tokio::signal::unix::SignalKind::terminate(),
            ) {
                Ok(term) => term,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot listen for SIGTERM; Ctrl-C still works");
                    let _ = ctrl_c.await;
                    let _ = tx.send(true);
                    return;
                }
            };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutting down");
        let _ = tx.send(true);
    });
    rx
}
