//! A minimal OpenAPI v3 tree: kubectl (1.27+) reads it before `apply`, to learn that the server
//! validates fields itself (`fieldValidation` on PATCH) and which patch types each kind takes.
//! Schemas are not published; kubectl then uses its compiled-in types for strategic merge
//! patches of built-in kinds, and JSON merge patches for custom resources.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use serde_json::{Map, Value, json};

use super::resource::{Registry, ResourceType};

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

fn hash_of(types: &[&ResourceType]) -> String {
    let mut h = DefaultHasher::new();
    for t in types {
        (&t.plural, &t.kind, t.namespaced, t.status).hash(&mut h);
    }
    format!("{:016X}", h.finish())
}

fn types_of<'a>(registry: &'a Registry, group: &str, version: &str) -> Vec<&'a ResourceType> {
    registry
        .all()
        .iter()
        .filter(|t| t.group == group && t.version == version)
        .map(AsRef::as_ref)
        .collect()
}

/// `/openapi/v3`: one entry per served group/version.
pub(crate) fn index(registry: &Registry) -> Value {
    let mut paths = Map::new();
    for (group, versions) in registry.groups() {
        for version in versions {
            let p = gv_path(&group, &version);
            let hash = hash_of(&types_of(registry, &group, &version));
            paths.insert(
                p.clone(),
                json!({ "serverRelativeURL": format!("/openapi/v3/{p}?hash={hash}") }),
            );
        }
    }
    json!({ "paths": paths })
}

/// PATCH of one kind. Strategic merge is left out on purpose: announcing it would make kubectl
/// look for the (unpublished) schema instead of its compiled-in types.
fn patch_op(t: &ResourceType) -> Value {
    let content = json!({
        "application/json-patch+json": { "schema": { "type": "object" } },
        "application/merge-patch+json": { "schema": { "type": "object" } },
        "application/apply-patch+yaml": { "schema": { "type": "object" } },
    });
    json!({
        "patch": {
            "operationId": format!("patch{}", t.kind),
            "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": { "group": t.group, "version": t.version, "kind": t.kind },
            "parameters": [
                { "name": "fieldValidation", "in": "query", "schema": { "type": "string", "uniqueItems": true } },
                { "name": "fieldManager", "in": "query", "schema": { "type": "string", "uniqueItems": true } }
            ],
            "requestBody": { "content": content, "required": true },
            "responses": { "200": { "description": "OK" } }
        }
    })
}

/// `/openapi/v3/<api|apis/group>/<version>`, or `None` when not served.
pub(crate) fn group_version(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let types = types_of(registry, group, version);
    if types.is_empty() {
        return None;
    }
    let base = format!("/{}", gv_path(group, version));
    let mut paths = Map::new();
    for t in types {
        let path = if t.namespaced {
            format!("{base}/namespaces/{{namespace}}/{}/{{name}}", t.plural)
        } else {
            format!("{base}/{}/{{name}}", t.plural)
        };
        paths.insert(path, patch_op(t));
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": { "title": "Kubernetes", "version": "v1.33.0" },
        "paths": paths,
        "components": { "schemas": {} }
    }))
}
