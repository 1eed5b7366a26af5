//! The repair controller behind `nodemend run`: watches feed the core index, the core planner
//! and repair state machine decide, and this module carries the decisions out — persisting each
//! repair's record before any of its effects, so a restart never repeats an action.

mod effects;
mod http;
pub(crate) mod metrics;
mod state;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt as _;
use jiff::Timestamp;
use nodemend_core::cloud::{CloudProvider, ClusterRef};
use nodemend_core::health::not_ready_nodes;
use nodemend_core::model::NodeView;
use nodemend_core::planner::{Decision, Fleet, Scope, plan};
use nodemend_core::policy::{Action, Policy};
use nodemend_core::repair::{
    DrainProgress, Effect, Observation, Repair, RepairEvent, Transition, step,
};
use nodemend_kube::events::EventRecorder;
use nodemend_kube::leader::Election;
use nodemend_kube::records::RepairRecords;
use nodemend_kube::watch::{SharedIndex, watch_leases, watch_nodes};
use tokio::sync::{mpsc, watch};

pub(crate) use http::serve;
pub(crate) use metrics::Metrics;
use state::{Report, Slot, State};

use crate::archiver::{ArchiveSink, Note};

/// How the controller runs.
#[derive(Clone)]
pub(crate) struct Settings {
    /// The repair policy.
    pub(crate) policy: Policy,
    /// This replica's name, for events and the leader lease.
    pub(crate) identity: String,
    /// Leader election; `None` runs as the only replica.
    pub(crate) election: Option<Election>,
    /// The cluster in the cloud, to skip pools that are upgrading or scaling.
    pub(crate) cluster: Option<ClusterRef>,
    /// Shortest time between two planning passes (bounds CPU on large fleets).
    pub(crate) min_pass_interval: Duration,
    /// The event archive, told of every repair record written, the planner's decisions and
    /// the NotReady nodes; `None` runs without one.
    pub(crate) archive: Option<ArchiveSink>,
    /// Set while this replica leads (for the archive, which sends alerts only from the leader).
    pub(crate) leading: Arc<AtomicBool>,
}

/// Most requests of one kind a pass has in flight at once (record writes, cordons).
const API_CONCURRENCY: usize = 16;

/// An event to record on a node, decided at the given time.
type PendingEvent = (NodeView, RepairEvent, Timestamp);

/// Records events one after the other, in the order the loop decided them, so the loop never
/// waits for them; ends when the controller is gone and the queue is empty.
async fn write_events(recorder: EventRecorder, mut queue: mpsc::UnboundedReceiver<PendingEvent>) {
    while let Some((node, event, at)) = queue.recv().await {
        if let Err(err) = recorder.record(&node, &event, at).await {
            tracing::warn!(node = %node.name, reason = %event.reason, error = %crate::logging::chain(&err), "cannot record event");
        }
    }
}

/// The running controller.
pub(crate) struct Controller<C> {
    client: kube::Client,
    cloud: Arc<C>,
    settings: Settings,
    index: SharedIndex,
    records: RepairRecords,
    /// Events for the background writer, in the order they were decided.
    events: mpsc::UnboundedSender<PendingEvent>,
    metrics: Arc<Metrics>,
    ready: Arc<AtomicBool>,
    state: State,
    reports: mpsc::UnboundedSender<Report>,
}

impl<C: CloudProvider + 'static> Controller<C> {
    /// Runs until `shutdown` fires.
    pub(crate) async fn run(
        client: kube::Client,
        cloud: Arc<C>,
        settings: Settings,
        metrics: Arc<Metrics>,
        ready: Arc<AtomicBool>,
        shutdown: watch::Receiver<bool>,
    ) -> anyhow::Result<()> {
        let index = SharedIndex::default();
        tokio::spawn(watch_nodes(client.clone(), index.clone()));
        tokio::spawn(watch_leases(client.clone(), index.clone()));
        let (leader_tx, leader_rx) = watch::channel(settings.election.is_none());
        if let Some(election) = settings.election.clone() {
            tokio::spawn(election.run(client.clone(), leader_tx, shutdown.clone()));
        }
        let (reports, report_rx) = mpsc::unbounded_channel();
        let (events, queue) = mpsc::unbounded_channel();
        let recorder = EventRecorder::new(client.clone(), settings.identity.clone());
        let writer = tokio::spawn(write_events(recorder, queue));
        let controller = Self {
            events,
            records: RepairRecords::new(client.clone()),
            client,
            cloud,
            settings,
            index,
            metrics,
            ready,
            state: State::default(),
            reports,
        };
        let result = controller.main_loop(leader_rx, report_rx, shutdown).await;
        // The loop has dropped the queue's sender: let the writer record what is left.
        if tokio::time::timeout(Duration::from_secs(5), writer)
            .await
            .is_err()
        {
            tracing::warn!("events still queued at shutdown were not recorded");
        }
        result
    }

    async fn main_loop(
        mut self,
        mut leader: watch::Receiver<bool>,
        mut report_rx: mpsc::UnboundedReceiver<Report>,
        mut shutdown: watch::Receiver<bool>,
    ) -> anyhow::Result<()> {
        let mut leading = false;
        let mut wake: Option<Timestamp> = None;
        let mut pool_refresh = tokio::time::interval(Duration::from_secs(60));
        loop {
            let sleep = wake.map_or(Duration::from_secs(3600), |at| {
                Duration::try_from(at.duration_since(Timestamp::now())).unwrap_or_default()
            });
            tokio::select! {
                _ = self.index.changed.notified() => {}
                Some(report) = report_rx.recv() => self.absorb(report),
                _ = tokio::time::sleep(sleep) => {}
                _ = pool_refresh.tick() => self.refresh_pool_states(),
                changed = leader.changed() => {
                    if changed.is_err() { break; }
                }
                _ = shutdown.changed() => break,
            }
            while let Ok(report) = report_rx.try_recv() {
                self.absorb(report);
            }
            let now_leading = *leader.borrow();
            self.metrics.leader.set(i64::from(now_leading));
            self.settings.leading.store(now_leading, Ordering::Relaxed);
            if now_leading && !leading {
                match self.load_records().await {
                    Ok(()) => leading = true,
                    Err(err) => {
                        tracing::warn!(
                            error = format!("{err:#}"),
                            "cannot load NodeRepair records; not acting until they can be read"
                        );
                        wake = Some(Timestamp::now() + jiff::SignedDuration::from_secs(5));
                        continue;
                    }
                }
            } else if !now_leading && leading {
                tracing::info!("lost leadership; standing by");
                leading = false;
                self.state.active.clear();
            }
            let synced = self.index.index.lock().is_ok_and(|i| i.synced());
            self.ready.store(synced, Ordering::Relaxed);
            if !leading {
                wake = None;
                continue;
            }
            wake = self.pass(Timestamp::now()).await;
            tokio::time::sleep(self.settings.min_pass_interval).await;
        }
        Ok(())
    }

    fn absorb(&mut self, report: Report) {
        match report {
            Report::Action { node, result } => {
                if let Some(slot) = self.state.active.get_mut(&node) {
                    slot.in_flight = false;
                    slot.result = Some(result);
                }
            }
            Report::Drain { node, progress } => {
                if let Some(slot) = self.state.active.get_mut(&node) {
                    slot.draining = false;
                    slot.blocked =
                        matches!(progress, DrainProgress::Blocked { .. }).then(|| progress.clone());
                    slot.drain = Some(progress);
                }
            }
            Report::PoolStates(states) => self.state.pool_states = states,
        }
    }

    fn refresh_pool_states(&self) {
        let Some(cluster) = self.settings.cluster.clone() else {
            return;
        };
        let cloud = Arc::clone(&self.cloud);
        let reports = self.reports.clone();
        tokio::spawn(async move {
            match cloud.cluster(&cluster).await {
                Ok(c) => {
                    let states = c
                        .pools
                        .into_iter()
                        .map(|p| (p.name, p.provisioning_state))
                        .collect();
                    let _ = reports.send(Report::PoolStates(states));
                }
                Err(err) => {
                    tracing::warn!(error = %crate::logging::chain(&err), "cannot read agent pool states; pools are not skipped for upgrades meanwhile")
                }
            }
        });
    }

    /// Reads every NodeRepair record: active ones are resumed, finished ones remembered.
    async fn load_records(&mut self) -> anyhow::Result<()> {
        let (repairs, unreadable) = self.records.list().await?;
        self.state.active.clear();
        self.state.finished.clear();
        for repair in repairs {
            if repair.phase.is_terminal() {
                let newer = self
                    .state
                    .finished
                    .get(&repair.node)
                    .is_none_or(|r| r.started < repair.started);
                if newer {
                    self.state.finished.insert(repair.node.clone(), repair);
                }
            } else {
                tracing::info!(node = %repair.node, phase = repair.phase.name(), "resuming repair");
                self.state
                    .active
                    .insert(repair.node.clone(), Slot::new(repair));
            }
        }
        for (node, error) in &unreadable {
            tracing::error!(node = %node, error = %error, "NodeRepair record unreadable; the node will not be repaired until it is fixed or deleted");
        }
        self.state.unreadable = unreadable.into_iter().collect();
        Ok(())
    }

    /// One planning pass. Returns when to wake up if nothing else happens.
    async fn pass(&mut self, now: Timestamp) -> Option<Timestamp> {
        let decided = self.decide(now);
        let mut wake = decided.wake;
        // Every record is written before any effect of its repair; the records of different
        // nodes are written concurrently.
        let records = &self.records;
        // (Futures collected first, then driven: a stream of closures over borrowed items does
        // not satisfy the `Send` bound of the spawned controller.)
        let creates: Vec<_> = decided
            .starts
            .iter()
            .map(|(t, reason, _)| records.create(&t.repair, reason))
            .collect();
        let created: Vec<_> = futures::stream::iter(creates)
            .buffered(API_CONCURRENCY)
            .collect()
            .await;
        let changed: Vec<bool> = decided
            .transitions
            .iter()
            .map(|(node, t)| {
                self.state
                    .active
                    .get(&node.name)
                    .is_none_or(|s| s.repair != t.repair)
            })
            .collect();
        let updates: Vec<_> = decided
            .transitions
            .iter()
            .zip(&changed)
            .map(|((_, t), changed)| async move {
                if *changed {
                    records.update(&t.repair).await
                } else {
                    Ok(())
                }
            })
            .collect();
        let updated: Vec<_> = futures::stream::iter(updates)
            .buffered(API_CONCURRENCY)
            .collect()
            .await;
        let mut batch = Vec::new();
        for ((repair, reason, node), result) in decided.starts.into_iter().zip(created) {
            if let Err(err) = result {
                tracing::error!(node = %node.name, error = %crate::logging::chain(&err), "cannot create the NodeRepair record; not acting");
                continue;
            }
            self.archive(Note::Repair(Box::new(repair.repair.clone()), now));
            tracing::info!(node = %node.name, reason = %reason, "repair started");
            self.state
                .active
                .insert(node.name.clone(), Slot::new(repair.repair.clone()));
            batch.push((node, repair));
        }
        for (((node, transition), result), changed) in
            decided.transitions.into_iter().zip(updated).zip(changed)
        {
            if let Some(at) = transition.wake_at {
                wake = Some(wake.map_or(at, |w| w.min(at)));
            }
            if let Err(err) = result {
                tracing::error!(node = %node.name, error = %crate::logging::chain(&err), "cannot update the NodeRepair record; effects postponed");
                wake = Some(now + jiff::SignedDuration::from_secs(5));
                continue;
            }
            if changed {
                self.archive(Note::Repair(Box::new(transition.repair.clone()), now));
            }
            batch.push((node, transition));
        }
        if let Some(at) = self.carry_out_all(batch, now).await {
            wake = Some(wake.map_or(at, |w| w.min(at)));
        }
        for (node, event, reason_name) in decided.skips {
            self.metrics
                .skipped
                .get_or_create(&metrics::ReasonLabel {
                    reason: reason_name,
                })
                .inc();
            let _ = self.events.send((node, event, now));
        }
        self.metrics
            .active
            .set(i64::try_from(self.state.active.len()).unwrap_or(i64::MAX));
        wake
    }
}

impl<C> Controller<C> {
    /// Tells the archive, if there is one.
    fn archive(&self, note: Note) {
        if let Some(sink) = &self.settings.archive {
            sink.send(note);
        }
    }
}

/// What one pass decided, computed under the index lock and carried out after it.
struct Decided {
    starts: Vec<(Transition, String, NodeView)>,
    transitions: Vec<(NodeView, Transition)>,
    skips: Vec<(NodeView, RepairEvent, String)>,
    wake: Option<Timestamp>,
}

impl<C: CloudProvider + 'static> Controller<C> {
    fn decide(&mut self, now: Timestamp) -> Decided {
        let index = match self.index.index.lock() {
            Ok(index) => index,
            Err(poisoned) => poisoned.into_inner(),
        };
        let nodes: Vec<&NodeView> = index.nodes().collect();
        let repairs = self.state.repairs();
        let policy = &self.settings.policy;
        let plan = plan(
            now,
            Fleet {
                synced: index.synced(),
                nodes: &nodes,
                repairs: &repairs,
                pool_states: &self.state.pool_states,
                unreadable: &self.state.unreadable,
            },
            policy,
        );
        self.record_fleet_metrics(&plan);
        if self.settings.archive.is_some() {
            // Sent only when they changed: a pass every 100 ms under churn would otherwise
            // have the archive compare the same decisions again and again.
            if plan.decisions != self.state.decisions {
                self.state.decisions = plan.decisions.clone();
                self.archive(Note::Decisions(now, plan.decisions.clone()));
            }
            let not_ready = not_ready_nodes(nodes.iter().copied());
            if not_ready != self.state.not_ready {
                self.state.not_ready = not_ready.clone();
                self.archive(Note::NotReady(not_ready));
            }
        }
        let mut budget = self
            .state
            .redeploy_budget_left(now, policy.redeploys_per_hour);
        let mut out = Decided {
            starts: Vec::new(),
            transitions: Vec::new(),
            skips: Vec::new(),
            wake: plan.wake_at,
        };
        // Until the caches have loaded, a node missing from them says nothing: stepping a
        // resumed repair now would cancel it as if its node had been deleted. (The plan is
        // empty too, so nothing else is decided.)
        if !index.synced() {
            return out;
        }
        for (name, slot) in &mut self.state.active {
            let node = index.node(name);
            let obs = Observation {
                now,
                node,
                action_result: slot.result.take(),
                in_flight: slot.in_flight,
                drain: slot.drain.take().or_else(|| slot.blocked.clone()),
                may_act: plan.may_act(slot.repair.pool.as_deref()),
                redeploy_budget_left: budget,
            };
            let t = step(&slot.repair, &obs, policy);
            if t.effects.contains(&Effect::Issue(Action::Redeploy)) {
                budget = budget.saturating_sub(1);
            }
            let view = node.cloned().unwrap_or_else(|| NodeView::new(name.clone()));
            out.transitions.push((view, t));
        }
        let mut skipped = BTreeSet::new();
        for decision in &plan.decisions {
            match decision {
                Decision::Start {
                    node,
                    pool,
                    symptoms,
                    ..
                } => {
                    let Some(view) = index.node(node) else {
                        continue;
                    };
                    let why: Vec<String> = symptoms.iter().map(|s| s.describe()).collect();
                    let why = why.join("; ");
                    let repair = Repair::new(node.clone(), pool.clone(), now);
                    let obs = Observation {
                        now,
                        node: Some(view),
                        action_result: None,
                        in_flight: false,
                        drain: None,
                        may_act: true,
                        redeploy_budget_left: budget,
                    };
                    let t = step(&repair, &obs, policy);
                    if t.effects.contains(&Effect::Issue(Action::Redeploy)) {
                        budget = budget.saturating_sub(1);
                    }
                    out.starts.push((t, why, view.clone()));
                }
                Decision::Skip { node, reason } => {
                    skipped.insert(node.clone());
                    if self.state.should_announce(node, reason.name(), now)
                        && let Some(view) = index.node(node)
                    {
                        out.skips
                            .push((view.clone(), reason.event(), reason.name().to_owned()));
                    }
                }
                Decision::Hold { .. } => {}
            }
        }
        self.state.keep_announcements(&skipped);
        out
    }

    fn record_fleet_metrics(&self, plan: &nodemend_core::planner::Plan) {
        for (pool, health) in &plan.pools {
            let label = metrics::PoolLabel { pool: pool.clone() };
            self.metrics
                .nodes
                .get_or_create(&label)
                .set(i64::try_from(health.total).unwrap_or(i64::MAX));
            self.metrics
                .unhealthy
                .get_or_create(&label)
                .set(i64::try_from(health.unhealthy).unwrap_or(i64::MAX));
        }
        self.metrics.held.clear();
        for scope in &plan.held {
            let scope = match scope {
                Scope::Cluster => "cluster".to_owned(),
                Scope::Pool(p) => format!("pool/{p}"),
            };
            self.metrics
                .held
                .get_or_create(&metrics::ScopeLabel { scope })
                .set(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use nodemend_azure::{ArmConfig, AzureProvider};
    use nodemend_core::index::Feed;
    use nodemend_core::model::{ConditionStatus, NodeCondition, READY};
    use nodemend_core::repair::Phase;

    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    /// A controller whose clients point nowhere: `decide` does no IO.
    fn offline_controller() -> Controller<AzureProvider> {
        let nowhere = "http://127.0.0.1:9";
        let client = kube::Client::try_from(kube::Config::new(nowhere.parse().unwrap())).unwrap();
        let env: BTreeMap<&str, &str> = [
            ("NODEMEND_ARM_ENDPOINT", nowhere),
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_CLIENT_SECRET", "s"),
        ]
        .into();
        let config =
            ArmConfig::from_env(|name| env.get(name).map(|v| (*v).to_owned()), None, None).unwrap();
        let (reports, _) = mpsc::unbounded_channel();
        Controller {
            events: mpsc::unbounded_channel().0,
            records: RepairRecords::new(client.clone()),
            client,
            cloud: Arc::new(AzureProvider::new(&config).unwrap()),
            settings: Settings {
                policy: Policy::default(),
                identity: "test".into(),
                election: None,
                cluster: None,
                min_pass_interval: Duration::ZERO,
                archive: None,
                leading: Arc::default(),
            },
            index: SharedIndex::default(),
            metrics: Arc::new(Metrics::new()),
            ready: Arc::new(AtomicBool::new(false)),
            state: State::default(),
            reports,
        }
    }

    fn sync_with(controller: &Controller<AzureProvider>, node: NodeView) {
        sync_with_all(controller, vec![node]);
    }

    fn sync_with_all(controller: &Controller<AzureProvider>, nodes: Vec<NodeView>) {
        if let Ok(mut index) = controller.index.index.lock() {
            index.begin_relist(Feed::Nodes);
            for node in nodes {
                index.apply_node(node);
            }
            index.end_relist(Feed::Nodes);
            index.begin_relist(Feed::Leases);
            index.end_relist(Feed::Leases);
        }
    }

    fn unknown_node(name: &str) -> NodeView {
        let mut node = NodeView::new(name);
        node.conditions
            .push(NodeCondition::new(READY, ConditionStatus::Unknown, at(0)));
        node
    }

    fn ready_node(name: &str) -> NodeView {
        let mut node = NodeView::new(name);
        node.conditions
            .push(NodeCondition::new(READY, ConditionStatus::True, at(0)));
        node
    }

    /// The skips of one pass as (node, event type, event reason, message, metrics label).
    fn skips(decided: &Decided) -> Vec<(String, String, String, String, String)> {
        decided
            .skips
            .iter()
            .map(|(node, event, label)| {
                (
                    node.name.clone(),
                    format!("{:?}", event.kind),
                    event.reason.clone(),
                    event.message.clone(),
                    label.clone(),
                )
            })
            .collect()
    }

    #[tokio::test]
    async fn dry_runs_and_unreadable_records_are_announced_instead_of_started() {
        let mut controller = offline_controller();
        controller.settings.policy.dry_run = true;
        let mut nodes = vec![unknown_node("n1"), unknown_node("n2")];
        nodes.extend((3..=7).map(|i| ready_node(&format!("n{i}"))));
        sync_with_all(&controller, nodes);

        let decided = controller.decide(at(600));
        assert!(decided.starts.is_empty());
        let [(node, kind, reason, message, label), busy] = &skips(&decided)[..] else {
            panic!("{:?}", skips(&decided));
        };
        assert_eq!(
            (
                node.as_str(),
                kind.as_str(),
                reason.as_str(),
                label.as_str()
            ),
            ("n1", "Normal", "NodeRepairDryRun", "dry-run")
        );
        assert!(
            message.starts_with("dry run: would start repairing with a reboot (Ready is Unknown"),
            "{message}"
        );
        // n1 takes the pool's only slot, as its real repair would: n2 waits, as it would.
        assert_eq!(
            (busy.0.as_str(), busy.2.as_str(), busy.4.as_str()),
            ("n2", "NodeRepairSkipped", "pool-concurrency")
        );
        assert!(
            skips(&controller.decide(at(601))).is_empty(),
            "an unchanged skip is not announced again at once"
        );
        assert_eq!(
            skips(&controller.decide(at(1200))).len(),
            2,
            "but again after the re-announce window"
        );

        controller
            .state
            .unreadable
            .insert("n1".into(), "field status.phase is unreadable".into());
        let decided = controller.decide(at(1201));
        assert!(decided.starts.is_empty());
        assert_eq!(
            skips(&decided),
            [(
                "n1".to_owned(),
                "Warning".to_owned(),
                "NodeRepairSkipped".to_owned(),
                "Node auto-repair skipped this node: its NodeRepair record cannot be read \
                 (field status.phase is unreadable); fix or delete it"
                    .to_owned(),
                "unreadable-record".to_owned(),
            )]
        );
        controller.settings.policy.dry_run = false;
        let decided = controller.decide(at(1202));
        assert!(decided.starts.is_empty() && decided.skips.is_empty());

        controller.state.unreadable.clear();
        let decided = controller.decide(at(1203));
        let started: Vec<&str> = decided
            .starts
            .iter()
            .map(|(_, _, node)| node.name.as_str())
            .collect();
        assert_eq!(started, ["n1"]);
    }

    #[tokio::test]
    async fn a_drain_that_times_out_says_what_blocked_it() {
        let mut controller = offline_controller();
        let mut policy = nodemend_core::policy::RawPolicy::default();
        policy.defaults = Some(nodemend_core::policy::RawPool {
            drain: Some(nodemend_core::policy::RawDrain::Settings {
                timeout: Some("30s".into()),
                on_timeout: Some("stop".into()),
            }),
            ladder: Some(vec![nodemend_core::policy::RawStep::Action(
                "reimage".into(),
            )]),
            ..Default::default()
        });
        controller.settings.policy = policy.resolve().unwrap();
        let mut repair = Repair::new("n1", None, at(0));
        repair.phase = Phase::Draining { since: at(0) };
        controller
            .state
            .active
            .insert("n1".into(), Slot::new(repair));
        sync_with(&controller, unknown_node("n1"));
        let reason =
            "default/web-0: Cannot evict pod as it would violate the pod's disruption budget.";
        controller.absorb(Report::Drain {
            node: "n1".into(),
            progress: DrainProgress::Blocked {
                reason: reason.into(),
            },
        });
        // A pass before the timeout consumes the report and asks for another round.
        let decided = controller.decide(at(10));
        let still: Vec<&Phase> = decided
            .transitions
            .iter()
            .map(|(_, t)| &t.repair.phase)
            .collect();
        assert!(matches!(still[..], [Phase::Draining { .. }]), "{still:?}");
        // The timeout comes between two rounds: the event still names the budget.
        let decided = controller.decide(at(31));
        let [(_, t)] = &decided.transitions[..] else {
            panic!("{:?}", decided.transitions);
        };
        assert!(matches!(t.repair.phase, Phase::GaveUp { .. }));
        let message = t
            .effects
            .iter()
            .find_map(|e| match e {
                Effect::Event(ev) if ev.reason == "NodeRepairGaveUp" => Some(ev.message.clone()),
                _ => None,
            })
            .unwrap_or_default();
        assert!(message.contains(reason), "{message}");
    }

    #[tokio::test]
    async fn a_resumed_repair_waits_for_the_node_cache_to_load() {
        let mut controller = offline_controller();
        let mut repair = Repair::new("n1", None, at(0));
        repair.phase = Phase::Acting {
            action: Action::Reboot,
            issued: at(0),
        };
        controller
            .state
            .active
            .insert("n1".into(), Slot::new(repair.clone()));
        let decided = controller.decide(at(5));
        assert!(
            decided.transitions.is_empty(),
            "nothing is stepped before the caches load"
        );
        assert_eq!(controller.state.active["n1"].repair, repair);

        sync_with(&controller, unknown_node("n1"));
        let decided = controller.decide(at(6));
        let phases: Vec<&Phase> = decided
            .transitions
            .iter()
            .map(|(_, t)| &t.repair.phase)
            .collect();
        assert!(
            matches!(
                phases[..],
                [Phase::Verifying {
                    action: Action::Reboot,
                    ..
                }]
            ),
            "the reboot that may have been sent is verified, not cancelled nor sent again: {phases:?}"
        );
    }
}
