//! The controller's own view of the fleet, fed by watch events: plain `apply` / `delete` /
//! resync calls that an async driver makes, and a [`Fleet`](crate::planner::Fleet)-ready view
//! for the planner.
//!
//! The index knows whether its initial lists have completed ([`NodeIndex::synced`]): a node
//! missing from a half-filled cache must never count as unhealthy, nor shift the
//! max-unhealthy arithmetic, so the planner decides nothing until then.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use crate::model::NodeView;

/// Nodes and their lease renewals, keyed by node name.
#[derive(Debug, Default, Clone)]
pub struct NodeIndex {
    nodes: BTreeMap<String, NodeView>,
    leases: BTreeMap<String, Timestamp>,
    nodes_synced: bool,
    leases_synced: bool,
    relisting_nodes: Option<BTreeSet<String>>,
    relisting_leases: Option<BTreeSet<String>>,
}

/// Which watch a call comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// Nodes.
    Nodes,
    /// Node leases in `kube-node-lease`.
    Leases,
}

impl NodeIndex {
    /// An empty, unsynced index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a node (its lease renewal is kept).
    pub fn apply_node(&mut self, mut node: NodeView) {
        node.lease_renewed = self.leases.get(&node.name).copied();
        if let Some(seen) = &mut self.relisting_nodes {
            seen.insert(node.name.clone());
        }
        self.nodes.insert(node.name.clone(), node);
    }

    /// Removes a node.
    pub fn delete_node(&mut self, name: &str) {
        self.nodes.remove(name);
    }

    /// Records a lease renewal for the node of the same name.
    pub fn apply_lease(&mut self, node: &str, renewed: Timestamp) {
        if let Some(seen) = &mut self.relisting_leases {
            seen.insert(node.to_owned());
        }
        self.leases.insert(node.to_owned(), renewed);
        if let Some(n) = self.nodes.get_mut(node) {
            n.lease_renewed = Some(renewed);
        }
    }

    /// Forgets a lease.
    pub fn delete_lease(&mut self, node: &str) {
        self.leases.remove(node);
        if let Some(n) = self.nodes.get_mut(node) {
            n.lease_renewed = None;
        }
    }

    /// A watch is re-listing from scratch: objects not seen again before [`Self::end_relist`]
    /// are dropped then.
    pub fn begin_relist(&mut self, feed: Feed) {
        match feed {
            Feed::Nodes => self.relisting_nodes = Some(BTreeSet::new()),
            Feed::Leases => self.relisting_leases = Some(BTreeSet::new()),
        }
    }

    /// The re-list is complete: drop what it did not mention, and count the feed as synced.
    pub fn end_relist(&mut self, feed: Feed) {
        match feed {
            Feed::Nodes => {
                if let Some(seen) = self.relisting_nodes.take() {
                    self.nodes.retain(|name, _| seen.contains(name));
                }
                self.nodes_synced = true;
            }
            Feed::Leases => {
                if let Some(seen) = self.relisting_leases.take() {
                    self.leases.retain(|name, _| seen.contains(name));
                    for (name, node) in &mut self.nodes {
                        node.lease_renewed = self.leases.get(name).copied();
                    }
                }
                self.leases_synced = true;
            }
        }
    }

    /// Both feeds have completed a list: decisions may be taken.
    pub fn synced(&self) -> bool {
        self.nodes_synced && self.leases_synced
    }

    /// The node feed has completed a list (enough for what needs no leases, such as the
    /// NotReady alert rules).
    pub fn nodes_synced(&self) -> bool {
        self.nodes_synced
    }

    /// The node called `name`.
    pub fn node(&self, name: &str) -> Option<&NodeView> {
        self.nodes.get(name)
    }

    /// Every node, by name.
    pub fn nodes(&self) -> impl Iterator<Item = &NodeView> {
        self.nodes.values()
    }

    /// How many nodes are known.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether no node is known.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    #[test]
    fn is_synced_only_after_both_initial_lists() {
        let mut index = NodeIndex::new();
        index.begin_relist(Feed::Nodes);
        index.apply_node(NodeView::new("a"));
        index.end_relist(Feed::Nodes);
        assert!(!index.synced());
        index.begin_relist(Feed::Leases);
        index.end_relist(Feed::Leases);
        assert!(index.synced());
    }

    #[test]
    fn leases_attach_to_nodes_whichever_arrives_first() {
        let mut index = NodeIndex::new();
        index.apply_lease("a", ts(1));
        index.apply_node(NodeView::new("a"));
        assert_eq!(index.node("a").unwrap().lease_renewed, Some(ts(1)));
        index.apply_lease("a", ts(2));
        assert_eq!(index.node("a").unwrap().lease_renewed, Some(ts(2)));
        index.delete_lease("a");
        assert_eq!(index.node("a").unwrap().lease_renewed, None);
    }

    #[test]
    fn a_relist_drops_what_it_no_longer_mentions() {
        let mut index = NodeIndex::new();
        index.apply_node(NodeView::new("gone"));
        index.apply_node(NodeView::new("kept"));
        index.apply_lease("gone", ts(1));
        index.begin_relist(Feed::Nodes);
        index.apply_node(NodeView::new("kept"));
        index.end_relist(Feed::Nodes);
        index.begin_relist(Feed::Leases);
        index.end_relist(Feed::Leases);
        let names: Vec<&str> = index.nodes().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["kept"]);
        index.delete_node("kept");
        assert!(index.is_empty());
    }
}
