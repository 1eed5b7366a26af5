//! kubectl against the API server (the simulator, or the real server named by
//! `NODEMEND_TEST_KUBECONFIG`): get, describe, apply, patch and delete. Skipped, with a printed
//! reason, when kubectl is not on PATH.

mod common;

use std::path::{Path, PathBuf};

use common::{Cluster, REAL_KUBECONFIG, eventually, unique};
use serde_json::Value;

struct Kubectl {
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

impl Kubectl {
    /// kubectl pointed at the cluster, or `None` (after saying why) when kubectl is missing.
    async fn for_cluster(c: &Cluster) -> Option<Self> {
        let probe = tokio::process::Command::new("kubectl")
            .args(["version", "--client"])
            .output()
            .await;
        if probe.is_err() {
            println!("skipped: kubectl is not on PATH");
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = match &c.sim {
            Some(sim) => {
                let path = dir.path().join("kubeconfig");
                sim.write_kubeconfig(&path).expect("kubeconfig written");
                path
            }
            None => PathBuf::from(
                std::env::var(REAL_KUBECONFIG)
                    .expect("a cluster that is not the simulator has a kubeconfig"),
            ),
        };
        Some(Self {
            kubeconfig,
            _dir: dir,
        })
    }

    /// Runs kubectl; returns (success, stdout, stderr).
    async fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = tokio::process::Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .output()
            .await
            .expect("kubectl runs");
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.success(), text(&out.stdout), text(&out.stderr))
    }

    async fn ok(&self, args: &[&str]) -> String {
        let (ok, stdout, stderr) = self.run(args).await;
        assert!(ok, "kubectl {args:?} failed: {stderr}");
        stdout
    }

    async fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        serde_json::from_str(&self.ok(&all).await).expect("kubectl printed JSON")
    }
}

fn manifest(dir: &Path, node: &str, ns: &str, data: &str) -> PathBuf {
    let path = dir.join(format!("{node}-{data}.yaml"));
    let yaml = format!(
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: {node}\n  labels:\n    kubernetes.azure.com/agentpool: np1\n\
         status:\n  conditions:\n  - type: Ready\n    status: \"True\"\n    reason: KubeletReady\n    message: kubelet is posting ready status\n\
         \x20   lastHeartbeatTime: \"2026-01-01T00:00:00Z\"\n    lastTransitionTime: \"2026-01-01T00:00:00Z\"\n\
         ---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: {ns}\ndata:\n  mode: {data}\n"
    );
    std::fs::write(&path, yaml).expect("manifest written");
    path
}

#[tokio::test]
async fn kubectl_gets_describes_applies_patches_and_deletes() {
    let c = Cluster::start().await;
    let Some(k) = Kubectl::for_cluster(&c).await else {
        return c.finish().await;
    };
    let node = unique("kubectl-node");
    let dir = tempfile::tempdir().expect("temp dir");
    let first = manifest(dir.path(), &node, &c.ns, "one");
    let out = k
        .ok(&["apply", "-f", first.to_str().expect("utf-8 path")])
        .await;
    assert!(
        out.contains(&format!("node/{node} created")) && out.contains("configmap/settings created"),
        "{out}"
    );
    let second = manifest(dir.path(), &node, &c.ns, "two");
    let out = k
        .ok(&["apply", "-f", second.to_str().expect("utf-8 path")])
        .await;
    assert!(out.contains("configmap/settings configured"), "{out}");
    let cm = k.json(&["get", "configmap", "settings", "-n", &c.ns]).await;
    assert_eq!(cm["data"]["mode"], "two");

    let table = k.ok(&["get", "nodes", &node]).await;
    assert!(
        table.lines().next().unwrap_or_default().starts_with("NAME"),
        "{table}"
    );
    assert!(table.contains(&node), "{table}");

    k.ok(&[
        "patch",
        "node",
        &node,
        "-p",
        r#"{"spec":{"unschedulable":true}}"#,
    ])
    .await;
    k.ok(&[
        "patch",
        "node",
        &node,
        "--type",
        "merge",
        "-p",
        r#"{"metadata":{"labels":{"team":"infra"}}}"#,
    ])
    .await;
    k.ok(&[
        "patch",
        "node",
        &node,
        "--type",
        "json",
        "-p",
        r#"[{"op":"add","path":"/metadata/annotations/note","value":"hi"}]"#,
    ])
    .await;
    let patched = k.json(&["get", "node", &node]).await;
    assert_eq!(patched["spec"]["unschedulable"], true);
    assert_eq!(patched["metadata"]["labels"]["team"], "infra");
    assert_eq!(patched["metadata"]["annotations"]["note"], "hi");

    let described = k.ok(&["describe", "node", &node]).await;
    for expected in [
        format!("Name:               {node}"),
        "Unschedulable:      true".to_owned(),
        "KubeletReady".to_owned(),
    ] {
        assert!(
            described.contains(&expected),
            "describe lacks {expected:?}:\n{described}"
        );
    }

    let out = k
        .ok(&["delete", "configmap", "settings", "-n", &c.ns])
        .await;
    assert!(out.contains("configmap \"settings\" deleted"), "{out}");
    let (found, _, stderr) = k.run(&["get", "configmap", "settings", "-n", &c.ns]).await;
    assert!(!found && stderr.contains("NotFound"), "{stderr}");
    k.ok(&["delete", "node", &node]).await;
    c.finish().await;
}

#[tokio::test]
async fn kubectl_serves_a_custom_resource_after_its_crd() {
    let c = Cluster::start().await;
    let Some(k) = Kubectl::for_cluster(&c).await else {
        return c.finish().await;
    };
    let group = format!("{}.nodemend.test", unique("k"));
    let dir = tempfile::tempdir().expect("temp dir");
    let crd = dir.path().join("crd.yaml");
    let yaml = format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gadgets.{group}\n\
         spec:\n  group: {group}\n  scope: Namespaced\n  names:\n    plural: gadgets\n    singular: gadget\n    kind: Gadget\n\
         \x20 versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n\
         \x20       type: object\n        x-kubernetes-preserve-unknown-fields: true\n\
         ---\napiVersion: {group}/v1\nkind: Gadget\nmetadata:\n  name: g1\n  namespace: {ns}\nspec:\n  size: 3\n",
        ns = c.ns
    );
    std::fs::write(&crd, yaml).expect("manifest written");
    let path = crd.to_str().expect("utf-8 path");
    // The custom resource is served only once the CRD is established.
    eventually("CRD and custom resource applied", || async {
        k.run(&["apply", "-f", path]).await.0.then_some(())
    })
    .await;
    let listed = k
        .ok(&["get", &format!("gadgets.{group}"), "-n", &c.ns])
        .await;
    assert!(listed.contains("g1"), "{listed}");
    let g1 = k
        .json(&["get", &format!("gadgets.{group}"), "g1", "-n", &c.ns])
        .await;
    assert_eq!(g1["spec"]["size"], 3);
    k.ok(&["delete", "crd", &format!("gadgets.{group}")]).await;
    c.finish().await;
}
