//! Carrying out a repair's effects once its record is persisted: cordon, drain rounds, cloud
//! actions (in the background, reporting back) and events.

use std::sync::Arc;

use futures::StreamExt as _;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::Node;
use nodemend_core::ProviderId;
use nodemend_core::ProviderIdError;
use nodemend_core::cloud::{CloudProvider, VmAction};
use nodemend_core::model::NodeView;
use nodemend_core::policy::Action;
use nodemend_core::repair::{ActionResult, Effect, Phase, Transition};
use nodemend_kube::cordon::set_unschedulable;
use nodemend_kube::drain::drain_round;

use super::metrics::{ActionLabels, OutcomeLabel};
use super::state::Report;
use super::{API_CONCURRENCY, Controller};

/// Pause between two drain rounds of one node.
const DRAIN_ROUND_INTERVAL: SignedDuration = SignedDuration::from_secs(5);

impl<C: CloudProvider + 'static> Controller<C> {
    /// Carries out a pass's transitions, whose records are already persisted. Cordons are the
    /// only effects waited for (an action or a drain of the node must come after its cordon);
    /// they run concurrently across nodes, so a burst of failures costs a few round trips, not a
    /// few per node. Events go to the background writer. Returns when to wake up for postponed
    /// work.
    pub(super) async fn carry_out_all(
        &mut self,
        batch: Vec<(NodeView, Transition)>,
        now: Timestamp,
    ) -> Option<Timestamp> {
        let api: kube::Api<Node> = kube::Api::all(self.client.clone());
        let api = &api;
        let cordons: Vec<_> = batch
            .iter()
            .flat_map(|(node, t)| {
                t.effects.iter().filter_map(move |e| match e {
                    Effect::Cordon => Some((node, true)),
                    Effect::Uncordon => Some((node, false)),
                    _ => None,
                })
            })
            .map(|(node, cordon)| async move {
                if let Err(err) = set_unschedulable(api, &node.name, cordon).await {
                    tracing::warn!(node = %node.name, error = %crate::logging::chain(&err), "cordon change failed");
                }
            })
            .collect();
        futures::stream::iter(cordons)
            .buffer_unordered(API_CONCURRENCY)
            .collect::<Vec<()>>()
            .await;
        let mut wake: Option<Timestamp> = None;
        for (node, t) in batch {
            if let Some(at) = self.carry_out(&node, t, now) {
                wake = Some(wake.map_or(at, |w| w.min(at)));
            }
        }
        wake
    }

    /// Carries out `t` for `node` once its cordon change is done: drain rounds and cloud
    /// actions start in the background, events are queued for the writer.
    fn carry_out(&mut self, node: &NodeView, t: Transition, now: Timestamp) -> Option<Timestamp> {
        let Transition {
            repair, effects, ..
        } = t;
        if let Some(slot) = self.state.active.get_mut(&node.name) {
            slot.repair = repair.clone();
        }
        let mut wake = None;
        for effect in effects {
            match effect {
                Effect::Cordon | Effect::Uncordon => {}
                Effect::Drain => wake = self.start_drain_round(&node.name, now),
                Effect::Issue(action) => self.issue(node, action),
                Effect::Event(event) => {
                    let _ = self.events.send((node.clone(), event, now));
                }
            }
        }
        if repair.phase.is_terminal() {
            self.state.active.remove(&node.name);
            let outcome = repair.phase.name().to_owned();
            self.metrics
                .repairs
                .get_or_create(&OutcomeLabel { outcome })
                .inc();
            if !matches!(repair.phase, Phase::Cancelled { .. })
                && let Some(end) = repair.finished_at()
            {
                self.metrics
                    .duration
                    .observe(end.duration_since(repair.started).as_secs_f64());
            }
            tracing::info!(node = %node.name, phase = repair.phase.name(), "repair ended");
            self.state.finished.insert(node.name.clone(), repair);
        }
        wake
    }

    fn start_drain_round(&mut self, node: &str, now: Timestamp) -> Option<Timestamp> {
        let slot = self.state.active.get_mut(node)?;
        if slot.draining {
            return None;
        }
        if now < slot.next_drain {
            return Some(slot.next_drain);
        }
        slot.draining = true;
        slot.next_drain = now + DRAIN_ROUND_INTERVAL;
        let client = self.client.clone();
        let reports = self.reports.clone();
        let node = node.to_owned();
        tokio::spawn(async move {
            let progress = match drain_round(&client, &node).await {
                Ok(progress) => progress,
                Err(err) => {
                    tracing::warn!(node = %node, error = %crate::logging::chain(&err), "drain round failed; will retry");
                    nodemend_core::repair::DrainProgress::InProgress
                }
            };
            let _ = reports.send(Report::Drain { node, progress });
        });
        None
    }

    /// Sends `action` to the cloud in the background; the answer comes back as a report.
    fn issue(&mut self, node: &NodeView, action: Action) {
        if let Some(slot) = self.state.active.get_mut(&node.name) {
            slot.in_flight = true;
        }
        let cloud = Arc::clone(&self.cloud);
        let reports = self.reports.clone();
        let metrics = Arc::clone(&self.metrics);
        let name = node.name.clone();
        let provider_id = node.provider_id.clone();
        tracing::info!(node = %name, action = action.as_str(), "sending repair action");
        tokio::spawn(async move {
            let parsed = provider_id.as_deref().map(str::parse::<ProviderId>);
            let result = match parsed {
                // The batched call, with one VM: the path AKS's own auto-repair takes, so a VM
                // that no longer exists surfaces as `InvalidParameter`, as AKS reports it.
                Some(Ok(id)) => match cloud
                    .act_many(VmAction::from(action), std::slice::from_ref(&id))
                    .await
                    .pop()
                {
                    Some((_, Ok(()))) => ActionResult::Succeeded,
                    None => ActionResult::Failed {
                        code: "InvalidResponse".to_owned(),
                    },
                    Some((_, Err(err))) => {
                        tracing::warn!(node = %name, action = action.as_str(), error = %crate::logging::chain(&err), "repair action failed");
                        ActionResult::Failed {
                            code: err.failure_code().to_owned(),
                        }
                    }
                },
                Some(Err(err)) => {
                    tracing::warn!(node = %name, error = %crate::logging::chain(&err), "cannot tell the node's VM from its provider ID");
                    ActionResult::Failed {
                        code: ProviderIdError::REPAIR_CODE.to_owned(),
                    }
                }
                None => {
                    tracing::warn!(node = %name, "the node has no provider ID");
                    ActionResult::Failed {
                        code: ProviderIdError::REPAIR_CODE.to_owned(),
                    }
                }
            };
            let label = ActionLabels {
                action: action.as_str().to_owned(),
                result: match &result {
                    ActionResult::Succeeded => "succeeded".to_owned(),
                    ActionResult::Failed { .. } => "failed".to_owned(),
                },
            };
            metrics.actions.get_or_create(&label).inc();
            let _ = reports.send(Report::Action { node: name, result });
        });
    }
}
