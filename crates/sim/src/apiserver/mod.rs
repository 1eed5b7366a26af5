//! An in-process Kubernetes API server that kube-rs and kubectl can use over HTTP/1.1 on
//! loopback: discovery, a generic object store with one global resourceVersion, watches,
//! patches, status subresources, CRDs, evictions against PodDisruptionBudgets and node
//! lifecycle. Start it with [`ApiServer::start`]; `docs/simulator.md` lists what it supports.

mod clock;
mod delete;
mod discovery;
mod disruption;
mod error;
mod events;
mod handlers;
mod hooks;
mod lifecycle;
mod meta;
mod openapi;
mod patch;
mod read;
mod resource;
mod routes;
mod selector;
mod store;
mod table;
mod verbs;
mod watch;

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::json;
use tokio::task::JoinHandle;

pub use clock::{Clock, TokioClock};
pub use error::{ApiError, ApiResult, Error};
pub use lifecycle::LifecycleConfig;

use store::Store;

/// Namespaces every fresh server has, as a new cluster does.
const INITIAL_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Settings of a simulated API server.
#[derive(Debug, Clone)]
pub struct ApiServerConfig {
    /// Address to listen on; port 0 picks a free one.
    pub bind: SocketAddr,
    /// Node lifecycle timing (grace period before a silent node goes `Unknown`).
    pub lifecycle: LifecycleConfig,
    /// Changes kept per resource for watches to resume from; older versions get `410 Gone`.
    pub watch_history: usize,
    /// How often a watch that allows bookmarks gets one.
    pub bookmark_interval: Duration,
    /// Time source for timestamps and node lifecycle.
    pub clock: Arc<dyn Clock>,
    /// Deleting a pod bound to a node only marks it terminating (`deletionTimestamp` plus its
    /// grace period) until a kubelet deletes it with grace 0, as on a real cluster. Off by
    /// default, because without simulated kubelets such pods would never go away.
    pub graceful_pod_deletion: bool,
}

impl Default for ApiServerConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            lifecycle: LifecycleConfig::default(),
            watch_history: 10_000,
            bookmark_interval: Duration::from_secs(60),
            clock: Arc::new(TokioClock::new()),
            graceful_pod_deletion: false,
        }
    }
}

/// State shared by the request handlers and the background controllers.
#[derive(Debug)]
pub(crate) struct Shared {
    store: Arc<Mutex<Store>>,
    clock: Arc<dyn Clock>,
    authority: String,
    bookmark_interval: Duration,
    graceful_pod_deletion: bool,
    shutdown: tokio::sync::watch::Receiver<bool>,
    logs: Mutex<HashMap<(String, String, String), String>>,
}

impl Shared {
    fn lock(&self) -> ApiResult<MutexGuard<'_, Store>> {
        self.store
            .lock()
            .map_err(|_| ApiError::internal("the object store is unusable after a panic"))
    }

    fn pod_log(&self, ns: &str, pod: &str, container: &str, tail: Option<usize>) -> String {
        let logs = self
            .logs
            .lock()
            .map(|l| l.get(&(ns.into(), pod.into(), container.into())).cloned());
        let text = logs.ok().flatten().unwrap_or_default();
        match tail {
            Some(n) => {
                let lines: Vec<&str> = text.lines().collect();
                let mut out = lines[lines.len().saturating_sub(n)..].join("\n");
                if !out.is_empty() {
                    out.push('\n');
                }
                out
            }
            None => text,
        }
    }
}

/// The simulated Kubernetes API server.
#[derive(Debug)]
pub struct ApiServer;

impl ApiServer {
    /// Starts serving on `config.bind`, with the node lifecycle controller running.
    pub async fn start(config: ApiServerConfig) -> Result<ApiServerHandle, Error> {
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .map_err(|source| Error::Bind {
                addr: config.bind,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: config.bind,
            source,
        })?;
        let mut store = Store::new(config.watch_history);
        let namespaces = store.registry.find("", "v1", "namespaces");
        let now = config.clock.now();
        for ns in INITIAL_NAMESPACES {
            if let Some(rt) = &namespaces {
                let created = verbs::create(
                    &mut store,
                    rt,
                    "",
                    &json!({ "metadata": { "name": ns } }),
                    false,
                    now,
                );
                debug_assert!(created.is_ok(), "seeding namespace {ns}");
            }
        }
        let store = Arc::new(Mutex::new(store));
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let shared = Arc::new(Shared {
            store: store.clone(),
            clock: config.clock.clone(),
            authority: addr.to_string(),
            bookmark_interval: config.bookmark_interval,
            graceful_pod_deletion: config.graceful_pod_deletion,
            shutdown: stop_rx.clone(),
            logs: Mutex::default(),
        });
        let lifecycle = tokio::spawn(lifecycle::run(
            store,
            config.clock.clone(),
            config.lifecycle,
            stop_rx.clone(),
        ));
        let mut stop = stop_rx;
        let server = axum::serve(listener, routes::router(shared.clone())).with_graceful_shutdown(
            async move {
                // An error means the handle is gone, which also means stop.
                let _ = stop.wait_for(|s| *s).await;
            },
        );
        let server = tokio::spawn(async move { server.await });
        tracing::info!(url = %format!("http://{addr}"), "simulated API server listening");
        Ok(ApiServerHandle {
            addr,
            shared,
            stop: stop_tx,
            server,
            lifecycle,
        })
    }
}

/// A running simulated API server: where it is, its kubeconfig, and how to stop it.
#[derive(Debug)]
pub struct ApiServerHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: tokio::sync::watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    lifecycle: JoinHandle<()>,
}

impl ApiServerHandle {
    /// Base URL of the server, such as `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A kubeconfig (YAML) whose current context points at this server.
    pub fn kubeconfig(&self) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: nodemend-sim\n  cluster:\n    server: {}\n\
             users:\n- name: nodemend-sim\n  user:\n    token: nodemend-sim\n\
             contexts:\n- name: nodemend-sim\n  context:\n    cluster: nodemend-sim\n    user: nodemend-sim\n    namespace: default\n\
             current-context: nodemend-sim\n",
            self.url()
        )
    }

    /// Writes [`Self::kubeconfig`] to `path`, so that kubectl and kube-rs find the server.
    pub fn write_kubeconfig(&self, path: &Path) -> Result<(), Error> {
        std::fs::write(path, self.kubeconfig()).map_err(|source| Error::WriteKubeconfig {
            path: path.to_owned(),
            source,
        })
    }

    /// Adds `text` to what `pods/log` returns for a container (what a kubelet would collect).
    pub fn append_pod_log(&self, namespace: &str, pod: &str, container: &str, text: &str) {
        if let Ok(mut logs) = self.shared.logs.lock() {
            logs.entry((namespace.into(), pod.into(), container.into()))
                .or_default()
                .push_str(text);
        }
    }

    /// Forgets the change history of every resource (an etcd compaction): every watch that
    /// resumes from an earlier version gets `410 Gone`, as after a long disconnect.
    pub fn compact_history(&self) {
        if let Ok(mut store) = self.shared.store.lock() {
            store.compact();
        }
    }

    /// How many watch requests were answered `410 Gone`.
    pub fn expired_watches(&self) -> u64 {
        self.shared.store.lock().map_or(0, |s| s.expired())
    }

    /// Number of objects stored, for figures.
    pub fn object_count(&self) -> usize {
        self.shared.lock().map_or(0, |s| s.len())
    }

    /// Stops accepting requests, ends open watches and the lifecycle controller, and waits.
    pub async fn shutdown(self) -> Result<(), Error> {
        self.stop.send_replace(true);
        let served = self.server.await;
        // The lifecycle task only ends by the stop signal; a join error means it panicked,
        // which the server result below does not hide.
        let _ = self.lifecycle.await;
        tracing::info!(addr = %self.addr, "simulated API server stopped");
        match served {
            Ok(result) => result.map_err(|source| Error::Serve { source }),
            Err(join) => Err(Error::Serve {
                source: std::io::Error::other(join),
            }),
        }
    }
}
