//! Chained builders for test fixtures: `node("n1").in_pool("np1").not_ready_since(t(0))`.

use jiff::Timestamp;

use crate::model::{ConditionStatus, NodeCondition, NodeView, READY, Taint};

/// A fixed epoch plus `secs`, so tests read in seconds.
pub(crate) fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + secs).expect("valid test timestamp")
}

/// A Ready node called `name`, Ready since `t(-3600)`.
pub(crate) fn node(name: &str) -> NodeView {
    let mut n = NodeView::new(name);
    n.boot_id = Some(format!("{name}-boot-1"));
    n.conditions
        .push(NodeCondition::new(READY, ConditionStatus::True, t(-3600)));
    n
}

pub(crate) trait NodeFixture {
    fn in_pool(self, pool: &str) -> Self;
    fn not_ready_since(self, since: Timestamp) -> Self;
    fn labelled(self, key: &str, value: &str) -> Self;
    fn tainted(self, key: &str) -> Self;
    fn cordoned(self) -> Self;
}

impl NodeFixture for NodeView {
    fn in_pool(mut self, pool: &str) -> Self {
        self.pool = Some(pool.to_owned());
        self
    }

    fn not_ready_since(mut self, since: Timestamp) -> Self {
        self.conditions.retain(|c| c.kind != READY);
        self.conditions.push(
            NodeCondition::new(READY, ConditionStatus::Unknown, since)
                .with_reason("NodeStatusUnknown"),
        );
        self
    }

    fn labelled(mut self, key: &str, value: &str) -> Self {
        self.labels.insert(key.to_owned(), value.to_owned());
        self
    }

    fn tainted(mut self, key: &str) -> Self {
        self.taints.push(Taint {
            key: key.to_owned(),
            value: None,
            effect: "NoSchedule".to_owned(),
        });
        self
    }

    fn cordoned(mut self) -> Self {
        self.unschedulable = true;
        self
    }
}
