//! A whole simulated cluster from a scenario: the Kubernetes API server (embedded, or any
//! server a kubeconfig names), the ARM server, one kubelet per VM, the scenario's pods and
//! PodDisruptionBudgets, and the timeline of faults played in real time.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use jiff::SignedDuration;
use k8s_openapi::api::core::v1::{Event, Namespace, Pod};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;
use tokio::sync::{broadcast, watch};

use crate::apiserver::{ApiServer, ApiServerConfig, ApiServerHandle};
use crate::arm::ArmSimOptions;
use crate::arm::spec::VmOp;
use crate::arm::{ArmSim, ErrorSpec};
use crate::fleet::{Fleet, KubeletFault, KubeletTiming};
use crate::scenario::{FaultKind, Scenario, TimelineEvent};

/// Why a simulated cluster could not start.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    /// The embedded API server did not start.
    #[error("cannot start the simulated Kubernetes API server")]
    ApiServer(#[source] crate::apiserver::Error),
    /// The ARM simulator did not start.
    #[error("cannot start the ARM simulator")]
    Arm(#[source] crate::arm::SimError),
    /// The kubeconfig cannot be read or used.
    #[error("cannot use the kubeconfig {path}")]
    Kubeconfig {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A state file cannot be written.
    #[error("cannot write {path}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Creating a scenario object in Kubernetes failed.
    #[error("cannot create {what} in Kubernetes")]
    Create {
        /// The object.
        what: String,
        /// The API server's answer.
        #[source]
        source: kube::Error,
    },
}

/// How to run the world.
#[derive(Debug, Clone, Default)]
pub struct WorldOptions {
    /// Use this API server instead of the embedded one.
    pub kubeconfig: Option<PathBuf>,
    /// Where `kubeconfig` and `azure.env` are written.
    pub state_dir: PathBuf,
}

/// A running simulated cluster. Dropping it stops everything.
pub struct SimWorld {
    /// The embedded API server, unless an external one is used.
    pub api: Option<ApiServerHandle>,
    /// A client for the API server.
    pub client: kube::Client,
    /// The kubeconfig that reaches the API server.
    pub kubeconfig: PathBuf,
    /// The ARM simulator.
    pub arm: Arc<ArmSim>,
    /// The simulated machines.
    pub fleet: Fleet,
    /// The scenario being played.
    pub scenario: Scenario,
    restarts: broadcast::Sender<()>,
    shutdown: watch::Sender<bool>,
}

fn secs(raw: &str) -> Duration {
    raw.parse::<SignedDuration>()
        .ok()
        .and_then(|d| Duration::try_from(d).ok())
        .unwrap_or_default()
}

fn write(path: &Path, text: &str) -> Result<(), WorldError> {
    std::fs::write(path, text).map_err(|source| WorldError::Write {
        path: path.display().to_string(),
        source,
    })
}

async fn client_from(path: &Path) -> Result<kube::Client, WorldError> {
    let err = |source: Box<dyn std::error::Error + Send + Sync>| WorldError::Kubeconfig {
        path: path.display().to_string(),
        source,
    };
    let file = kube::config::Kubeconfig::read_from(path).map_err(|e| err(Box::new(e)))?;
    let mut config =
        kube::Config::from_custom_kubeconfig(file, &kube::config::KubeConfigOptions::default())
            .await
            .map_err(|e| err(Box::new(e)))?;
    // A refused eviction (429) must come back at once; callers retry with their own back-off.
    config.default_retry = false;
    kube::Client::try_from(config).map_err(|e| err(Box::new(e)))
}

impl SimWorld {
    /// Starts everything `scenario` describes and begins playing its timeline.
    pub async fn start(scenario: Scenario, options: WorldOptions) -> Result<Self, WorldError> {
        std::fs::create_dir_all(&options.state_dir).map_err(|source| WorldError::Write {
            path: options.state_dir.display().to_string(),
            source,
        })?;
        let k = &scenario.kubernetes;
        let (api, kubeconfig) = match &options.kubeconfig {
            Some(path) => (None, path.clone()),
            None => {
                let mut config = ApiServerConfig::default();
                config.lifecycle.grace_period = secs(&k.node_grace);
                config.lifecycle.monitor_period = (config.lifecycle.grace_period / 4)
                    .clamp(Duration::from_millis(200), Duration::from_secs(5));
                let handle = ApiServer::start(config)
                    .await
                    .map_err(WorldError::ApiServer)?;
                let path = options.state_dir.join("kubeconfig");
                handle
                    .write_kubeconfig(&path)
                    .map_err(WorldError::ApiServer)?;
                (Some(handle), path)
            }
        };
        let client = client_from(&kubeconfig).await?;
        let arm = Arc::new(
            ArmSim::start(scenario.azure.clone(), ArmSimOptions::default())
                .await
                .map_err(WorldError::Arm)?,
        );
        let env: String = arm
            .env()
            .iter()
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect();
        write(&options.state_dir.join("azure.env"), &env)?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let timing = KubeletTiming {
            lease_interval: secs(&k.lease_interval),
            status_interval: secs(&k.status_interval),
        };
        let bad_provider_ids: Vec<String> = k
            .bad_provider_ids
            .iter()
            .filter_map(|r| resolve_in(&arm, r))
            .collect();
        let fleet = Fleet::start(
            client.clone(),
            Arc::clone(&arm),
            &scenario.azure,
            timing,
            &bad_provider_ids,
            shutdown_rx.clone(),
        );
        let (restarts, _) = broadcast::channel(8);
        let world = Self {
            api,
            client,
            kubeconfig,
            arm,
            fleet,
            scenario,
            restarts,
            shutdown,
        };
        world.create_objects().await?;
        world.play_timeline(shutdown_rx);
        Ok(world)
    }

    /// The node a scenario reference names: `pool/index` (the index-th VM of the pool, by
    /// name) or a node name.
    pub fn resolve(&self, reference: &str) -> Option<String> {
        resolve_in(&self.arm, reference)
    }

    /// Fires whenever the timeline asks for the controller to be restarted.
    pub fn controller_restarts(&self) -> broadcast::Receiver<()> {
        self.restarts.subscribe()
    }

    /// Stops the kubelets and the timeline.
    pub fn stop(&self) {
        let _ = self.shutdown.send(true);
    }

    async fn create_objects(&self) -> Result<(), WorldError> {
        let k = &self.scenario.kubernetes;
        let nodes = self.fleet.nodes();
        let mut namespaces: Vec<&str> = k.pods.iter().map(|p| p.namespace.as_str()).collect();
        namespaces.extend(k.pdbs.iter().map(|p| p.namespace.as_str()));
        if !k.events.is_empty() {
            namespaces.push("default");
        }
        namespaces.sort_unstable();
        namespaces.dedup();
        let ns_api: Api<Namespace> = Api::all(self.client.clone());
        for ns in namespaces {
            let body: Namespace =
                serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap_or_default();
            match ns_api.create(&PostParams::default(), &body).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 409 => {}
                Err(source) => {
                    return Err(WorldError::Create {
                        what: format!("namespace {ns}"),
                        source,
                    });
                }
            }
        }
        let mut spread = 0usize;
        for group in &k.pods {
            let api: Api<Pod> = Api::namespaced(self.client.clone(), &group.namespace);
            for i in 0..group.count {
                let node = match &group.node {
                    Some(reference) => self.resolve(reference).unwrap_or_default(),
                    None => {
                        spread += 1;
                        nodes
                            .get(spread % nodes.len().max(1))
                            .cloned()
                            .unwrap_or_default()
                    }
                };
                let name = format!("{}-{i}", group.name);
                let pod: Pod = serde_json::from_value(json!({
                    "metadata": {"name": name, "namespace": group.namespace, "labels": group.labels},
                    "spec": {"nodeName": node, "containers": [{"name": "app", "image": "registry.k8s.io/pause:3.9"}]},
                }))
                .unwrap_or_default();
                api.create(&PostParams::default(), &pod)
                    .await
                    .map_err(|source| WorldError::Create {
                        what: format!("pod {}/{name}", group.namespace),
                        source,
                    })?;
                let status = json!({ "status": group.status() });
                api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&status))
                    .await
                    .map_err(|source| WorldError::Create {
                        what: format!("status of pod {}/{name}", group.namespace),
                        source,
                    })?;
            }
        }
        let events: Api<Event> = Api::namespaced(self.client.clone(), "default");
        let now = format!("{:.0}", jiff::Timestamp::now());
        for (i, spec) in k.events.iter().enumerate() {
            let node = self.resolve(&spec.node).unwrap_or_default();
            let name = format!("{node}.scenario-{i}");
            let event: Event = serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": "default"},
                "involvedObject": {"kind": "Node", "name": node, "apiVersion": "v1"},
                "type": spec.kind,
                "reason": spec.reason,
                "message": spec.message,
                "count": spec.count,
                "firstTimestamp": now,
                "lastTimestamp": now,
                "source": {"component": spec.source},
                "reportingComponent": spec.source,
            }))
            .unwrap_or_default();
            events
                .create(&PostParams::default(), &event)
                .await
                .map_err(|source| WorldError::Create {
                    what: format!("event {name}"),
                    source,
                })?;
        }
        for pdb in &k.pdbs {
            let api: Api<PodDisruptionBudget> =
                Api::namespaced(self.client.clone(), &pdb.namespace);
            let mut spec = json!({"selector": {"matchLabels": pdb.selector}});
            if let Some(v) = &pdb.min_available {
                spec["minAvailable"] = toml_to_json(v);
            }
            if let Some(v) = &pdb.max_unavailable {
                spec["maxUnavailable"] = toml_to_json(v);
            }
            let body: PodDisruptionBudget = serde_json::from_value(json!({
                "metadata": {"name": pdb.name, "namespace": pdb.namespace}, "spec": spec,
            }))
            .unwrap_or_default();
            api.create(&PostParams::default(), &body)
                .await
                .map_err(|source| WorldError::Create {
                    what: format!("PodDisruptionBudget {}/{}", pdb.namespace, pdb.name),
                    source,
                })?;
        }
        Ok(())
    }

    fn play_timeline(&self, mut shutdown: watch::Receiver<bool>) {
        let mut events: Vec<(Duration, TimelineEvent, Option<String>)> = self
            .scenario
            .timeline
            .iter()
            .map(|e| {
                (
                    secs(&e.at),
                    e.clone(),
                    e.node.as_deref().and_then(|n| self.resolve(n)),
                )
            })
            .collect();
        events.sort_by_key(|(at, _, _)| *at);
        let fleet = self.fleet.clone();
        let arm = Arc::clone(&self.arm);
        let restarts = self.restarts.clone();
        let start = tokio::time::Instant::now();
        tokio::spawn(async move {
            for (at, event, node) in events {
                tokio::select! {
                    _ = tokio::time::sleep_until(start + at) => {}
                    _ = shutdown.changed() => return,
                }
                apply(&fleet, &arm, &restarts, &event, node.as_deref());
            }
        });
    }
}

/// The node a scenario reference names, among the VMs of `arm` (see [`SimWorld::resolve`]).
fn resolve_in(arm: &ArmSim, reference: &str) -> Option<String> {
    let Some((pool, index)) = reference.split_once('/') else {
        return Some(reference.to_owned());
    };
    let index: usize = index.parse().ok()?;
    let mut names: Vec<String> = arm
        .vms()
        .into_iter()
        .filter(|v| v.pool.eq_ignore_ascii_case(pool))
        .map(|v| v.computer_name)
        .collect();
    names.sort();
    names.into_iter().nth(index)
}

impl Drop for SimWorld {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

fn toml_to_json(value: &toml::Value) -> serde_json::Value {
    match value {
        toml::Value::Integer(n) => json!(n),
        other => json!(other.as_str().unwrap_or_default()),
    }
}

fn apply(
    fleet: &Fleet,
    arm: &ArmSim,
    restarts: &broadcast::Sender<()>,
    event: &TimelineEvent,
    node: Option<&str>,
) {
    let cured_by = event
        .cured_by
        .clone()
        .unwrap_or_else(|| vec![VmOp::Restart, VmOp::Reimage, VmOp::Redeploy]);
    let node_name = node.unwrap_or_default();
    tracing::info!(fault = ?event.fault, node = node_name, "scenario fault");
    let done = match event.fault {
        FaultKind::KubeletStopped => fleet.inject(node_name, KubeletFault::Stopped, cured_by),
        FaultKind::NotReady => {
            let message = event
                .message
                .clone()
                .unwrap_or_else(|| "container runtime is down".into());
            fleet.inject(node_name, KubeletFault::NotReady(message), cured_by)
        }
        FaultKind::VmFailed => arm.fail_vm(
            node_name,
            ErrorSpec {
                code: event.code.clone().unwrap_or_default(),
                message: event.message.clone().unwrap_or_default(),
                details: Vec::new(),
            },
        ),
        FaultKind::VmDeleted => fleet.delete(node_name),
        FaultKind::CredentialRevoked => {
            arm.set_credentials_valid(false);
            arm.expire_tokens();
            true
        }
        FaultKind::ControllerRestart => restarts.send(()).is_ok(),
    };
    if !done {
        tracing::warn!(fault = ?event.fault, node = node_name, "scenario fault had no target");
    }
}
