//! Test harness shared by the contract tests: a cluster that is the simulator, or a real API
//! server when `NODEMEND_TEST_KUBECONFIG` names a kubeconfig; each test gets its own namespace.

#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{DeleteParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use nodemend_sim::apiserver::{ApiServer, ApiServerConfig, ApiServerHandle};
use serde_json::json;

/// Environment variable naming a kubeconfig of a real API server to test against.
pub const REAL_KUBECONFIG: &str = "NODEMEND_TEST_KUBECONFIG";

/// A cluster under test and the namespace this test owns.
pub struct Cluster {
    pub client: Client,
    pub ns: String,
    pub real: bool,
    pub sim: Option<ApiServerHandle>,
}

/// A name unique to this run, for cluster-scoped objects and namespaces.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        fastrand::u32(..).to_string().get(..6).unwrap_or("0")
    )
}

impl Cluster {
    /// The simulator with default settings, or the real server.
    pub async fn start() -> Self {
        Self::start_with(ApiServerConfig::default()).await
    }

    /// The simulator with `config`, or the real server (which ignores it).
    pub async fn start_with(config: ApiServerConfig) -> Self {
        let (mut cfg, real, sim) = match std::env::var(REAL_KUBECONFIG) {
            Ok(path) => {
                let kc = Kubeconfig::read_from(&path).expect("readable kubeconfig");
                let cfg = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
                    .await
                    .expect("usable kubeconfig");
                (cfg, true, None)
            }
            Err(_) => {
                let sim = ApiServer::start(config).await.expect("simulator starts");
                (
                    Config::new(sim.url().parse().expect("url")),
                    false,
                    Some(sim),
                )
            }
        };
        // kube-rs retries 429 answers up to 15 times with growing back-off (minutes in all);
        // the tests look at the server's first answer, as a drain must.
        cfg.default_retry = false;
        let client = Client::try_from(cfg).expect("client");
        let ns = unique("t");
        let namespaces: Api<Namespace> = Api::all(client.clone());
        let body =
            serde_json::from_value(json!({ "metadata": { "name": ns } })).expect("namespace");
        namespaces
            .create(&PostParams::default(), &body)
            .await
            .expect("test namespace");
        Self {
            client,
            ns,
            real,
            sim,
        }
    }

    /// True (after saying why) when the test must not run against the real server.
    pub fn sim_only(&self, why: &str) -> bool {
        if self.real {
            println!("skipped against the real API server: {why}");
        }
        self.real
    }

    /// Removes the test namespace and stops the simulator.
    pub async fn finish(self) {
        let namespaces: Api<Namespace> = Api::all(self.client.clone());
        let _ = namespaces.delete(&self.ns, &DeleteParams::default()).await;
        if let Some(sim) = self.sim {
            sim.shutdown().await.expect("clean shutdown");
        }
    }
}

/// Polls `check` until it yields a value, failing after 20 s with `what`.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `Status` of a failed API call.
pub fn status_of<T: std::fmt::Debug>(result: kube::Result<T>) -> kube::core::Status {
    match result {
        Err(kube::Error::Api(s)) => *s,
        other => panic!("expected an API error, got {other:?}"),
    }
}
