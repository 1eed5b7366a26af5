//! The Azure part of a bundle: every pool's VMs with their instance views and the
//! activity-log records of the window, both from the diagnosis snapshot, and the named node's
//! VM instance view as ARM returns it.

use nodemend_azure::AzureProvider;
use nodemend_core::ProviderId;
use nodemend_core::diagnosis::AzureFacts;
use serde_json::{Value, json};

use super::{Bundle, Format, read, segment};
use crate::collect::Progress;

/// Adds `azure/instance-views.json` and `azure/activity-log.json` from the snapshot.
pub(crate) fn from_snapshot(bundle: &mut Bundle, azure: &AzureFacts) -> anyhow::Result<()> {
    let pools: Vec<Value> = azure
        .pools
        .iter()
        .map(|p| {
            json!({
                "pool": p.name,
                "scaleSet": p.scale_set,
                "instances": p.instances,
            })
        })
        .collect();
    let source = "the diagnosis snapshot: VM lists of each pool with $expand=instanceView";
    bundle.add_json("azure/instance-views.json", source, &pools)?;
    bundle.add_json(
        "azure/activity-log.json",
        "the diagnosis snapshot: activity log of the cluster's and the node resource group",
        &azure.activity,
    )
}

/// Adds `azure/node-<name>/instance-view.json`: the VM behind `provider_id`, read whole.
pub(crate) async fn node_instance_view(
    bundle: &mut Bundle,
    provider: &AzureProvider,
    node: &str,
    provider_id: &str,
    progress: &Progress,
) -> anyhow::Result<()> {
    let path = format!("azure/node-{}/instance-view.json", segment(node));
    let id: ProviderId = match provider_id.parse() {
        Ok(id) => id,
        Err(error) => {
            bundle.missing(&path, "the node's spec.providerID", error);
            return Ok(());
        }
    };
    let exec = provider.executor();
    let request = exec.requests().get_instance_view(&id);
    let source = format!("GET {}/instanceView", id.arm_id());
    let answer = read(progress, format!("instance view of {node}"), async {
        let response = exec.send(&request).await.map_err(|e| e.to_string())?;
        serde_json::from_slice::<Value>(response.body())
            .map_err(|e| format!("the answer is not JSON: {e}"))
    })
    .await;
    bundle.add_read(&path, &source, answer, Format::Json)
}
