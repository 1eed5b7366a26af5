//! The writing verbs on one resource: create, update (main and status) and patch, with the
//! checks the real server makes and the side effects of [`super::hooks`]. Deletion is in
//! [`super::delete`].

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::clock::format_time;
use super::delete;
use super::error::{ApiError, ApiResult};
use super::hooks;
use super::meta;
use super::patch::{self, PatchType};
use super::resource::ResourceType;
use super::store::Store;

/// Options of a write that the simulator honours.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct WriteOptions {
    /// `dryRun=All`: check everything, store nothing.
    pub(crate) dry_run: bool,
    /// The write addresses the `status` subresource.
    pub(crate) status: bool,
}

pub(crate) fn stored_or_dry(
    store: &mut Store,
    rt: &ResourceType,
    object: Value,
    dry_run: bool,
    now: Timestamp,
) -> Arc<Value> {
    if dry_run {
        return Arc::new(object);
    }
    let stored = store.put(&rt.storage, object);
    hooks::after_write(store, rt, &stored, now);
    stored
}

fn check_namespace(
    store: &Store,
    rt: &ResourceType,
    object: &mut Value,
    ns: &str,
) -> ApiResult<()> {
    if !rt.namespaced {
        if let Some(m) = object["metadata"].as_object_mut() {
            m.remove("namespace");
        }
        return Ok(());
    }
    match object["metadata"]["namespace"].as_str() {
        None | Some("") => object["metadata"]["namespace"] = json!(ns),
        Some(n) if n != ns => {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        Some(_) => {}
    }
    if store.get("namespaces", "", ns).is_none() {
        return Err(ApiError::not_found("", "namespaces", ns));
    }
    Ok(())
}

/// POST: creates `body` in namespace `ns` ("" for cluster-scoped resources).
pub(crate) fn create(
    store: &mut Store,
    rt: &ResourceType,
    ns: &str,
    body: &Value,
    dry_run: bool,
    now: Timestamp,
) -> ApiResult<Arc<Value>> {
    let mut object = meta::from_view(rt, body)?;
    if !meta::resource_version(&object).is_empty() {
        return Err(ApiError::unreasoned(
            "resourceVersion should not be set on objects to be created",
        ));
    }
    check_namespace(store, rt, &mut object, ns)?;
    let mut name = object["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if name.is_empty()
        && let Some(prefix) = object["metadata"]["generateName"]
            .as_str()
            .filter(|p| !p.is_empty())
    {
        name = meta::generate_name(prefix);
        object["metadata"]["name"] = json!(name);
    }
    if name.is_empty() {
        let cause = (
            "metadata.name".to_owned(),
            "Required value: name or generateName is required".to_owned(),
        );
        return Err(ApiError::invalid(&rt.group, &rt.kind, "", &[cause]));
    }
    let mut causes: Vec<(String, String)> = meta::validate_name(&name, rt.plural == "namespaces")
        .map(|m| ("metadata.name".to_owned(), m))
        .into_iter()
        .collect();
    causes.extend(hooks::validate_create(rt, &object));
    if !causes.is_empty() {
        return Err(ApiError::invalid(&rt.group, &rt.kind, &name, &causes));
    }
    if store.get(&rt.storage, ns_of(rt, ns), &name).is_some() {
        return Err(ApiError::already_exists(&rt.group, &rt.plural, &name));
    }
    let m = &mut object["metadata"];
    m["uid"] = json!(uuid::Uuid::new_v4().to_string());
    m["creationTimestamp"] = json!(format_time(now));
    if let Some(o) = m.as_object_mut() {
        for k in [
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "resourceVersion",
            "generation",
        ] {
            o.remove(k);
        }
    }
    if rt.generation {
        object["metadata"]["generation"] = json!(1);
    }
    hooks::prepare_create(rt, &mut object, now);
    Ok(stored_or_dry(store, rt, object, dry_run, now))
}

pub(crate) fn ns_of<'a>(rt: &ResourceType, ns: &'a str) -> &'a str {
    if rt.namespaced { ns } else { "" }
}

pub(crate) fn fetch(
    store: &Store,
    rt: &ResourceType,
    ns: &str,
    name: &str,
) -> ApiResult<Arc<Value>> {
    store
        .get(&rt.storage, ns_of(rt, ns), name)
        .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))
}

/// What a write to `/status` changes, per the real status strategies: custom resources and CRDs
/// take only the status; built-in kinds take status and metadata, never the spec (and pods keep
/// their owner references).
fn status_write(rt: &ResourceType, existing: &Value, object: Value) -> Value {
    let status = object.get("status").cloned().unwrap_or(Value::Null);
    let mut merged = existing.clone();
    merged["status"] = status;
    let status_only = rt.custom || rt.group == "apiextensions.k8s.io";
    if !status_only {
        merged["metadata"] = object["metadata"].clone();
        if rt.plural == "pods" {
            match existing["metadata"].get("ownerReferences") {
                Some(refs) => merged["metadata"]["ownerReferences"] = refs.clone(),
                None => {
                    if let Some(m) = merged["metadata"].as_object_mut() {
                        m.remove("ownerReferences");
                    }
                }
            }
        }
    }
    merged
}

/// Combines a client's version of an object with the stored one and stores the result.
fn commit(
    store: &mut Store,
    rt: &ResourceType,
    existing: &Value,
    mut object: Value,
    opts: WriteOptions,
    now: Timestamp,
) -> ApiResult<Arc<Value>> {
    if opts.status {
        object = status_write(rt, existing, object);
    } else if rt.status {
        match existing.get("status") {
            Some(s) => object["status"] = s.clone(),
            None => {
                if let Some(m) = object.as_object_mut() {
                    m.remove("status");
                }
            }
        }
    }
    meta::keep_system_fields(&mut object, existing);
    object["metadata"]["namespace"] = existing["metadata"]["namespace"].clone();
    if existing["metadata"].get("namespace").is_none()
        && let Some(m) = object["metadata"].as_object_mut()
    {
        m.remove("namespace");
    }
    object["metadata"]["resourceVersion"] = existing["metadata"]["resourceVersion"].clone();
    if rt.generation && meta::spec_part(&object) != meta::spec_part(existing) {
        let generation = existing["metadata"]["generation"].as_i64().unwrap_or(0) + 1;
        object["metadata"]["generation"] = json!(generation);
    }
    hooks::validate_update(rt, &object).map_or(Ok(()), |causes| {
        Err(ApiError::invalid(
            &rt.group,
            &rt.kind,
            meta_name(&object),
            &causes,
        ))
    })?;
    if object == *existing {
        return Ok(Arc::new(existing.clone()));
    }
    let finalized = existing["metadata"].get("deletionTimestamp").is_some()
        && object["metadata"]["finalizers"]
            .as_array()
            .is_none_or(Vec::is_empty);
    if finalized && !opts.dry_run {
        let (ns, name) = (ns_of_obj(&object), meta_name(&object).to_owned());
        return Ok(delete::remove(store, rt, &ns, &name, now).unwrap_or_else(|| Arc::new(object)));
    }
    Ok(stored_or_dry(store, rt, object, opts.dry_run, now))
}

fn meta_name(object: &Value) -> &str {
    object["metadata"]["name"].as_str().unwrap_or_default()
}

fn ns_of_obj(object: &Value) -> String {
    object["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// PUT: replaces `ns/name` with `body`; 409 when its resourceVersion is stale.
pub(crate) fn update(
    store: &mut Store,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    body: &Value,
    opts: WriteOptions,
    now: Timestamp,
) -> ApiResult<Arc<Value>> {
    let mut object = meta::from_view(rt, body)?;
    match object["metadata"]["name"].as_str() {
        None | Some("") => object["metadata"]["name"] = json!(name),
        Some(n) if n != name => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )));
        }
        Some(_) => {}
    }
    let Some(existing) = store.get(&rt.storage, ns_of(rt, ns), name) else {
        if rt.create_on_update && !opts.status {
            let mut body = body.clone();
            if let Some(m) = body["metadata"].as_object_mut() {
                m.remove("resourceVersion");
            }
            return create(store, rt, ns, &body, opts.dry_run, now);
        }
        return Err(ApiError::not_found(&rt.group, &rt.plural, name));
    };
    let rv = meta::resource_version(&object);
    if rv.is_empty() && !rt.unconditional_update {
        let cause = (
            "metadata.resourceVersion".to_owned(),
            "Invalid value: 0x0: must be specified for an update".to_owned(),
        );
        return Err(ApiError::invalid(&rt.group, &rt.kind, name, &[cause]));
    }
    if !rv.is_empty() && rv != meta::resource_version(&existing) {
        return Err(ApiError::stale(&rt.group, &rt.plural, name));
    }
    commit(store, rt, &existing, object, opts, now)
}

/// PATCH: applies `body` of type `ty` to `ns/name` (apply patches create missing objects).
pub(crate) fn patch(
    store: &mut Store,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    (ty, body): (PatchType, &Value),
    opts: WriteOptions,
    now: Timestamp,
) -> ApiResult<Arc<Value>> {
    if rt.custom && ty == PatchType::Strategic {
        return Err(ApiError::unsupported_media_type(
            "the body of the request was in an unknown format - accepted media types include: \
             application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
        ));
    }
    let existing = match fetch(store, rt, ns, name) {
        Ok(e) => e,
        Err(_) if ty == PatchType::Apply && !opts.status => {
            let mut body = body.clone();
            body["metadata"]["name"] = json!(name);
            return create(store, rt, ns, &body, opts.dry_run, now);
        }
        Err(e) => return Err(e),
    };
    let mut view = meta::to_view(rt, &existing);
    patch::apply(&mut view, body, ty, &rt.kind)?;
    let object = meta::from_view(rt, &view)?;
    if meta::resource_version(&object) != meta::resource_version(&existing) {
        return Err(ApiError::stale(&rt.group, &rt.plural, name));
    }
    if meta_name(&object) != name {
        return Err(ApiError::bad_request(
            "metadata.name cannot be changed by a patch",
        ));
    }
    commit(store, rt, &existing, object, opts, now)
}
