//! DELETE: preconditions, finalizers holding an object with `deletionTimestamp`, and removal
//! with its cascades.

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::clock::format_time;
use super::error::{ApiError, ApiResult};
use super::hooks;
use super::resource::ResourceType;
use super::store::Store;
use super::verbs::{fetch, ns_of, stored_or_dry};

/// `DeleteOptions` the simulator checks.
#[derive(Debug, Default)]
pub(crate) struct DeleteOptions {
    pub(crate) uid: Option<String>,
    pub(crate) resource_version: Option<String>,
    pub(crate) dry_run: bool,
}

/// DELETE: removes `ns/name`, or marks it deleted while finalizers remain.
pub(crate) fn delete(
    store: &mut Store,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    opts: &DeleteOptions,
    now: Timestamp,
) -> ApiResult<Arc<Value>> {
    let existing = fetch(store, rt, ns, name)?;
    let meta = &existing["metadata"];
    for (want, field) in [
        (&opts.uid, "uid"),
        (&opts.resource_version, "resourceVersion"),
    ] {
        if let Some(want) = want.as_deref().filter(|w| Some(*w) != meta[field].as_str()) {
            let label = if field == "uid" {
                "UID"
            } else {
                "ResourceVersion"
            };
            let why = format!(
                "Precondition failed: {label} in precondition: {want}, {label} in object meta: {}",
                meta[field].as_str().unwrap_or_default()
            );
            return Err(ApiError::conflict(&rt.group, &rt.plural, name, &why));
        }
    }
    if opts.dry_run {
        return Ok(existing);
    }
    if meta["finalizers"].as_array().is_some_and(|f| !f.is_empty()) {
        if meta.get("deletionTimestamp").is_some() {
            return Ok(existing);
        }
        let mut marked = (*existing).clone();
        marked["metadata"]["deletionTimestamp"] = json!(format_time(now));
        marked["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        return Ok(stored_or_dry(store, rt, marked, false, now));
    }
    remove(store, rt, ns_of(rt, ns), name, now)
        .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))
}

/// Removes an object for good, with the cascades of [`hooks::after_delete`].
pub(crate) fn remove(
    store: &mut Store,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    now: Timestamp,
) -> Option<Arc<Value>> {
    let gone = store.remove(&rt.storage, ns, name)?;
    hooks::after_delete(store, rt, &gone, now);
    Some(gone)
}
