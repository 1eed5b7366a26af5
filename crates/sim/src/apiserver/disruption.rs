//! PodDisruptionBudgets and the eviction subresource: budget status kept current like the
//! disruption controller does, and evictions refused with 429 when a budget forbids them.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::clock::format_time;
use super::delete;
use super::error::{ApiError, ApiResult};
use super::selector::LabelSelector;
use super::store::Store;

const PDBS: &str = "policy/poddisruptionbudgets";

/// `intstr` scaled like `GetScaledValueFromIntOrPercent(value, total, roundUp=true)`.
fn scaled(value: &Value, total: i64) -> i64 {
    match value {
        Value::String(s) => match s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()) {
            Some(pct) => (pct * total + 99) / 100,
            None => s.parse().unwrap_or(0),
        },
        v => v.as_i64().unwrap_or(0),
    }
}

fn is_ready(pod: &Value) -> bool {
    pod["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

/// Pods of `ns` that a budget's selector matches (a missing selector matches none).
fn pods_of<'a>(store: &'a Store, ns: &'a str, pdb: &Value) -> Vec<&'a Value> {
    let Some(sel) = pdb["spec"].get("selector").filter(|s| !s.is_null()) else {
        return Vec::new();
    };
    let Ok(sel) = LabelSelector::from_object(sel) else {
        return Vec::new();
    };
    store
        .list("pods", Some(ns))
        .map(|(_, p)| p.as_ref())
        .filter(|p| sel.matches(&p["metadata"]["labels"]))
        .collect()
}

/// The status the disruption controller would compute for `pdb`.
fn status_of(store: &Store, ns: &str, pdb: &Value, now: Timestamp) -> Value {
    let pods = pods_of(store, ns, pdb);
    let expected = i64::try_from(pods.len()).unwrap_or(i64::MAX);
    let spec = &pdb["spec"];
    let desired = if let Some(max) = spec.get("maxUnavailable") {
        (expected - scaled(max, expected)).max(0)
    } else {
        spec.get("minAvailable")
            .map_or(0, |min| scaled(min, expected))
    };
    let healthy = pods
        .iter()
        .filter(|p| p["metadata"].get("deletionTimestamp").is_none() && is_ready(p))
        .count();
    let healthy = i64::try_from(healthy).unwrap_or(i64::MAX);
    let allowed = if expected <= 0 {
        0
    } else {
        (healthy - desired).max(0)
    };
    let generation = pdb["metadata"]["generation"].clone();
    let (status, reason) = if allowed > 0 {
        ("True", "SufficientPods")
    } else {
        ("False", "InsufficientPods")
    };
    let old_cond = pdb["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "DisruptionAllowed"));
    let since = old_cond.filter(|c| c["status"] == status).map_or_else(
        || json!(format_time(now)),
        |c| c["lastTransitionTime"].clone(),
    );
    json!({
        "currentHealthy": healthy,
        "desiredHealthy": desired,
        "disruptionsAllowed": allowed,
        "expectedPods": expected,
        "observedGeneration": generation,
        "conditions": [{
            "type": "DisruptionAllowed", "status": status, "reason": reason, "message": "",
            "observedGeneration": generation, "lastTransitionTime": since
        }]
    })
}

/// Recomputes the status of every budget in `ns`, storing those that changed.
pub(crate) fn refresh(store: &mut Store, ns: &str, now: Timestamp) {
    let pdbs: Vec<_> = store.list(PDBS, Some(ns)).map(|(_, p)| p.clone()).collect();
    for pdb in pdbs {
        let status = status_of(store, ns, &pdb, now);
        if pdb["status"] != status {
            let mut updated = (*pdb).clone();
            updated["status"] = status;
            store.put(PDBS, updated);
            tracing::debug!(namespace = ns, pdb = %pdb["metadata"]["name"], "pdb status refreshed");
        }
    }
}

fn refused(message: &str, cause: String) -> ApiError {
    ApiError::too_many_requests(
        message,
        json!([{ "reason": "DisruptionBudget", "message": cause }]),
    )
}

/// POST pods/eviction: deletes the pod (gracefully when `graceful_pods`) unless its budget
/// allows no disruption now.
pub(crate) fn evict(
    store: &mut Store,
    ns: &str,
    name: &str,
    graceful_pods: bool,
    now: Timestamp,
) -> ApiResult<Value> {
    let pods = store
        .registry
        .find("", "v1", "pods")
        .ok_or_else(ApiError::unknown_path)?;
    let pod = store
        .get("pods", ns, name)
        .ok_or_else(|| ApiError::not_found("", "pods", name))?;
    let phase = pod["status"]["phase"].as_str().unwrap_or_default();
    let exempt = matches!(phase, "Succeeded" | "Failed" | "Pending")
        || pod["metadata"].get("deletionTimestamp").is_some();
    if !exempt {
        let labels = &pod["metadata"]["labels"];
        let budgets: Vec<_> = store
            .list(PDBS, Some(ns))
            .filter(|(_, pdb)| {
                pdb["spec"]
                    .get("selector")
                    .filter(|s| !s.is_null())
                    .is_some_and(|s| {
                        LabelSelector::from_object(s).is_ok_and(|sel| sel.matches(labels))
                    })
            })
            .map(|(_, p)| p.clone())
            .collect();
        match budgets.as_slice() {
            [] => {}
            [pdb] => check_budget(pdb, is_ready(&pod))?,
            _ => {
                return Err(ApiError::internal(
                    "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
                ));
            }
        }
    }
    delete::delete(
        store,
        &pods,
        ns,
        name,
        &delete::DeleteOptions {
            graceful_pods,
            ..Default::default()
        },
        now,
    )?;
    tracing::info!(namespace = ns, pod = name, "pod evicted");
    Ok(
        json!({ "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201 }),
    )
}

fn check_budget(pdb: &Value, pod_ready: bool) -> ApiResult<()> {
    let pdb_name = pdb["metadata"]["name"].as_str().unwrap_or_default();
    let status = &pdb["status"];
    let int = |f: &str| status[f].as_i64().unwrap_or(0);
    let message = "Cannot evict pod as it would violate the pod's disruption budget.";
    if int("observedGeneration") < pdb["metadata"]["generation"].as_i64().unwrap_or(0) {
        let cause =
            format!("The disruption budget {pdb_name} is still being processed by the server.");
        return Err(refused(message, cause));
    }
    if !pod_ready && int("currentHealthy") >= int("desiredHealthy") && int("desiredHealthy") > 0 {
        return Ok(());
    }
    if int("disruptionsAllowed") <= 0 {
        let cause = format!(
            "The disruption budget {pdb_name} needs {} healthy pods and has {} currently",
            int("desiredHealthy"),
            int("currentHealthy")
        );
        return Err(refused(message, cause));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_up() {
        assert_eq!(scaled(&json!("50%"), 3), 2);
        assert_eq!(scaled(&json!("10%"), 5), 1);
        assert_eq!(scaled(&json!(2), 5), 2);
        assert_eq!(scaled(&json!("0%"), 5), 0);
    }
}
