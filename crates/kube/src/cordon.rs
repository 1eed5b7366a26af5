//! Cordon and uncordon: mark a node (un)schedulable with a merge patch, as `kubectl cordon` does.

use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::{Patch, PatchParams};

use crate::error::{Error, Result};

/// Sets `spec.unschedulable` on `node`.
pub async fn set_unschedulable(nodes: &Api<Node>, node: &str, unschedulable: bool) -> Result<()> {
    let patch = serde_json::json!({ "spec": { "unschedulable": unschedulable } });
    nodes
        .patch(node, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|source| Error::Cordon {
            node: node.to_owned(),
            unschedulable,
            source,
        })?;
    tracing::info!(node, unschedulable, "node schedulability changed");
    Ok(())
}
