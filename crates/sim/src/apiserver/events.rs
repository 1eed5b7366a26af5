//! Events: one store shown as core/v1 and as events.k8s.io/v1 (renamed fields, as the real
//! server converts them), and the validation the real server applies to new events.

use serde_json::{Map, Value};

/// (core/v1 field, events.k8s.io/v1 field)
const RENAMES: &[(&str, &str)] = &[
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
    ("reportingComponent", "reportingController"),
];

fn rename(event: &Value, from_core: bool) -> Value {
    let Some(fields) = event.as_object() else {
        return event.clone();
    };
    let mut out = Map::new();
    for (k, v) in fields {
        let renamed = RENAMES.iter().find_map(|(core, new)| {
            let (from, to) = if from_core { (core, new) } else { (new, core) };
            (*from == k.as_str()).then_some(*to)
        });
        out.insert(renamed.unwrap_or(k).to_owned(), v.clone());
    }
    Value::Object(out)
}

/// Shows a stored core/v1 Event as an events.k8s.io/v1 Event.
pub(crate) fn to_events_v1(core: &Value) -> Value {
    let mut v = rename(core, true);
    v["apiVersion"] = "events.k8s.io/v1".into();
    v["kind"] = "Event".into();
    if v.get("eventTime").is_none() {
        v["eventTime"] = Value::Null;
    }
    v
}

/// Converts an events.k8s.io/v1 Event into the stored core/v1 form.
pub(crate) fn from_events_v1(new: &Value) -> Value {
    let mut v = rename(new, false);
    v["apiVersion"] = "v1".into();
    v["kind"] = "Event".into();
    v
}

/// Translates a field selector field of events.k8s.io/v1 to its core/v1 name.
pub(crate) fn core_field(field: &str) -> String {
    for (core, new) in RENAMES {
        if field == *new {
            return (*core).to_owned();
        }
        if let Some(rest) = field.strip_prefix(new).and_then(|r| r.strip_prefix('.')) {
            return format!("{core}.{rest}");
        }
    }
    field.to_owned()
}

/// Validation of a new event (stored form), as current upstream applies it; `strict` for
/// events created through events.k8s.io/v1. Returns `(field, message)` causes.
pub(crate) fn validate(event: &Value, strict: bool) -> Vec<(String, String)> {
    let mut causes = Vec::new();
    let ns = event["metadata"]["namespace"].as_str().unwrap_or_default();
    let involved_ns = event["involvedObject"]["namespace"]
        .as_str()
        .unwrap_or_default();
    let new_style = event["eventTime"].is_string();
    let ns_mismatch = if new_style {
        involved_ns.is_empty() && ns != "default" && ns != "kube-system"
    } else if involved_ns.is_empty() {
        !ns.is_empty() && ns != "default"
    } else {
        ns != involved_ns
    };
    let controller_field = if strict {
        "reportingController"
    } else {
        "reportingComponent"
    };
    if ns_mismatch {
        let field = if strict {
            "regarding.namespace"
        } else {
            "involvedObject.namespace"
        };
        causes.push((
            field.to_owned(),
            format!("Invalid value: \"{involved_ns}\": does not match event.namespace"),
        ));
    }
    if new_style {
        for (field, name) in [
            ("reportingComponent", controller_field),
            ("reportingInstance", "reportingInstance"),
            ("action", "action"),
            ("reason", "reason"),
        ] {
            if event[field].as_str().unwrap_or_default().is_empty() {
                causes.push((name.to_owned(), "Required value".to_owned()));
            }
        }
    }
    if strict {
        if !new_style {
            causes.push(("eventTime".to_owned(), "Required value".to_owned()));
        }
        let ty = event["type"].as_str().unwrap_or_default();
        if ty != "Normal" && ty != "Warning" {
            causes.push((
                "type".to_owned(),
                format!("Invalid value: \"{ty}\": has invalid value: {ty}"),
            ));
        }
    }
    causes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_between_views() {
        let new = json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "e", "namespace": "default"},
            "regarding": {"kind": "Node", "name": "n1"}, "note": "rebooted",
            "reason": "Rebooted", "type": "Normal", "action": "Reboot",
            "reportingController": "nodemend", "reportingInstance": "a",
            "eventTime": "2026-01-01T00:00:00.000000Z"
        });
        let core = from_events_v1(&new);
        assert_eq!(core["involvedObject"]["name"], "n1");
        assert_eq!(core["message"], "rebooted");
        assert_eq!(core["reportingComponent"], "nodemend");
        assert!(validate(&core, true).is_empty());
        assert_eq!(to_events_v1(&core), new);
        assert_eq!(core_field("regarding.name"), "involvedObject.name");
    }

    #[test]
    fn cluster_scoped_new_events_live_in_default_or_kube_system() {
        let mut e = json!({
            "metadata": {"name": "e", "namespace": "team-a"},
            "involvedObject": {"kind": "Node", "name": "n1"},
            "eventTime": "2026-01-01T00:00:00.000000Z", "reason": "R", "action": "A",
            "reportingComponent": "c", "reportingInstance": "i", "type": "Normal"
        });
        assert_eq!(validate(&e, true).len(), 1);
        e["metadata"]["namespace"] = "kube-system".into();
        assert!(validate(&e, true).is_empty());
    }
}
