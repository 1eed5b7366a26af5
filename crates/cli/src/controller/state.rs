//! What the controller remembers between passes: the repairs it runs and what their background
//! tasks reported.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::{SignedDuration, Timestamp};
use nodemend_core::model::ProvisioningState;
use nodemend_core::policy::Action;
use nodemend_core::repair::{
    ActionResult, DrainProgress, Phase, REDEPLOY_BUDGET_CODE, Repair, StepOutcome, StepRecord,
};

/// An active repair and the state of its background work.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    pub(crate) repair: Repair,
    /// The cloud call for the current action has not answered yet.
    pub(crate) in_flight: bool,
    /// The cloud's answer, not yet stepped.
    pub(crate) result: Option<ActionResult>,
    /// A drain round is running.
    pub(crate) draining: bool,
    /// The last drain round's report, not yet stepped.
    pub(crate) drain: Option<DrainProgress>,
    /// Why the latest drain round could not evict everything, kept until a round reports
    /// otherwise, so a drain that times out between rounds can still say what blocked it.
    pub(crate) blocked: Option<DrainProgress>,
    /// No new drain round before this time.
    pub(crate) next_drain: Timestamp,
}

impl Slot {
    pub(crate) fn new(repair: Repair) -> Self {
        Self {
            repair,
            in_flight: false,
            result: None,
            draining: false,
            drain: None,
            blocked: None,
            next_drain: Timestamp::UNIX_EPOCH,
        }
    }
}

/// What a background task reports back to the loop.
#[derive(Debug)]
pub(crate) enum Report {
    /// The cloud answered an action.
    Action { node: String, result: ActionResult },
    /// A drain round finished.
    Drain {
        node: String,
        progress: DrainProgress,
    },
    /// Fresh provisioning states of the agent pools.
    PoolStates(BTreeMap<String, ProvisioningState>),
}

/// The controller's memory.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) active: BTreeMap<String, Slot>,
    /// The latest finished repair of each node (for back-off and "gave up before").
    pub(crate) finished: BTreeMap<String, Repair>,
    /// Nodes whose NodeRepair record cannot be read: never acted on.
    pub(crate) unreadable: BTreeMap<String, String>,
    /// The last skip reason announced per node, and when, so repeated passes do not spam.
    pub(crate) announced: HashMap<String, (String, Timestamp)>,
    pub(crate) pool_states: BTreeMap<String, ProvisioningState>,
    /// The NotReady nodes last sent to the archive (sent again only when this changes).
    pub(crate) not_ready: Vec<(String, Timestamp)>,
    /// The planner decisions last sent to the archive (sent again only when they change).
    pub(crate) decisions: Vec<nodemend_core::planner::Decision>,
}

/// How often an unchanged skip reason is announced again.
pub(crate) const REANNOUNCE: SignedDuration = SignedDuration::from_mins(10);

impl State {
    /// Every repair the planner must know about.
    pub(crate) fn repairs(&self) -> Vec<Repair> {
        self.active
            .values()
            .map(|s| s.repair.clone())
            .chain(self.finished.values().cloned())
            .collect()
    }

    /// Redeploys still allowed in the hour before `now`, counted from the repair records
    /// themselves so a restart cannot reset the budget.
    pub(crate) fn redeploy_budget_left(&self, now: Timestamp, per_hour: u32) -> u32 {
        let since = now - SignedDuration::from_hours(1);
        let mut used = 0u32;
        for repair in self
            .active
            .values()
            .map(|s| &s.repair)
            .chain(self.finished.values())
        {
            let steps = repair
                .history
                .iter()
                .filter(|s| s.action == Action::Redeploy && s.started >= since && reached_cloud(s));
            used += u32::try_from(steps.count()).unwrap_or(u32::MAX);
            if let Phase::Acting {
                action: Action::Redeploy,
                issued,
            }
            | Phase::Verifying {
                action: Action::Redeploy,
                since: issued,
            } = repair.phase
                && issued >= since
            {
                used += 1;
            }
        }
        per_hour.saturating_sub(used)
    }

    /// Whether a skip reason must be announced (new, changed, or not said for a while).
    pub(crate) fn should_announce(&mut self, node: &str, reason: &str, now: Timestamp) -> bool {
        match self.announced.get(node) {
            Some((said, at)) if said == reason && now.duration_since(*at) < REANNOUNCE => false,
            _ => {
                self.announced
                    .insert(node.to_owned(), (reason.to_owned(), now));
                true
            }
        }
    }

    /// Forgets announcements for nodes that are no longer skipped.
    pub(crate) fn keep_announcements(&mut self, skipped: &BTreeSet<String>) {
        self.announced.retain(|node, _| skipped.contains(node));
    }
}

/// Whether a finished step counts against the redeploy budget: it reached the cloud (a step
/// failed by nodemend's own budget check never did).
fn reached_cloud(step: &StepRecord) -> bool {
    !matches!(&step.outcome, StepOutcome::Failed { code } if code == REDEPLOY_BUDGET_CODE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    #[test]
    fn the_redeploy_budget_counts_the_last_hour_from_the_records() {
        let mut state = State::default();
        let mut old = Repair::new("a", None, ts(0));
        old.history.push(StepRecord {
            action: Action::Redeploy,
            attempt: 1,
            started: ts(0),
            finished: ts(10),
            outcome: StepOutcome::NotRecovered,
        });
        let mut refused = Repair::new("b", None, ts(3000));
        refused.history.push(StepRecord {
            action: Action::Redeploy,
            attempt: 1,
            started: ts(3000),
            finished: ts(3000),
            outcome: StepOutcome::Failed {
                code: REDEPLOY_BUDGET_CODE.into(),
            },
        });
        let mut running = Repair::new("c", None, ts(3500));
        running.phase = Phase::Acting {
            action: Action::Redeploy,
            issued: ts(3500),
        };
        state.finished.insert("a".into(), old);
        state.finished.insert("b".into(), refused);
        state.active.insert("c".into(), Slot::new(running));
        assert_eq!(
            state.redeploy_budget_left(ts(3599), 3),
            1,
            "a's redeploy and c's count"
        );
        assert_eq!(
            state.redeploy_budget_left(ts(3601), 3),
            2,
            "a's has left the hour"
        );
    }

    #[test]
    fn skips_are_announced_once_per_reason_and_window() {
        let mut state = State::default();
        assert!(state.should_announce("n", "opted-out", ts(0)));
        assert!(!state.should_announce("n", "opted-out", ts(60)));
        assert!(state.should_announce("n", "backing-off", ts(61)));
        assert!(state.should_announce("n", "backing-off", ts(61 + 600)));
        state.keep_announcements(&BTreeSet::new());
        assert!(state.should_announce("n", "backing-off", ts(662)));
    }
}
