//! Object metadata rules shared by every resource: names, generated names, system fields that
//! clients cannot change, and conversion between stored objects and the requested version.

use serde_json::{Value, json};

use super::error::{ApiError, ApiResult};
use super::events;
use super::resource::{ResourceType, View};

/// Metadata fields the server owns; updates and patches cannot change them.
const SYSTEM_FIELDS: &[&str] = &[
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
];

/// `generateName` suffix alphabet of the real server (no vowels, no confusable digits).
const SUFFIX_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// A name made from `prefix` and five random characters, as the real server generates.
pub(crate) fn generate_name(prefix: &str) -> String {
    let prefix: String = prefix.chars().take(58).collect();
    let suffix: String = (0..5)
        .map(|_| char::from(SUFFIX_ALPHABET[fastrand::usize(..SUFFIX_ALPHABET.len())]))
        .collect();
    format!("{prefix}{suffix}")
}

/// Checks a name against DNS-1123 rules: a label (namespaces) or a subdomain (the rest).
pub(crate) fn validate_name(name: &str, label: bool) -> Option<String> {
    let max = if label { 63 } else { 253 };
    let allowed =
        |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || (!label && c == '.');
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let ok = name.len() <= max
        && name.chars().all(allowed)
        && edge_ok(name.chars().next())
        && edge_ok(name.chars().last());
    if ok {
        return None;
    }
    Some(if label {
        format!(
            "Invalid value: \"{name}\": a lowercase RFC 1123 label must consist of lower case alphanumeric \
             characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or \
             '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
        )
    } else {
        format!(
            "Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric \
             characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', \
             regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        )
    })
}

/// Copies the server-owned metadata of `existing` onto `object`.
pub(crate) fn keep_system_fields(object: &mut Value, existing: &Value) {
    for field in SYSTEM_FIELDS {
        match existing["metadata"].get(*field) {
            Some(v) => object["metadata"][*field] = v.clone(),
            None => {
                if let Some(m) = object["metadata"].as_object_mut() {
                    m.remove(*field);
                }
            }
        }
    }
}

/// The part of an object that `metadata.generation` tracks: all but metadata and status.
pub(crate) fn spec_part(object: &Value) -> Value {
    let mut v = object.clone();
    if let Some(m) = v.as_object_mut() {
        for k in ["metadata", "status", "apiVersion", "kind"] {
            m.remove(k);
        }
    }
    v
}

/// `metadata.resourceVersion` of an object, empty when unset.
pub(crate) fn resource_version(object: &Value) -> &str {
    object["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_default()
}

/// The stored object as the client asked to see it (`apiVersion`, `kind`, event fields).
pub(crate) fn to_view(rt: &ResourceType, stored: &Value) -> Value {
    match rt.view {
        View::EventsV1 => events::to_events_v1(stored),
        View::Plain => {
            let mut v = stored.clone();
            v["apiVersion"] = json!(rt.api_version());
            v["kind"] = json!(rt.kind);
            v
        }
    }
}

/// A request body in the stored form; checks that it is an object of the right kind.
pub(crate) fn from_view(rt: &ResourceType, body: &Value) -> ApiResult<Value> {
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    }
    if let Some(kind) = body["kind"]
        .as_str()
        .filter(|k| *k != rt.kind && !k.is_empty())
    {
        return Err(ApiError::bad_request(format!(
            "the kind of the provided object ({kind}) does not match the resource ({})",
            rt.kind
        )));
    }
    let mut v = match rt.view {
        View::EventsV1 => events::from_events_v1(body),
        View::Plain => body.clone(),
    };
    if !v["metadata"].is_object() {
        v["metadata"] = json!({});
    }
    v["apiVersion"] = json!(if rt.view == View::EventsV1 {
        "v1".to_owned()
    } else {
        rt.api_version()
    });
    v["kind"] = json!(rt.kind);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_dns_rules() {
        assert!(validate_name("aks-pool-0000.vmss", false).is_none());
        assert!(validate_name("aks-pool.x", true).is_some());
        assert!(validate_name("Upper", false).is_some());
        assert!(validate_name("-x", false).is_some());
        let g = generate_name("web-");
        assert_eq!(g.len(), 9);
        assert!(validate_name(&g, true).is_none());
    }
}
