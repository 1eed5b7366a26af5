//! `nodemend collect` end to end: the simulators (Kubernetes API server, ARM, kubelets) run a
//! scenario, secrets are planted in a pod's environment, its log, an event and the archive,
//! and the real binary writes a bundle that the test unpacks and reads.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Output;

use flate2::read::GzDecoder;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::Api;
use kube::api::PostParams;
use nodemend_store::{Archive, ArchivedEvent};
use serde_json::{Value, json};
use world::{World, start};

mod world;

/// The planted secret. Each place it is planted uses a shape the redactor must recognise.
const SECRET: &str = "Pl4nted-S3cret-9f8e7d6c";

impl World {
    /// Plants the secret in a kube-system pod on `node` (environment and log), in an event
    /// about `node`, and gives CoreDNS a harmless log line.
    async fn plant(&self, node: &str) {
        let pods: Api<Pod> = Api::namespaced(self.sim.client.clone(), "kube-system");
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "leaky-0", "namespace": "kube-system"},
            "spec": {"nodeName": node, "containers": [{
                "name": "app",
                "image": "registry.k8s.io/pause:3.9",
                "env": [
                    {"name": "DB_PASSWORD", "value": SECRET},
                    {"name": "LOG_MODE", "value": "verbose"}
                ]
            }]}
        }))
        .expect("pod");
        pods.create(&PostParams::default(), &pod)
            .await
            .expect("create the leaky pod");
        let api = self.sim.api.as_ref().expect("the simulated API server");
        api.append_pod_log(
            "kube-system",
            "leaky-0",
            "app",
            &format!(
                "starting\nlogin with client_secret={SECRET}\nGET /v1 Authorization: Bearer {SECRET}\n"
            ),
        );
        api.append_pod_log("kube-system", "coredns-0", "app", "plain coredns line\n");
        let events: Api<Event> = Api::namespaced(self.sim.client.clone(), "default");
        let event: Event = serde_json::from_value(json!({
            "metadata": {"name": "planted.1", "namespace": "default"},
            "involvedObject": {"kind": "Node", "name": node},
            "type": "Warning",
            "reason": "PlantedCredential",
            "message": format!("kubelet retried with token={SECRET}"),
            "count": 1,
            "firstTimestamp": Timestamp::now().to_string(),
            "lastTimestamp": Timestamp::now().to_string(),
            "source": {"component": "kubelet", "host": node}
        }))
        .expect("event");
        events
            .create(&PostParams::default(), &event)
            .await
            .expect("create the event");
    }
}

/// An archive with one event of `node` whose message holds the secret.
fn archive_with_secret(path: &Path, node: &str) {
    let mut archive = Archive::open(path).expect("archive");
    let now = Timestamp::now();
    archive
        .ingest(&[ArchivedEvent {
            uid: "uid-planted".into(),
            namespace: "default".into(),
            name: "planted.2".into(),
            object_kind: Some("Node".into()),
            object_name: Some(node.into()),
            object_namespace: None,
            node: Some(node.into()),
            event_type: "Warning".into(),
            reason: "NodeRebootError".into(),
            message: format!(
                "reboot failed: https://acct.blob.core.windows.net/x?sv=1&sig={SECRET}"
            ),
            source: Some("aks-remediator".into()),
            first_seen: now,
            last_seen: now,
            count: 1,
            series_count: None,
            resource_version: None,
        }])
        .expect("ingest");
}

/// Every file of a bundle by its path under the top directory, and that directory's name.
fn unpack(path: &Path) -> (String, BTreeMap<String, String>) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut archive = tar::Archive::new(GzDecoder::new(file));
    let mut roots = BTreeSet::new();
    let mut files = BTreeMap::new();
    for entry in archive.entries().expect("a tar stream") {
        let mut entry = entry.expect("an entry");
        let full = entry.path().expect("a path").display().to_string();
        let (root, rest) = full.split_once('/').expect("under a top directory");
        roots.insert(root.to_owned());
        let mut text = String::new();
        entry.read_to_string(&mut text).expect("UTF-8 content");
        files.insert(rest.to_owned(), text);
    }
    assert_eq!(roots.len(), 1, "one top directory: {roots:?}");
    (roots.into_iter().next().unwrap_or_default(), files)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_holds_every_part_and_no_secret() {
    let world = start("diag-system-pods-down").await;
    let node = world.sim.fleet.nodes()[0].clone();
    world.plant(&node).await;
    let archive = world.dir.path().join("archive.db");
    archive_with_secret(&archive, &node);
    let out: PathBuf = world.dir.path().join("bundle.tar.gz");
    let kubeconfig = world.kubeconfig();
    let result = world
        .nodemend(
            &[
                "collect",
                "--kubeconfig",
                &kubeconfig,
                "--node",
                &node,
                "--out",
                &out.display().to_string(),
                "--archive",
                &archive.display().to_string(),
                "--quiet",
            ],
            true,
        )
        .await;
    assert_eq!(result.status.code(), Some(0), "{}", stderr(&result));
    let (root, files) = unpack(&out);
    assert!(root.starts_with("nodemend-bundle-"), "{root}");

    let node_dir = format!("kubernetes/node-{node}");
    for expected in [
        "manifest.json".to_owned(),
        "report/report.txt".into(),
        "report/report.json".into(),
        "report/report.md".into(),
        "report/report.html".into(),
        "report/snapshot.json".into(),
        "kubernetes/nodes.yaml".into(),
        "kubernetes/kube-system/pods.yaml".into(),
        "kubernetes/kube-system/events.yaml".into(),
        format!("{node_dir}/node.yaml"),
        format!("{node_dir}/pods.yaml"),
        format!("{node_dir}/events.yaml"),
        "logs/kube-system/coredns-0/app.log".into(),
        "logs/kube-system/leaky-0/app.log".into(),
        "archive/events.json".into(),
        "archive/repairs.json".into(),
        format!("archive/node-{node}/events.json"),
        "azure/instance-views.json".into(),
        "azure/activity-log.json".into(),
        format!("azure/node-{node}/instance-view.json"),
    ] {
        assert!(
            files.contains_key(&expected),
            "{expected} missing; the bundle has {:?}",
            files.keys().collect::<Vec<_>>()
        );
    }

    let report: Value = serde_json::from_str(&files["report/report.json"]).expect("report JSON");
    assert_eq!(report["schema"], "nodemend.diagnosis/v1");
    assert_eq!(report["sources"]["kubernetes"], true);
    assert_eq!(report["sources"]["azure"], true);

    let manifest: Value = serde_json::from_str(&files["manifest.json"]).expect("manifest JSON");
    let listed: BTreeSet<&str> = manifest["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["path"].as_str().expect("path"))
        .collect();
    let present: BTreeSet<&str> = files
        .keys()
        .map(String::as_str)
        .filter(|p| *p != "manifest.json")
        .collect();
    assert_eq!(listed, present, "the manifest lists exactly the files");
    assert_eq!(manifest["node"], node.as_str());

    assert!(files["logs/kube-system/coredns-0/app.log"].contains("plain coredns line"));
    let leaky_log = &files["logs/kube-system/leaky-0/app.log"];
    assert!(leaky_log.contains("starting"), "{leaky_log}");
    assert!(
        leaky_log.contains("client_secret=[REDACTED]"),
        "{leaky_log}"
    );
    assert!(leaky_log.contains("Bearer [REDACTED]"), "{leaky_log}");
    let node_pods = &files[&format!("{node_dir}/pods.yaml")];
    assert!(
        node_pods.contains("leaky-0") && node_pods.contains("verbose"),
        "{node_pods}"
    );
    assert!(node_pods.contains("[REDACTED]"), "{node_pods}");
    let node_events = &files[&format!("{node_dir}/events.yaml")];
    assert!(node_events.contains("PlantedCredential"), "{node_events}");
    assert!(files["archive/events.json"].contains("sig=[REDACTED]"));
    assert!(
        files["report/snapshot.json"].contains("token=[REDACTED]"),
        "the snapshot keeps the event, redacted"
    );
    assert!(
        manifest["notes"]
            .to_string()
            .contains("redacted from the diagnosis snapshot")
    );
    let redactions: u64 = manifest["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["redactions"].as_u64().expect("count"))
        .sum();
    assert!(redactions >= 6, "{manifest}");

    for (path, text) in &files {
        assert!(
            !text.contains(SECRET),
            "{path} holds the planted secret:\n{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_bundle_is_kept_unless_forced() {
    let world = start("diag-system-pods-down").await;
    let out = world.dir.path().join("bundle.tar.gz");
    std::fs::write(&out, "an earlier bundle").expect("write");
    let kubeconfig = world.kubeconfig();
    let out_arg = out.display().to_string();
    let missing_archive = world.dir.path().join("no-such-archive.db");
    let missing_archive = missing_archive.display().to_string();
    let args = [
        "collect",
        "--kubeconfig",
        &kubeconfig,
        "--out",
        &out_arg,
        "--archive",
        &missing_archive,
        "--quiet",
    ];
    let refused = world.nodemend(&args, false).await;
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("--force"), "{}", stderr(&refused));
    assert_eq!(
        std::fs::read_to_string(&out).expect("read"),
        "an earlier bundle"
    );
    let partial: Vec<String> = std::fs::read_dir(world.dir.path())
        .expect("list")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(partial.is_empty(), "{partial:?}");

    let mut forced = args.to_vec();
    forced.push("--force");
    let replaced = world.nodemend(&forced, false).await;
    assert_eq!(replaced.status.code(), Some(0), "{}", stderr(&replaced));
    let (_, files) = unpack(&out);
    let manifest: Value = serde_json::from_str(&files["manifest.json"]).expect("manifest JSON");
    let missing = manifest["missing"].as_array().expect("missing");
    assert!(
        missing.iter().any(|m| m["part"] == "archive/"
            && m["error"]
                .as_str()
                .is_some_and(|e| e.contains("no archive"))),
        "{manifest}"
    );
    assert!(
        manifest["notes"].to_string().contains("Azure not read"),
        "{manifest}"
    );
    assert!(files.contains_key("kubernetes/kube-system/pods.yaml"));
    assert!(!files.contains_key("azure/instance-views.json"));
}
