//! Reading: which objects a list or watch selects (namespace, label and field selectors), and
//! paged lists with `limit` and `continue`.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::error::{ApiError, ApiResult};
use super::events;
use super::meta;
use super::resource::{ResourceType, View};
use super::selector::{FieldSelector, LabelSelector};
use super::store::{ObjectKey, Store};

/// Fields every resource can be selected by.
const COMMON_FIELDS: &[&str] = &["metadata.name", "metadata.namespace"];

/// Extra selectable fields of the built-in resources, like the real server's field label conversions.
fn extra_fields(rt: &ResourceType) -> &'static [&'static str] {
    match (rt.group.as_str(), rt.plural.as_str(), rt.custom) {
        (_, _, true) => &[],
        ("", "pods", _) => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        (_, "events", _) => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        ("", "nodes", _) => &["spec.unschedulable"],
        ("", "namespaces", _) => &["status.phase"],
        ("", "secrets", _) => &["type"],
        _ => &[],
    }
}

/// Which objects a list or watch request selects.
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
    /// Field names translated to the stored (core/v1) form.
    stored_fields: FieldSelector,
}

impl Filter {
    /// Builds the filter of a request on `rt` from its query parameters.
    pub(crate) fn new(
        rt: &ResourceType,
        namespace: Option<&str>,
        label_selector: Option<&str>,
        field_selector: Option<&str>,
    ) -> ApiResult<Self> {
        let labels = LabelSelector::parse(label_selector.unwrap_or_default())?;
        let raw = field_selector.unwrap_or_default();
        let stored = if rt.view == View::EventsV1 {
            let translated: Vec<String> = raw
                .split(',')
                .filter(|t| !t.is_empty())
                .map(|t| {
                    let cut = t.find(['=', '!']).unwrap_or(t.len());
                    format!("{}{}", events::core_field(&t[..cut]), &t[cut..])
                })
                .collect();
            translated.join(",")
        } else {
            raw.to_owned()
        };
        let fields = FieldSelector::parse(raw)?;
        let stored_fields = FieldSelector::parse(&stored)?;
        for f in stored_fields.fields() {
            if COMMON_FIELDS.contains(&f) || extra_fields(rt).contains(&f) {
                continue;
            }
            // Kinds with their own field label conversion word it differently.
            let message = if extra_fields(rt).is_empty() {
                format!(
                    "\"{f}\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
                )
            } else {
                format!("field label not supported: {f}")
            };
            return Err(ApiError::bad_request(message));
        }
        Ok(Self {
            namespace: namespace.map(str::to_owned),
            labels,
            fields,
            stored_fields,
        })
    }

    /// Whether the request has label or field selectors.
    pub(crate) fn selective(&self) -> bool {
        self.labels != LabelSelector::default() || self.fields != FieldSelector::default()
    }

    /// Whether a stored object is selected.
    pub(crate) fn matches(&self, object: &Value) -> bool {
        let meta = &object["metadata"];
        if let Some(ns) = &self.namespace
            && meta["namespace"].as_str() != Some(ns)
        {
            return false;
        }
        self.labels.matches(&meta["labels"])
            && self.stored_fields.matches(|f| field_value(object, f))
    }
}

/// The string value of a selectable field (`""` when missing, like the real server).
fn field_value(object: &Value, field: &str) -> String {
    let path = if field == "source" {
        "source.component"
    } else {
        field
    };
    let mut v = object;
    for part in path.split('.') {
        v = &v[part];
    }
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null if field == "spec.unschedulable" || field == "spec.hostNetwork" => {
            "false".to_owned()
        }
        _ => String::new(),
    }
}

/// A stored object as an item of a list: built-in items carry no `apiVersion`/`kind`.
pub(crate) fn list_item(rt: &ResourceType, stored: &Value) -> Value {
    let mut v = meta::to_view(rt, stored);
    if !rt.custom
        && let Some(m) = v.as_object_mut()
    {
        m.remove("apiVersion");
        m.remove("kind");
    }
    v
}

/// A page of a list: the selected objects, the list's resourceVersion and the next token.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) items: Vec<Arc<Value>>,
    pub(crate) rv: u64,
    pub(crate) next: Option<String>,
    pub(crate) remaining: Option<usize>,
}

fn decode_continue(token: &str) -> ApiResult<(u64, ObjectKey)> {
    let invalid = || {
        ApiError::bad_request(
            "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let rv = v["rv"].as_u64().ok_or_else(invalid)?;
    let ns = v["ns"].as_str().ok_or_else(invalid)?.to_owned();
    let name = v["name"].as_str().ok_or_else(invalid)?.to_owned();
    Ok((rv, (ns, name)))
}

fn encode_continue(rv: u64, key: &ObjectKey) -> String {
    URL_SAFE_NO_PAD.encode(json!({ "rv": rv, "ns": key.0, "name": key.1 }).to_string())
}

/// Lists the objects of `rt` that `filter` selects, at most `limit` of them after `continue_token`.
pub(crate) fn list(
    store: &Store,
    rt: &ResourceType,
    filter: &Filter,
    limit: Option<usize>,
    continue_token: Option<&str>,
) -> ApiResult<Page> {
    let (rv, after) = match continue_token.filter(|t| !t.is_empty()) {
        Some(t) => {
            let (rv, key) = decode_continue(t)?;
            (rv, Some(key))
        }
        None => (store.rv(), None),
    };
    let iter: Box<dyn Iterator<Item = (&ObjectKey, &Arc<Value>)>> = match &after {
        Some(key) => Box::new(store.list_after(&rt.storage, key)),
        None => Box::new(store.list(&rt.storage, filter.namespace.as_deref())),
    };
    let mut selected = iter.filter(|(_, o)| filter.matches(o));
    let limit = limit.filter(|l| *l > 0).unwrap_or(usize::MAX);
    let mut items = Vec::new();
    let mut last = None;
    for (key, o) in selected.by_ref() {
        items.push(o.clone());
        last = Some(key);
        if items.len() == limit {
            break;
        }
    }
    let rest = if items.len() == limit {
        selected.count()
    } else {
        0
    };
    let next = (rest > 0)
        .then(|| last.map(|k| encode_continue(rv, k)))
        .flatten();
    let remaining = (rest > 0 && !filter.selective()).then_some(rest);
    Ok(Page {
        items,
        rv,
        next,
        remaining,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apiserver::resource::Registry;

    #[test]
    fn pages_through_a_list_and_rejects_unknown_fields() {
        let mut store = Store::new(100);
        for i in 0..5 {
            store.put("nodes", json!({"metadata": {"name": format!("n{i}"), "labels": {"pool": if i % 2 == 0 { "a" } else { "b" }}}}));
        }
        let nodes = Registry::default().find("", "v1", "nodes").expect("served");
        let all = Filter::new(&nodes, None, None, None).expect("valid");
        let first = list(&store, &nodes, &all, Some(2), None).expect("page");
        assert_eq!(first.items.len(), 2);
        assert_eq!(first.remaining, Some(3));
        let second = list(&store, &nodes, &all, Some(10), first.next.as_deref()).expect("page");
        assert_eq!(second.items.len(), 3);
        assert!(second.next.is_none());
        assert_eq!(second.rv, first.rv);
        let pool_a = Filter::new(
            &nodes,
            None,
            Some("pool=a"),
            Some("spec.unschedulable=false"),
        )
        .expect("valid");
        assert_eq!(
            list(&store, &nodes, &pool_a, None, None)
                .expect("page")
                .items
                .len(),
            3
        );
        assert!(Filter::new(&nodes, None, None, Some("spec.nodeName=x")).is_err());
    }
}
