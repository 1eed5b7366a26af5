//! The controller's Prometheus metrics, served on `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct PoolLabel {
    pub(crate) pool: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ActionLabels {
    pub(crate) action: String,
    pub(crate) result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ReasonLabel {
    pub(crate) reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct OutcomeLabel {
    pub(crate) outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ScopeLabel {
    pub(crate) scope: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ResultLabel {
    pub(crate) result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RuleLabel {
    pub(crate) rule: String,
}

/// Everything the controller and the event archive count.
pub(crate) struct Metrics {
    pub(crate) registry: Registry,
    pub(crate) nodes: Family<PoolLabel, Gauge>,
    pub(crate) unhealthy: Family<PoolLabel, Gauge>,
    pub(crate) held: Family<ScopeLabel, Gauge>,
    pub(crate) actions: Family<ActionLabels, Counter>,
    pub(crate) repairs: Family<OutcomeLabel, Counter>,
    pub(crate) skipped: Family<ReasonLabel, Counter>,
    pub(crate) duration: Histogram,
    pub(crate) active: Gauge,
    pub(crate) leader: Gauge,
    pub(crate) arm_requests: Counter,
    pub(crate) arm_retries: Counter,
    pub(crate) arm_throttled: Counter,
    pub(crate) archived: Family<ResultLabel, Counter>,
    pub(crate) archive_errors: Counter,
    pub(crate) archive_pruned: Counter,
    pub(crate) alerts_fired: Family<RuleLabel, Counter>,
    pub(crate) alert_deliveries: Family<ResultLabel, Counter>,
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::with_prefix("nodemend");
        let nodes = Family::<PoolLabel, Gauge>::default();
        let unhealthy = Family::<PoolLabel, Gauge>::default();
        let held = Family::<ScopeLabel, Gauge>::default();
        let actions = Family::<ActionLabels, Counter>::default();
        let repairs = Family::<OutcomeLabel, Counter>::default();
        let skipped = Family::<ReasonLabel, Counter>::default();
        let duration = Histogram::new([60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0]);
        let active = Gauge::default();
        let leader = Gauge::default();
        let arm_requests = Counter::default();
        let arm_retries = Counter::default();
        let arm_throttled = Counter::default();
        let archived = Family::<ResultLabel, Counter>::default();
        let archive_errors = Counter::default();
        let archive_pruned = Counter::default();
        let alerts_fired = Family::<RuleLabel, Counter>::default();
        let alert_deliveries = Family::<ResultLabel, Counter>::default();
        registry.register("nodes", "Nodes known, by agent pool", nodes.clone());
        registry.register(
            "unhealthy_nodes",
            "Nodes unhealthy past the threshold, by agent pool",
            unhealthy.clone(),
        );
        registry.register(
            "repairs_held",
            "1 while a scope (cluster or pool) is over maxUnhealthy and repairs there wait",
            held.clone(),
        );
        registry.register(
            "repair_actions",
            "Repair actions sent to the cloud, by action and result",
            actions.clone(),
        );
        registry.register(
            "repairs_finished",
            "Repairs that ended, by outcome",
            repairs.clone(),
        );
        registry.register(
            "repairs_skipped",
            "Unhealthy nodes not repaired, by reason",
            skipped.clone(),
        );
        registry.register(
            "repair_duration_seconds",
            "Time from the start of a repair to its end",
            duration.clone(),
        );
        registry.register("repairs_active", "Repairs in progress", active.clone());
        registry.register(
            "leader",
            "1 while this replica holds the leader lease",
            leader.clone(),
        );
        registry.register(
            "arm_requests",
            "HTTP requests sent to Azure Resource Manager",
            arm_requests.clone(),
        );
        registry.register(
            "arm_retries",
            "ARM requests sent again after a retryable failure",
            arm_retries.clone(),
        );
        registry.register(
            "arm_throttled",
            "429 (throttled) answers from ARM",
            arm_throttled.clone(),
        );
        registry.register(
            "archive_events",
            "Event deliveries from the watches, by what the archive did: inserted, updated (an aggregated event's count grew) or unchanged (seen before)",
            archived.clone(),
        );
        registry.register(
            "archive_errors",
            "Archive writes that failed (retried for events)",
            archive_errors.clone(),
        );
        registry.register(
            "archive_pruned_rows",
            "Rows removed by retention",
            archive_pruned.clone(),
        );
        registry.register(
            "alerts_fired",
            "Alert rule firings, by rule",
            alerts_fired.clone(),
        );
        registry.register(
            "alert_deliveries",
            "Webhook deliveries finished, by result (delivered or failed after every try)",
            alert_deliveries.clone(),
        );
        Self {
            registry,
            archived,
            archive_errors,
            archive_pruned,
            alerts_fired,
            alert_deliveries,
            nodes,
            unhealthy,
            held,
            actions,
            repairs,
            skipped,
            duration,
            active,
            leader,
            arm_requests,
            arm_retries,
            arm_throttled,
        }
    }

    /// The Prometheus text exposition of every metric.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_family_in_prometheus_text() {
        let metrics = Metrics::new();
        metrics
            .unhealthy
            .get_or_create(&PoolLabel { pool: "np1".into() })
            .set(2);
        metrics
            .actions
            .get_or_create(&ActionLabels {
                action: "reboot".into(),
                result: "failed".into(),
            })
            .inc();
        metrics.arm_throttled.inc_by(3);
        let text = metrics.render();
        assert!(
            text.contains("nodemend_unhealthy_nodes{pool=\"np1\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("nodemend_repair_actions_total{action=\"reboot\",result=\"failed\"} 1"),
            "{text}"
        );
        assert!(text.contains("nodemend_arm_throttled_total 3"), "{text}");
        assert!(
            text.contains("# TYPE nodemend_repair_duration_seconds histogram"),
            "{text}"
        );
    }
}
