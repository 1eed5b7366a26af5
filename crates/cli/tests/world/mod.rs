//! What the tests that run the binary against a whole simulated cluster share
//! (`diagnose.rs`, `collect.rs`): starting a scenario and waiting until every node is Ready,
//! and running `nodemend` with the cluster's kubeconfig and Azure environment.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use futures::StreamExt as _;
use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::runtime::{WatchStreamExt as _, watcher};
use nodemend_sim::scenario::Scenario;
use nodemend_sim::world::{SimWorld, WorldOptions};

/// A running simulated cluster and where its connection files are.
pub(crate) struct World {
    /// The simulators.
    pub(crate) sim: SimWorld,
    /// Where `kubeconfig` and `azure.env` are written.
    pub(crate) dir: tempfile::TempDir,
}

pub(crate) fn scenario_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios")
        .join(format!("{name}.toml"))
}

/// Starts the scenario file `scenarios/<name>.toml`; see [`start_scenario`].
pub(crate) async fn start(name: &str) -> World {
    let path = scenario_path(name);
    let scenario = Scenario::load(&path.display().to_string()).unwrap_or_else(|e| panic!("{e}"));
    start_scenario(scenario).await
}

/// Starts a scenario and waits (on a watch, not a timer) until every simulated node is Ready.
pub(crate) async fn start_scenario(scenario: Scenario) -> World {
    let name = scenario.name.clone();
    let dir = tempfile::tempdir().expect("temporary directory");
    let sim = SimWorld::start(
        scenario,
        WorldOptions {
            kubeconfig: None,
            state_dir: dir.path().to_owned(),
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    let want = sim.fleet.nodes().len();
    let nodes: Api<Node> = Api::all(sim.client.clone());
    let mut ready: BTreeMap<String, bool> = BTreeMap::new();
    let stream = watcher(nodes, watcher::Config::default()).default_backoff();
    let mut stream = std::pin::pin!(stream);
    let all_ready = async {
        while let Some(event) = stream.next().await {
            let mut note = |node: &Node| {
                let is_ready = node
                    .status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
                ready.insert(node.metadata.name.clone().unwrap_or_default(), is_ready);
            };
            match event {
                Ok(watcher::Event::Apply(node) | watcher::Event::InitApply(node)) => note(&node),
                Ok(_) => {}
                Err(err) => panic!("{name}: node watch failed: {err}"),
            }
            if ready.len() >= want && ready.values().all(|r| *r) {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), all_ready)
        .await
        .unwrap_or_else(|_| panic!("{name}: {want} nodes did not all become Ready in 60 s"));
    World { sim, dir }
}

impl World {
    /// `NAME=value` lines of `azure.env`.
    pub(crate) fn azure_env(&self) -> Vec<(String, String)> {
        let text = std::fs::read_to_string(self.dir.path().join("azure.env")).expect("azure.env");
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    pub(crate) fn kubeconfig(&self) -> String {
        self.sim.kubeconfig.display().to_string()
    }

    /// Runs the binary (with the Azure environment when `azure`) on a blocking thread, so the
    /// simulators keep serving on this runtime.
    pub(crate) async fn nodemend(&self, args: &[&str], azure: bool) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_nodemend"));
        command
            .args(args)
            .env("NO_COLOR", "1")
            .env_remove("KUBECONFIG")
            .env_remove("NODEMEND_ARCHIVE")
            .env_remove("NODEMEND_STATE_DIR")
            .env_remove("XDG_STATE_HOME")
            .env("HOME", self.dir.path())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null());
        for name in [
            "NODEMEND_RESOURCE_GROUP",
            "NODEMEND_CLUSTER",
            "AZURE_SUBSCRIPTION_ID",
            "NODEMEND_ARM_ENDPOINT",
        ] {
            command.env_remove(name);
        }
        if azure {
            command.envs(self.azure_env());
        }
        tokio::task::spawn_blocking(move || command.output().expect("run nodemend"))
            .await
            .expect("the binary's thread")
    }
}
