//! The thin async drivers that turn node and node-lease watches into calls on the core
//! [`NodeIndex`]. One watch per resource, with back-off on errors; nothing here decides.

use std::sync::{Arc, Mutex};

use futures::StreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::runtime::{WatchStreamExt, watcher};
use nodemend_core::index::{Feed, NodeIndex};
use tokio::sync::Notify;

use crate::node::node_view;

/// Namespace where kubelets renew their node leases.
pub const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";

/// The shared index and a signal that it changed.
#[derive(Clone, Default)]
pub struct SharedIndex {
    /// The index.
    pub index: Arc<Mutex<NodeIndex>>,
    /// Notified after every change.
    pub changed: Arc<Notify>,
}

impl SharedIndex {
    fn update(&self, f: impl FnOnce(&mut NodeIndex)) {
        match self.index.lock() {
            Ok(mut index) => f(&mut index),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
        self.changed.notify_one();
    }
}

/// Feeds the index from a watch of every node until the stream ends.
pub async fn watch_nodes(client: kube::Client, shared: SharedIndex) {
    let api: Api<Node> = Api::all(client);
    let mut events = watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    while let Some(event) = events.next().await {
        match event {
            Ok(watcher::Event::Init) => shared.update(|i| i.begin_relist(Feed::Nodes)),
            Ok(watcher::Event::InitApply(node) | watcher::Event::Apply(node)) => {
                let mut view = node_view(&node);
                view.uid = node.metadata.uid.clone();
                shared.update(|i| i.apply_node(view));
            }
            Ok(watcher::Event::InitDone) => shared.update(|i| i.end_relist(Feed::Nodes)),
            Ok(watcher::Event::Delete(node)) => {
                let name = node.metadata.name.unwrap_or_default();
                shared.update(|i| i.delete_node(&name));
            }
            Err(err) => tracing::warn!(error = %err, "node watch failed; retrying with back-off"),
        }
    }
}

/// Feeds the index from a watch of the node leases until the stream ends.
pub async fn watch_leases(client: kube::Client, shared: SharedIndex) {
    let api: Api<Lease> = Api::namespaced(client, NODE_LEASE_NAMESPACE);
    let mut events = watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    while let Some(event) = events.next().await {
        match event {
            Ok(watcher::Event::Init) => shared.update(|i| i.begin_relist(Feed::Leases)),
            Ok(watcher::Event::InitApply(lease) | watcher::Event::Apply(lease)) => {
                let name = lease.metadata.name.clone().unwrap_or_default();
                let renewed = lease
                    .spec
                    .as_ref()
                    .and_then(|s| s.renew_time.as_ref())
                    .map(|t| t.0);
                match renewed {
                    Some(at) => shared.update(|i| i.apply_lease(&name, at)),
                    None => shared.update(|i| i.delete_lease(&name)),
                }
            }
            Ok(watcher::Event::InitDone) => shared.update(|i| i.end_relist(Feed::Leases)),
            Ok(watcher::Event::Delete(lease)) => {
                let name = lease.metadata.name.unwrap_or_default();
                shared.update(|i| i.delete_lease(&name));
            }
            Err(err) => {
                tracing::warn!(error = %err, "node lease watch failed; retrying with back-off")
            }
        }
    }
}
