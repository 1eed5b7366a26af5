//! Server-side printing: the `meta.k8s.io/v1` Table that `kubectl get` asks for, with the
//! columns the real server prints for the resources the simulator serves.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::read::Page;
use super::resource::ResourceType;

/// How kubectl shows an age: `45s`, `3m12s`, `2h5m`, `6d`.
fn human_age(created: &Value, now: Timestamp) -> String {
    let Some(t) = created.as_str().and_then(|s| s.parse::<Timestamp>().ok()) else {
        return "<unknown>".to_owned();
    };
    let s = now.duration_since(t).as_secs().max(0);
    let (m, h, d) = (s / 60, s / 3600, s / 86400);
    match s {
        _ if s < 120 => format!("{s}s"),
        _ if m < 10 && s % 60 != 0 => format!("{m}m{}s", s % 60),
        _ if m < 180 => format!("{m}m"),
        _ if h < 8 && m % 60 != 0 => format!("{h}h{}m", m % 60),
        _ if h < 48 => format!("{h}h"),
        _ if h < 192 && h % 24 != 0 => format!("{d}d{}h", h % 24),
        _ => format!("{d}d"),
    }
}

fn text(v: &Value) -> Value {
    match v {
        Value::Null => json!("<none>"),
        Value::String(_) | Value::Number(_) | Value::Bool(_) => v.clone(),
        other => json!(other.to_string()),
    }
}

/// Looks up a simple `.a.b.c` JSONPath.
fn at<'a>(o: &'a Value, path: &str) -> &'a Value {
    path.trim_start_matches('.')
        .split('.')
        .fold(o, |v, p| &v[p])
}

fn node_status(n: &Value) -> String {
    let ready = n["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "Ready"))
        .is_some_and(|c| c["status"] == "True");
    let mut s = if ready { "Ready" } else { "NotReady" }.to_owned();
    if n["spec"]["unschedulable"] == true {
        s.push_str(",SchedulingDisabled");
    }
    s
}

fn node_roles(n: &Value) -> String {
    let roles: Vec<&str> = n["metadata"]["labels"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, _)| k.strip_prefix("node-role.kubernetes.io/"))
        .collect();
    if roles.is_empty() {
        "<none>".to_owned()
    } else {
        roles.join(",")
    }
}

fn pod_ready(p: &Value) -> String {
    let statuses = p["status"]["containerStatuses"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let total = p["spec"]["containers"].as_array().map_or(0, Vec::len);
    let ready = statuses.iter().filter(|c| c["ready"] == true).count();
    format!("{ready}/{total}")
}

fn pod_status(p: &Value) -> Value {
    if p["metadata"].get("deletionTimestamp").is_some() {
        return json!("Terminating");
    }
    text(p["status"].get("reason").unwrap_or(&p["status"]["phase"]))
}

fn restarts(p: &Value) -> i64 {
    p["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["restartCount"].as_i64())
        .sum()
}

type Column = (
    &'static str,
    &'static str,
    i32,
    fn(&Value, Timestamp) -> Value,
);

fn age(o: &Value, now: Timestamp) -> Value {
    json!(human_age(&o["metadata"]["creationTimestamp"], now))
}

fn columns(rt: &ResourceType) -> Vec<Column> {
    let name: Column = ("Name", "string", 0, |o, _| o["metadata"]["name"].clone());
    let age_col: Column = ("Age", "string", 0, age);
    match (rt.group.as_str(), rt.plural.as_str(), rt.custom) {
        ("", "nodes", false) => vec![
            name,
            ("Status", "string", 0, |o, _| json!(node_status(o))),
            ("Roles", "string", 0, |o, _| json!(node_roles(o))),
            age_col,
            ("Version", "string", 0, |o, _| {
                text(&o["status"]["nodeInfo"]["kubeletVersion"])
            }),
            ("Internal-IP", "string", 1, |o, _| {
                text(
                    o["status"]["addresses"]
                        .as_array()
                        .and_then(|a| a.iter().find(|a| a["type"] == "InternalIP"))
                        .map_or(&Value::Null, |a| &a["address"]),
                )
            }),
            ("OS-Image", "string", 1, |o, _| {
                text(&o["status"]["nodeInfo"]["osImage"])
            }),
        ],
        ("", "pods", false) => vec![
            name,
            ("Ready", "string", 0, |o, _| json!(pod_ready(o))),
            ("Status", "string", 0, |o, _| pod_status(o)),
            ("Restarts", "string", 0, |o, _| {
                json!(restarts(o).to_string())
            }),
            age_col,
            ("IP", "string", 1, |o, _| text(&o["status"]["podIP"])),
            ("Node", "string", 1, |o, _| text(&o["spec"]["nodeName"])),
        ],
        ("", "namespaces", false) => vec![
            name,
            ("Status", "string", 0, |o, _| text(&o["status"]["phase"])),
            age_col,
        ],
        (_, "events", false) => vec![
            ("Last Seen", "string", 0, |o, now| {
                let t = if o["lastTimestamp"].is_string() {
                    &o["lastTimestamp"]
                } else {
                    &o["eventTime"]
                };
                json!(human_age(t, now))
            }),
            ("Type", "string", 0, |o, _| text(&o["type"])),
            ("Reason", "string", 0, |o, _| text(&o["reason"])),
            ("Object", "string", 0, |o, _| {
                let i = &o["involvedObject"];
                json!(format!(
                    "{}/{}",
                    i["kind"].as_str().unwrap_or_default().to_lowercase(),
                    i["name"].as_str().unwrap_or_default()
                ))
            }),
            ("Message", "string", 0, |o, _| text(&o["message"])),
        ],
        ("coordination.k8s.io", "leases", false) => vec![
            name,
            ("Holder", "string", 0, |o, _| {
                text(&o["spec"]["holderIdentity"])
            }),
            age_col,
        ],
        ("policy", "poddisruptionbudgets", false) => vec![
            name,
            ("Min Available", "string", 0, |o, _| {
                o["spec"]
                    .get("minAvailable")
                    .map_or(json!("N/A"), |v| json!(v.to_string().trim_matches('"')))
            }),
            ("Max Unavailable", "string", 0, |o, _| {
                o["spec"]
                    .get("maxUnavailable")
                    .map_or(json!("N/A"), |v| json!(v.to_string().trim_matches('"')))
            }),
            ("Allowed Disruptions", "integer", 0, |o, _| {
                json!(o["status"]["disruptionsAllowed"].as_i64().unwrap_or(0))
            }),
            age_col,
        ],
        ("", "configmaps", false) => vec![
            name,
            ("Data", "integer", 0, |o, _| {
                json!(o["data"].as_object().map_or(0, |d| d.len()))
            }),
            age_col,
        ],
        ("", "secrets", false) => vec![
            name,
            ("Type", "string", 0, |o, _| text(&o["type"])),
            ("Data", "integer", 0, |o, _| {
                json!(o["data"].as_object().map_or(0, |d| d.len()))
            }),
            age_col,
        ],
        ("apiextensions.k8s.io", "customresourcedefinitions", false) => vec![
            name,
            ("Created At", "date", 0, |o, _| {
                o["metadata"]["creationTimestamp"].clone()
            }),
        ],
        _ => vec![name, age_col],
    }
}

/// Renders a page of objects as a Table.
pub(crate) fn render(rt: &ResourceType, page: &Page, now: Timestamp) -> Value {
    let cols = columns(rt);
    let printer: Vec<(String, String, String)> = rt
        .printer_columns
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
            (s("name"), s("type"), s("jsonPath"))
        })
        .collect();
    let mut defs: Vec<Value> = cols
        .iter()
        .map(|(n, t, p, _)| json!({ "name": n, "type": t, "format": if *n == "Name" { "name" } else { "" }, "description": "", "priority": p }))
        .collect();
    let age_at = defs.iter().position(|d| d["name"] == "Age");
    let extra: Vec<Value> = printer.iter().map(|(n, t, _)| json!({ "name": n, "type": t, "format": "", "description": "", "priority": 0 })).collect();
    let insert_at = age_at.unwrap_or(defs.len());
    defs.splice(insert_at..insert_at, extra);
    let rows: Vec<Value> = page
        .items
        .iter()
        .map(|o| {
            let mut cells: Vec<Value> = cols.iter().map(|(_, _, _, f)| f(o, now)).collect();
            let extra: Vec<Value> = printer.iter().map(|(_, _, path)| text(at(o, path))).collect();
            cells.splice(insert_at..insert_at, extra);
            json!({
                "cells": cells,
                "object": { "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"] }
            })
        })
        .collect();
    json!({
        "kind": "Table", "apiVersion": "meta.k8s.io/v1",
        "metadata": { "resourceVersion": page.rv.to_string() },
        "columnDefinitions": defs, "rows": rows
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_kubectl() {
        let now: Timestamp = "2026-01-01T10:00:00Z".parse().expect("valid");
        let at = |s: &str| json!(s);
        assert_eq!(human_age(&at("2026-01-01T09:59:15Z"), now), "45s");
        assert_eq!(human_age(&at("2026-01-01T09:56:48Z"), now), "3m12s");
        assert_eq!(human_age(&at("2026-01-01T07:55:00Z"), now), "125m");
        assert_eq!(human_age(&at("2025-12-26T10:00:00Z"), now), "6d");
    }
}
