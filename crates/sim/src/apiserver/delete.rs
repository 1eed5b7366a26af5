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
    /// `gracePeriodSeconds` of the request.
    pub(crate) grace_period: Option<i64>,
    /// Pods on a node terminate gracefully (a kubelet finishes the deletion), as on a real server.
    pub(crate) graceful_pods: bool,
}

/// Seconds a pod deletion waits for its kubelet, `None` when the pod goes at once (not bound
/// to a node, already finished, or a zero grace period), like the real pod strategy.
fn pod_grace(pod: &Value, requested: Option<i64>) -> Option<i64> {
    let bound = pod["spec"]["nodeName"]
        .as_str()
        .is_some_and(|n| !n.is_empty());
    let finished = matches!(
        pod["status"]["phase"].as_str(),
        Some("Succeeded" | "Failed")
    );
    let grace = requested
        .or_else(|| pod["spec"]["terminationGracePeriodSeconds"].as_i64())
        .unwrap_or(30);
    (bound && !finished && grace > 0).then_some(grace)
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
    let graceful = opts.graceful_pods && rt.plural == "pods" && !rt.custom;
    if let Some(grace) = pod_grace(&existing, opts.grace_period).filter(|_| graceful) {
        if meta["deletionGracePeriodSeconds"]
            .as_i64()
            .is_some_and(|g| g <= grace)
        {
            return Ok(existing);
        }
        let until = now
            .checked_add(jiff::SignedDuration::from_secs(grace))
            .unwrap_or(now);
        let mut marked = (*existing).clone();
        marked["metadata"]["deletionTimestamp"] = json!(format_time(until));
        marked["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
        tracing::info!(namespace = ns, pod = name, grace, "pod terminating");
        return Ok(stored_or_dry(store, rt, marked, false, now));
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
