//! What the real server and its controllers do around a write of particular resources:
//! defaults on create, validation, CRD registration, namespace cleanup, PDB status.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::clock::format_time;
use super::delete;
use super::disruption;
use super::events;
use super::resource::{self, ResourceType, View};
use super::store::Store;

/// Validation failures of a new object, as `(field, message)` pairs.
pub(crate) fn validate_create(rt: &ResourceType, object: &Value) -> Vec<(String, String)> {
    let mut causes = match (rt.group.as_str(), rt.plural.as_str()) {
        (_, "events") if !rt.custom => events::validate(object, rt.view == View::EventsV1),
        ("apiextensions.k8s.io", "customresourcedefinitions") => validate_crd(object),
        _ => Vec::new(),
    };
    causes.extend(validate_update(rt, object).unwrap_or_default());
    causes
}

/// Validation failures of a changed object, `None` when it is valid.
pub(crate) fn validate_update(rt: &ResourceType, object: &Value) -> Option<Vec<(String, String)>> {
    if rt.plural == "poddisruptionbudgets" && !rt.custom {
        let spec = &object["spec"];
        if spec.get("minAvailable").is_some() && spec.get("maxUnavailable").is_some() {
            return Some(vec![(
                "spec".to_owned(),
                "Invalid value: \"\": minAvailable and maxUnavailable cannot be both set"
                    .to_owned(),
            )]);
        }
    }
    None
}

fn validate_crd(crd: &Value) -> Vec<(String, String)> {
    let spec = &crd["spec"];
    let group = spec["group"].as_str().unwrap_or_default();
    let plural = spec["names"]["plural"].as_str().unwrap_or_default();
    let name = crd["metadata"]["name"].as_str().unwrap_or_default();
    let mut causes = Vec::new();
    if name != format!("{plural}.{group}") {
        causes.push((
            "metadata.name".to_owned(),
            format!("Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"),
        ));
    }
    for (field, value) in [
        ("spec.group", group),
        ("spec.names.plural", plural),
        (
            "spec.names.kind",
            spec["names"]["kind"].as_str().unwrap_or_default(),
        ),
    ] {
        if value.is_empty() {
            causes.push((field.to_owned(), "Required value".to_owned()));
        }
    }
    if !matches!(spec["scope"].as_str(), Some("Namespaced" | "Cluster")) {
        causes.push((
            "spec.scope".to_owned(),
            "Unsupported value: must be Namespaced or Cluster".to_owned(),
        ));
    }
    let versions = spec["versions"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if versions
        .iter()
        .filter(|v| v["storage"].as_bool() == Some(true))
        .count()
        != 1
    {
        causes.push((
            "spec.versions".to_owned(),
            "Invalid value: must have exactly one version marked as storage version".to_owned(),
        ));
    }
    causes
}

/// Server-side defaults of a new object.
pub(crate) fn prepare_create(rt: &ResourceType, object: &mut Value, now: Timestamp) {
    match (rt.group.as_str(), rt.plural.as_str(), rt.custom) {
        (_, _, true) if rt.status => remove_field(object, "status"),
        ("", "pods", false) => {
            let qos = if object["spec"]["containers"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| {
                    c.get("resources")
                        .is_some_and(|r| r.get("requests").is_some() || r.get("limits").is_some())
                }) {
                "Burstable"
            } else {
                "BestEffort"
            };
            object["status"] = json!({ "phase": "Pending", "qosClass": qos });
        }
        ("", "nodes", false) => {
            // The TaintNodesByCondition admission plugin: a new node is not ready until the
            // node lifecycle controller has seen it Ready.
            let taints = object["spec"]["taints"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if !taints
                .iter()
                .any(|t| t["key"] == "node.kubernetes.io/not-ready" && t["effect"] == "NoSchedule")
            {
                let mut taints = taints;
                taints
                    .push(json!({ "key": "node.kubernetes.io/not-ready", "effect": "NoSchedule" }));
                object["spec"]["taints"] = Value::Array(taints);
            }
        }
        ("", "namespaces", false) => {
            object["spec"] = json!({ "finalizers": ["kubernetes"] });
            object["status"] = json!({ "phase": "Active" });
        }
        ("policy", "poddisruptionbudgets", false) => remove_field(object, "status"),
        ("", "events", false) => {
            for (field, empty) in [
                ("source", json!({})),
                ("firstTimestamp", Value::Null),
                ("lastTimestamp", Value::Null),
                ("eventTime", Value::Null),
            ] {
                if object.get(field).is_none() {
                    object[field] = empty;
                }
            }
        }
        ("apiextensions.k8s.io", "customresourcedefinitions", false) => crd_defaults(object, now),
        _ => {}
    }
}

fn remove_field(object: &mut Value, field: &str) {
    if let Some(m) = object.as_object_mut() {
        m.remove(field);
    }
}

fn crd_defaults(crd: &mut Value, now: Timestamp) {
    let names = &mut crd["spec"]["names"];
    let kind = names["kind"].as_str().unwrap_or_default().to_owned();
    if names.get("singular").is_none() {
        names["singular"] = json!(kind.to_lowercase());
    }
    if names.get("listKind").is_none() {
        names["listKind"] = json!(format!("{kind}List"));
    }
    let accepted = names.clone();
    let stored: Vec<Value> = crd["spec"]["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["storage"].as_bool() == Some(true))
        .map(|v| v["name"].clone())
        .collect();
    let t = format_time(now);
    crd["status"] = json!({
        "acceptedNames": accepted,
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "lastTransitionTime": t, "reason": "NoConflicts", "message": "no conflicts found"},
            {"type": "Established", "status": "True", "lastTransitionTime": t, "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"}
        ],
        "storedVersions": stored,
    });
}

/// Effects of a stored write on other objects and on what the server serves.
pub(crate) fn after_write(store: &mut Store, rt: &ResourceType, object: &Value, now: Timestamp) {
    let ns = object["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    match (rt.group.as_str(), rt.plural.as_str(), rt.custom) {
        ("", "pods", false) | ("policy", "poddisruptionbudgets", false) => {
            disruption::refresh(store, &ns, now)
        }
        ("apiextensions.k8s.io", "customresourcedefinitions", false) => {
            let name = object["metadata"]["name"].as_str().unwrap_or_default();
            store.registry.set_custom(name, resource::from_crd(object));
        }
        _ => {}
    }
}

/// Effects of a removal: namespace contents and custom resources go too; budgets are recounted.
pub(crate) fn after_delete(store: &mut Store, rt: &ResourceType, gone: &Value, now: Timestamp) {
    let name = gone["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let ns = gone["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    match (rt.group.as_str(), rt.plural.as_str(), rt.custom) {
        ("", "pods", false) | ("policy", "poddisruptionbudgets", false) => {
            disruption::refresh(store, &ns, now)
        }
        ("", "namespaces", false) => {
            let types: Vec<_> = store
                .registry
                .all()
                .iter()
                .filter(|t| t.namespaced)
                .cloned()
                .collect();
            remove_all(store, &types, Some(&name), now);
        }
        ("apiextensions.k8s.io", "customresourcedefinitions", false) => {
            let types: Vec<_> = store
                .registry
                .all()
                .iter()
                .filter(|t| t.custom && format!("{}.{}", t.plural, t.group) == name)
                .cloned()
                .collect();
            remove_all(store, &types, None, now);
            store.registry.remove_custom(&name);
        }
        _ => {}
    }
}

fn remove_all(
    store: &mut Store,
    types: &[std::sync::Arc<ResourceType>],
    ns: Option<&str>,
    now: Timestamp,
) {
    let mut seen = Vec::new();
    for t in types {
        if seen.contains(&t.storage) {
            continue;
        }
        seen.push(t.storage.clone());
        let keys: Vec<_> = store.list(&t.storage, ns).map(|(k, _)| k.clone()).collect();
        for (ns, name) in keys {
            delete::remove(store, t, &ns, &name, now);
        }
    }
}
