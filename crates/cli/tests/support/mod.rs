//! What the tests that run `nodemend run` as its own process share: the custom role, a small
//! simulated cluster to repair, the controller process, and waiting for a NodeRepair record.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kube::Api;
use nodemend_kube::crd::NodeRepair;
use nodemend_sim::scenario::Scenario;

/// The `Actions` of `deploy/azure-role.json`.
pub(crate) fn role_actions() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/azure-role.json");
    let text = std::fs::read_to_string(&path).expect("read deploy/azure-role.json");
    let role: serde_json::Value = serde_json::from_str(&text).expect("the role is JSON");
    role["Actions"]
        .as_array()
        .expect("Actions")
        .iter()
        .map(|a| a.as_str().expect("an action").to_owned())
        .collect()
}

/// A cluster `name` with three nodes in `nodepool1` (whose subnet sits in a resource group of
/// its own), quick kubelets, a two-second restart, one-second updates and reconciles, and the identity holding `role` (all
/// actions when `None`). Faults are injected by the test.
pub(crate) fn cluster_scenario(name: &str, role: Option<&[String]>) -> Scenario {
    let sub = "00000000-0000-0000-0000-000000000001";
    let subnet = format!(
        "/subscriptions/{sub}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/aks"
    );
    let role = match role {
        Some(actions) => format!(
            "role_actions = {}",
            serde_json::to_string(actions).expect("JSON strings are TOML strings")
        ),
        None => String::new(),
    };
    let text = format!(
        r#"
name = "{name}"
description = "Three nodes; the test injects the faults."

[kubernetes]
node_grace = "4s"
lease_interval = "1s"
status_interval = "2s"

[azure]
subscription = "{sub}"
{role}

[azure.cluster]
name = "{name}"
resource_group = "rg-{name}"

[[azure.pools]]
name = "nodepool1"
count = 3
subnet_id = "{subnet}"

[[azure.subnets]]
id = "{subnet}"
address_prefix = "10.224.0.0/16"
ip_configurations = 3

[azure.timing]
restart_secs = 2.0
update_secs = 1.0
reconcile_secs = 1.0
poll_retry_after_secs = 1.0
"#
    );
    Scenario::parse(name, &text).unwrap_or_else(|e| panic!("{e}"))
}

/// `NAME=value` lines of the `azure.env` a simulated world writes in `dir`.
pub(crate) fn azure_env(dir: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(dir.join("azure.env")).expect("azure.env");
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// `nodemend run` as a child process, its output in a file; stopped when dropped.
pub(crate) struct Controller {
    child: Child,
    log: PathBuf,
}

impl Controller {
    /// Starts `nodemend run` with `kubeconfig`, the Azure environment `env`, a policy that
    /// acts after three seconds, and leader election in `lease_namespace`. `dir` holds the
    /// policy file and the log.
    pub(crate) fn start(
        kubeconfig: &Path,
        env: &[(String, String)],
        lease_namespace: &str,
        dir: &Path,
    ) -> Self {
        let policy = dir.join("policy.yaml");
        std::fs::write(&policy, "threshold: 3s\n").expect("write the policy");
        let log = dir.join("controller.log");
        let out = std::fs::File::create(&log).expect("create the log");
        let err = out.try_clone().expect("log handle");
        let child = Command::new(env!("CARGO_BIN_EXE_nodemend"))
            .arg("run")
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .arg("--policy")
            .arg(&policy)
            .args([
                "--metrics-addr",
                "127.0.0.1:0",
                "--identity",
                "nodemend-test",
            ])
            .args(["--lease-namespace", lease_namespace])
            .env_remove("KUBECONFIG")
            .env_remove("POD_NAMESPACE")
            .env("HOME", dir)
            .env("NODEMEND_STATE_DIR", dir)
            .env_remove("NODEMEND_ARCHIVE")
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "info")
            .envs(env.iter().cloned())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start nodemend run");
        Self { child, log }
    }

    /// What the controller has written so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Panics with the log when the process has exited.
    pub(crate) fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("nodemend run exited with {status}:\n{}", self.log());
        }
    }
}

impl Drop for Controller {
    /// Stops the controller as Kubernetes would (SIGTERM), so it releases its leader Lease for
    /// whatever runs next; kills it if it has not exited ten seconds later.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The NodeRepair records of `node`.
pub(crate) async fn records_of(client: &kube::Client, node: &str) -> Vec<NodeRepair> {
    let api: Api<NodeRepair> = Api::all(client.clone());
    api.list(&Default::default())
        .await
        .expect("list NodeRepair records")
        .items
        .into_iter()
        .filter(|r| r.spec.node == node)
        .collect()
}

/// Waits (polling, with a deadline of `secs`) until `check` holds; panics with the controller's
/// log otherwise.
pub(crate) async fn wait_until<F, Fut>(
    what: &str,
    secs: u64,
    controller: &mut Controller,
    mut check: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !check().await {
        controller.assert_running();
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {secs} s: {what}\ncontroller log:\n{}",
            controller.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The phase of the newest record of `node`, if any.
pub(crate) async fn phase_of(client: &kube::Client, node: &str) -> Option<String> {
    let mut records = records_of(client, node).await;
    records.sort_by(|a, b| a.spec.started.cmp(&b.spec.started));
    records.pop().and_then(|r| r.status).map(|s| s.phase)
}
