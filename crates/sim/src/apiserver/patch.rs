//! PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902), and strategic merge patch
//! with the merge keys of the built-in types the simulator serves.

use serde_json::Value;

use super::error::{ApiError, ApiResult};

/// The patch flavours, chosen by the request's `Content-Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PatchType {
    Merge,
    Json,
    Strategic,
    Apply,
}

impl PatchType {
    /// The patch type named by a `Content-Type` header.
    pub(crate) fn from_content_type(ct: &str) -> ApiResult<Self> {
        let media = ct.split(';').next().unwrap_or_default().trim();
        match media {
            "application/merge-patch+json" => Ok(Self::Merge),
            "application/json-patch+json" => Ok(Self::Json),
            "application/strategic-merge-patch+json" => Ok(Self::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+cbor" => Ok(Self::Apply),
            other => {
                tracing::debug!(content_type = other, "patch with an unknown media type");
                Err(ApiError::unsupported_media_type(
                    "415: Unsupported Media Type",
                ))
            }
        }
    }
}

/// How a list at some path of a built-in kind merges under a strategic merge patch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ListMerge<'a> {
    /// Elements are objects merged by this key.
    ByKey(&'a str),
    /// Elements are primitives merged as a set.
    Primitives,
    /// The patch list replaces the whole list.
    Replace,
}

/// Merge strategy of the list at `path` (`a.b[].c` form) in objects of `kind`.
fn list_merge(kind: &str, path: &str) -> ListMerge<'static> {
    let pod_container = |p: &str| {
        [
            "spec.containers[].",
            "spec.initContainers[].",
            "spec.ephemeralContainers[].",
        ]
        .iter()
        .find_map(|prefix| p.strip_prefix(prefix))
        .map(str::to_owned)
    };
    match (kind, path) {
        (_, "metadata.ownerReferences") => ListMerge::ByKey("uid"),
        (_, "metadata.finalizers") => ListMerge::Primitives,
        ("Node" | "Pod" | "Namespace" | "PodDisruptionBudget", "status.conditions") => {
            ListMerge::ByKey("type")
        }
        ("Node", "status.addresses") => ListMerge::ByKey("type"),
        ("Node", "spec.podCIDRs") => ListMerge::Primitives,
        (
            "Pod",
            "spec.containers"
            | "spec.initContainers"
            | "spec.ephemeralContainers"
            | "spec.volumes"
            | "spec.imagePullSecrets",
        ) => ListMerge::ByKey("name"),
        ("Pod", "spec.hostAliases" | "status.podIPs") => ListMerge::ByKey("ip"),
        ("Pod", p) => match pod_container(p).as_deref() {
            Some("env") => ListMerge::ByKey("name"),
            Some("ports") => ListMerge::ByKey("containerPort"),
            Some("volumeMounts") => ListMerge::ByKey("mountPath"),
            Some("volumeDevices") => ListMerge::ByKey("devicePath"),
            _ => ListMerge::Replace,
        },
        _ => ListMerge::Replace,
    }
}

/// Applies a strategic merge patch to `target`, an object of `kind`.
pub(crate) fn strategic_merge(target: &mut Value, patch: &Value, kind: &str) {
    merge_map(target, patch, kind, "");
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn merge_map(target: &mut Value, patch: &Value, kind: &str, path: &str) {
    let Some(fields) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if fields.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut replaced = patch.clone();
        if let Some(m) = replaced.as_object_mut() {
            m.remove("$patch");
        }
        *target = replaced;
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    for (key, value) in fields {
        if key.starts_with("$setElementOrder/") || key == "$patch" || key == "$retainKeys" {
            continue;
        }
        if let Some(list) = key.strip_prefix("$deleteFromPrimitiveList/") {
            if let Some(items) = target[list].as_array_mut() {
                let remove = value.as_array().cloned().unwrap_or_default();
                items.retain(|i| !remove.contains(i));
            }
            continue;
        }
        let child = join(path, key);
        match value {
            Value::Null => {
                if let Some(m) = target.as_object_mut() {
                    m.remove(key);
                }
            }
            Value::Object(o) if o.get("$patch").and_then(Value::as_str) == Some("delete") => {
                if let Some(m) = target.as_object_mut() {
                    m.remove(key);
                }
            }
            Value::Object(_) => merge_map(&mut target[key.as_str()], value, kind, &child),
            Value::Array(items) => merge_list(&mut target[key.as_str()], items, kind, &child),
            _ => target[key.as_str()] = value.clone(),
        }
    }
    if let (Some(keep), Some(m)) = (
        fields.get("$retainKeys").and_then(Value::as_array),
        target.as_object_mut(),
    ) {
        m.retain(|k, _| keep.iter().any(|r| r.as_str() == Some(k)));
    }
}

fn merge_list(target: &mut Value, patch: &[Value], kind: &str, path: &str) {
    let replace_all = patch
        .iter()
        .any(|p| p.get("$patch").and_then(Value::as_str) == Some("replace"));
    let strategy = list_merge(kind, path);
    if replace_all || strategy == ListMerge::Replace || !target.is_array() {
        let kept = patch
            .iter()
            .filter(|p| p.get("$patch").is_none())
            .cloned()
            .collect();
        *target = Value::Array(kept);
        return;
    }
    let Some(server) = target.as_array() else {
        return;
    };
    let id_of = |v: &Value| match strategy {
        ListMerge::ByKey(key) => v[key].clone(),
        _ => v.clone(),
    };
    let server_ids: Vec<Value> = server.iter().map(id_of).collect();
    let mut touched = vec![false; server.len()];
    let mut patched: Vec<(Option<usize>, Value)> = Vec::new();
    let elem_path = format!("{path}[]");
    for p in patch {
        let id = id_of(p);
        let pos = server_ids.iter().position(|s| *s == id);
        if let Some(i) = pos {
            touched[i] = true;
        }
        let delete = p.get("$patch").and_then(Value::as_str) == Some("delete");
        if delete || patched.iter().any(|(_, v)| id_of(v) == id) {
            continue;
        }
        let merged = match (strategy, pos) {
            (ListMerge::ByKey(_), Some(i)) => {
                let mut m = server[i].clone();
                merge_map(&mut m, p, kind, &elem_path);
                m
            }
            (ListMerge::ByKey(_), None) => {
                let mut fresh = Value::Object(Default::default());
                merge_map(&mut fresh, p, kind, &elem_path);
                fresh
            }
            _ => p.clone(),
        };
        patched.push((pos, merged));
    }
    let server_only: Vec<(Option<usize>, Value)> = server
        .iter()
        .enumerate()
        .filter(|(i, _)| !touched[*i])
        .map(|(i, v)| (Some(i), v.clone()))
        .collect();
    *target = Value::Array(merge_sorted(server_only, patched));
}

/// Interleaves untouched server items with patch items the way the real server orders a
/// merged list: by position in the server's list where both have one, patch items first
/// otherwise (so new items go before the next patched one).
fn merge_sorted(
    left: Vec<(Option<usize>, Value)>,
    right: Vec<(Option<usize>, Value)>,
) -> Vec<Value> {
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut left, mut right) = (left.into_iter().peekable(), right.into_iter().peekable());
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => return out,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some((l, _)), Some((r, _))) => matches!((l, r), (Some(l), Some(r)) if l < r),
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next.map(|(_, v)| v));
    }
}

/// Applies a JSON merge patch or JSON patch body to `target`.
pub(crate) fn apply(target: &mut Value, body: &Value, ty: PatchType, kind: &str) -> ApiResult<()> {
    match ty {
        PatchType::Merge => json_patch::merge(target, body),
        PatchType::Strategic | PatchType::Apply => strategic_merge(target, body, kind),
        PatchType::Json => {
            let ops: json_patch::Patch = serde_json::from_value(body.clone())
                .map_err(|e| ApiError::bad_request(format!("invalid JSON patch: {e}")))?;
            json_patch::patch(target, &ops).map_err(|e| {
                tracing::debug!(error = %e, "JSON patch failed");
                ApiError::invalid_patch()
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn node_conditions_merge_by_type_and_taints_are_replaced() {
        let mut node = json!({
            "spec": {"taints": [{"key": "a", "effect": "NoSchedule"}]},
            "status": {"conditions": [
                {"type": "Ready", "status": "True"},
                {"type": "MemoryPressure", "status": "False"}
            ]}
        });
        let patch = json!({
            "spec": {"unschedulable": true, "taints": [{"key": "b", "effect": "NoExecute"}]},
            "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "KubeletDown"}]}
        });
        strategic_merge(&mut node, &patch, "Node");
        assert_eq!(node["spec"]["unschedulable"], true);
        assert_eq!(
            node["spec"]["taints"],
            json!([{"key": "b", "effect": "NoExecute"}])
        );
        let conds = node["status"]["conditions"].as_array().expect("list");
        assert_eq!(conds.len(), 2);
        assert_eq!(
            conds[0],
            json!({"type": "Ready", "status": "False", "reason": "KubeletDown"})
        );
    }

    #[test]
    fn directives_delete_and_null_remove() {
        let mut pod = json!({
            "metadata": {"labels": {"a": "1", "b": "2"}, "finalizers": ["x"]},
            "spec": {"containers": [{"name": "c1", "image": "i1"}, {"name": "c2", "image": "i2"}]}
        });
        let patch = json!({
            "metadata": {"labels": {"a": null}, "finalizers": ["y"]},
            "spec": {
                "$setElementOrder/containers": [{"name": "c1"}],
                "containers": [{"name": "c2", "$patch": "delete"}, {"name": "c1", "image": "new"}]
            }
        });
        strategic_merge(&mut pod, &patch, "Pod");
        assert_eq!(pod["metadata"]["labels"], json!({"b": "2"}));
        assert_eq!(
            pod["metadata"]["finalizers"],
            json!(["y", "x"]),
            "new items go first, like the real server"
        );
        assert_eq!(
            pod["spec"]["containers"],
            json!([{"name": "c1", "image": "new"}])
        );
    }

    #[test]
    fn merged_lists_are_ordered_like_the_real_server() {
        let cond = |t: &str| json!({ "type": t, "status": "False" });
        let mut node =
            json!({ "status": { "conditions": [cond("Ready"), cond("Memory"), cond("Disk")] } });
        strategic_merge(
            &mut node,
            &json!({ "status": { "conditions": [cond("PID"), cond("Ready")] } }),
            "Node",
        );
        let order: Vec<&str> = node["status"]["conditions"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|c| c["type"].as_str())
            .collect();
        assert_eq!(order, ["PID", "Ready", "Memory", "Disk"]);
        let mut meta = json!({ "metadata": { "finalizers": ["f/a", "f/b"] } });
        strategic_merge(
            &mut meta,
            &json!({ "metadata": { "finalizers": ["f/c", "f/a"] } }),
            "Node",
        );
        assert_eq!(meta["metadata"]["finalizers"], json!(["f/c", "f/a", "f/b"]));
    }

    #[test]
    fn json_patch_test_failure_is_reported() {
        let mut v = json!({"a": 1});
        let body = json!([{"op": "test", "path": "/a", "value": 2}]);
        assert!(apply(&mut v, &body, PatchType::Json, "X").is_err());
        let body = json!([{"op": "replace", "path": "/a", "value": 2}]);
        apply(&mut v, &body, PatchType::Json, "X").expect("applies");
        assert_eq!(v, json!({"a": 2}));
    }
}
