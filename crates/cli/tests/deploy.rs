//! The manifests in `deploy/` against the code: the CRD is the one `nodemend crds` prints, the
//! RBAC rules are exactly the permissions in `nodemend_kube::permissions::REQUIRED` (each row
//! names the function that makes the call), and every kustomization builds.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use nodemend_kube::permissions::{REQUIRED, Scope};
use serde::Deserialize;

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Every YAML document of a file, as JSON values.
fn documents(text: &str) -> Vec<serde_json::Value> {
    serde_yaml_ng::Deserializer::from_str(text)
        .map(|doc| serde_json::Value::deserialize(doc).expect("valid YAML document"))
        .filter(|v| !v.is_null())
        .collect()
}

#[test]
fn the_crd_in_deploy_is_the_one_the_code_prints() {
    let out = Command::new(env!("CARGO_BIN_EXE_nodemend"))
        .arg("crds")
        .output()
        .expect("run nodemend crds");
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).expect("UTF-8");
    let file = deploy_dir().join("base/crd.yaml");
    assert!(
        read(&file) == printed,
        "{} differs from `nodemend crds`; regenerate it with\n  cargo run -p nodemend -- crds > deploy/base/crd.yaml",
        file.display()
    );
}

/// One granted or required access: (scope, group, resource, verb, resource name).
type Access = (String, String, String, String, String);

fn scope_key(scope: Scope) -> String {
    match scope {
        Scope::Cluster => "cluster".into(),
        Scope::Namespace(ns) => format!("namespace {ns}"),
        Scope::Own => "namespace nodemend".into(),
    }
}

fn required() -> BTreeSet<Access> {
    let mut set = BTreeSet::new();
    for p in REQUIRED {
        for verb in p.verbs {
            set.insert((
                scope_key(p.scope),
                p.group.to_owned(),
                p.resource.to_owned(),
                (*verb).to_owned(),
                p.resource_name.unwrap_or("").to_owned(),
            ));
        }
    }
    set
}

fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// What the roles in rbac.yaml grant, counting only roles bound to the nodemend ServiceAccount.
fn granted(docs: &[serde_json::Value]) -> BTreeSet<Access> {
    let bound: BTreeSet<(String, String)> = docs
        .iter()
        .filter(|d| d["kind"].as_str().is_some_and(|k| k.ends_with("Binding")))
        .filter(|d| {
            d["subjects"].as_array().is_some_and(|s| {
                s.iter().any(|s| {
                    s["kind"] == "ServiceAccount"
                        && s["name"] == "nodemend"
                        && s["namespace"] == "nodemend"
                })
            })
        })
        .map(|d| {
            let ns = d["metadata"]["namespace"].as_str().unwrap_or("").to_owned();
            let role = d["roleRef"]["name"].as_str().unwrap_or("").to_owned();
            match d["roleRef"]["kind"].as_str() {
                Some("ClusterRole") => (String::new(), role),
                _ => (ns, role),
            }
        })
        .collect();
    let mut set = BTreeSet::new();
    for doc in docs {
        let (scope, ns) = match doc["kind"].as_str() {
            Some("ClusterRole") => ("cluster".to_owned(), String::new()),
            Some("Role") => {
                let ns = doc["metadata"]["namespace"]
                    .as_str()
                    .expect("a Role names its namespace");
                (format!("namespace {ns}"), ns.to_owned())
            }
            _ => continue,
        };
        let name = doc["metadata"]["name"].as_str().unwrap_or("").to_owned();
        assert!(
            bound.contains(&(ns, name.clone())),
            "role {name} is bound to nothing"
        );
        for rule in doc["rules"].as_array().expect("rules") {
            let names = strings(&rule["resourceNames"]);
            let names = if names.is_empty() {
                vec![String::new()]
            } else {
                names
            };
            for group in strings(&rule["apiGroups"]) {
                for resource in strings(&rule["resources"]) {
                    for verb in strings(&rule["verbs"]) {
                        for n in &names {
                            set.insert((
                                scope.clone(),
                                group.clone(),
                                resource.clone(),
                                verb.clone(),
                                n.clone(),
                            ));
                        }
                    }
                }
            }
        }
    }
    set
}

#[test]
fn rbac_grants_exactly_what_the_code_calls() {
    let docs = documents(&read(&deploy_dir().join("base/rbac.yaml")));
    let granted = granted(&docs);
    let required = required();
    let unused: Vec<_> = granted.difference(&required).collect();
    let missing: Vec<_> = required.difference(&granted).collect();
    assert!(
        unused.is_empty() && missing.is_empty(),
        "deploy/base/rbac.yaml and nodemend_kube::permissions::REQUIRED differ\n\
         granted but never called: {unused:#?}\ncalled but not granted: {missing:#?}"
    );
}

#[test]
fn rbac_grants_no_wildcards() {
    let text = read(&deploy_dir().join("base/rbac.yaml"));
    assert!(
        !text.contains('*'),
        "rbac.yaml must name verbs and resources"
    );
}

fn kustomize(dir: &Path) -> Option<String> {
    let out = match Command::new("kubectl").arg("kustomize").arg(dir).output() {
        Ok(out) => out,
        Err(e) => {
            eprintln!("SKIPPED: kubectl not runnable ({e}); kustomizations not built");
            return None;
        }
    };
    assert!(
        out.status.success(),
        "kubectl kustomize {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).expect("UTF-8"))
}

fn find<'a>(docs: &'a [serde_json::Value], kind: &str, name: &str) -> &'a serde_json::Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

#[test]
fn the_base_builds_with_a_hardened_two_replica_deployment() {
    let Some(out) = kustomize(&deploy_dir().join("base")) else {
        return;
    };
    let docs = documents(&out);
    let deployment = find(&docs, "Deployment", "nodemend");
    assert_eq!(deployment["spec"]["replicas"], 2);
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    let security = &container["securityContext"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["capabilities"]["drop"][0], "ALL");
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    let env = serde_json::to_string(&container["env"]).expect("JSON");
    for field in ["metadata.name", "metadata.namespace"] {
        assert!(env.contains(field), "downward API {field} missing: {env}");
    }
    let args = strings(&container["args"]);
    assert!(
        args.iter()
            .any(|a| a == "--policy=/etc/nodemend/policy.yaml")
    );
    assert!(!args.iter().any(|a| a == "--no-leader-election"));
    // The ConfigMap generator adds a hash suffix; the volume must follow it.
    let policy_map = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap")
        .expect("policy ConfigMap");
    assert_eq!(
        pod["volumes"][0]["configMap"]["name"],
        policy_map["metadata"]["name"]
    );
    let service = find(&docs, "Service", "nodemend");
    assert_eq!(service["spec"]["ports"][0]["name"], "metrics");
    find(&docs, "PodDisruptionBudget", "nodemend");
    find(&docs, "CustomResourceDefinition", "noderepairs.nodemend.io");
    // Roles outside nodemend's namespace stay where they are.
    let namespaces: BTreeSet<&str> = docs
        .iter()
        .filter(|d| d["kind"] == "Role")
        .filter_map(|d| d["metadata"]["namespace"].as_str())
        .collect();
    assert_eq!(
        namespaces,
        BTreeSet::from(["default", "kube-node-lease", "nodemend"])
    );
}

#[test]
fn the_overlays_build_and_change_what_they_say() {
    let overlays = deploy_dir().join("overlays");
    let Some(wi) = kustomize(&overlays.join("aks-workload-identity")) else {
        return;
    };
    let docs = documents(&wi);
    let account = find(&docs, "ServiceAccount", "nodemend");
    assert!(account["metadata"]["annotations"]["azure.workload.identity/client-id"].is_string());
    let deployment = find(&docs, "Deployment", "nodemend");
    assert_eq!(
        deployment["spec"]["template"]["metadata"]["labels"]["azure.workload.identity/use"],
        "true"
    );

    let dry = documents(&kustomize(&overlays.join("dry-run")).expect("kubectl ran above"));
    let args = strings(
        &find(&dry, "Deployment", "nodemend")["spec"]["template"]["spec"]["containers"][0]["args"],
    );
    assert!(args.iter().any(|a| a == "--dry-run"), "{args:?}");

    let archive = documents(&kustomize(&overlays.join("archive-pvc")).expect("kubectl ran above"));
    find(&archive, "PersistentVolumeClaim", "nodemend-state");
    let pod = &find(&archive, "Deployment", "nodemend")["spec"]["template"]["spec"];
    let mounts = serde_json::to_string(&pod["containers"][0]["volumeMounts"]).expect("JSON");
    assert!(mounts.contains("/var/lib/nodemend"), "{mounts}");
    let state = pod["volumes"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["name"] == "state"))
        .expect("a state volume");
    assert_eq!(
        state["persistentVolumeClaim"]["claimName"],
        "nodemend-state"
    );
    assert!(state.get("emptyDir").is_none(), "{state}");
}
